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
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import { fromWire, type KafkaMessage } from "./codec.js";
import { DynalogError, clientStateError } from "./errors.js";
import { Instrumentation, type InstrumentationEvent, type RemoveInstrumentationEventListener } from "./events.js";
import type { Logger } from "./logger.js";
import type { TopicDescription } from "./metadata.js";
import { backoff, resolveRetry, type ResolvedRetry, type RetryOptions } from "./retry.js";
import type { ConsumerGroupMetadata } from "./transaction.js";
import type { Transport } from "./transport.js";

export type DeliverySemantics = "at-most-once" | "at-least-once" | "exactly-once";

export interface ConsumerConfig {
  /** The consumer group. Without one the consumer is standalone (all partitions, no commits). */
  readonly groupId?: string;
  /** No heartbeat for this long and the broker removes the member (ms; 6,000 – 1,800,000). Default 30,000. */
  readonly sessionTimeout?: number;
  /** Time allowed to release revoked partitions (ms; 1,000 – 1,800,000). Default 60,000. */
  readonly rebalanceTimeout?: number;
  /** How often to heartbeat (ms); never less often than the broker asks. Default 3,000. */
  readonly heartbeatInterval?: number;
  /** Per partition and fetch (bytes). Default 1,048,576. */
  readonly maxBytesPerPartition?: number;
  /** Per fetch, all partitions (bytes; at most 3,145,728). Default 3,145,728. */
  readonly maxBytes?: number;
  /** Long-poll wait when nothing is available (ms; at most 20,000). Default 5,000. */
  readonly maxWaitTimeInMs?: number;
  /** Records per partition and fetch (1 – 10,000). Default 500. */
  readonly maxRecordsPerPartition?: number;
  readonly retry?: RetryOptions;
  /** Static membership (Kafka's group.instance.id): a restart within the session keeps the partitions. */
  readonly groupInstanceId?: string;
  /** The broker-side assignor to ask for: "uniform" (sticky, default) or "range". */
  readonly serverAssignor?: "uniform" | "range";
  /** Accepted for KafkaJS compatibility; the broker assigns partitions (KIP-848). */
  readonly partitionAssigners?: unknown[];
  /** Accepted for KafkaJS compatibility; unused. */
  readonly metadataMaxAge?: number;
  readonly allowAutoTopicCreation?: boolean;
  readonly minBytes?: number;
  /** Accepted for KafkaJS compatibility: Dynalog readers only ever see committed data. */
  readonly readUncommitted?: boolean;
}

export interface ConsumerSubscribeTopics {
  readonly topics?: readonly (string | RegExp)[];
  /** KafkaJS 1.x form. */
  readonly topic?: string | RegExp;
  /** Where to start without a committed offset: earliest (true) or latest (false, default). */
  readonly fromBeginning?: boolean;
}

export interface Batch {
  readonly topic: string;
  readonly partition: number;
  readonly highWatermark: number;
  readonly messages: readonly KafkaMessage[];
  /** Where the next fetch continues (past voids; commit this to mark the whole batch done). */
  readonly nextOffset: number;
  isEmpty(): boolean;
  firstOffset(): number | null;
  lastOffset(): number;
  /** High watermark − 1 − last offset. */
  offsetLag(): number;
  /** High watermark − 1 − first offset. */
  offsetLagLow(): number;
}

export interface TopicPartitionOffset {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number | string;
  readonly metadata?: string | null;
}

export interface EachMessagePayload {
  readonly topic: string;
  readonly partition: number;
  readonly message: KafkaMessage;
  heartbeat(): Promise<void>;
  /** Pauses this partition; returns a function that resumes it. */
  pause(): () => void;
}

export interface EachBatchPayload {
  readonly batch: Batch;
  /** Marks `offset` processed (the next commit will be offset + 1). */
  resolveOffset(offset: number | string): void;
  heartbeat(): Promise<void>;
  /** Commits resolved offsets if autoCommitInterval/Threshold say so (or `offsets` when given). */
  commitOffsetsIfNecessary(offsets?: { topics: { topic: string; partitions: { partition: number; offset: number | string }[] }[] }): Promise<void>;
  uncommittedOffsets(): { topics: { topic: string; partitions: { partition: number; offset: number }[] }[] };
  isRunning(): boolean;
  /** True after a seek or while the partition is being revoked or was lost: stop processing this batch. */
  isStale(): boolean;
  pause(): () => void;
}

export interface ConsumerRunConfig {
  readonly eachMessage?: (payload: EachMessagePayload) => Promise<void>;
  readonly eachBatch?: (payload: EachBatchPayload) => Promise<void>;
  /** Default "at-least-once". */
  readonly deliverySemantics?: DeliverySemantics;
  /** at-least-once only; default true. */
  readonly autoCommit?: boolean;
  readonly autoCommitInterval?: number | null;
  readonly autoCommitThreshold?: number | null;
  /** After eachBatch returns, consider the whole batch processed. Default true. */
  readonly eachBatchAutoResolve?: boolean;
  /** Accepted for KafkaJS compatibility; partitions are processed one after the other. */
  readonly partitionsConsumedConcurrently?: number;
}

export interface TopicPartitions {
  readonly topic: string;
  readonly partitions: number[];
}

export const CONSUMER_EVENTS = {
  HEARTBEAT: "consumer.heartbeat",
  COMMIT_OFFSETS: "consumer.commit_offsets",
  GROUP_JOIN: "consumer.group_join",
  FETCH_START: "consumer.fetch_start",
  FETCH: "consumer.fetch",
  START_BATCH_PROCESS: "consumer.start_batch_process",
  END_BATCH_PROCESS: "consumer.end_batch_process",
  CONNECT: "consumer.connect",
  DISCONNECT: "consumer.disconnect",
  STOP: "consumer.stop",
  CRASH: "consumer.crash",
  REBALANCING: "consumer.rebalancing",
} as const;
type ConsumerEventName = (typeof CONSUMER_EVENTS)[keyof typeof CONSUMER_EVENTS];

interface FetchResult {
  topic: string;
  partition: number;
  records?: { offset: number; timestamp: number; key: string | null; value: string | null; headers?: { key: string; value: string | null }[] }[];
  nextOffset?: number;
  highWatermark?: number;
  logStartOffset?: number;
  error?: Record<string, unknown>;
}

interface HeartbeatAnswer {
  memberId: string;
  memberEpoch: number;
  groupEpoch: number;
  heartbeatIntervalMs: number;
  memberState: string;
  assignment: { topic: string; partitions: number[] }[];
}

class OwnedPartition {
  /** Next offset to fetch. */
  position: number | undefined;
  /** Next offset to commit (everything before it is processed). */
  resolved: number | undefined;
  committed: number | undefined;
  revoking = false;
  /** Bumped by seek and loss: a batch of an older generation is stale. */
  generation = 0;
  failures = 0;
  constructor(
    readonly topic: string,
    readonly partition: number,
  ) {}
  get key(): string {
    return tpKey(this.topic, this.partition);
  }
}

const FENCED = new Set(["UNKNOWN_MEMBER_ID", "FENCED_MEMBER_EPOCH"]);
const FATAL = new Set([
  "AUTHENTICATION_FAILED",
  "TOPIC_AUTHORIZATION_FAILED",
  "GROUP_AUTHORIZATION_FAILED",
  "INVALID_GROUP_ID",
  "INVALID_SESSION_TIMEOUT",
  "UNSUPPORTED_ASSIGNOR",
  "GROUP_MAX_SIZE_REACHED",
  "INVALID_REQUEST",
  "INVALID_TOPIC_EXCEPTION",
  "UNSUPPORTED_MEDIA_TYPE",
]);
const RECONCILE_POLL_MS = 500;
/** Set while a user handler runs: `stop()` called from inside one must not wait for it. */
const inHandler = new AsyncLocalStorage<true>();

/** Wakes a waiting loop early. */
class Wakeup {
  private waiters: (() => void)[] = [];
  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.push(done);
    });
  }
  notify(): void {
    for (const w of [...this.waiters]) w();
  }
}

export class Consumer {
  readonly events = CONSUMER_EVENTS;
  private readonly instrumentation = new Instrumentation<ConsumerEventName>(Object.values(CONSUMER_EVENTS));
  private readonly retry: ResolvedRetry;
  private readonly groupId: string | undefined;
  private readonly subscriptions: { pattern: string | RegExp; fromBeginning: boolean }[] = [];
  private topics: string[] = [];
  private readonly fromBeginning = new Map<string, boolean>();
  private readonly owned = new Map<string, OwnedPartition>();
  private readonly assigning = new Set<string>();
  private readonly pendingSeeks = new Map<string, number>();
  private readonly pausedTopics = new Set<string>();
  private readonly pausedPartitions = new Set<string>();
  private run_: Required<Pick<ConsumerRunConfig, "autoCommit" | "eachBatchAutoResolve">> & ConsumerRunConfig & { mode: DeliverySemantics } = {
    autoCommit: true,
    eachBatchAutoResolve: true,
    mode: "at-least-once",
  };
  private running = false;
  private connected = false;
  private readonly memberId = randomUUID();
  private memberEpoch = 0;
  private heartbeatIntervalMs: number;
  private memberState = "Unknown";
  private lastHeartbeatOk = 0;
  private heartbeatInFlight: Promise<void> | undefined;
  private readonly heartbeatWake = new Wakeup();
  private readonly fetchWake = new Wakeup();
  private fetchAbort: AbortController | undefined;
  private processing: Promise<void> | undefined;
  private loops: Promise<void>[] = [];
  private uncommittedCount = 0;
  private lastCommitAt = Date.now();
  private rotation = 0;
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly transport: Transport,
    private readonly config: ConsumerConfig,
    private readonly log: Logger,
  ) {
    this.retry = resolveRetry(transport.retryPolicy, config.retry);
    this.groupId = config.groupId;
    this.heartbeatIntervalMs = config.heartbeatInterval ?? 3_000;
  }

  // ---- lifecycle -------------------------------------------------------------------------------

  async connect(): Promise<void> {
    this.connected = true;
    this.instrumentation.emit("consumer.connect", null);
  }

  async disconnect(): Promise<void> {
    await this.stop();
    this.connected = false;
    this.instrumentation.emit("consumer.disconnect", null);
  }

  async subscribe(subscription: ConsumerSubscribeTopics): Promise<void> {
    if (this.running) throw clientStateError("Cannot subscribe while the consumer is running; stop it first");
    const patterns = [...(subscription.topics ?? []), ...(subscription.topic !== undefined ? [subscription.topic] : [])];
    if (patterns.length === 0) throw new TypeError("subscribe needs topics: subscribe({ topics: ['orders'] })");
    for (const pattern of patterns) this.subscriptions.push({ pattern, fromBeginning: subscription.fromBeginning === true });
  }

  /** Starts consuming; resolves once the consumer has joined its group (or, standalone, has its partitions). */
  async run(config: ConsumerRunConfig): Promise<void> {
    if (this.running) throw clientStateError("The consumer is already running");
    if (!config.eachMessage === !config.eachBatch) throw new TypeError("run needs exactly one of eachMessage and eachBatch");
    if (this.subscriptions.length === 0) throw clientStateError("Subscribe to topics before run()");
    const mode = config.deliverySemantics ?? "at-least-once";
    if (!["at-most-once", "at-least-once", "exactly-once"].includes(mode)) throw new TypeError(`Unknown deliverySemantics '${mode}'`);
    this.run_ = { ...config, autoCommit: mode === "at-least-once" && config.autoCommit !== false && this.groupId !== undefined, eachBatchAutoResolve: config.eachBatchAutoResolve !== false, mode };
    await this.resolveTopics();
    this.running = true;
    this.stopping = undefined;
    this.memberEpoch = 0;
    try {
      if (this.groupId !== undefined) {
        await this.heartbeat({ throwFatal: true, joinRetries: true });
        this.loops.push(this.heartbeatLoop());
      } else {
        await this.assignStandalone();
      }
    } catch (error) {
      this.running = false;
      throw error;
    }
    this.loops.push(this.fetchLoop());
  }

  /**
   * Finishes the batch in progress, commits (at-least-once), leaves the group. Called from inside
   * eachMessage/eachBatch it resolves at once, and the consumer stops when the handler returns.
   */
  stop(): Promise<void> {
    if (!this.running && !this.stopping) return Promise.resolve();
    if (!this.stopping) this.stopping = this.doStop();
    if (inHandler.getStore()) {
      this.stopping.catch(() => undefined);
      return Promise.resolve();
    }
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    this.running = false;
    this.fetchAbort?.abort();
    this.fetchWake.notify();
    this.heartbeatWake.notify();
    const loops = this.loops;
    this.loops = [];
    await Promise.allSettled(loops);
    if (this.groupId !== undefined && this.memberEpoch > 0) {
      if (this.run_.autoCommit) await this.commitResolved([...this.owned.values()]).catch((error) => this.log.warn("Commit on stop failed", { error: (error as Error).message }));
      try {
        await this.transport.request({
          method: "POST",
          path: `/v1/groups/${encodeURIComponent(this.groupId)}/heartbeat`,
          body: { memberId: this.memberId, memberEpoch: this.config.groupInstanceId ? -2 : -1 },
          idempotent: true,
          retry: { ...this.retry, retries: 2 },
        });
      } catch (error) {
        this.log.warn("Leaving the group failed; the broker will expire the member after its session timeout", { error: (error as Error).message });
      }
    }
    this.memberEpoch = 0;
    this.owned.clear();
    this.assigning.clear();
    this.instrumentation.emit("consumer.stop", null);
  }

  // ---- public controls -------------------------------------------------------------------------

  on(eventName: ConsumerEventName, listener: (event: InstrumentationEvent<any>) => void): RemoveInstrumentationEventListener {
    return this.instrumentation.on(eventName, listener);
  }

  logger(): Logger {
    return this.log;
  }

  /** The group, member id and epoch — what a transaction needs to fence its offset commit. */
  groupMetadata(): ConsumerGroupMetadata {
    if (this.groupId === undefined) throw clientStateError("A consumer without groupId has no group metadata");
    return { groupId: this.groupId, memberId: this.memberEpoch > 0 && this.running ? this.memberId : undefined, memberEpoch: this.memberEpoch };
  }

  /** The partitions this consumer owns now. */
  assignment(): TopicPartitions[] {
    return toTopicPartitions([...this.owned.values()].map((p) => [p.topic, p.partition]));
  }

  /** Commits these offsets (the next offsets to read) now, fenced by this member. */
  async commitOffsets(offsets: readonly TopicPartitionOffset[]): Promise<void> {
    if (this.groupId === undefined) throw clientStateError("A consumer without groupId cannot commit offsets");
    const list = offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: toOffset(o.offset), ...(o.metadata ? { metadata: o.metadata } : {}) }));
    await this.commit(list);
  }

  /** Continue `topic`-`partition` from `offset`; batches in progress for it become stale. */
  seek({ topic, partition, offset }: { topic: string; partition: number; offset: number | string }): void {
    const value = toOffset(offset);
    const owned = this.owned.get(tpKey(topic, partition));
    if (!owned) {
      this.pendingSeeks.set(tpKey(topic, partition), value);
      return;
    }
    owned.position = value;
    owned.generation++;
    if (this.run_.autoCommit) owned.resolved = value;
    this.fetchAbort?.abort();
    this.fetchWake.notify();
  }

  pause(topics: readonly { topic: string; partitions?: number[] }[]): void {
    for (const { topic, partitions } of topics) {
      if (partitions === undefined) this.pausedTopics.add(topic);
      else for (const p of partitions) this.pausedPartitions.add(tpKey(topic, p));
    }
    this.fetchAbort?.abort();
  }

  resume(topics: readonly { topic: string; partitions?: number[] }[]): void {
    for (const { topic, partitions } of topics) {
      if (partitions === undefined) {
        this.pausedTopics.delete(topic);
        for (const key of [...this.pausedPartitions]) if (key.startsWith(`${topic}\u0000`)) this.pausedPartitions.delete(key);
      } else for (const p of partitions) this.pausedPartitions.delete(tpKey(topic, p));
    }
    this.fetchWake.notify();
  }

  paused(): TopicPartitions[] {
    const pairs: [string, number][] = [];
    for (const p of this.owned.values()) if (this.isPaused(p)) pairs.push([p.topic, p.partition]);
    for (const key of this.pausedPartitions) {
      const [topic, partition] = key.split("\u0000") as [string, string];
      if (!this.owned.has(key)) pairs.push([topic, Number(partition)]);
    }
    return toTopicPartitions(pairs);
  }

  /** The group as the broker describes it (members, assignments, lag). */
  async describeGroup(): Promise<unknown> {
    if (this.groupId === undefined) throw clientStateError("A consumer without groupId has no group");
    return this.transport.request({ method: "GET", path: `/v1/groups/${encodeURIComponent(this.groupId)}`, idempotent: true });
  }

  // ---- subscription & assignment -----------------------------------------------------------------

  private async resolveTopics(): Promise<void> {
    const names = new Set<string>();
    let listed: string[] | undefined;
    this.fromBeginning.clear();
    for (const { pattern, fromBeginning } of this.subscriptions) {
      if (typeof pattern === "string") {
        names.add(pattern);
        this.fromBeginning.set(pattern, fromBeginning);
        continue;
      }
      listed ??= (await this.transport.request<{ topics: { name: string }[] }>({ method: "GET", path: "/v1/topics", idempotent: true })).topics.map((t) => t.name);
      for (const name of listed) {
        if (pattern.test(name)) {
          names.add(name);
          this.fromBeginning.set(name, fromBeginning);
        }
      }
    }
    if (names.size === 0) throw clientStateError("No topic matches the subscription");
    this.topics = [...names].sort();
  }

  private async assignStandalone(): Promise<void> {
    for (const topic of this.topics) {
      const described = await this.transport.request<TopicDescription>({ method: "GET", path: `/v1/topics/${encodeURIComponent(topic)}`, idempotent: true });
      for (const { partition, logStartOffset, highWatermark } of described.partitions) {
        const owned = new OwnedPartition(topic, partition);
        owned.position = this.pendingSeeks.get(owned.key) ?? (this.fromBeginning.get(topic) ? logStartOffset : highWatermark);
        this.pendingSeeks.delete(owned.key);
        this.owned.set(owned.key, owned);
      }
    }
    this.instrumentation.emit("consumer.group_join", { groupId: null, memberId: null, memberAssignment: this.assignmentObject() });
  }

  private heartbeatPath(): string {
    return `/v1/groups/${encodeURIComponent(this.groupId!)}/heartbeat`;
  }

  private async heartbeatLoop(): Promise<void> {
    while (this.running) {
      const interval = this.memberState === "Stable" ? this.heartbeatIntervalMs : Math.min(this.heartbeatIntervalMs, RECONCILE_POLL_MS);
      await this.heartbeatWake.wait(this.memberEpoch === 0 ? 0 : interval);
      if (!this.running) break;
      try {
        await this.heartbeat({ throwFatal: true, joinRetries: false });
      } catch (error) {
        this.crash(error, false);
        break;
      }
    }
  }

  /** One heartbeat at a time; a caller arriving while one is in flight shares it. */
  private heartbeat(options: { throwFatal: boolean; joinRetries: boolean }): Promise<void> {
    if (!this.heartbeatInFlight) {
      this.heartbeatInFlight = this.doHeartbeat(options).finally(() => {
        this.heartbeatInFlight = undefined;
      });
    }
    return this.heartbeatInFlight;
  }

  private async doHeartbeat({ throwFatal, joinRetries }: { throwFatal: boolean; joinRetries: boolean }): Promise<void> {
    const joining = this.memberEpoch === 0;
    const body: Record<string, unknown> = joining
      ? {
          memberId: this.memberId,
          memberEpoch: 0,
          topics: this.topics,
          sessionTimeoutMs: this.config.sessionTimeout ?? 30_000,
          rebalanceTimeoutMs: this.config.rebalanceTimeout ?? 60_000,
          ...(this.config.groupInstanceId ? { instanceId: this.config.groupInstanceId } : {}),
          ...(this.config.serverAssignor ? { serverAssignor: this.config.serverAssignor } : {}),
        }
      : { memberId: this.memberId, memberEpoch: this.memberEpoch, ownedPartitions: this.ownedPartitions() };
    const sentAt = Date.now();
    let answer: HeartbeatAnswer;
    try {
      answer = await this.transport.request<HeartbeatAnswer>({
        method: "POST",
        path: this.heartbeatPath(),
        body,
        // A join retried after a lost answer stays one member (same memberId); a repeated epoch is accepted once.
        idempotent: true,
        retry: joinRetries ? this.retry : { ...this.retry, retries: 1, maxRetryTime: Math.min(this.retry.maxRetryTime, 2_000) },
      });
    } catch (error) {
      if (!this.running && !joinRetries) return;
      if (error instanceof DynalogError && FENCED.has(error.code)) {
        this.lose(`heartbeat refused: ${error.code}`);
        this.heartbeatWake.notify();
        return;
      }
      if (throwFatal && isFatal(error)) throw error;
      if (joinRetries) throw error;
      this.log.warn("Heartbeat failed", { groupId: this.groupId, error: (error as Error).message });
      if (this.memberEpoch > 0 && Date.now() - this.lastHeartbeatOk > (this.config.sessionTimeout ?? 30_000)) {
        this.lose("no successful heartbeat for a session timeout");
      }
      return;
    }
    if (!this.running && !joinRetries) return;
    if (this.memberEpoch !== body["memberEpoch"] && !joining) return; // lost meanwhile
    this.lastHeartbeatOk = sentAt;
    this.memberEpoch = answer.memberEpoch;
    this.memberState = answer.memberState;
    const brokerInterval = answer.heartbeatIntervalMs > 0 ? answer.heartbeatIntervalMs : this.heartbeatIntervalMs;
    this.heartbeatIntervalMs = Math.min(this.config.heartbeatInterval ?? 3_000, brokerInterval);
    this.instrumentation.emit("consumer.heartbeat", { groupId: this.groupId, memberId: this.memberId, memberEpoch: this.memberEpoch, memberState: this.memberState });
    await this.reconcile(answer.assignment, joining);
  }

  private ownedPartitions(): { topic: string; partitions: number[] }[] {
    const pairs: [string, number][] = [...this.owned.values()].map((p) => [p.topic, p.partition]);
    for (const key of this.assigning) {
      const [topic, partition] = key.split("\u0000") as [string, string];
      if (!this.owned.has(key)) pairs.push([topic, Number(partition)]);
    }
    return toTopicPartitions(pairs);
  }

  private async reconcile(assignment: HeartbeatAnswer["assignment"], joined: boolean): Promise<void> {
    const target = new Set(assignment.flatMap((tp) => tp.partitions.map((p) => tpKey(tp.topic, p))));
    const revoked = [...this.owned.values()].filter((p) => !target.has(p.key) && !p.revoking);
    if (revoked.length > 0) void this.revoke(revoked);
    const added = [...target].filter((k) => !this.owned.has(k) && !this.assigning.has(k));
    if (added.length > 0) await this.assign(added);
    else if (joined) this.instrumentation.emit("consumer.group_join", { groupId: this.groupId, memberId: this.memberId, memberEpoch: this.memberEpoch, memberAssignment: this.assignmentObject() });
  }

  private async assign(keys: string[]): Promise<void> {
    for (const k of keys) this.assigning.add(k);
    const epochAtStart = this.memberEpoch;
    try {
      const byTopic = new Map<string, number[]>();
      for (const k of keys) {
        const [topic, partition] = k.split("\u0000") as [string, string];
        byTopic.set(topic, [...(byTopic.get(topic) ?? []), Number(partition)]);
      }
      for (const [topic, partitions] of byTopic) {
        const answer = await this.transport.request<{ partitions: { partition: number; offset: number; position: number }[] }>({
          method: "GET",
          path: `/v1/groups/${encodeURIComponent(this.groupId!)}/offsets`,
          query: { topic, partitions: partitions.join(","), reset: this.fromBeginning.get(topic) ? "earliest" : "latest" },
          idempotent: true,
        });
        if (this.memberEpoch === 0 || !this.running || epochAtStart === 0) return; // lost meanwhile
        for (const { partition, offset, position } of answer.partitions) {
          const owned = new OwnedPartition(topic, partition);
          owned.committed = offset >= 0 ? offset : undefined;
          const seek = this.pendingSeeks.get(owned.key);
          this.pendingSeeks.delete(owned.key);
          owned.position = seek ?? position;
          if (seek !== undefined && this.run_.autoCommit) owned.resolved = seek;
          this.owned.set(owned.key, owned);
        }
      }
      this.log.info("Partitions assigned", { groupId: this.groupId, memberId: this.memberId, memberEpoch: this.memberEpoch, assigned: keys.map(printable) });
      this.instrumentation.emit("consumer.group_join", { groupId: this.groupId, memberId: this.memberId, memberEpoch: this.memberEpoch, memberAssignment: this.assignmentObject() });
      this.fetchWake.notify();
      this.fetchAbort?.abort(); // a long poll without the new partitions: start over
    } catch (error) {
      this.log.warn("Could not read the positions of newly assigned partitions; will retry", { error: (error as Error).message });
    } finally {
      for (const k of keys) this.assigning.delete(k);
    }
  }

  /** Stop fetching, let the batch in progress finish, commit (at-least-once), then release. */
  private async revoke(partitions: OwnedPartition[]): Promise<void> {
    for (const p of partitions) p.revoking = true;
    this.instrumentation.emit("consumer.rebalancing", { groupId: this.groupId, memberId: this.memberId, revoked: toTopicPartitions(partitions.map((p) => [p.topic, p.partition])) });
    this.fetchAbort?.abort();
    await this.processing?.catch(() => undefined);
    const still = partitions.filter((p) => this.owned.get(p.key) === p);
    if (this.run_.autoCommit && still.length > 0 && this.memberEpoch > 0) {
      try {
        await this.commitResolved(still);
      } catch (error) {
        this.log.warn("Committing revoked partitions failed", { error: (error as Error).message });
      }
    }
    for (const p of still) if (this.owned.get(p.key) === p) this.owned.delete(p.key);
    this.log.info("Partitions released", { groupId: this.groupId, memberId: this.memberId, released: still.map((p) => printable(p.key)) });
    this.heartbeatWake.notify();
  }

  /** Fenced or expired: the partitions may be someone else's now. Drop everything, commit nothing. */
  private lose(reason: string): void {
    if (this.memberEpoch !== 0 || this.owned.size > 0) this.log.warn("Lost group membership; rejoining", { groupId: this.groupId, memberId: this.memberId, reason });
    for (const p of this.owned.values()) p.generation++;
    this.owned.clear();
    this.memberEpoch = 0;
    this.memberState = "Unknown";
    this.fetchAbort?.abort();
  }

  private assignmentObject(): Record<string, number[]> {
    const out: Record<string, number[]> = {};
    for (const tp of this.assignment()) out[tp.topic] = tp.partitions;
    return out;
  }

  private isPaused(p: { topic: string; partition: number }): boolean {
    return this.pausedTopics.has(p.topic) || this.pausedPartitions.has(tpKey(p.topic, p.partition));
  }

  // ---- fetching & processing -------------------------------------------------------------------

  private async fetchLoop(): Promise<void> {
    let failures = 0;
    while (this.running) {
      const active = [...this.owned.values()].filter((p) => !p.revoking && !this.isPaused(p) && p.position !== undefined);
      if (active.length === 0) {
        await this.fetchWake.wait(1_000);
        continue;
      }
      // Rotate, so one busy partition cannot starve the others of the byte budget.
      const start = this.rotation++ % active.length;
      const ordered = [...active.slice(start), ...active.slice(0, start)].slice(0, 100);
      const requested = ordered.map((p) => ({ p, offset: p.position!, generation: p.generation }));
      const abort = new AbortController();
      this.fetchAbort = abort;
      const maxWaitMs = Math.min(20_000, Math.max(0, this.config.maxWaitTimeInMs ?? 5_000));
      let results: FetchResult[];
      this.instrumentation.emit("consumer.fetch_start", { partitions: requested.length });
      const startedAt = Date.now();
      try {
        const answer = await this.transport.request<{ partitions: FetchResult[] }>({
          method: "POST",
          path: "/v1/fetch",
          body: {
            encoding: "base64",
            maxWaitMs,
            maxBytes: Math.min(3_145_728, this.config.maxBytes ?? 3_145_728),
            maxRecords: Math.min(10_000, this.config.maxRecordsPerPartition ?? 500),
            partitions: requested.map(({ p, offset }) => ({ topic: p.topic, partition: p.partition, offset, maxBytes: Math.min(3_145_728, this.config.maxBytesPerPartition ?? 1_048_576) })),
          },
          idempotent: true,
          extraTimeoutMs: maxWaitMs,
          signal: abort.signal,
        });
        results = answer.partitions;
        failures = 0;
      } catch (error) {
        if (abort.signal.aborted || !this.running) continue;
        if (isFatal(error)) {
          this.crash(error, false);
          return;
        }
        this.log.warn("Fetch failed", { error: (error as Error).message });
        this.instrumentation.emit("consumer.crash", { error, groupId: this.groupId, restart: true });
        await this.fetchWake.wait(backoff(this.retry, Math.min(failures++, 8)));
        continue;
      } finally {
        if (this.fetchAbort === abort) this.fetchAbort = undefined;
      }
      this.instrumentation.emit("consumer.fetch", { numberOfBatches: results.filter((r) => (r.records?.length ?? 0) > 0).length, duration: Date.now() - startedAt });
      for (const [i, result] of results.entries()) {
        if (!this.running) break;
        const { p, offset, generation } = requested[i]!;
        if (this.owned.get(p.key) !== p || p.revoking || p.generation !== generation || p.position !== offset || this.isPaused(p)) continue;
        if (result.error) {
          await this.fetchError(p, DynalogError.fromEnvelope(result.error));
          continue;
        }
        if (!result.records || result.records.length === 0) {
          p.position = result.nextOffset ?? p.position; // walked past voids
          continue;
        }
        this.processing = this.processBatch(p, result);
        try {
          await this.processing;
        } finally {
          this.processing = undefined;
        }
      }
      await this.maybeAutoCommit(false).catch((error) => this.log.warn("Auto-commit failed", { error: (error as Error).message }));
    }
  }

  private async fetchError(p: OwnedPartition, error: DynalogError): Promise<void> {
    if (error.code === "OFFSET_OUT_OF_RANGE") {
      const earliest = Number(error.details["logStartOffset"] ?? 0);
      const latest = Number(error.details["highWatermark"] ?? earliest);
      const reset = this.fromBeginning.get(p.topic) ? earliest : latest;
      this.log.warn("Offset out of range; resetting", { topic: p.topic, partition: p.partition, from: p.position, to: reset });
      p.position = reset;
      return;
    }
    this.log.warn("Fetching a partition failed", { topic: p.topic, partition: p.partition, code: error.code, error: error.message });
    if (error.code === "UNKNOWN_TOPIC_OR_PARTITION" && this.groupId === undefined) this.owned.delete(p.key);
    await this.fetchWake.wait(backoff(this.retry, Math.min(p.failures++, 8)));
  }

  private async processBatch(p: OwnedPartition, result: FetchResult): Promise<void> {
    const generation = p.generation;
    const messages = result.records!.map(fromWire);
    const nextOffset = result.nextOffset!;
    const batch = makeBatch(p.topic, p.partition, result.highWatermark ?? nextOffset, messages, nextOffset);
    // Lost (fenced, or sought elsewhere): nothing of this batch may be marked processed any more.
    const lost = () => this.owned.get(p.key) !== p || p.generation !== generation;
    // Being revoked too: stop early (what was processed is still committed before the release).
    const stale = () => lost() || p.revoking;
    const started = Date.now();
    const event = { topic: p.topic, partition: p.partition, highWatermark: batch.highWatermark, offsetLag: batch.offsetLag(), offsetLagLow: batch.offsetLagLow(), batchSize: messages.length, firstOffset: batch.firstOffset(), lastOffset: batch.lastOffset() };
    this.instrumentation.emit("consumer.start_batch_process", event);
    const mode = this.run_.mode;

    if (mode === "at-most-once" && this.groupId === undefined) {
      p.position = nextOffset;
    } else if (mode === "at-most-once") {
      // Commit first: if we crash while processing, the rest of the batch is skipped, never repeated.
      const committed = await this.commit([{ topic: p.topic, partition: p.partition, offset: nextOffset }]).then(
        () => true,
        (error) => {
          this.log.warn("At-most-once commit before processing failed; not processing", { topic: p.topic, partition: p.partition, error: (error as Error).message });
          return false;
        },
      );
      if (!committed || stale()) return;
      p.position = nextOffset;
      p.resolved = nextOffset;
    }

    if (this.run_.eachMessage) {
      for (const message of messages) {
        // At-most-once: the batch is committed already — finish it even when stopping (only a crash loses it).
        if (mode !== "at-most-once" && (!this.running || stale() || this.isPaused(p))) return;
        try {
          const payload: EachMessagePayload = { topic: p.topic, partition: p.partition, message, heartbeat: () => this.heartbeatIfDue(), pause: () => this.pauseOne(p) };
          await inHandler.run(true, () => this.run_.eachMessage!(payload));
        } catch (error) {
          await this.processingFailed(p, generation, message.offset, error);
          return;
        }
        if (mode === "at-most-once" || lost()) continue;
        p.position = message.offset + 1;
        p.resolved = message.offset + 1;
        p.failures = 0;
        this.uncommittedCount++;
        await this.maybeAutoCommit(true).catch((error) => this.log.warn("Auto-commit failed", { error: (error as Error).message }));
      }
      if (mode !== "at-most-once" && !lost()) {
        p.position = nextOffset;
        p.resolved = nextOffset;
      }
    } else {
      let resolvedInBatch: number | undefined;
      const payload: EachBatchPayload = {
        batch,
        resolveOffset: (offset) => {
          if (lost()) return;
          resolvedInBatch = toOffset(offset) + 1;
          if (mode !== "at-most-once") {
            p.resolved = resolvedInBatch;
            this.uncommittedCount++;
          }
        },
        heartbeat: () => this.heartbeatIfDue(),
        commitOffsetsIfNecessary: async (offsets) => {
          if (offsets) {
            await this.commit(offsets.topics.flatMap((t) => t.partitions.map((x) => ({ topic: t.topic, partition: x.partition, offset: toOffset(x.offset) }))));
            return;
          }
          await this.maybeAutoCommit(true);
        },
        uncommittedOffsets: () => ({
          topics: toTopicOffsets([...this.owned.values()].filter((o) => o.resolved !== undefined && o.resolved !== o.committed).map((o) => [o.topic, o.partition, o.resolved!])),
        }),
        isRunning: () => this.running,
        isStale: stale,
        pause: () => this.pauseOne(p),
      };
      try {
        await inHandler.run(true, () => this.run_.eachBatch!(payload));
      } catch (error) {
        await this.processingFailed(p, generation, resolvedInBatch ?? messages[0]!.offset, error);
        return;
      }
      if (mode !== "at-most-once" && !lost()) {
        p.failures = 0;
        if (this.run_.eachBatchAutoResolve) {
          p.position = nextOffset;
          p.resolved = nextOffset;
          this.uncommittedCount += messages.length;
        } else if (resolvedInBatch !== undefined) {
          p.position = resolvedInBatch;
        }
      }
    }
    this.instrumentation.emit("consumer.end_batch_process", { ...event, duration: Date.now() - started });
  }

  /** A handler threw: at-least-once retries from the failed message, exactly-once from the committed offset. */
  private async processingFailed(p: OwnedPartition, generation: number, offset: number, error: unknown): Promise<void> {
    const mode = this.run_.mode;
    this.log.error("Processing failed", { topic: p.topic, partition: p.partition, offset, mode, error: (error as Error)?.message ?? String(error) });
    this.instrumentation.emit("consumer.crash", { error, groupId: this.groupId, restart: true });
    if (this.owned.get(p.key) !== p || p.generation !== generation) return;
    if (mode === "at-most-once") return; // already committed: never processed twice
    if (mode === "exactly-once") {
      // The transaction did not commit: go back to what is committed (it moved with the output).
      try {
        const answer = await this.transport.request<{ partitions: { partition: number; position: number }[] }>({
          method: "GET",
          path: `/v1/groups/${encodeURIComponent(this.groupId!)}/offsets`,
          query: { topic: p.topic, partitions: String(p.partition), reset: this.fromBeginning.get(p.topic) ? "earliest" : "latest" },
          idempotent: true,
        });
        if (this.owned.get(p.key) === p && p.generation === generation) p.position = answer.partitions[0]?.position ?? p.position;
      } catch (readError) {
        this.log.warn("Could not read the committed offset after a failure; losing the partition's position", { error: (readError as Error).message });
        p.position = undefined;
        this.lose("position unknown after a failed transaction");
        return;
      }
    } else {
      p.position = offset;
      if (this.run_.autoCommit) await this.commitResolved([p]).catch(() => undefined);
    }
    await this.fetchWake.wait(backoff(this.retry, Math.min(p.failures++, 8)));
  }

  private pauseOne(p: OwnedPartition): () => void {
    this.pause([{ topic: p.topic, partitions: [p.partition] }]);
    return () => this.resume([{ topic: p.topic, partitions: [p.partition] }]);
  }

  private async heartbeatIfDue(): Promise<void> {
    if (this.groupId === undefined || !this.running) return;
    if (Date.now() - this.lastHeartbeatOk >= this.heartbeatIntervalMs) this.heartbeatWake.notify();
  }

  // ---- committing --------------------------------------------------------------------------------

  private async maybeAutoCommit(inBatch: boolean): Promise<void> {
    if (!this.run_.autoCommit || this.memberEpoch === 0) return;
    const { autoCommitInterval, autoCommitThreshold } = this.run_;
    const byInterval = typeof autoCommitInterval === "number" && Date.now() - this.lastCommitAt >= autoCommitInterval;
    const byThreshold = typeof autoCommitThreshold === "number" && this.uncommittedCount >= autoCommitThreshold;
    const perBatch = !inBatch && (autoCommitInterval === undefined || autoCommitInterval === null) && (autoCommitThreshold === undefined || autoCommitThreshold === null);
    if (byInterval || byThreshold || perBatch) await this.commitResolved([...this.owned.values()]);
  }

  private async commitResolved(partitions: OwnedPartition[]): Promise<void> {
    const due = partitions.filter((p) => p.resolved !== undefined && p.resolved !== p.committed);
    if (due.length === 0) return;
    await this.commit(due.map((p) => ({ topic: p.topic, partition: p.partition, offset: p.resolved! })));
    this.uncommittedCount = 0;
  }

  /** Fenced commit (memberId + memberEpoch) in chunks of 99; STALE_MEMBER_EPOCH → heartbeat, retry once. */
  private async commit(offsets: { topic: string; partition: number; offset: number; metadata?: string }[]): Promise<void> {
    if (offsets.length === 0) return;
    const groupPath = `/v1/groups/${encodeURIComponent(this.groupId!)}/offsets`;
    for (let i = 0; i < offsets.length; i += 99) {
      const chunk = offsets.slice(i, i + 99);
      for (let attempt = 0; ; attempt++) {
        const member = this.memberEpoch > 0 ? { memberId: this.memberId, memberEpoch: this.memberEpoch } : undefined;
        // A group member commits fenced; without membership only a consumer that is not running
        // (an admin-style commit for a stopped group) may commit unfenced.
        if (!member && (this.running || this.stopping)) throw new DynalogError({ code: "UNKNOWN_MEMBER_ID", message: "The consumer is not a member of its group right now; nothing was committed", retriable: false, outcome: "definite" });
        try {
          await this.transport.request({ method: "POST", path: groupPath, body: { ...member, offsets: chunk }, idempotent: true });
          break;
        } catch (error) {
          if (error instanceof DynalogError && error.code === "STALE_MEMBER_EPOCH" && attempt === 0) {
            await this.heartbeat({ throwFatal: false, joinRetries: false });
            continue;
          }
          if (error instanceof DynalogError && FENCED.has(error.code)) {
            this.lose(`commit refused: ${error.code}`);
            this.heartbeatWake.notify();
          }
          throw error;
        }
      }
      for (const o of chunk) {
        const owned = this.owned.get(tpKey(o.topic, o.partition));
        if (owned) owned.committed = o.offset;
      }
    }
    this.lastCommitAt = Date.now();
    this.instrumentation.emit("consumer.commit_offsets", { groupId: this.groupId, memberId: this.memberId, memberEpoch: this.memberEpoch, topics: toTopicOffsets(offsets.map((o) => [o.topic, o.partition, o.offset])) });
  }

  private crash(error: unknown, restart: boolean): void {
    this.log.error("Consumer crashed", { groupId: this.groupId, error: (error as Error)?.message ?? String(error) });
    this.instrumentation.emit("consumer.crash", { error, groupId: this.groupId, restart });
    if (!restart) void this.stop();
  }
}

function isFatal(error: unknown): boolean {
  if (!(error instanceof DynalogError)) return false;
  if (FATAL.has(error.code)) return true;
  return error.code === "HTTP_ERROR" && error.status !== undefined && error.status >= 400 && error.status < 500 && error.status !== 429;
}

function makeBatch(topic: string, partition: number, highWatermark: number, messages: KafkaMessage[], nextOffset: number): Batch {
  return {
    topic,
    partition,
    highWatermark,
    messages,
    nextOffset,
    isEmpty: () => messages.length === 0,
    firstOffset: () => (messages.length === 0 ? null : messages[0]!.offset),
    lastOffset: () => (messages.length === 0 ? highWatermark - 1 : messages[messages.length - 1]!.offset),
    offsetLag: () => Math.max(0, highWatermark - 1 - (messages.length === 0 ? highWatermark - 1 : messages[messages.length - 1]!.offset)),
    offsetLagLow: () => Math.max(0, highWatermark - 1 - (messages.length === 0 ? highWatermark - 1 : messages[0]!.offset)),
  };
}

function tpKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

function printable(key: string): string {
  return key.replace("\u0000", "-");
}

function toOffset(offset: number | string): number {
  const value = Number(offset);
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`An offset must be a non-negative integer, got ${String(offset)}`);
  return value;
}

function toTopicPartitions(pairs: [string, number][]): TopicPartitions[] {
  const byTopic = new Map<string, number[]>();
  for (const [topic, partition] of pairs) byTopic.set(topic, [...(byTopic.get(topic) ?? []), partition]);
  return [...byTopic.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([topic, partitions]) => ({ topic, partitions: [...new Set(partitions)].sort((a, b) => a - b) }));
}

function toTopicOffsets(triples: [string, number, number][]): { topic: string; partitions: { partition: number; offset: number }[] }[] {
  const byTopic = new Map<string, { partition: number; offset: number }[]>();
  for (const [topic, partition, offset] of triples) byTopic.set(topic, [...(byTopic.get(topic) ?? []), { partition, offset }]);
  return [...byTopic.entries()].map(([topic, partitions]) => ({ topic, partitions: partitions.sort((a, b) => a.partition - b.partition) }));
}

