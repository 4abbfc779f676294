/** Rewriting compacted batches (shared/core/compactor.ts; writes in shared/storage/compaction-store.ts). */
import type { CompressionCodec } from "../../compression.js";
import type { BatchEntry, CompactionCheckpoint, PartitionRef } from "./partition-items.js";

/** A compacted batch's new content; the item keeps its key, count, append time and TTL. */
export interface CompactedBatch {
  readonly codec: CompressionCodec;
  readonly blob: Uint8Array;
  readonly maxTimestamp: number;
  /** Each record's offset, ascending (the records are no longer dense). */
  readonly recordOffsets: readonly number[];
  readonly deleteHorizon?: number;
}

export interface CompactionStore {
  /**
   * Replace a batch item's records with `replacement` ("empty": the item becomes a void over the
   * same range, which readers step over). Only while the stored item is still the batch that was
   * read (same kind, count and compactionVersion): false when it changed or is gone.
   */
  rewriteBatch(ref: PartitionRef, read: BatchEntry, replacement: CompactedBatch | "empty"): Promise<boolean>;
  /** Record a finished pass on the partition's counter item (cleanedUpTo never moves back). */
  saveCheckpoint(ref: PartitionRef, checkpoint: CompactionCheckpoint): Promise<void>;
}
