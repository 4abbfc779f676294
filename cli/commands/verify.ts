/**
 * `dynalog verify`: run a bounded workload (cli/verify/workload.ts) against the broker and judge
 * its history (cli/verify/checker.ts). Exit 0 only when no anomaly was found and the final drain
 * completed; 1 otherwise; the CLI's usual codes for usage (2), unreachable (3) and auth (4).
 */
import { InvalidArgumentError, Option, type Command } from "commander";
import { ANOMALY_DESCRIPTIONS, ANOMALY_KINDS } from "../verify/anomalies.js";
import { formatDuration, parseDuration } from "../verify/duration.js";
import { formatVerdict } from "../verify/verdict.js";
import { TOPIC_PREFIX_PATTERN, VerifyWorkload, WORKLOAD_DEFAULTS, type WorkloadProgress, type WorkloadResult } from "../verify/workload.js";
import { onInterrupt } from "../interrupt.js";

export interface VerifyCommandDeps {
  /** The global --url, --token and --timeout. */
  readonly connection: () => { readonly url: string; readonly token?: string; readonly timeout: number };
  readonly setExit: (code: number) => void;
}

interface VerifyOptions {
  duration: number;
  producers: number;
  partitions: number;
  rate: number;
  seed?: number;
  topicPrefix: string;
  keep?: boolean;
  format: "text" | "json";
}

const MAX_DURATION_MS = 3_600_000;

export function registerVerifyCommand(program: Command, deps: VerifyCommandDeps): void {
  program
    .command("verify")
    .description("audit a deployment: run a bounded produce/copy/consume workload on fresh topics and check it for lost, duplicated or misordered records")
    .addOption(new Option("-d, --duration <time>", "how long the producers send: 500ms, 30s, 2m (at most 1h)").argParser(durationOption).default(WORKLOAD_DEFAULTS.durationMs, "60s"))
    .option("--producers <n>", "idempotent producers (1-32)", intBetween(1, 32), WORKLOAD_DEFAULTS.producers)
    .option("-p, --partitions <n>", "partitions of each verify topic (1-100)", intBetween(1, 100), WORKLOAD_DEFAULTS.partitions)
    .option("--rate <n>", "sends per second per producer (1-1000)", intBetween(1, 1_000), WORKLOAD_DEFAULTS.rate)
    .option("--seed <n>", "seed of the partition choices (default: random, printed)", intBetween(0, 2 ** 31 - 1))
    .option("--topic-prefix <prefix>", "prefix of the topic and group names it creates", topicPrefix, WORKLOAD_DEFAULTS.topicPrefix)
    .option("--keep", "keep the topics afterwards (to inspect them)")
    .addOption(new Option("--format <format>", "verdict as text or the CheckResult as JSON").choices(["text", "json"]).default("text"))
    .addHelpText("after", `\nThe endpoint is the global --url (or DYNALOG_URL), with --token and --timeout: see dynalog --help.\n\nAnomalies it reports:\n${ANOMALY_KINDS.map((k) => `  ${k.padEnd(20)} ${ANOMALY_DESCRIPTIONS[k]}`).join("\n")}\n\nExit codes: 0 no anomalies · 1 anomalies (or the check could not finish) · 2 usage · 3 unreachable · 4 auth\n`)
    .action(async (opts: VerifyOptions) => {
      const { url, token, timeout } = deps.connection();
      const seed = opts.seed ?? Math.floor(Math.random() * 2 ** 31);
      const workload = new VerifyWorkload({ url, token, requestTimeout: timeout, durationMs: opts.duration, producers: opts.producers, partitions: opts.partitions, rate: opts.rate, seed, topicPrefix: opts.topicPrefix, keep: opts.keep === true });
      const progress = new ProgressLine(workload);
      const interrupt = onInterrupt(() => workload.stop());
      let result: WorkloadResult;
      try {
        result = await workload.run();
      } finally {
        progress.stop();
        interrupt.dispose();
      }
      const { check } = result;
      const conclusive = check.stats.drained !== undefined;
      process.stderr.write(`${summary(result.progress, result.elapsedMs)}\n`);
      if (opts.format === "json") {
        const run = { seed, topics: result.topics, groups: result.groups, kept: opts.keep === true, elapsedMs: result.elapsedMs, requests: result.progress.requests, notes: result.notes };
        process.stdout.write(`${JSON.stringify({ ...check, run }, null, 2)}\n`);
      } else {
        const lines = [formatVerdict(check), `run: seed ${seed}, topics ${result.topics.input} and ${result.topics.output} (${opts.keep ? "kept" : "deleted"}), ${result.progress.requests} requests in ${formatDuration(result.elapsedMs)}`];
        for (const note of result.notes) lines.push(`note: ${note}`);
        if (!conclusive) lines.push("INCONCLUSIVE: no complete final drain, so losses could not be judged");
        process.stdout.write(`${lines.join("\n")}\n`);
      }
      deps.setExit(check.valid && conclusive ? 0 : 1);
    });
}

/** "elapsed 12s · 340 sent, 338 acked · 610 consumed · 338 copied · 28/s" on a terminal's stderr. */
class ProgressLine {
  private readonly timer: ReturnType<typeof setInterval> | undefined;
  private shown = false;

  constructor(private readonly workload: VerifyWorkload) {
    if (process.stderr.isTTY !== true) return;
    this.timer = setInterval(() => {
      this.shown = true;
      process.stderr.write(`\r\u001b[2K${summary(this.workload.progress, Date.now() - this.workload.startedAt)}`);
    }, 500);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.shown) process.stderr.write("\r\u001b[2K");
  }
}

function summary(p: WorkloadProgress, elapsedMs: number): string {
  const rate = p.sendingSince === undefined ? 0 : Math.round(p.sendsAcked / Math.max(0.001, ((p.sendingUntil ?? Date.now()) - p.sendingSince) / 1000));
  return `verify ${p.phase}: ${formatDuration(elapsedMs)} · ${p.sends} sent, ${p.sendsAcked} acked (${rate}/s) · ${p.consumed} consumed · ${p.copied} copied · ${p.requests} requests`;
}


function durationOption(value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined) throw new InvalidArgumentError("expected a duration such as 500ms, 30s or 2m");
  if (ms < 100 || ms > MAX_DURATION_MS) throw new InvalidArgumentError("expected a duration between 100ms and 1h");
  return ms;
}

function intBetween(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || n > max) throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
    return n;
  };
}

function topicPrefix(value: string): string {
  if (!TOPIC_PREFIX_PATTERN.test(value)) throw new InvalidArgumentError("expected letters, digits, '.', '_' or '-' (at most 200)");
  return value;
}
