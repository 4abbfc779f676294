/**
 * `dynalog verify`'s workload: a bounded Jepsen-style run against any Dynalog endpoint, through the
 * SDK only (so the same run audits the local broker or a deployed stack).
 *
 * 1. Creates two fresh topics, `<prefix><run>-in` and `-out`, with `partitions` partitions each.
 * 2. Starts a transactional copier (group `<prefix><run>-copier`: consume the input, write one copy
 *    per record to the output and commit the input offsets in the same transaction) and two group
 *    readers (group `<prefix><run>-readers`, at-least-once).
 * 3. For `durationMs`, `producers` idempotent producers send unique values "p<i>-<n>" at `rate`
 *    per second each to seeded partitions of the input.
 * 4. Waits (bounded) until the copier committed and the readers read past every acknowledged
 *    record, stops them, and drains both topics from their log start.
 * 5. Checks the history (cli/verify/checker.ts) including the copy (cli/verify/copy-check.ts), and
 *    deletes the topics unless `keep`.
 *
 * Every operation, its outcome and every read is recorded in a History; nothing here judges.
 */
import { Dynalog, logLevel, type FetchFunction } from "../../client/index.js";
import { checkHistory, type CheckResult } from "./checker.js";
import { History } from "./history.js";
import { drainTopics, runProducer, startCopier, startReaders, sleep, type Role, type WorkloadContext, type WorkloadProgress } from "./workload-roles.js";

export type { WorkloadProgress } from "./workload-roles.js";

export interface WorkloadOptions {
  readonly url: string;
  /** An API key, sent as a Bearer token. */
  readonly token?: string;
  /** Per HTTP request (ms). */
  readonly requestTimeout?: number;
  readonly durationMs: number;
  readonly producers: number;
  readonly partitions: number;
  /** Sends per second per producer. */
  readonly rate: number;
  readonly seed: number;
  readonly topicPrefix: string;
  /** Leave the topics in place after the run (to inspect them). */
  readonly keep: boolean;
  /** Group readers (members of one group); default 2. */
  readonly readers?: number;
  /** A fetch implementation for the SDK (default: the global fetch). */
  readonly fetch?: FetchFunction;
}

export const WORKLOAD_DEFAULTS = { durationMs: 60_000, producers: 3, partitions: 3, rate: 10, topicPrefix: "dynalog-verify-" } as const;

export interface WorkloadResult {
  readonly check: CheckResult;
  readonly history: History;
  readonly topics: { readonly input: string; readonly output: string };
  readonly groups: { readonly copier: string; readonly readers: string };
  readonly progress: WorkloadProgress;
  readonly elapsedMs: number;
  /** Things that weaken the verdict without being anomalies (e.g. the drain timed out). */
  readonly notes: readonly string[];
}

/** Topic names: letters, digits, '.', '_', '-' (docs/api.md). The prefix leaves room for the suffixes. */
export const TOPIC_PREFIX_PATTERN = /^[A-Za-z0-9._-]{0,200}$/;

export class VerifyWorkload {
  readonly progress: WorkloadProgress = { phase: "setup", sends: 0, sendsAcked: 0, consumed: 0, copied: 0, requests: 0 };
  readonly startedAt = Date.now();
  private stopRequested = false;

  constructor(private readonly options: WorkloadOptions) {
    if (options.durationMs <= 0 || options.producers < 1 || options.partitions < 1 || options.rate <= 0) throw new RangeError("duration, producers, partitions and rate must be positive");
    if (!TOPIC_PREFIX_PATTERN.test(options.topicPrefix)) throw new RangeError(`topic prefix '${options.topicPrefix}' may only hold letters, digits, '.', '_' and '-' (at most 200)`);
  }

  /** Ends the produce phase early (e.g. on Ctrl-C); the run still catches up, drains and checks. */
  stop(): void {
    this.stopRequested = true;
  }

  async run(): Promise<WorkloadResult> {
    const o = this.options;
    const baseFetch = o.fetch ?? ((input, init) => fetch(input, init));
    const dynalog = new Dynalog({
      url: o.url,
      auth: o.token ? { type: "bearer", token: o.token } : undefined,
      clientId: "dynalog-verify",
      requestTimeout: o.requestTimeout ?? 30_000,
      logLevel: logLevel.NOTHING,
      retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 2_000 },
      fetch: (input, init) => {
        this.progress.requests += 1;
        return baseFetch(input, init);
      },
    });
    const run = `${Date.now().toString(36)}-${Math.floor(Math.random() * 36 ** 4).toString(36).padStart(4, "0")}`;
    const base = `${o.topicPrefix}${run}`;
    const topics = { input: `${base}-in`, output: `${base}-out` };
    const groups = { copier: `${base}-copier`, readers: `${base}-readers` };
    const history = new History({ clock: Date.now });
    const ctx: WorkloadContext = { dynalog, history, progress: this.progress, input: topics.input, output: topics.output, partitions: o.partitions, ackedEnd: new Map() };
    const notes: string[] = [];
    const admin = dynalog.admin();
    const roles: Role[] = [];
    let created = false;
    try {
      await admin.createTopics({ topics: [{ topic: topics.input, numPartitions: o.partitions }, { topic: topics.output, numPartitions: o.partitions }] });
      created = true;
      roles.push(await startCopier(ctx, groups.copier, `${base}-copier`));
      const reached = new Map<number, number>();
      roles.push(await startReaders(ctx, groups.readers, o.readers ?? 2, reached));

      const producers = Array.from({ length: o.producers }, () => dynalog.producer());
      await Promise.all(producers.map((p) => p.connect()));
      this.progress.phase = "running";
      const until = Date.now() + o.durationMs;
      const plan = { rate: o.rate, until, seed: o.seed, maxSends: Math.ceil((o.rate * o.durationMs) / 1_000) };
      await Promise.all(producers.map((producer, i) => runProducer(ctx, producer, i, plan, () => this.stopRequested)));
      this.progress.sendingUntil = Date.now();
      await Promise.all(producers.map((p) => p.disconnect().catch(() => undefined)));

      this.progress.phase = "catching up";
      const catchUpMs = Math.max(30_000, o.durationMs / 2);
      if (!(await this.catchUp(ctx, groups.copier, reached, catchUpMs))) notes.push(`the copier and readers did not reach every acknowledged record within ${Math.round(catchUpMs / 1000)}s (the copy is checked up to the copier's committed offsets)`);
      await Promise.all(roles.splice(0).map((role) => role.stop()));

      this.progress.phase = "draining";
      const drainMs = Math.max(30_000, o.durationMs);
      if (!(await drainTopics(ctx, [topics.input, topics.output], drainMs))) notes.push(`the final drain did not finish within ${Math.round(drainMs / 1000)}s: losses cannot be judged`);
      const committed = await this.committedOffsets(dynalog, groups.copier, topics.input).catch((error: Error) => {
        notes.push(`could not read the copier's committed offsets (${error.message}): the copy is checked up to what its transactions acknowledged`);
        return undefined;
      });

      this.progress.phase = "checking";
      const check = checkHistory(history.events, { copy: { from: topics.input, to: topics.output, committed } });
      this.progress.phase = "done";
      return { check, history, topics, groups, progress: this.progress, elapsedMs: Date.now() - this.startedAt, notes };
    } finally {
      await Promise.all(roles.map((role) => role.stop().catch(() => undefined)));
      if (created && !o.keep) {
        await admin.deleteTopics({ topics: [topics.input, topics.output] }).catch((error: Error) => notes.push(`could not delete the topics: ${error.message}`));
        // The roles have left their groups (stop() disconnects), so Kafka's rule — no deleting a
        // group with members — lets these go; a member that could not leave expires first, and
        // the group is then reported as left behind rather than waited for.
        await admin.deleteGroups([groups.copier, groups.readers]).catch((error: Error) => notes.push(`could not delete the consumer groups: ${error.message}`));
      }
    }
  }

  /** Until the copier committed, and the readers read, up to every acknowledged record (or timeout). */
  private async catchUp(ctx: WorkloadContext, copierGroup: string, reached: ReadonlyMap<number, number>, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const targets = [...ctx.ackedEnd];
      const readersDone = targets.every(([partition, end]) => (reached.get(partition) ?? 0) >= end);
      if (readersDone) {
        const committed = await this.committedOffsets(ctx.dynalog, copierGroup, ctx.input).catch(() => ({}) as Record<number, number>);
        if (targets.every(([partition, end]) => (committed[partition] ?? 0) >= end)) return true;
      }
      await sleep(250);
    }
    return false;
  }

  private async committedOffsets(dynalog: Dynalog, group: string, topic: string): Promise<Record<number, number>> {
    const fetched = await dynalog.admin().fetchOffsets({ groupId: group, topics: [topic] });
    const committed: Record<number, number> = {};
    for (const t of fetched) for (const p of t.partitions) if (p.offset >= 0) committed[p.partition] = p.offset;
    return committed;
  }
}
