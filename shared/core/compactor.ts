/**
 * Log compaction (docs/compaction.md): keep the latest record of every key of a compacted topic.
 *
 * One pass over a partition:
 *   1. The safe end: the high watermark when the pass starts (everything below it is written or
 *      voided, so committed: nothing in flight, nothing reserved), cut at the first batch younger
 *      than minCompactionLagMs. Nothing at or above the safe end is read for the key map or touched.
 *   2. Scan [log start, safe end): key → offset of its latest record (and how often the key occurs).
 *   3. Scan the same range again and rewrite each batch item that loses records, keeping the records
 *      that are the latest for their key with their offsets and timestamps (the item keeps its base
 *      offset and range; the survivors' offsets are stored with it). A batch left with no record
 *      becomes a void over the same range. Every rewrite is conditional on the item being the one
 *      read, so a concurrent pass or an expiry is never undone.
 *   4. Tombstones (null value) follow Kafka's rule (KIP-534): a pass that keeps a batch's latest
 *      tombstone stamps the batch with a delete horizon (now + deleteRetentionMs); a later pass
 *      removes the tombstone once the horizon has passed and it is the only record of its key.
 * A large transaction's staged batch ends the safe end like a young batch (docs/transactions.md).
 * A record is removed only if a later record of its key was seen below the safe end, and records
 * are never moved, so offsets never change and the latest record of every key always survives.
 */
import { DynalogError } from "../errors.js";
import { BATCH_ITEM_BUDGET_BYTES } from "../limits.js";
import { compressBlob, decompressBlob } from "../compression.js";
import { decodeRecordBatch } from "../record-batch-decode.js";
import { encodeRecordBatch, type BatchRecord } from "../record-batch.js";
import type { BrokerContext } from "./context.js";
import type { LogReader } from "./log-reader.js";
import type { BatchEntry, CompactedBatch, CompactionCheckpoint, LogEntry, PartitionRef, TopicRecord } from "./ports.js";
import { isCompacted, mapWithConcurrency, partitionRefs, requirePartition, StaleTopicError, unknownTopic, validateTopicName, type TopicCatalog } from "./topics.js";

export interface PartitionCompaction {
  readonly partition: number;
  readonly logStartOffset: number;
  readonly highWatermark: number;
  /** The pass's safe end: every batch below it was compacted (or is being retried next pass, see skippedBatches). */
  readonly cleanedUpTo: number;
  readonly scannedRecords: number;
  readonly removedRecords: number;
  readonly removedTombstones: number;
  readonly rewrittenBatches: number;
  /** Batches that changed between read and rewrite (another pass, an expiry): left for the next pass. */
  readonly skippedBatches: number;
  readonly lastRunAt: number;
  /**
   * Why the pass read and wrote nothing beyond the partition's counter (`cleanedUpTo` and
   * `lastRunAt` are then the last real pass's), null when it ran:
   * - "unchanged": the last pass was complete, nothing was appended since, and no kept tombstone's
   *   delete horizon has passed — a pass could change nothing;
   * - "dirty-ratio": a scheduled run only, as Kafka's cleaner with min.cleanable.dirty.ratio: the
   *   records appended since the last complete pass are under that share of the partition.
   */
  readonly skipped: CompactionSkip | null;
}

export type CompactionSkip = "unchanged" | "dirty-ratio";

/** Kafka's min.cleanable.dirty.ratio default: a scheduled pass waits until half the partition is new. */
export const MIN_CLEANABLE_DIRTY_RATIO = 0.5;

export interface CompactPartitionOptions {
  /** Skip the partition while (records since the last complete pass) / (those + the records it kept) is below this. */
  readonly minDirtyRatio?: number;
}

export interface TopicCompaction {
  readonly topic: TopicRecord;
  readonly partitions: readonly PartitionCompaction[];
}

export interface CompactAllResult {
  readonly compacted: TopicCompaction[];
  readonly failed: { topic: string; error: unknown }[];
  /** Compacted topics whose pass was not started because `startBefore` had passed. */
  readonly notStarted: string[];
}

interface KeyInfo {
  /** Offset of the latest record of the key below the safe end. */
  offset: number;
  /** Records of the key in [log start, safe end). */
  occurrences: number;
}

const PAGE_SIZE = 100;
const PARTITION_CONCURRENCY = 4;

/** Keys as map keys: latin1 maps bytes to characters one to one. */
const keyString = (key: Uint8Array): string => Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString("latin1");

function decodeEntry(entry: BatchEntry): { records: BatchRecord[]; offsetOf: (index: number) => number } {
  const records = decodeRecordBatch(decompressBlob(entry.codec, entry.blob, BATCH_ITEM_BUDGET_BYTES * 2));
  const offsets = entry.recordOffsets;
  return { records, offsetOf: offsets === undefined ? (i) => entry.baseOffset + i : (i) => offsets[i]! };
}

export class Compactor {
  constructor(
    private readonly ctx: BrokerContext,
    private readonly topics: TopicCatalog,
    private readonly reader: LogReader,
  ) {}

  /** Compact the named partitions (default all) of a compacted topic. Everything is checked before the first read. */
  async compactTopic(name: string, partitions?: readonly number[], options: CompactPartitionOptions = {}): Promise<TopicCompaction> {
    validateTopicName(name);
    const topic = await this.topics.require(name, { fresh: true });
    if (!isCompacted(topic)) {
      throw new DynalogError("INVALID_CONFIG", `Topic '${name}' has cleanupPolicy "delete": only topics with "compact" or "compact,delete" are compacted`, {
        details: { topic: name, cleanupPolicy: topic.cleanupPolicy },
      });
    }
    const refs = partitions === undefined ? partitionRefs(topic) : partitions.map((p) => requirePartition(topic, p));
    if (new Set(refs.map((r) => r.partition)).size !== refs.length) {
      throw new DynalogError("INVALID_REQUEST", "A partition is listed more than once", { details: { topic: name } });
    }
    try {
      const results = await mapWithConcurrency(refs, PARTITION_CONCURRENCY, (ref) => this.compactPartition(topic, ref, options));
      return { topic, partitions: results };
    } catch (error) {
      // The topic was deleted while the pass ran: its partitions are gone, so is the work.
      if (error instanceof StaleTopicError) throw unknownTopic(name);
      throw error;
    }
  }

  /**
   * Every compacted topic, one after another (the local broker's periodic run; the deployed
   * scheduled compactor's). With `startBefore` (a clock time), no topic's pass starts after it:
   * those topics are listed in `notStarted` and the next run takes them (an interrupted pass is
   * harmless, but a pass that cannot finish would be cut short by the function's timeout).
   */
  async compactAll(options: { readonly startBefore?: number; readonly minDirtyRatio?: number } = {}): Promise<CompactAllResult> {
    const compacted: TopicCompaction[] = [];
    const failed: { topic: string; error: unknown }[] = [];
    const notStarted: string[] = [];
    for (const topic of await this.topics.list()) {
      if (!isCompacted(topic)) continue;
      if (options.startBefore !== undefined && this.ctx.clock() >= options.startBefore) {
        notStarted.push(topic.name);
        continue;
      }
      try {
        compacted.push(await this.compactTopic(topic.name, undefined, { minDirtyRatio: options.minDirtyRatio }));
      } catch (error) {
        failed.push({ topic: topic.name, error });
      }
    }
    return { compacted, failed, notStarted };
  }

  async compactPartition(topic: TopicRecord, ref: PartitionRef, options: CompactPartitionOptions = {}): Promise<PartitionCompaction> {
    const { log, compaction } = this.ctx.storage;
    const now = this.ctx.clock();
    const head = await log.readHead(ref);
    if (!head.exists) throw new StaleTopicError(topic.topicId);
    const highWatermark = await this.reader.highWatermark(topic, ref, head);
    const logStart = await this.reader.refreshLogStart(topic, ref, head);
    const lagCutoff = now - topic.minCompactionLagMs;
    const skip = skipReason(head.compaction, highWatermark, now, options.minDirtyRatio);
    if (skip !== null) {
      // Kafka's cleaner skips a log with too little dirty; here that costs the one counter read
      // above, which is what keeps a schedule over idle compacted topics nearly free.
      const last = head.compaction!;
      return { partition: ref.partition, logStartOffset: logStart, highWatermark, cleanedUpTo: last.cleanedUpTo, scannedRecords: 0, removedRecords: 0, removedTombstones: 0, rewrittenBatches: 0, skippedBatches: 0, lastRunAt: last.lastRunAt, skipped: skip };
    }

    // Phase 1: the latest offset of every key below the safe end.
    const latest = new Map<string, KeyInfo>();
    let safeEnd = logStart;
    let scannedRecords = 0;
    // Queries here are eventually consistent: an item missed (a gap in the walk) only keeps more
    // records, except that a tombstone must not go while an older record of its key might remain.
    let contiguous = true;
    for await (const entry of this.entries(ref, logStart, highWatermark)) {
      if (entry.baseOffset > safeEnd) contiguous = false;
      if (entry.kind === "batch") {
        if (entry.appendTime > lagCutoff) break; // too young: neither it nor anything after is compacted
        // A large transaction's staged batch (docs/transactions.md): undecided, neither it nor
        // anything after is read or touched; aborted, it is a void.
        if (entry.staged) {
          const outcome = await this.reader.staged.resolve(topic, { ...entry, staged: entry.staged });
          if (outcome === "undecided") break;
          if (outcome === "aborted") {
            safeEnd = entry.baseOffset + entry.count;
            continue;
          }
        }
        const { records, offsetOf } = decodeEntry(entry);
        records.forEach((record, i) => {
          const offset = offsetOf(i);
          if (offset < logStart || record.key === null) return;
          scannedRecords++;
          const key = keyString(record.key);
          const info = latest.get(key);
          if (info === undefined) latest.set(key, { offset, occurrences: 1 });
          else {
            info.offset = offset;
            info.occurrences++;
          }
        });
      }
      safeEnd = entry.baseOffset + entry.count;
    }

    // Phase 2: rewrite what loses records.
    let removedRecords = 0;
    let removedTombstones = 0;
    let rewrittenBatches = 0;
    let skippedBatches = 0;
    let nextDeleteHorizon: number | undefined;
    let retainedRecords = 0;
    for await (const entry of this.entries(ref, logStart, safeEnd)) {
      if (entry.kind !== "batch") continue;
      // Decided in phase 1 (cached): only a committed staged batch is compacted.
      if (entry.staged && (await this.reader.staged.known(entry.staged)) !== "committed") continue;
      const { records, offsetOf } = decodeEntry(entry);
      const survivors: { record: BatchRecord; offset: number }[] = [];
      let keepsTombstone = false;
      let tombstonesRemoved = 0;
      records.forEach((record, i) => {
        const offset = offsetOf(i);
        // Below the log start: deleted already (deleteRecords), unreadable. Without a key: Kafka's
        // cleaner discards such records too (a compacted topic refuses them at produce).
        if (offset < logStart || record.key === null) return;
        const info = latest.get(keyString(record.key));
        // Not seen in phase 1 (a page read before the item was visible): keep, the next pass decides.
        if (info !== undefined && info.offset > offset) return;
        if (info !== undefined && record.value === null) {
          const horizonPassed = entry.deleteHorizon !== undefined && entry.deleteHorizon <= now;
          if (horizonPassed && contiguous && info.occurrences === 1) {
            tombstonesRemoved++;
            return;
          }
          keepsTombstone = true;
        }
        survivors.push({ record, offset });
      });
      const deleteHorizon = keepsTombstone ? (entry.deleteHorizon ?? now + topic.deleteRetentionMs) : undefined;
      if (deleteHorizon !== undefined) nextDeleteHorizon = Math.min(nextDeleteHorizon ?? deleteHorizon, deleteHorizon);
      retainedRecords += survivors.length;
      if (survivors.length === records.length && deleteHorizon === entry.deleteHorizon) continue;
      const replacement = survivors.length === 0 ? "empty" : compactedBatch(entry, survivors, deleteHorizon);
      if (await compaction.rewriteBatch(ref, entry, replacement)) {
        rewrittenBatches++;
        removedRecords += records.length - survivors.length;
        removedTombstones += tombstonesRemoved;
      } else {
        skippedBatches++;
      }
    }

    const complete = contiguous && skippedBatches === 0;
    await compaction.saveCheckpoint(ref, { cleanedUpTo: safeEnd, lastRunAt: now, complete, retainedRecords, ...(nextDeleteHorizon !== undefined ? { nextDeleteHorizon } : {}) });
    return {
      partition: ref.partition,
      logStartOffset: logStart,
      highWatermark,
      cleanedUpTo: safeEnd,
      scannedRecords,
      removedRecords,
      removedTombstones,
      rewrittenBatches,
      skippedBatches,
      lastRunAt: now,
      skipped: null,
    };
  }

  /** Entries covering [from, end) in offset order (the one holding `from` first), none reaching past `end`. */
  private async *entries(ref: PartitionRef, from: number, end: number): AsyncGenerator<LogEntry> {
    const { log } = this.ctx.storage;
    let position = from;
    const holding = await log.entryBefore(ref, from);
    if (holding && holding.baseOffset + holding.count > from) {
      if (holding.baseOffset + holding.count > end) return;
      yield holding;
      position = holding.baseOffset + holding.count;
    }
    while (position < end) {
      const page = await log.entriesFrom(ref, position, PAGE_SIZE);
      for (const entry of page.entries) {
        if (entry.baseOffset + entry.count > end) return;
        yield entry;
        position = entry.baseOffset + entry.count;
      }
      if (!page.more || page.entries.length === 0) return;
    }
  }
}

/** Why a pass over a partition can be skipped, from its last checkpoint (null: run it). */
function skipReason(last: CompactionCheckpoint | undefined, highWatermark: number, now: number, minDirtyRatio: number | undefined): CompactionSkip | null {
  // Only a complete pass proves the range below its end holds one record per key.
  if (!last?.complete) return null;
  if (last.nextDeleteHorizon !== undefined && last.nextDeleteHorizon <= now) return null;
  const dirty = highWatermark - last.cleanedUpTo;
  if (dirty <= 0) return "unchanged";
  // Offsets above the checkpoint are records (or a dead writer's rare voids): dense, unlike the
  // compacted range below, whose records the pass counted.
  if (minDirtyRatio !== undefined && last.retainedRecords !== undefined && dirty / (dirty + last.retainedRecords) < minDirtyRatio) return "dirty-ratio";
  return null;
}

/** The survivors encoded as the batch was (same codec unless compressing no longer pays). */
function compactedBatch(entry: BatchEntry, survivors: readonly { record: BatchRecord; offset: number }[], deleteHorizon: number | undefined): CompactedBatch {
  const raw = encodeRecordBatch(survivors.map((s) => s.record));
  let codec = entry.codec;
  let blob = raw;
  if (codec !== "none") {
    const compressed = compressBlob(codec, raw);
    if (compressed.length < raw.length) blob = compressed;
    else codec = "none";
  }
  return {
    codec,
    blob,
    maxTimestamp: Math.max(...survivors.map((s) => s.record.timestamp)),
    recordOffsets: survivors.map((s) => s.offset),
    ...(deleteHorizon !== undefined ? { deleteHorizon } : {}),
  };
}
