/**
 * `dynalog subscriptions …`: push subscriptions (docs/subscriptions.md).
 *
 *   dynalog subscriptions create NAME --topic T (--webhook URL | --function ARN|./handler.mjs)
 *       [--batch-size N] [--max-retries N] [--dead-letter-topic D] [--delivery at-least-once|exactly-once]
 *       [--group G] [--starting-position earliest|latest|<ms>] [--max-batching-window-ms N] [--timeout-ms N]
 *   dynalog subscriptions list | describe NAME | pause NAME | resume NAME | rotate-secret NAME | delete NAME
 *
 * A `--function` that is not an ARN is a local module (the local broker only): it is resolved
 * against the current directory here, since the broker may run elsewhere.
 */
import path from "node:path";
import { CommanderError, InvalidArgumentError, Option, type Command } from "commander";
import type { Dynalog, SubscriptionInfo } from "../../client/index.js";
import { printTable } from "../output.js";

function integer(min: number, max: number) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
    return Number(value);
  };
}

function startingPosition(value: string): "earliest" | "latest" | number {
  if (value === "earliest" || value === "latest") return value;
  if (/^\d+$/.test(value)) return Number(value);
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new InvalidArgumentError("earliest, latest, a timestamp in ms or an ISO 8601 time");
  return ms;
}

/** An ARN stays as is; anything else names a local module, made absolute against the cwd. */
export function functionTarget(value: string): string {
  return value.startsWith("arn:") ? value : path.resolve(value);
}

function targetText(s: SubscriptionInfo): string {
  return s.target.type === "webhook" ? s.target.url : s.target.type === "function" ? s.target.arn : `module:${s.target.path}`;
}

interface CreateOptions {
  topic: string;
  webhook?: string;
  function?: string;
  group?: string;
  batchSize?: number;
  maxRetries?: number;
  deadLetterTopic?: string;
  delivery?: "at-least-once" | "exactly-once";
  startingPosition?: "earliest" | "latest" | number;
  maxBatchingWindowMs?: number;
  timeoutMs?: number;
}

export function registerSubscriptionCommands(program: Command, client: () => Dynalog): void {
  const subscriptions = program.command("subscriptions").description("push subscriptions: the broker delivers a topic's records to a webhook or function");
  subscriptions
    .command("create <name>")
    .description("create a push subscription (prints its signing secret once)")
    .requiredOption("-t, --topic <topic>", "the topic to deliver")
    .option("--webhook <url>", "deliver by POST to this https:// URL (http:// locally)")
    .option("--function <arn|path>", "invoke this Lambda function (on the broker's allow-list), or locally a module exporting handler(event)")
    .option("--group <group>", "the consumer group it commits as (default sub-<name>)")
    .option("--batch-size <n>", "records per invocation, 1-10000 (default 100)", integer(1, 10_000))
    .option("--max-retries <n>", "attempts of a failing record before it is dead-lettered (default 3)", integer(0, 10_000))
    .option("--dead-letter-topic <topic>", "where records go after --max-retries failed attempts")
    .addOption(new Option("--delivery <mode>", "delivery guarantee").choices(["at-least-once", "exactly-once"]))
    .option("--starting-position <pos>", "earliest, latest (default), or a time (ms or ISO 8601)", startingPosition)
    .option("--max-batching-window-ms <ms>", "wait up to this long to fill a batch (default 0)", integer(0, 300_000))
    .option("--timeout-ms <ms>", "per-invocation timeout (default 30000)", integer(1_000, 600_000))
    .action(async (name: string, opts: CreateOptions) => {
      if ((opts.webhook === undefined) === (opts.function === undefined)) throw new CommanderError(2, "dynalog.usage", "give exactly one of --webhook and --function");
      const created = await client()
        .admin()
        .createSubscription({
          name,
          topic: opts.topic,
          group: opts.group,
          webhook: opts.webhook,
          function: opts.function === undefined ? undefined : functionTarget(opts.function),
          batchSize: opts.batchSize,
          maxRetries: opts.maxRetries,
          deadLetterTopic: opts.deadLetterTopic,
          delivery: opts.delivery,
          startingPosition: opts.startingPosition,
          maxBatchingWindowMs: opts.maxBatchingWindowMs,
          timeoutMs: opts.timeoutMs,
        });
      process.stdout.write(`Created subscription ${created.name}: ${created.topic} → ${targetText(created)} (group ${created.group})\n`);
      process.stdout.write(`Signing secret (shown only now; webhooks verify X-Dynalog-Signature with it):\n${created.secret}\n`);
    });
  subscriptions
    .command("list")
    .description("list subscriptions")
    .action(async () => {
      const all = await client().admin().listSubscriptions();
      printTable(
        ["NAME", "TOPIC", "TARGET", "GROUP", "STATE"],
        all.map((s) => [s.name, s.topic, targetText(s), s.group, s.state]),
      );
    });
  subscriptions
    .command("describe <name>")
    .description("settings, lag, counters and the last error per partition")
    .action(async (name: string) => {
      const d = await client().admin().describeSubscription(name);
      process.stdout.write(
        `Subscription ${d.name} (${d.state}${d.topicExists ? "" : ", topic gone"}): ${d.topic} → ${targetText(d)}\n` +
          `  group ${d.group} · batch ${d.batchSize} · max retries ${d.maxRetries} · dead-letter ${d.deadLetterTopic ?? "-"} · ${d.delivery} · total lag ${d.totalLag}\n`,
      );
      printTable(
        ["PARTITION", "COMMITTED", "HIGH-WATERMARK", "LAG", "DELIVERED", "FAILED", "DEAD-LETTERED", "LATENCY-MS", "LAST-ERROR"],
        d.partitions.map((p) => [
          String(p.partition),
          String(p.committedOffset),
          String(p.highWatermark),
          String(p.lag),
          String(p.delivered),
          String(p.failed),
          String(p.deadLettered),
          p.lastLatencyMs === null ? "-" : String(p.lastLatencyMs),
          p.lastError ? `@${p.lastError.offset} ${p.lastError.at}: ${p.lastError.message}` : "-",
        ]),
      );
    });
  for (const [verb, done] of [
    ["pause", "Paused"],
    ["resume", "Resumed"],
  ] as const) {
    subscriptions
      .command(`${verb} <name>`)
      .description(verb === "pause" ? "stop delivering (the batch in flight completes)" : "deliver again from the committed offsets")
      .action(async (name: string) => {
        const admin = client().admin();
        await (verb === "pause" ? admin.pauseSubscription(name) : admin.resumeSubscription(name));
        process.stdout.write(`${done} subscription ${name}\n`);
      });
  }
  subscriptions
    .command("rotate-secret <name>")
    .description("a new webhook signing secret (printed once); the old one also signs deliveries for the grace period")
    .option("--grace-period-ms <ms>", "how long the old secret keeps signing (default 86400000 = 24 h; 0 = none)", integer(0, 7 * 86_400_000))
    .action(async (name: string, options: { gracePeriodMs?: number }) => {
      const rotated = await client().admin().rotateSubscriptionSecret(name, options.gracePeriodMs === undefined ? {} : { gracePeriodMs: options.gracePeriodMs });
      process.stdout.write(`Rotated the secret of subscription ${name}${rotated.previousSecretExpiresAt ? ` (the old one signs too until ${rotated.previousSecretExpiresAt})` : ""}\nsecret: ${rotated.secret}\n`);
    });
  subscriptions
    .command("delete <name>")
    .description("delete a subscription (its group's offsets stay; `groups delete` forgets them)")
    .action(async (name: string) => {
      await client().admin().deleteSubscription(name);
      process.stdout.write(`Deleted subscription ${name}\n`);
    });
}
