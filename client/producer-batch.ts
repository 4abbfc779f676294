/**
 * The producer's batching model: a partition's queue and in-flight state, one batch (what one
 * partition contributes to a request, with its sequence), the request-size budget, and the two
 * pure steps around a request — splitting ready batches into requests the broker accepts, and
 * summarizing acknowledgements into KafkaJS's RecordMetadata.
 */
import type { PreparedRecord } from "./codec.js";
import type { CompressionType, ProducerIdentity, RecordMetadata } from "./producer-types.js";

export interface Ack {
  readonly partition: number;
  readonly offset: number | undefined;
  readonly duplicate: boolean;
}

export interface Pending {
  readonly record: PreparedRecord;
  readonly arrivedAt: number;
  readonly compression: CompressionType | undefined;
  readonly cost: number;
  resolve(ack: Ack): void;
  reject(error: unknown): void;
}

export class PartitionState {
  queue: Pending[] = [];
  queuedBytes = 0;
  /** A batch is in flight (or waiting to be retried). */
  busy = false;
  nextSequence = 0;
  constructor(
    readonly topic: string,
    readonly partition: number,
  ) {}
}

export interface Batch {
  readonly state: PartitionState;
  readonly items: Pending[];
  readonly compression: CompressionType | undefined;
  readonly identity: ProducerIdentity | undefined;
  readonly baseSequence: number | undefined;
  attempts: number;
  readonly firstSentAt: number;
  /** Already sent alone after a request-level refusal (so one bad batch cannot fail others). */
  isolated: boolean;
}

/**
 * Request-size budget, counted in Pending.cost (codec.ts worstWireSize: each record's JSON as the
 * broker measures the body, escaped into the Lambda event, frame and comma included). The broker
 * refuses bodies over 5,800,000 such bytes (wire-size.ts MAX_REQUEST_BODY_BYTES); the 800,000 left
 * are for what is not a record: the request's and each partition's JSON frame (~150 bytes each).
 * Per partition, the broker counts stored record bytes, which a record's cost always exceeds.
 */
export const MAX_RECORDS_PER_REQUEST = 10_000;
export const MAX_PARTITION_BYTES = 2_900_000;
export const MAX_REQUEST_BYTES = 5_000_000;
export const MAX_SEQUENCE = 2_147_483_647;

/** Takes the next batch off a partition's queue: one compression, at most `batchSize` cost (but at least one record). */
export function takeBatch(state: PartitionState, identity: ProducerIdentity | undefined, batchSize: number): Batch {
  const compression = state.queue[0]!.compression;
  const items: Pending[] = [];
  let bytes = 0;
  while (state.queue.length > 0) {
    const next = state.queue[0]!;
    if (next.compression !== compression) break;
    if (items.length > 0 && (bytes + next.cost > batchSize || items.length >= MAX_RECORDS_PER_REQUEST)) break;
    items.push(state.queue.shift()!);
    bytes += next.cost;
  }
  state.queuedBytes -= bytes;
  state.busy = true;
  const baseSequence = identity ? state.nextSequence : undefined;
  return { state, items, compression, identity, baseSequence, attempts: 0, firstSentAt: Date.now(), isolated: false };
}

/** Split one topic's batches into requests that fit the broker's body and record limits. */
export function splitByBudget(batches: Batch[]): Batch[][] {
  const groups: Batch[][] = [];
  let current: Batch[] = [];
  let bytes = 0;
  let records = 0;
  for (const batch of batches) {
    const size = batch.items.reduce((n, i) => n + i.cost, 0);
    if (current.length > 0 && (bytes + size > MAX_REQUEST_BYTES || records + batch.items.length > MAX_RECORDS_PER_REQUEST)) {
      groups.push(current);
      current = [];
      bytes = 0;
      records = 0;
    }
    current.push(batch);
    bytes += size;
    records += batch.items.length;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

export function summarize(acks: { topic: string; ack: Ack }[]): RecordMetadata[] {
  const byPartition = new Map<string, { topicName: string; partition: number; offsets: (number | undefined)[]; duplicate: boolean }>();
  for (const { topic, ack } of acks) {
    const key = `${topic}\u0000${ack.partition}`;
    const entry = byPartition.get(key) ?? { topicName: topic, partition: ack.partition, offsets: [], duplicate: false };
    entry.offsets.push(ack.offset);
    entry.duplicate ||= ack.duplicate;
    byPartition.set(key, entry);
  }
  return [...byPartition.values()]
    .sort((a, b) => (a.topicName === b.topicName ? a.partition - b.partition : a.topicName < b.topicName ? -1 : 1))
    .map(({ topicName, partition, offsets, duplicate }) => {
      const known = offsets.filter((o): o is number => o !== undefined);
      return {
        topicName,
        partition,
        errorCode: 0 as const,
        baseOffset: known.length === offsets.length ? Math.min(...known) : undefined,
        lastOffset: known.length === offsets.length ? Math.max(...known) : undefined,
        duplicate,
      };
    });
}
