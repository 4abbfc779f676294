/**
 * What a push subscription's target receives and may answer (docs/subscriptions.md). The event has
 * the shape of Lambda's Kafka (MSK / self-managed Kafka) event, so a handler written for an MSK
 * event source runs unchanged; the answer may be a partial batch response, as Lambda's.
 */
import type { RecordHeader } from "../record-batch.js";
import type { FetchedRecord } from "./log-reader.js";
import type { TimestampType } from "./ports.js";
import type { SubscriptionRecord } from "./subscription-model.js";

/** Stable per subscription and input record (exactly-once mode): targets deduplicate external side effects with it. */
export const idempotencyKeyFor = (subscription: string, topicId: string, partition: number, offset: number) => `${subscription}:${topicId}:${partition}:${offset}`;

export interface SubscriptionEventRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly timestamp: number;
  readonly timestampType: "CREATE_TIME" | "LOG_APPEND_TIME";
  /** Base64; absent for a null key (as in Lambda's event). */
  readonly key?: string;
  /** Base64; absent for a null value (a tombstone). */
  readonly value?: string;
  /** Each header as `{ name: [byte, …] }`, in record order (names may repeat). */
  readonly headers: readonly Readonly<Record<string, readonly number[]>>[];
  /** Exactly-once subscriptions only: `<subscription>:<topicId>:<partition>:<offset>`, stable across retries, for deduplicating side effects outside Dynalog. */
  readonly idempotencyKey?: string;
}

export interface SubscriptionEvent {
  readonly eventSource: "dynalog";
  /** Names the subscription, where Lambda's event names the cluster. */
  readonly eventSourceArn: string;
  /** "<topic>-<partition>" → the batch (one partition per event, in offset order). */
  readonly records: Readonly<Record<string, readonly SubscriptionEventRecord[]>>;
}

/** The outcome of one invocation, as the dispatcher needs it. Invokers never throw. */
export type InvocationOutcome =
  /** The target succeeded (2xx; no function error); `response` is its parsed JSON answer, if any. */
  | { readonly ok: true; readonly response: unknown }
  | { readonly ok: false; readonly error: string };

/** Invokes a subscription's target with an event: webhook, Lambda, or local module (shared/runtime/invokers.ts). */
export interface Invoker {
  invoke(subscription: SubscriptionRecord, event: SubscriptionEvent): Promise<InvocationOutcome>;
}

const TIMESTAMP_TYPES: Record<TimestampType, SubscriptionEventRecord["timestampType"]> = { CreateTime: "CREATE_TIME", LogAppendTime: "LOG_APPEND_TIME" };

const base64 = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");

function eventHeaders(headers: readonly RecordHeader[]): Record<string, number[]>[] {
  return headers.map((h) => ({ [h.key]: h.value ? Array.from(h.value) : [] }));
}

export const partitionKey = (topic: string, partition: number) => `${topic}-${partition}`;

/** Lambda's partial-batch item identifier for a Kafka record. */
export const itemIdentifier = (topic: string, partition: number, offset: number) => `${partitionKey(topic, partition)}@${offset}`;

export function buildEvent(subscription: SubscriptionRecord, partition: number, timestampType: TimestampType, records: readonly FetchedRecord[]): SubscriptionEvent {
  const topic = subscription.topic;
  return {
    eventSource: "dynalog",
    eventSourceArn: `dynalog:subscription/${subscription.name}`,
    records: {
      [partitionKey(topic, partition)]: records.map((r) => ({
        topic,
        partition,
        offset: r.offset,
        timestamp: r.timestamp,
        timestampType: TIMESTAMP_TYPES[timestampType],
        ...(r.key !== null && { key: base64(r.key) }),
        ...(r.value !== null && { value: base64(r.value) }),
        headers: eventHeaders(r.headers),
        ...(subscription.delivery === "exactly-once" && { idempotencyKey: idempotencyKeyFor(subscription.name, subscription.topicId, partition, r.offset) }),
      })),
    },
  };
}

export type PartialBatchVerdict =
  | { readonly kind: "all-succeeded" }
  /** Records before `offset` succeeded; `offset` failed (and everything after it is retried). */
  | { readonly kind: "failed-from"; readonly offset: number }
  /** The answer is not a valid partial batch response: the whole batch counts as failed. */
  | { readonly kind: "invalid"; readonly reason: string };

/**
 * Reads a `{ batchItemFailures: [{ itemIdentifier }] }` answer as Lambda does for Kafka: the lowest
 * failed offset counts, the records before it succeeded. Any other answer (or none) is success; an
 * identifier that names no record of the batch makes the whole batch failed.
 */
export function readPartialBatchResponse(response: unknown, topic: string, partition: number, offsets: readonly number[]): PartialBatchVerdict {
  if (typeof response !== "object" || response === null || !("batchItemFailures" in response)) return { kind: "all-succeeded" };
  const failures = (response as { batchItemFailures: unknown }).batchItemFailures;
  if (failures === null || failures === undefined) return { kind: "all-succeeded" };
  if (!Array.isArray(failures)) return { kind: "invalid", reason: "batchItemFailures is not an array" };
  if (failures.length === 0) return { kind: "all-succeeded" };
  const inBatch = new Set(offsets);
  const prefix = `${partitionKey(topic, partition)}@`;
  let lowest = Infinity;
  for (const failure of failures) {
    const id = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    const offset = typeof id === "string" && id.startsWith(prefix) && /^\d+$/.test(id.slice(prefix.length)) ? Number(id.slice(prefix.length)) : NaN;
    if (!inBatch.has(offset)) return { kind: "invalid", reason: `batchItemFailures names ${JSON.stringify(id)}, not a record of this batch (expected "${prefix}<offset>")` };
    lowest = Math.min(lowest, offset);
  }
  return { kind: "failed-from", offset: lowest };
}
