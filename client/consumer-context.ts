/**
 * The state one consumer's parts share — membership (consumer-membership.ts), fetching
 * (consumer-fetch.ts), processing (consumer-runner.ts) and committing (consumer-offsets.ts) — and
 * the few operations on it that several of them need (losing the partitions, pausing, crashing).
 * Keeping it here, rather than in the Consumer, lets those parts depend on it and on each other
 * in one direction only.
 */
import type { FetchedWireRecord, KafkaMessage } from "./codec.js";
import { randomId } from "./bytes.js";
import { CONSUMER_EVENTS, tpKey, toTopicPartitions, type ConsumerConfig, type ConsumerEventName, type ConsumerRunConfig, type DeliverySemantics, type TopicPartitions } from "./consumer-types.js";
import { Instrumentation, instrumentedTransport } from "./events.js";
import type { Logger } from "./logger.js";
import { resolveRetry, type ResolvedRetry } from "./retry.js";
import type { Transport } from "./transport.js";

/** One partition of the topic as `POST /v1/fetch` answers it. */
export interface FetchResult {
  topic: string;
  partition: number;
  records?: FetchedWireRecord[];
  /** Already decoded (the binary fetch): then `records` is absent. */
  messages?: KafkaMessage[];
  nextOffset?: number;
  highWatermark?: number;
  logStartOffset?: number;
  error?: Record<string, unknown>;
}

export class OwnedPartition {
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

/** Wakes a waiting loop early. */
export class Wakeup {
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

export type RunSettings = Required<Pick<ConsumerRunConfig, "autoCommit" | "eachBatchAutoResolve">> & ConsumerRunConfig & { mode: DeliverySemantics };

export class ConsumerContext {
  readonly instrumentation = new Instrumentation<ConsumerEventName>(Object.values(CONSUMER_EVENTS));
  readonly retry: ResolvedRetry;
  readonly groupId: string | undefined;
  readonly memberId = randomId();
  memberEpoch = 0;
  memberState = "Unknown";
  heartbeatIntervalMs: number;
  lastHeartbeatOk = 0;
  running = false;
  stopping: Promise<void> | undefined;
  /** The subscribed topics, resolved (patterns matched) at run(). */
  topics: string[] = [];
  readonly fromBeginning = new Map<string, boolean>();
  readonly owned = new Map<string, OwnedPartition>();
  /** Assigned by the broker, positions still being read. */
  readonly assigning = new Set<string>();
  /** Seeks on partitions not owned yet: applied when they are. */
  readonly pendingSeeks = new Map<string, number>();
  readonly pausedTopics = new Set<string>();
  readonly pausedPartitions = new Set<string>();
  run: RunSettings = { autoCommit: true, eachBatchAutoResolve: true, mode: "at-least-once" };
  readonly heartbeatWake = new Wakeup();
  readonly fetchWake = new Wakeup();
  /** Aborts the long poll in flight (a seek, a pause, new partitions: start over). */
  fetchAbort: AbortController | undefined;
  /** The batch being processed, which a revocation waits for. */
  processing: Promise<void> | undefined;
  /** Stops the consumer; the Consumer sets it. */
  stop: () => Promise<void> = () => Promise.resolve();

  /** The Dynalog instance's transport, reporting this consumer's requests as its REQUEST events. */
  readonly transport: Transport;

  constructor(
    transport: Transport,
    readonly config: ConsumerConfig,
    readonly log: Logger,
  ) {
    this.transport = instrumentedTransport(transport, this.instrumentation, CONSUMER_EVENTS.REQUEST, CONSUMER_EVENTS.REQUEST_TIMEOUT);
    this.retry = resolveRetry(transport.retryPolicy, config.retry);
    this.groupId = config.groupId;
    this.heartbeatIntervalMs = config.heartbeatInterval ?? 3_000;
  }

  groupPath(suffix: "" | "/heartbeat" | "/offsets"): string {
    return `/v1/groups/${encodeURIComponent(this.groupId!)}${suffix}`;
  }

  isPaused(p: { topic: string; partition: number }): boolean {
    return this.pausedTopics.has(p.topic) || this.pausedPartitions.has(tpKey(p.topic, p.partition));
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

  /** The partitions this consumer owns now. */
  assignment(): TopicPartitions[] {
    return toTopicPartitions([...this.owned.values()].map((p) => [p.topic, p.partition]));
  }

  assignmentObject(): Record<string, number[]> {
    const out: Record<string, number[]> = {};
    for (const tp of this.assignment()) out[tp.topic] = tp.partitions;
    return out;
  }

  /** Fenced or expired: the partitions may be someone else's now. Drop everything, commit nothing. */
  lose(reason: string): void {
    if (this.memberEpoch !== 0 || this.owned.size > 0) this.log.warn("Lost group membership; rejoining", { groupId: this.groupId, memberId: this.memberId, reason });
    for (const p of this.owned.values()) p.generation++;
    this.owned.clear();
    this.memberEpoch = 0;
    this.memberState = "Unknown";
    this.fetchAbort?.abort();
  }

  /** A handler's `heartbeat()`: wakes the heartbeat loop when one is due. */
  async heartbeatIfDue(): Promise<void> {
    if (this.groupId === undefined || !this.running) return;
    if (Date.now() - this.lastHeartbeatOk >= this.heartbeatIntervalMs) this.heartbeatWake.notify();
  }

  crash(error: unknown, restart: boolean): void {
    this.log.error("Consumer crashed", { groupId: this.groupId, error: (error as Error)?.message ?? String(error) });
    this.instrumentation.emit("consumer.crash", { error, groupId: this.groupId, restart });
    if (!restart) void this.stop();
  }
}
