/**
 * The fault matrix harness (docs/testing.md). A ROW is a scenario — a bounded workload plus the
 * faults it injects — run once per seed; every (row, seed) is its own test. The workload records a
 * Jepsen-style History (cli/verify) and the row passes only if `checkHistory` finds no anomaly and
 * the row's own invariants (`ctx.violation`) hold. A failure prints the verdict and the command that
 * replays that seed.
 *
 * Seeds: DYNALOG_MATRIX_SEEDS is a count (seeds 1..n) or a comma list ("3,17"); without it the
 * count is DYNALOG_MATRIX_DEFAULT_SEEDS (vitest.long.config.ts sets 20) or 2 (the CI share).
 * The seed drives the fault layer's PRNG (every broker instance gets its own, derived from it) and
 * the workload's choices (batch sizes, which requests fail, where a crash happens).
 */
import { ConfiguredRetryStrategy } from "@smithy/core/retry";
import { beforeAll, describe, it } from "vitest";
import { checkHistory, formatVerdict, History, type ReadRecord } from "../../cli/verify/index.js";
import { mulberry32, randomInt, type Random } from "../../local/faults/random.js";
import type { Broker } from "../../shared/core/broker.js";
import type { TransactionCommitInput } from "../../shared/core/transactions.js";
import { DynalogError } from "../../shared/errors.js";
import type { TableNames } from "../../shared/storage/tables.js";
import { createTestBroker, createTestTables, TestClock, topicName, type TestBroker, type TestBrokerOptions } from "../support/broker.js";

/** The seeds every row runs with (see the file comment). */
export function matrixSeeds(env: NodeJS.ProcessEnv = process.env): number[] {
  const raw = (env["DYNALOG_MATRIX_SEEDS"] ?? env["DYNALOG_MATRIX_DEFAULT_SEEDS"] ?? "2").trim();
  const seeds = raw.includes(",")
    ? raw.split(",").filter((s) => s.trim() !== "").map(Number)
    : Array.from({ length: Number(raw) }, (_, i) => i + 1);
  if (seeds.length === 0 || seeds.some((s) => !Number.isInteger(s) || s < 0)) {
    throw new Error(`DYNALOG_MATRIX_SEEDS must be a count or a comma list of seeds, got ${JSON.stringify(raw)}`);
  }
  return seeds;
}

export interface Row {
  readonly name: string;
  /** Per (row, seed) test. */
  readonly timeoutMs?: number;
  run(ctx: RowContext): Promise<void>;
}

/** Register `rows` × seeds as tests of the calling file (`file` is its path, for the replay hint). */
export function matrix(file: string, rows: readonly Row[]): void {
  let tables: TableNames;
  beforeAll(async () => {
    tables = await createTestTables("matrix");
  });
  const seeds = matrixSeeds();
  for (const row of rows) {
    describe(row.name, () => {
      it.each(seeds)("seed %i", async (seed) => {
        const ctx = new RowContext(row.name, seed, tables, file);
        await row.run(ctx);
        ctx.assertValid();
      }, row.timeoutMs ?? 60_000);
    });
  }
}

/**
 * The SDK's back-off (100 ms, 500 ms for throttles, doubling) would make a storm take minutes. What
 * the rows test is its decisions — retry, or give up after 3 attempts — so the delays are cut to a
 * few ms. (The client's retry strategy is read per request from its config.)
 */
function shortSdkBackoff(lambda: TestBroker): void {
  const config = lambda.client.config as unknown as { retryStrategy: () => Promise<unknown> };
  const strategy = new ConfiguredRetryStrategy(3, (attempt) => 5 * attempt);
  config.retryStrategy = () => Promise.resolve(strategy);
}

/** What a retried client operation finally amounted to. */
export interface Resolution {
  readonly outcome: "ok" | "fail" | "info";
  /** Error codes (or error names) of every failed attempt, in order. */
  readonly errors: readonly string[];
  /** With "ok": the acknowledged base offset (sends) or the commit's result (transactions). */
  readonly baseOffset?: number;
}

export interface SendOptions {
  readonly process: string;
  readonly topic: string;
  readonly partition: number;
  readonly values: readonly string[];
  /** Brokers to try, in turn: a retry goes to the next one (another Lambda instance). */
  readonly brokers: readonly Broker[];
  readonly producer?: { readonly producerId: number; readonly epoch: number };
  readonly baseSequence?: number;
  readonly principal?: string;
  /** Attempts before giving up (default 12); 1 = the client does not retry. */
  readonly attempts?: number;
  /** Record under this topic name in the history (e.g. one name per topic incarnation). */
  readonly historyTopic?: string;
}

export interface TxnOptions {
  readonly process: string;
  readonly brokers: readonly Broker[];
  readonly input: Omit<TransactionCommitInput, "records">;
  readonly sends: readonly { readonly topic: string; readonly partition: number; readonly value: string }[];
  readonly attempts?: number;
}

/** DynalogError codes a client retries without knowing more (nothing was written). */
const RETRY_DEFINITE = new Set(["STORAGE_THROTTLED", "CONCURRENT_TRANSACTIONS", "THROTTLING_QUOTA_EXCEEDED"]);
/** Refusals an idempotent retry of an indefinite attempt must never meet (the batch is the latest). */
const SEQUENCE_REFUSALS = new Set(["OUT_OF_ORDER_SEQUENCE_NUMBER", "DUPLICATE_SEQUENCE_NUMBER", "UNKNOWN_PRODUCER_ID"]);

export const text = (value: string) => ({ key: null, value: new TextEncoder().encode(value), headers: [] });
const decode = (bytes: Uint8Array | null): string => new TextDecoder().decode(bytes ?? new Uint8Array());

/** Adds the caller's principal to a broker input (producer ids are bound to the principal they were issued to). */
export function asPrincipal<T extends object>(input: T, principal: string | undefined): T {
  return principal === undefined ? input : Object.assign({}, input, { principal });
}

export class RowContext {
  readonly history: History;
  readonly random: Random;
  readonly clock = new TestClock();
  private readonly problems: string[] = [];
  private readonly lambdas: TestBroker[] = [];
  private readonly counters = new Map<string, number>();

  constructor(
    readonly row: string,
    readonly seed: number,
    readonly tables: TableNames,
    private readonly file: string,
  ) {
    this.random = mulberry32(seed * 7919 + 1);
    this.history = new History({ clock: this.clock.now });
  }

  /** A new broker instance (a separate Lambda: own caches, own seeded fault layer) on the shared tables and clock. */
  lambda(options: Omit<TestBrokerOptions, "clock" | "seed"> = {}): TestBroker {
    const lambda = createTestBroker(this.tables, { ...options, clock: this.clock, seed: this.seed * 1000 + this.lambdas.length });
    shortSdkBackoff(lambda);
    this.lambdas.push(lambda);
    return lambda;
  }

  get holeTimeoutMs(): number {
    return this.lambdas[0]?.broker.config.holeTimeoutMs ?? 10_000;
  }

  async topic(admin: Broker, partitions: number, label = "mx"): Promise<string> {
    const name = topicName(label);
    await admin.createTopic({ name, partitions });
    return name;
  }

  /** Unique values "<process>-<n>". */
  values(process: string, count: number): string[] {
    const start = this.counters.get(process) ?? 0;
    this.counters.set(process, start + count);
    return Array.from({ length: count }, (_, i) => `${process}-${start + i}`);
  }

  int(min: number, max: number): number {
    return randomInt(this.random, min, max);
  }

  chance(probability: number): boolean {
    return this.random() < probability;
  }

  /** A row-specific invariant broke (reported with the checker's verdict). */
  violation(message: string): void {
    this.problems.push(message);
  }

  /** Let readers fill dead writers' gaps (DESIGN.md §1.4): move the shared clock past the hole timeout. */
  passHoleTimeout(): void {
    this.clock.advance(this.holeTimeoutMs + 1);
  }

  /** One produce of `values` (one history op each), retried on the next broker while its outcome is unknown. */
  async send(options: SendOptions): Promise<Resolution> {
    const topic = options.historyTopic ?? options.topic;
    const ops = options.values.map((value) =>
      // A plain producer that retries may write twice (at-least-once); that is not an anomaly.
      this.history.invoke({ type: "send", process: options.process, topic, partition: options.partition, value, idempotent: options.producer !== undefined || options.attempts === 1 }),
    );
    const resolution = await this.retry(options.brokers, options.attempts ?? 12, options.producer !== undefined, async (broker) => {
      const input = {
        topic: options.topic,
        producer: options.producer,
        partitions: [{ partition: options.partition, baseSequence: options.baseSequence, records: options.values.map(text) }],
      };
      const result = await broker.produce(asPrincipal(input, options.principal));
      const answer = result.partitions[0]!;
      if ("error" in answer) throw answer.error;
      return answer.baseOffset;
    });
    ops.forEach((op, i) =>
      this.history.complete(op, resolution.outcome === "ok" ? { outcome: "ok", offset: resolution.baseOffset! + i } : { outcome: resolution.outcome }),
    );
    return resolution;
  }

  /** One transactional (or atomic) commit: a single history op, retried with the same sequence while unknown. */
  async txn(options: TxnOptions): Promise<Resolution> {
    const op = this.history.invoke({ type: "txn", process: options.process, transactionalId: options.input.transactionalId, sends: options.sends, end: "commit" });
    let offsets: number[] = [];
    const resolution = await this.retry(options.brokers, options.attempts ?? 12, options.input.transactionalId !== undefined, async (broker) => {
      const result = await broker.commitTransaction({ ...options.input, records: options.sends.map((s) => ({ ...text(s.value), topic: s.topic, partition: s.partition })) });
      const seen = new Map<string, number>();
      offsets = options.sends.map((s) => {
        const key = `${s.topic}\u0000${s.partition}`;
        const base = result.partitions.find((p) => p.topic === s.topic && p.partition === s.partition)?.baseOffset;
        const index = seen.get(key) ?? 0;
        seen.set(key, index + 1);
        if (base === undefined) throw new Error(`commit result names no offsets for ${s.topic}-${s.partition}`);
        return base + index;
      });
      return offsets[0] ?? 0;
    });
    this.history.complete(op, resolution.outcome === "ok" ? { outcome: "ok", offsets } : { outcome: resolution.outcome });
    return resolution;
  }

  /**
   * Run `attempt` on brokers in turn until it succeeds, is definitely refused, or runs out of
   * attempts. Unknown outcomes (timeouts, storage errors, a dead instance) are retried as they are.
   */
  async retry(brokers: readonly Broker[], attempts: number, idempotent: boolean, attempt: (broker: Broker) => Promise<number>): Promise<Resolution> {
    const errors: string[] = [];
    let indefinite = false;
    for (let i = 0; i < attempts; i++) {
      try {
        const baseOffset = await attempt(brokers[i % brokers.length]!);
        return { outcome: "ok", errors, baseOffset };
      } catch (error) {
        const code = error instanceof DynalogError ? error.code : `${(error as Error).name}: ${(error as Error).message}`;
        errors.push(code);
        if (error instanceof DynalogError && error.outcome === "definite") {
          if (RETRY_DEFINITE.has(error.code)) continue;
          if (indefinite && idempotent && SEQUENCE_REFUSALS.has(error.code)) {
            this.violation(`a retry of an indefinite idempotent write was refused with ${error.code}: ${error.message} (attempts: ${errors.join(" → ")})`);
          }
          return { outcome: indefinite ? "info" : "fail", errors };
        }
        indefinite = true;
      }
    }
    return { outcome: indefinite ? "info" : "fail", errors };
  }

  /** Run a client call that is not part of the history (init, heartbeat, reads) until it stops failing retriably. */
  async patiently<T>(call: () => Promise<T>, attempts = 20): Promise<T> {
    for (let i = 1; ; i++) {
      try {
        return await call();
      } catch (error) {
        const retriable = !(error instanceof DynalogError) || error.retriable || error.outcome === "indefinite";
        if (!retriable || i >= attempts) throw error;
      }
    }
  }

  /** Every record of a partition from `from` on, following the log (gaps are waited out with the hole timeout). */
  async read(broker: Broker, topic: string, partition: number, from = 0): Promise<ReadRecord[]> {
    const records: ReadRecord[] = [];
    let offset = from;
    for (let stalls = 0; ; ) {
      const [result] = await broker.fetch({ partitions: [{ topic, partition, offset }], maxRecords: 500 });
      if (!result || "error" in result) throw new Error(`fetch of ${topic}-${partition}@${offset} failed: ${result && "error" in result ? result.error.message : "no result"}`);
      for (const r of result.records) records.push([r.offset, decode(r.value)]);
      if (result.nextOffset >= result.highWatermark) return records;
      if (result.nextOffset === offset) {
        // A gap younger than the hole timeout: a dead writer's reservation. Let readers void it.
        if (++stalls > 3) throw new Error(`${topic}-${partition} made no progress at offset ${offset} (high watermark ${result.highWatermark})`);
        this.passHoleTimeout();
      }
      offset = result.nextOffset;
    }
  }

  /** A consumer poll of one partition from `offset`, recorded; returns the records and the next offset. */
  async poll(broker: Broker, poll: { process: string; generation?: number; topic: string; partition: number; offset: number; maxRecords?: number }): Promise<{ records: ReadRecord[]; nextOffset: number }> {
    const op = this.history.invoke({ type: "poll", process: poll.process, generation: poll.generation });
    let result;
    try {
      result = await this.patiently(async () => {
        const [answer] = await broker.fetch({ partitions: [{ topic: poll.topic, partition: poll.partition, offset: poll.offset }], maxRecords: poll.maxRecords ?? 100 });
        if (answer && "error" in answer) throw answer.error;
        return answer;
      });
    } catch (error) {
      this.history.complete(op, { outcome: "fail" });
      throw error;
    }
    if (!result || "error" in result) {
      this.history.complete(op, { outcome: "fail" });
      throw result && "error" in result ? result.error : new Error("no fetch result");
    }
    const records = result.records.map((r): ReadRecord => [r.offset, decode(r.value)]);
    this.history.complete(op, { outcome: "ok", reads: [{ topic: poll.topic, partition: poll.partition, records }] });
    return { records, nextOffset: result.nextOffset };
  }

  /** The final read of every partition (after the hole timeout), recorded as the history's drain. */
  async drain(broker: Broker, topics: readonly { topic: string; partitions: number; historyTopic?: string }[]): Promise<Map<string, ReadRecord[]>> {
    this.passHoleTimeout();
    const op = this.history.invoke({ type: "drain" });
    const reads = [];
    const byPartition = new Map<string, ReadRecord[]>();
    for (const { topic, partitions, historyTopic } of topics) {
      for (let partition = 0; partition < partitions; partition++) {
        const records = await this.read(broker, topic, partition);
        byPartition.set(`${historyTopic ?? topic}-${partition}`, records);
        reads.push({ topic: historyTopic ?? topic, partition, from: 0, records });
      }
    }
    this.history.complete(op, { outcome: "ok", reads });
    return byPartition;
  }

  /** Throws with the verdict, the row's own violations and the replay command unless all is well. */
  assertValid(): void {
    const result = checkHistory(this.history.events);
    const faults = this.lambdas.reduce((n, l) => n + l.chaos.decisions.length, 0);
    if (process.env["DYNALOG_MATRIX_VERBOSE"]) console.log(`${this.row} seed ${this.seed}: ${faults} faults injected\n${formatVerdict(result)}`);
    if (result.valid && this.problems.length === 0) return;
    throw new Error(
      [
        `fault matrix row "${this.row}" failed with seed ${this.seed} (${faults} faults injected)`,
        formatVerdict(result),
        ...(this.problems.length > 0 ? ["row invariants broken:", ...this.problems.map((p) => `  - ${p}`)] : []),
        `replay: DYNALOG_MATRIX_SEEDS=${this.seed}, npx vitest run --config vitest.long.config.ts ${this.file} -t "${this.row} seed ${this.seed}$"`,
      ].join("\n"),
    );
  }
}
