/**
 * The consumer: KafkaJS's `subscribe` / `run({ eachMessage | eachBatch })`, over Dynalog's
 * KIP-848 consumer groups (the broker assigns; the member learns its assignment from heartbeats).
 *
 * Two loops run while the consumer runs:
 * - the HEARTBEAT loop joins (memberEpoch 0), heartbeats every `heartbeatInterval` reporting what
 *   it owns, and reconciles: newly assigned partitions start at their committed offset (or
 *   earliest/latest per `fromBeginning`); revoked partitions stop being fetched, the batch in
 *   progress finishes, their processed offsets are committed (at-least-once), and only then are
 *   they released by the next heartbeat. Fenced or expired (UNKNOWN_MEMBER_ID / FENCED_MEMBER_EPOCH,
 *   or no successful heartbeat for a session timeout): everything is dropped WITHOUT committing
 *   and the consumer joins again.
 * - the FETCH loop long-polls `POST /v1/fetch` for the owned, unpaused partitions and hands each
 *   partition's records to `eachBatch`, or one by one to `eachMessage`.
 *
 * Delivery semantics (`run({ deliverySemantics })`):
 * - "at-least-once" (default): offsets are committed after processing (auto-commit per batch, or
 *   per `autoCommitInterval` / `autoCommitThreshold`, and before a revoked partition is released).
 *   A crash re-delivers what was processed but not committed: duplicates possible, loss never.
 * - "at-most-once": a batch's next offset is committed BEFORE its messages are processed, and a
 *   failed message is not retried. A crash loses the rest of the batch; duplicates never.
 * - "exactly-once": the consumer never commits; offsets are committed with the output, in one
 *   transaction of a transactional producer: `tx.sendOffsets({ consumer, topics })` in
 *   `eachBatch`. After a failed batch the consumer rewinds to the committed offsets.
 *
 * Without a `groupId` the consumer is standalone: it reads every partition of its topics, from the
 * beginning or the end, and commits nothing (what the CLI's `consume` does without `--group`).
 *
 * This file is the public API and the lifecycle. The work is split as KafkaJS splits its consumer:
 * consumer-membership.ts (heartbeat loop, assignment, revocation), consumer-fetch.ts (fetch loop),
 * consumer-runner.ts (handlers, delivery semantics), consumer-offsets.ts (commits); they share the
 * state in consumer-context.ts and import each other in that order only (no cycles).
 */
import { ConsumerContext } from "./consumer-context.js";
import { FetchLoop } from "./consumer-fetch.js";
import { GroupMembership } from "./consumer-membership.js";
import { OffsetCommitter } from "./consumer-offsets.js";
import { BatchRunner } from "./consumer-runner.js";
import {
  checkAssigners,
  CONSUMER_EVENTS,
  toOffset,
  toTopicPartitions,
  tpKey,
  type ConsumerConfig,
  type ConsumerEventName,
  type ConsumerRunConfig,
  type ConsumerSubscribeTopics,
  type TopicPartitionOffset,
  type TopicPartitions,
} from "./consumer-types.js";
import { clientStateError } from "./errors.js";
import type { InstrumentationEvent, RemoveInstrumentationEventListener } from "./events.js";
import { insideHandler } from "./handler-scope.js";
import type { Logger } from "./logger.js";
import type { ConsumerGroupMetadata, ConsumerRegistry, RegisteredConsumer } from "./group-registry.js";
import type { Transport } from "./transport.js";

export { CONSUMER_EVENTS, PartitionAssigners } from "./consumer-types.js";
export type {
  Batch,
  ConsumerConfig,
  ConsumerRunConfig,
  ConsumerSubscribeTopics,
  DeliverySemantics,
  EachBatchPayload,
  EachMessagePayload,
  TopicPartitionOffset,
  TopicPartitions,
} from "./consumer-types.js";

export class Consumer {
  readonly events = CONSUMER_EVENTS;
  private readonly ctx: ConsumerContext;
  private readonly offsets: OffsetCommitter;
  private readonly membership: GroupMembership;
  private readonly fetcher: FetchLoop;
  private readonly subscriptions: { pattern: string | RegExp; fromBeginning: boolean }[] = [];
  private loops: Promise<void>[] = [];
  private connected = false;

  /** How transactions of this Dynalog instance find this consumer by its group id while it runs. */
  private readonly registration: RegisteredConsumer | undefined;

  constructor(
    transport: Transport,
    config: ConsumerConfig,
    log: Logger,
    private readonly registry?: ConsumerRegistry,
  ) {
    checkAssigners(config.partitionAssigners);
    const ctx = (this.ctx = new ConsumerContext(transport, config, log));
    if (ctx.groupId !== undefined) {
      const groupId = ctx.groupId;
      this.registration = { groupId, groupMetadata: () => this.groupMetadata(), owns: (topic, partition) => ctx.owned.has(tpKey(topic, partition)) };
    }
    ctx.stop = () => this.stop();
    this.offsets = new OffsetCommitter(ctx, () => this.membership.heartbeat({ throwFatal: false, joinRetries: false }));
    this.membership = new GroupMembership(ctx, this.offsets);
    this.fetcher = new FetchLoop(ctx, new BatchRunner(ctx, this.offsets), this.offsets);
  }

  // ---- lifecycle -------------------------------------------------------------------------------

  async connect(): Promise<void> {
    this.connected = true;
    this.ctx.instrumentation.emit("consumer.connect", null);
  }

  async disconnect(): Promise<void> {
    await this.stop();
    this.connected = false;
    this.ctx.instrumentation.emit("consumer.disconnect", null);
  }

  async subscribe(subscription: ConsumerSubscribeTopics): Promise<void> {
    if (this.ctx.running) throw clientStateError("Cannot subscribe while the consumer is running; stop it first");
    const patterns = [...(subscription.topics ?? []), ...(subscription.topic !== undefined ? [subscription.topic] : [])];
    if (patterns.length === 0) throw new TypeError("subscribe needs topics: subscribe({ topics: ['orders'] })");
    for (const pattern of patterns) this.subscriptions.push({ pattern, fromBeginning: subscription.fromBeginning === true });
  }

  /** Starts consuming; resolves once the consumer has joined its group (or, standalone, has its partitions). */
  async run(config: ConsumerRunConfig): Promise<void> {
    const ctx = this.ctx;
    if (ctx.running) throw clientStateError("The consumer is already running");
    if (!config.eachMessage === !config.eachBatch) throw new TypeError("run needs exactly one of eachMessage and eachBatch");
    if (this.subscriptions.length === 0) throw clientStateError("Subscribe to topics before run()");
    const mode = config.deliverySemantics ?? "at-least-once";
    if (!["at-most-once", "at-least-once", "exactly-once"].includes(mode)) throw new TypeError(`Unknown deliverySemantics '${mode}'`);
    ctx.run = { ...config, autoCommit: mode === "at-least-once" && config.autoCommit !== false && ctx.groupId !== undefined, eachBatchAutoResolve: config.eachBatchAutoResolve !== false, mode };
    await this.membership.resolveTopics(this.subscriptions);
    ctx.running = true;
    ctx.stopping = undefined;
    ctx.memberEpoch = 0;
    if (this.registration) this.registry?.add(this.registration);
    try {
      if (ctx.groupId !== undefined) {
        await this.membership.heartbeat({ throwFatal: true, joinRetries: true });
        this.loops.push(this.membership.heartbeatLoop());
      } else {
        await this.membership.assignStandalone();
      }
    } catch (error) {
      ctx.running = false;
      if (this.registration) this.registry?.delete(this.registration);
      throw error;
    }
    this.loops.push(this.fetcher.run());
  }

  /**
   * Finishes the batch in progress, commits (at-least-once), leaves the group. Called from inside
   * eachMessage/eachBatch it resolves at once, and the consumer stops when the handler returns.
   */
  stop(): Promise<void> {
    const ctx = this.ctx;
    if (!ctx.running && !ctx.stopping) return Promise.resolve();
    if (!ctx.stopping) ctx.stopping = this.doStop();
    if (insideHandler()) {
      ctx.stopping.catch(() => undefined);
      return Promise.resolve();
    }
    return ctx.stopping;
  }

  private async doStop(): Promise<void> {
    const ctx = this.ctx;
    ctx.running = false;
    ctx.fetchAbort?.abort();
    ctx.fetchWake.notify();
    ctx.heartbeatWake.notify();
    const loops = this.loops;
    this.loops = [];
    await Promise.allSettled(loops);
    if (ctx.groupId !== undefined && ctx.memberEpoch > 0) {
      if (ctx.run.autoCommit) await this.offsets.commitResolved([...ctx.owned.values()]).catch((error) => ctx.log.warn("Commit on stop failed", { error: (error as Error).message }));
      await this.membership.leave();
    }
    ctx.memberEpoch = 0;
    ctx.owned.clear();
    ctx.assigning.clear();
    if (this.registration) this.registry?.delete(this.registration);
    ctx.instrumentation.emit("consumer.stop", null);
  }

  // ---- public controls -------------------------------------------------------------------------

  on(eventName: ConsumerEventName, listener: (event: InstrumentationEvent<any>) => void): RemoveInstrumentationEventListener {
    return this.ctx.instrumentation.on(eventName, listener);
  }

  logger(): Logger {
    return this.ctx.log;
  }

  /** The group, member id and epoch — what a transaction needs to fence its offset commit. */
  groupMetadata(): ConsumerGroupMetadata {
    const ctx = this.ctx;
    if (ctx.groupId === undefined) throw clientStateError("A consumer without groupId has no group metadata");
    return { groupId: ctx.groupId, memberId: ctx.memberEpoch > 0 && ctx.running ? ctx.memberId : undefined, memberEpoch: ctx.memberEpoch };
  }

  /** The partitions this consumer owns now. */
  assignment(): TopicPartitions[] {
    return this.ctx.assignment();
  }

  /** Commits these offsets (the next offsets to read) now, fenced by this member. */
  async commitOffsets(offsets: readonly TopicPartitionOffset[]): Promise<void> {
    if (this.ctx.groupId === undefined) throw clientStateError("A consumer without groupId cannot commit offsets");
    const list = offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: toOffset(o.offset), ...(o.metadata ? { metadata: o.metadata } : {}) }));
    await this.offsets.commit(list);
  }

  /** Continue `topic`-`partition` from `offset`; batches in progress for it become stale. */
  seek({ topic, partition, offset }: { topic: string; partition: number; offset: number | string }): void {
    const ctx = this.ctx;
    const value = toOffset(offset);
    const owned = ctx.owned.get(tpKey(topic, partition));
    if (!owned) {
      ctx.pendingSeeks.set(tpKey(topic, partition), value);
      return;
    }
    owned.position = value;
    owned.generation++;
    if (ctx.run.autoCommit) owned.resolved = value;
    ctx.fetchAbort?.abort();
    ctx.fetchWake.notify();
  }

  pause(topics: readonly { topic: string; partitions?: number[] }[]): void {
    this.ctx.pause(topics);
  }

  resume(topics: readonly { topic: string; partitions?: number[] }[]): void {
    this.ctx.resume(topics);
  }

  paused(): TopicPartitions[] {
    const ctx = this.ctx;
    const pairs: [string, number][] = [];
    for (const p of ctx.owned.values()) if (ctx.isPaused(p)) pairs.push([p.topic, p.partition]);
    for (const key of ctx.pausedPartitions) {
      const [topic, partition] = key.split("\u0000") as [string, string];
      if (!ctx.owned.has(key)) pairs.push([topic, Number(partition)]);
    }
    return toTopicPartitions(pairs);
  }

  /** The group as the broker describes it (members, assignments, lag). */
  async describeGroup(): Promise<unknown> {
    if (this.ctx.groupId === undefined) throw clientStateError("A consumer without groupId has no group");
    return this.ctx.transport.request({ method: "GET", path: this.ctx.groupPath(""), idempotent: true });
  }
}
