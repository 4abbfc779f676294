/**
 * The log: reserving offsets, appending batches, reading entries, filling dead writers' gaps with
 * voids (shared/core/produce.ts, append-write.ts, reservations.ts, log-reader.ts; items in
 * shared/storage/log-store.ts and append-store.ts).
 */
import type { EncodedBatch, LogEntry, PartitionHead, PartitionRef } from "./partition-items.js";
import type { IdempotencyKeyClaim, ProducerState } from "./producers.js";

export interface AppendRequest {
  readonly ref: PartitionRef;
  /** Written all or nothing: one PutItem, or one TransactWriteItems of Puts when there are several. */
  readonly batches: readonly EncodedBatch[];
  readonly appendTime: number;
  /** TTL (epoch seconds) for the items, or undefined to keep forever. */
  readonly expiresAtSeconds?: number;
  /** Distinguishes retries of the same reservation for DynamoDB's idempotency token. */
  readonly attempt: number;
  /** Unique per produce request: offsets may be handed out twice (a released reservation), tokens never. */
  readonly requestId?: string;
  /** The idempotent producer writing the batches: recorded on them (`pi`) for tracing. */
  readonly producerId?: number;
  /**
   * A write named by an idempotency key: the key's state item is claimed in ONE TransactWriteItems
   * with the batch items (both land or neither), conditioned on the key being free or expired.
   * Producer ids never come here: their sequences are claimed by a plain write (docs/append.md).
   */
  readonly idempotencyKey?: IdempotencyKeyClaim;
}

export type AppendResult =
  | { readonly status: "appended" }
  /** A reader voided our reservation (we were slower than the hole timeout). */
  | { readonly status: "slot-taken" }
  /**
   * Keyed appends only: the key is held by an unexpired earlier write; `state` is its stored state
   * (undefined = none after all). Nothing was written; `retried` = the SDK sent the request more
   * than once, so an earlier copy may still be in flight and the reservation must be voided.
   */
  | { readonly status: "key-taken"; readonly state: ProducerState | undefined; readonly retried: boolean }
  /** Concurrent transaction on the same items (AWS only): retry the same reservation. */
  | { readonly status: "conflict"; readonly retried: boolean };

export interface FillResult {
  /** Offsets [from, filledUpTo) are now voids. */
  readonly filledUpTo: number;
  /** True if a real batch blocked the fill at `filledUpTo`: re-read from there. */
  readonly blocked: boolean;
}

export interface LogStore {
  /** Strongly consistent. */
  readHead(ref: PartitionRef): Promise<PartitionHead>;
  readHeads(refs: readonly PartitionRef[]): Promise<PartitionHead[]>;
  /** Create the counter items of new partitions (before the topic becomes visible). */
  createPartitions(refs: readonly PartitionRef[]): Promise<void>;
  /** Create counter items that do not exist yet; an existing one (a retry) is left untouched. */
  addPartitions(refs: readonly PartitionRef[]): Promise<void>;
  /**
   * Reserve `count` offsets; returns the base offset of the range, or undefined if the partition
   * does not exist (its topic was deleted). Never fails on contention. `bytes` (the size of the
   * batches to be written) is added to the partition's bytes-written counter in the same write.
   */
  reserve(ref: PartitionRef, count: number, now: number, bytes?: number): Promise<number | undefined>;
  /**
   * Give an unused reservation back, so refused and duplicate requests leave no hole in the
   * offsets: succeeds only while it is still the latest reservation (nobody else knows its offsets).
   * Its `bytes` are taken off the bytes-written counter again.
   */
  releaseReservation(ref: PartitionRef, baseOffset: number, count: number, bytes?: number): Promise<boolean>;
  append(request: AppendRequest): Promise<AppendResult>;
  /** The writer voids its own failed reservation with one item. False if the slot is taken. */
  voidOwnReservation(ref: PartitionRef, baseOffset: number, count: number, now: number, expiresAtSeconds?: number): Promise<boolean>;
  /** The entry keyed exactly at `offset`, read consistently. */
  entryAt(ref: PartitionRef, offset: number): Promise<LogEntry | undefined>;
  /** The entry with the greatest base offset below `offset`. */
  entryBefore(ref: PartitionRef, offset: number): Promise<LogEntry | undefined>;
  /** Entries with base offset >= from (and < below, when given), at most `limit`; `more` when the Query stopped at its limit. */
  entriesFrom(ref: PartitionRef, from: number, limit: number, below?: number): Promise<{ entries: LogEntry[]; more: boolean }>;
  /** Void every offset in [from, to) one item per offset, in increasing order (DESIGN.md §1.4). */
  fillWithVoids(ref: PartitionRef, from: number, to: number, now: number, expiresAtSeconds?: number): Promise<FillResult>;
  /** Raise the stored hints monotonically (never lowers them). */
  raiseHints(ref: PartitionRef, hints: { highWatermark?: number; logStart?: number }): Promise<void>;
  /** Remove every item of the partition, the counter first so no new reservation succeeds. */
  purge(ref: PartitionRef): Promise<void>;
}
