/**
 * What a partition's items hold, as the core sees them: the counter item (PartitionHead, with the
 * last compaction's checkpoint) and the log entries, batches and voids (items in
 * shared/storage/log-store.ts and log-keys.ts). Every other port builds on these.
 */
import type { CompressionCodec } from "../../compression.js";

export interface PartitionRef {
  readonly topicId: string;
  readonly partition: number;
}

/** The partition's counter item: the sequencer and the hints readers keep. */
export interface PartitionHead {
  /** False when the counter item is missing: the partition (topic incarnation) was deleted. */
  readonly exists: boolean;
  /** First offset not yet reserved. */
  readonly nextOffset: number;
  /** When the latest reservation was made (ms); 0 if never. */
  readonly reservedAt: number;
  /** Every offset below this is filled (batch or void). */
  readonly highWatermarkHint: number;
  /** Every offset below this is expired. */
  readonly logStartHint: number;
  /**
   * Record-blob bytes of every reservation ever made on the partition, less those given back
   * (approximate: a voided reservation still counts; see docs/api.md, describe topic).
   */
  readonly bytesWritten: number;
  /** The last compaction pass: every batch below `cleanedUpTo` was compacted then (absent = never). */
  readonly compaction?: CompactionCheckpoint;
}

export interface CompactionCheckpoint {
  readonly cleanedUpTo: number;
  readonly lastRunAt: number;
  /**
   * The pass read every batch below `cleanedUpTo` without a gap and rewrote every batch it meant to
   * (none changed under it): the range holds at most one record per key. Absent on checkpoints
   * written before this was recorded, which count as incomplete.
   */
  readonly complete?: boolean;
  /** The earliest delete horizon of a tombstone the pass kept: the next thing that can change with time alone. */
  readonly nextDeleteHorizon?: number;
  /** Records the pass kept below `cleanedUpTo` (the clean part's size, for the dirty ratio). */
  readonly retainedRecords?: number;
}

export interface BatchEntry {
  readonly kind: "batch";
  readonly baseOffset: number;
  readonly count: number;
  readonly codec: CompressionCodec;
  readonly blob: Uint8Array;
  readonly maxTimestamp: number;
  readonly appendTime: number;
  /**
   * Absent: the batch is dense, record i has offset baseOffset + i. Present (a compacted batch): the
   * offset of each record, ascending, inside [baseOffset, baseOffset + count).
   */
  readonly recordOffsets?: readonly number[];
  /** Times the compactor rewrote this item (0 = never): its rewrites are conditional on it. */
  readonly compactionVersion?: number;
  /** Set when a compaction first kept a tombstone of this batch: tombstones go once it has passed. */
  readonly deleteHorizon?: number;
  /** Set when a transactional commit wrote the batch: which transaction (its record: TransactionStore.readRecord). */
  readonly transaction?: TransactionRef;
  /** The producer id that wrote the batch: an idempotent producer's, or the transaction's. */
  readonly producerId?: number;
  /**
   * Set on a batch staged by a transaction too large for one TransactWriteItems (docs/transactions.md):
   * its records count only once that attempt's commit record exists (the mark stays after the
   * commit). Readers resolve it (staged-outcomes.ts) and never read past an undecided one.
   */
  readonly staged?: StagedMark;
}

/** Names one staging attempt of a large transaction: its decision record's key, and when it began. */
export interface StagedMark {
  readonly attempt: string;
  /** The broker's clock when the attempt began (before its reservations): its abort timeout runs from here. */
  readonly startedAt: number;
}

/** Names one committed transaction: the producer id and epoch of its transactional id, and its sequence in that epoch. */
export interface TransactionRef {
  readonly producerId: number;
  readonly epoch: number;
  readonly sequence: number;
}

export interface VoidEntry {
  readonly kind: "void";
  readonly baseOffset: number;
  readonly count: number;
  readonly appendTime: number;
}

export type LogEntry = BatchEntry | VoidEntry;

/** One write-once batch item to put, with its records already encoded (and maybe compressed). */
export interface EncodedBatch {
  readonly baseOffset: number;
  readonly count: number;
  readonly codec: CompressionCodec;
  readonly blob: Uint8Array;
  readonly maxTimestamp: number;
}
