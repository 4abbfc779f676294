/**
 * The consumer's public types (config, payloads, batches, events) and the small pure helpers every
 * part of the consumer shares. A leaf module of the consumer: it imports no other consumer file.
 */
import type { KafkaMessage } from "./codec.js";
import { DynalogError } from "./errors.js";
import type { NotificationOptions } from "./notification-channel.js";
import type { RetryOptions } from "./retry.js";

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
  /**
   * How fetched records travel: "binary" (default: the stored, compressed batches, decoded here;
   * docs/api.md "Binary fetch") or "json" (base64 records, decoded by the broker).
   */
  readonly fetchFormat?: "binary" | "json";
  readonly retry?: RetryOptions;
  /** Static membership (Kafka's group.instance.id): a restart within the session keeps the partitions. */
  readonly groupInstanceId?: string;
  /** The broker-side assignor to ask for: "uniform" (sticky, default) or "range". */
  readonly serverAssignor?: "uniform" | "range";
  /**
   * KafkaJS's client-side assigners. The broker assigns (KIP-848: `serverAssignor`), so only
   * `[PartitionAssigners.roundRobin]` is accepted (the broker's balanced "uniform" assignor does
   * its job); a custom assigner is refused with UNSUPPORTED_ASSIGNOR.
   */
  readonly partitionAssigners?: readonly unknown[];
  /** Accepted for KafkaJS compatibility; unused. */
  readonly metadataMaxAge?: number;
  readonly allowAutoTopicCreation?: boolean;
  readonly minBytes?: number;
  /** Accepted for KafkaJS compatibility: Dynalog readers only ever see committed data. */
  readonly readUncommitted?: boolean;
  /**
   * Ask the broker for each record's producer id and whether a transaction wrote it (fetch's
   * `metadata: true`): they arrive as `message.producerId` and `message.transactional`. Off by
   * default (a few bytes per record that most consumers do not need).
   */
  readonly recordMetadata?: boolean;
  /**
   * Wait for new records on a notification WebSocket instead of long-polling (docs/api.md,
   * "Notifications"): the broker's notification URL, and the WebSocket constructor where the
   * runtime has none (Node 20). Without it, or when the channel is down, the consumer long-polls.
   */
  readonly notifications?: NotificationOptions;
}

/**
 * KafkaJS's built-in assigner, by name. Dynalog never runs an assigner in the client — the broker
 * computes assignments — so this is a marker that `partitionAssigners` accepts; calling it fails.
 */
export const PartitionAssigners = {
  roundRobin: function roundRobin(): never {
    throw unsupportedAssigner("PartitionAssigners.roundRobin cannot run in Dynalog's client: the broker assigns partitions (serverAssignor)");
  },
} as const;

/** Refuses assigners other than KafkaJS's round-robin marker: a custom assignment cannot happen. */
export function checkAssigners(assigners: readonly unknown[] | undefined): void {
  for (const assigner of assigners ?? []) {
    if (assigner === PartitionAssigners.roundRobin) continue;
    const name = typeof assigner === "function" && assigner.name ? ` '${assigner.name}'` : "";
    throw unsupportedAssigner(
      `Custom partition assigner${name} is not supported: Dynalog's broker assigns partitions (KIP-848). Use serverAssignor: "uniform" (default) or "range", or partitionAssigners: [PartitionAssigners.roundRobin]`,
    );
  }
}

function unsupportedAssigner(message: string): DynalogError {
  return new DynalogError({ code: "UNSUPPORTED_ASSIGNOR", message, retriable: false, outcome: "definite" });
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
  /** One per HTTP attempt (heartbeats, fetches, commits): see `requestEventPayload`. */
  REQUEST: "consumer.network.request",
  REQUEST_TIMEOUT: "consumer.network.request_timeout",
} as const;
export type ConsumerEventName = (typeof CONSUMER_EVENTS)[keyof typeof CONSUMER_EVENTS];

/** The member was fenced or expired: drop the partitions, commit nothing, join again. */
export const FENCED = new Set(["UNKNOWN_MEMBER_ID", "FENCED_MEMBER_EPOCH"]);
/** Refusals retrying cannot fix: the consumer stops. */
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

export function isFatal(error: unknown): boolean {
  if (!(error instanceof DynalogError)) return false;
  if (FATAL.has(error.code)) return true;
  return error.code === "HTTP_ERROR" && error.status !== undefined && error.status >= 400 && error.status < 500 && error.status !== 429;
}

export function makeBatch(topic: string, partition: number, highWatermark: number, messages: KafkaMessage[], nextOffset: number): Batch {
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

export function tpKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

export function printable(key: string): string {
  return key.replace("\u0000", "-");
}

export function toOffset(offset: number | string): number {
  const value = Number(offset);
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`An offset must be a non-negative integer, got ${String(offset)}`);
  return value;
}

export function toTopicPartitions(pairs: [string, number][]): TopicPartitions[] {
  const byTopic = new Map<string, number[]>();
  for (const [topic, partition] of pairs) byTopic.set(topic, [...(byTopic.get(topic) ?? []), partition]);
  return [...byTopic.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([topic, partitions]) => ({ topic, partitions: [...new Set(partitions)].sort((a, b) => a - b) }));
}

export function toTopicOffsets(triples: [string, number, number][]): { topic: string; partitions: { partition: number; offset: number }[] }[] {
  const byTopic = new Map<string, { partition: number; offset: number }[]>();
  for (const [topic, partition, offset] of triples) byTopic.set(topic, [...(byTopic.get(topic) ?? []), { partition, offset }]);
  return [...byTopic.entries()].map(([topic, partitions]) => ({ topic, partitions: partitions.sort((a, b) => a.partition - b.partition) }));
}

