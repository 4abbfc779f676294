/**
 * The processes of `dynalog verify`'s workload, each recording what it does in the shared History:
 * idempotent producers, the exactly-once copier, the group readers, and the final drain. They use
 * only the SDK's public API (client/index.ts), so the workload runs against any endpoint.
 */
import { isDynalogError, isFenced, type Consumer, type Dynalog, type EachBatchPayload, type KafkaMessage, type Producer } from "../../client/index.js";
import { copyValue } from "./copy-check.js";
import type { History, Outcome, PartitionRead, ReadRecord, TopicPartition } from "./history.js";
import { mulberry32 } from "../../local/faults/random.js";

/** Live counters, for the progress line and the summary. */
export interface WorkloadProgress {
  phase: "setup" | "running" | "catching up" | "draining" | "checking" | "done";
  sends: number;
  sendsAcked: number;
  /** When the first send was made (for the send rate). */
  sendingSince?: number;
  /** When the last producer stopped. */
  sendingUntil?: number;
  /** Records the group readers consumed. */
  consumed: number;
  /** Records the copier committed to the output topic. */
  copied: number;
  /** HTTP requests made (every attempt). */
  requests: number;
}

export interface WorkloadContext {
  readonly dynalog: Dynalog;
  readonly history: History;
  readonly progress: WorkloadProgress;
  readonly input: string;
  readonly output: string;
  readonly partitions: number;
  /** Per input partition, the highest acknowledged offset + 1: where readers must get to. */
  readonly ackedEnd: Map<number, number>;
}

/** Jepsen's outcome of a failed operation: definite errors did not happen, anything else may have. */
export function outcomeOf(error: unknown): Outcome {
  return isDynalogError(error) && error.outcome === "definite" ? "fail" : "info";
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}


const decoder = new TextDecoder();
function text(message: KafkaMessage): string {
  return message.value === null ? "" : decoder.decode(message.value);
}
function records(messages: readonly KafkaMessage[]): ReadRecord[] {
  return messages.map((m) => [m.offset, text(m)] as const);
}

// ---- producers ---------------------------------------------------------------------------------

export interface ProducerPlan {
  /** Sends per second (paced, one in flight). */
  readonly rate: number;
  readonly maxSends: number;
  readonly until: number;
  readonly seed: number;
}

/** Producer `p<index>` sends "p<index>-<n>" to seeded partitions of the input until `until`. */
export async function runProducer(ctx: WorkloadContext, producer: Producer, index: number, plan: ProducerPlan, stopped: () => boolean): Promise<void> {
  const process = `p${index}`;
  const random = mulberry32(plan.seed + index);
  const started = Date.now();
  for (let n = 0; n < plan.maxSends && !stopped(); n++) {
    await sleep(started + (n * 1_000) / plan.rate - Date.now());
    if (stopped() || Date.now() >= plan.until) break;
    const partition = Math.floor(random() * ctx.partitions);
    const value = `${process}-${n}`;
    const op = ctx.history.invoke({ type: "send", process, topic: ctx.input, partition, value });
    ctx.progress.sends += 1;
    ctx.progress.sendingSince ??= Date.now();
    try {
      const [meta] = await producer.send({ topic: ctx.input, messages: [{ value, partition }] });
      ctx.history.complete(op, { outcome: "ok", offset: meta?.baseOffset });
      ctx.progress.sendsAcked += 1;
      if (meta?.baseOffset !== undefined) ctx.ackedEnd.set(partition, Math.max(ctx.ackedEnd.get(partition) ?? 0, meta.baseOffset + 1));
    } catch (error) {
      ctx.history.complete(op, { outcome: outcomeOf(error) });
      await sleep(100);
    }
  }
}

// ---- assignments -------------------------------------------------------------------------------

/**
 * Records an `assign` event whenever the consumer's partitions change (joined, assigned, revoked)
 * or it rewinds (a failed transaction): its next poll of a partition may then start anywhere.
 */
class AssignmentLog {
  generation = 0;
  private readonly removers: (() => void)[] = [];

  constructor(
    private readonly consumer: Consumer,
    private readonly history: History,
    private readonly process: string,
  ) {
    this.removers.push(
      consumer.on(consumer.events.GROUP_JOIN, (event) => {
        const assignment = (event.payload as { memberAssignment?: Record<string, number[]> }).memberAssignment ?? {};
        this.record(Object.entries(assignment).flatMap(([topic, partitions]) => partitions.map((partition) => ({ topic, partition }))));
      }),
      consumer.on(consumer.events.REBALANCING, (event) => {
        const revoked = new Set(((event.payload as { revoked?: { topic: string; partitions: number[] }[] }).revoked ?? []).flatMap((t) => t.partitions.map((p) => `${t.topic}\u0000${p}`)));
        this.record(this.current().filter((tp) => !revoked.has(`${tp.topic}\u0000${tp.partition}`)));
      }),
    );
  }

  /** The consumer goes back to its committed offsets (it rewinds after a failed batch). */
  rewound(): void {
    this.record(this.current());
  }

  dispose(): void {
    for (const remove of this.removers) remove();
  }

  private current(): TopicPartition[] {
    return this.consumer.assignment().flatMap((t) => t.partitions.map((partition) => ({ topic: t.topic, partition })));
  }

  private record(partitions: TopicPartition[]): void {
    this.generation += 1;
    this.history.record({ type: "assign", process: this.process, generation: this.generation, partitions });
  }
}

/** A poll, as the consumer handed it over: invoked and completed at once. */
function recordPoll(history: History, process: string, generation: number, batch: EachBatchPayload["batch"]): void {
  const poll = history.invoke({ type: "poll", process, generation });
  history.complete(poll, { outcome: "ok", reads: [{ topic: batch.topic, partition: batch.partition, records: records(batch.messages) }] });
}

const GROUP_TIMING = { sessionTimeout: 10_000, heartbeatInterval: 1_000, maxWaitTimeInMs: 1_000 } as const;

// ---- the exactly-once copier -------------------------------------------------------------------

export interface Role {
  stop(): Promise<void>;
}

/**
 * Consumes the input in `group` and, per batch, writes one copy of each record to the same
 * partition of the output and commits the batch's offsets in the same transaction.
 */
export async function startCopier(ctx: WorkloadContext, group: string, transactionalId: string): Promise<Role> {
  const process = "copier";
  const consumer = ctx.dynalog.consumer({ groupId: group, ...GROUP_TIMING });
  const log = new AssignmentLog(consumer, ctx.history, process);
  let producer = ctx.dynalog.producer({ transactionalId });
  await producer.connect();
  let attempt = 0;
  await consumer.subscribe({ topics: [ctx.input], fromBeginning: true });
  await consumer.run({
    deliverySemantics: "exactly-once",
    eachBatch: async ({ batch }) => {
      recordPoll(ctx.history, process, log.generation, batch);
      // The tag (attempt and input offset) keeps every output value unique, even if a read was wrong.
      const tag = `c${++attempt}`;
      const sends = batch.messages.map((m) => ({ topic: ctx.output, partition: batch.partition, value: copyValue(text(m), `${tag}.${m.offset}`) }));
      const offsets = [{ topic: ctx.input, partition: batch.partition, group, offset: batch.nextOffset }];
      const op = ctx.history.invoke({ type: "txn", process, transactionalId, sends, offsets, end: "commit" });
      try {
        const tx = await producer.transaction();
        await tx.send({ topic: ctx.output, messages: sends.map(({ value, partition }) => ({ value, partition })) });
        await tx.sendOffsets({ consumer, topics: [{ topic: ctx.input, partitions: [{ partition: batch.partition, offset: batch.nextOffset }] }] });
        const result = await tx.commit();
        const written = result.partitions.find((p) => p.topicName === ctx.output && p.partition === batch.partition);
        // Per-send offsets only when the range is exactly the batch (it is written contiguously).
        const contiguous = written !== undefined && written.lastOffset - written.baseOffset + 1 === sends.length;
        ctx.history.complete(op, { outcome: "ok", offsets: contiguous ? sends.map((_, i) => written.baseOffset + i) : undefined });
        ctx.progress.copied += sends.length;
      } catch (error) {
        ctx.history.complete(op, { outcome: outcomeOf(error) });
        log.rewound(); // the consumer goes back to the committed offset and redelivers
        if (isFenced(error)) {
          producer = ctx.dynalog.producer({ transactionalId });
          await producer.connect().catch(() => undefined);
        }
        throw error;
      }
    },
  });
  return {
    async stop() {
      await stopWithin(consumer, 15_000);
      log.dispose();
      await producer.disconnect().catch(() => undefined);
    },
  };
}

// ---- group readers -----------------------------------------------------------------------------

/** Members r0, r1… of `group` read the input at-least-once; `reached` is each partition's furthest next offset. */
export async function startReaders(ctx: WorkloadContext, group: string, count: number, reached: Map<number, number>): Promise<Role> {
  const members: { consumer: Consumer; log: AssignmentLog; removeCommits: () => void }[] = [];
  for (let i = 0; i < count; i++) {
    const process = `r${i}`;
    const consumer = ctx.dynalog.consumer({ groupId: group, ...GROUP_TIMING });
    const log = new AssignmentLog(consumer, ctx.history, process);
    const removeCommits = consumer.on(consumer.events.COMMIT_OFFSETS, (event) => {
      const topics = (event.payload as { topics?: { topic: string; partitions: { partition: number; offset: number }[] }[] }).topics ?? [];
      const commit = ctx.history.invoke({ type: "commit", process, group, generation: log.generation, offsets: topics.flatMap((t) => t.partitions.map((p) => ({ topic: t.topic, partition: p.partition, offset: p.offset }))) });
      ctx.history.complete(commit, { outcome: "ok" });
    });
    members.push({ consumer, log, removeCommits });
    await consumer.subscribe({ topics: [ctx.input], fromBeginning: true });
    await consumer.run({
      deliverySemantics: "at-least-once",
      eachBatch: async ({ batch }) => {
        recordPoll(ctx.history, process, log.generation, batch);
        ctx.progress.consumed += batch.messages.length;
        reached.set(batch.partition, Math.max(reached.get(batch.partition) ?? 0, batch.nextOffset));
      },
    });
  }
  return {
    async stop() {
      await Promise.all(members.map((m) => stopWithin(m.consumer, 15_000)));
      for (const m of members) {
        m.log.dispose();
        m.removeCommits();
      }
    },
  };
}

// ---- the final drain ---------------------------------------------------------------------------

/**
 * Reads every partition of `topics` from its log start to the high watermark it had when the
 * drain began (or until fetches stop returning records: trailing voids), and records it as the
 * history's `drain`. Resolves false if it timed out (the drain is then recorded as indefinite).
 */
export async function drainTopics(ctx: WorkloadContext, topics: readonly string[], timeoutMs: number): Promise<boolean> {
  const admin = ctx.dynalog.admin();
  const targets = new Map<string, { topic: string; partition: number; from: number; end: number; next: number; records: ReadRecord[] }>();
  for (const topic of topics) {
    for (const p of await admin.fetchTopicOffsets(topic)) targets.set(`${topic}\u0000${p.partition}`, { topic, partition: p.partition, from: p.low, end: p.high, next: p.low, records: [] });
  }
  const op = ctx.history.invoke({ type: "drain", process: "drain" });
  const consumer = ctx.dynalog.consumer({ maxWaitTimeInMs: 200, maxRecordsPerPartition: 10_000 });
  let emptyFetches = 0;
  const removeFetch = consumer.on(consumer.events.FETCH, (event) => {
    emptyFetches = (event.payload as { numberOfBatches?: number }).numberOfBatches === 0 ? emptyFetches + 1 : 0;
  });
  const done = () => emptyFetches >= 5 || [...targets.values()].every((t) => t.next >= t.end);
  const deadline = Date.now() + timeoutMs;
  let complete = false;
  try {
    if (!done()) {
      await consumer.subscribe({ topics: [...topics], fromBeginning: true });
      await consumer.run({
        eachBatch: async ({ batch }) => {
          const target = targets.get(`${batch.topic}\u0000${batch.partition}`);
          if (!target) return;
          target.records.push(...records(batch.messages));
          target.next = Math.max(target.next, batch.nextOffset);
        },
      });
      while (!done() && Date.now() < deadline) await sleep(50);
    }
    complete = done();
  } finally {
    removeFetch();
    await stopWithin(consumer, 10_000);
    const reads: (PartitionRead & { from: number })[] = [...targets.values()].map((t) => ({ topic: t.topic, partition: t.partition, from: t.from, records: t.records }));
    ctx.history.complete(op, complete ? { outcome: "ok", reads } : { outcome: "info" });
  }
  return complete;
}

async function stopWithin(consumer: Consumer, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([consumer.disconnect().catch(() => undefined), new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
