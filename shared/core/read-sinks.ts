/**
 * What a log walk (log-reader.ts) collects from the batches it passes, and how many items it asks
 * each Query page for: decoded records (the JSON fetch) or the stored batches as they are (the
 * binary fetch: the broker neither decompresses nor decodes them, the client does). Page sizes come
 * from the batches seen so far, or before the first from the partition's shape as the previous
 * read on this instance saw it (PartitionShapes).
 */
import { BATCH_ITEM_BUDGET_BYTES } from "../limits.js";
import { decompressBlob, type CompressionCodec } from "../compression.js";
import { decodeRecordBatch } from "../record-batch-decode.js";
import type { RecordHeader } from "../record-batch.js";
import type { BatchEntry, PartitionRef, TransactionRef } from "./ports.js";

export interface FetchedRecord {
  readonly offset: number;
  readonly timestamp: number;
  readonly key: Uint8Array | null;
  readonly value: Uint8Array | null;
  readonly headers: readonly RecordHeader[];
  /** The transaction that wrote the record (its batch names it), when one did. */
  readonly transaction?: TransactionRef;
  /** The producer id that wrote the record, when its batch records one (idempotent or transactional producers). */
  readonly producerId?: number;
}

/**
 * A stored batch as the binary fetch returns it. It is whole: it may hold records below the
 * requested offset (a seek into the middle of it) or at or above the partition's nextOffset (the
 * record limit ran out inside it); the client keeps only [requested offset, nextOffset).
 */
export interface FetchedBatch {
  readonly baseOffset: number;
  /** Offsets the batch spans (records, when dense). */
  readonly count: number;
  /** The blob's codec: the stored one, or "none" when the client cannot decode the stored one. */
  readonly codec: CompressionCodec;
  /** The record batch (shared/record-batch.ts), compressed with `codec`. */
  readonly blob: Uint8Array;
  /** Present for a compacted (sparse) batch: each record's offset, ascending. */
  readonly recordOffsets?: readonly number[];
  readonly producerId?: number;
  readonly transactional: boolean;
  /** Offset of the first record the fetch returns from this batch (>= the requested offset). */
  readonly firstOffset: number;
  /** Records the fetch returns from this batch (those in [requested offset, nextOffset)). */
  readonly records: number;
}

export interface ReadLimits {
  readonly maxRecords: number;
  readonly maxBytes: number;
}

export interface ReadSink {
  /** The limits are reached: the walk stops before the next entry. */
  full(): boolean;
  /** Items to ask the next Query page for: about as many as the limits can still take. `bounded`: the Query's range already stops at recordsLeft() offsets. */
  pageLimit(bounded: boolean): number;
  /** Records the limits still take. */
  recordsLeft(): number;
  /** Take the batch's records at offsets >= `start`; returns the first offset not taken when the limits ran out. */
  take(entry: BatchEntry, start: number): number | undefined;
  /** What the batches taken so far looked like (for the next read's first page); before the first, the prior shape if any. */
  shape(): PartitionShape | undefined;
}

/**
 * What a partition's batches look like, as far as sizing a Query page goes: averages over the
 * batches one read took. The reader remembers the latest per partition (PartitionShapes), so the next
 * fetch's first page asks for about as many items as its limits take instead of guessing.
 */
export interface PartitionShape {
  /** Offsets with a record per stored batch (a compacted batch has fewer than it spans). */
  readonly recordsPerEntry: number;
  /** Stored (compressed) item bytes per batch: what DynamoDB bills. */
  readonly storedBytesPerEntry: number;
  /** Bytes a record counts against the sink's maxBytes. */
  readonly bytesPerRecord: number;
}

/** Partitions whose shape a reader remembers (least recently read forgotten first). */
const MAX_SHAPES = 1_000;

/**
 * Per partition and sink kind (the two count bytes differently: decoded records, stored blobs),
 * the shape the latest read saw on this instance, so a consumer's next fetch here asks its first
 * Query for about the items its limits take. A cost hint only, never a fact about the log: however
 * stale (the producers changed their batch sizes), it costs a Query more or a few items read and
 * not sent, and the next read replaces it.
 */
export class PartitionShapes {
  private readonly shapes = new Map<string, PartitionShape>();

  get(kind: "records" | "batches", ref: PartitionRef): PartitionShape | undefined {
    return this.shapes.get(shapeKey(kind, ref));
  }

  remember(kind: "records" | "batches", ref: PartitionRef, shape: PartitionShape | undefined): void {
    if (!shape) return;
    const key = shapeKey(kind, ref);
    this.shapes.delete(key); // re-inserted last: Map order is the LRU order
    this.shapes.set(key, shape);
    if (this.shapes.size > MAX_SHAPES) this.shapes.delete(this.shapes.keys().next().value!);
  }
}

function shapeKey(kind: "records" | "batches", ref: PartitionRef): string {
  return `${kind}\u0000${ref.topicId}#${ref.partition}`;
}

/** Page size for walks without limits (high watermark, log start, timestamps). */
export const PAGE_SIZE = 50;
export const FIRST_PAGE_SIZE = 4;
/**
 * The most items a sink asks one Query for. DynamoDB stops a page at 1 MB anyway; the estimate
 * (pageFor) keeps it near what the limits take, so this only stops a wild estimate: 500 one-record
 * batches (the default maxRecords) are one Query, as in the raw baseline, not ten of 50.
 */
export const MAX_PAGE_ITEMS = 1_000;
/**
 * A first page bounded by offsets (it cannot return items beyond the records wanted) and with no
 * shape known for the partition is sized for items of this many bytes: maxBytes / this, at least
 * FIRST_PAGE_SIZE. A gzip batch of 100 ~1 KB JSON events is ~25 KB; smaller items make the page
 * stop at the offset bound, not at the limit.
 */
const FIRST_PAGE_ITEM_BYTES = 32_768;

/**
 * Items to ask for next: as many as the records and bytes still wanted take, by `shape`; without
 * one, the first page's guess.
 */
function pageLimitFor(shape: PartitionShape | undefined, limits: ReadLimits, recordsLeft: number, bytesLeft: number, bounded: boolean): number {
  if (!shape) return bounded ? Math.min(PAGE_SIZE, Math.max(FIRST_PAGE_SIZE, Math.floor(limits.maxBytes / FIRST_PAGE_ITEM_BYTES))) : FIRST_PAGE_SIZE;
  const recordsWanted = Math.min(recordsLeft, Math.ceil(bytesLeft / shape.bytesPerRecord));
  return pageFor(recordsWanted / shape.recordsPerEntry, shape.storedBytesPerEntry);
}

/** Running totals over the batches a sink took, and the shape they give (`prior` until there is one). */
class ShapeTally {
  private entries = 0;
  private records = 0;
  private storedBytes = 0;
  private recordsTaken = 0;
  private bytesTaken = 0;

  constructor(private readonly prior: PartitionShape | undefined) {}

  add(entry: BatchEntry, recordsTaken: number, bytesTaken: number): void {
    this.entries++;
    this.records += entry.recordOffsets?.length ?? entry.count;
    this.storedBytes += entry.blob.length;
    this.recordsTaken += recordsTaken;
    this.bytesTaken += bytesTaken;
  }

  shape(): PartitionShape | undefined {
    if (this.recordsTaken === 0) return this.prior;
    return {
      recordsPerEntry: Math.max(1, this.records / this.entries),
      storedBytesPerEntry: this.storedBytes / this.entries,
      bytesPerRecord: Math.max(1, this.bytesTaken / this.recordsTaken),
    };
  }
}

/** Decoded records, cut at exactly maxRecords / maxBytes (key + value + header bytes). */
export class RecordSink implements ReadSink {
  readonly records: FetchedRecord[] = [];
  bytes = 0;
  private readonly tally: ShapeTally;

  /** `prior`: the partition's shape as a previous read saw it (sizes the first page). */
  constructor(
    private readonly limits: ReadLimits,
    prior?: PartitionShape,
  ) {
    this.tally = new ShapeTally(prior);
  }

  full(): boolean {
    return this.records.length >= this.limits.maxRecords || (this.records.length > 0 && this.bytes >= this.limits.maxBytes);
  }

  recordsLeft(): number {
    return this.limits.maxRecords - this.records.length;
  }

  pageLimit(bounded: boolean): number {
    // Every item a Query returns is billed in full, so ask for about as many batch items as the
    // limits can still take (estimated from the batches seen so far), not a fixed page.
    return pageLimitFor(this.tally.shape(), this.limits, this.recordsLeft(), this.limits.maxBytes - this.bytes, bounded);
  }

  shape(): PartitionShape | undefined {
    return this.tally.shape();
  }

  take(entry: BatchEntry, start: number): number | undefined {
    const before = { count: this.records.length, bytes: this.bytes };
    const decoded = decodeRecordBatch(decompressBlob(entry.codec, entry.blob, BATCH_ITEM_BUDGET_BYTES * 2));
    const offsetOf = recordOffsetMap(entry);
    let stoppedAt: number | undefined;
    for (let i = firstIndexAtOrAfter(entry, start); i < decoded.length; i++) {
      const record = decoded[i]!;
      const size = recordBytes(record);
      const offset = offsetOf(i);
      // Always return at least one record, even one larger than maxBytes, so consumers progress.
      if (this.records.length >= this.limits.maxRecords || (this.records.length > 0 && this.bytes + size > this.limits.maxBytes)) {
        stoppedAt = offset;
        break;
      }
      this.records.push({ offset, timestamp: record.timestamp, key: record.key, value: record.value, headers: record.headers, ...(entry.transaction ? { transaction: entry.transaction } : {}), ...(entry.producerId === undefined ? {} : { producerId: entry.producerId }) });
      this.bytes += size;
    }
    this.tally.add(entry, this.records.length - before.count, this.bytes - before.bytes);
    return stoppedAt;
  }
}

/**
 * Whole stored batches. maxRecords counts the records returned (those at or after the requested
 * offset, up to nextOffset), exactly as the record sink does; maxBytes counts the blob bytes sent
 * (the first batch always goes, like the first record).
 */
export class BatchSink implements ReadSink {
  readonly batches: FetchedBatch[] = [];
  records = 0;
  bytes = 0;
  private readonly tally: ShapeTally;

  constructor(
    private readonly limits: ReadLimits,
    /** Codecs the client decodes; other batches are decompressed here and sent as "none". */
    private readonly acceptCodecs: ReadonlySet<CompressionCodec>,
    /** The partition's shape as a previous read saw it (sizes the first page). */
    prior?: PartitionShape,
  ) {
    this.tally = new ShapeTally(prior);
  }

  full(): boolean {
    return this.records >= this.limits.maxRecords || (this.batches.length > 0 && this.bytes >= this.limits.maxBytes);
  }

  recordsLeft(): number {
    return this.limits.maxRecords - this.records;
  }

  pageLimit(bounded: boolean): number {
    // Whole items are sent, so no item beyond what the limits take is worth its read units.
    return pageLimitFor(this.tally.shape(), this.limits, this.recordsLeft(), this.limits.maxBytes - this.bytes, bounded);
  }

  shape(): PartitionShape | undefined {
    return this.tally.shape();
  }

  take(entry: BatchEntry, start: number): number | undefined {
    const first = firstIndexAtOrAfter(entry, start);
    const total = entry.recordOffsets?.length ?? entry.count;
    if (first >= total) return undefined; // every record of it lies below `start` (compacted away)
    const offsetOf = recordOffsetMap(entry);
    const accepted = this.acceptCodecs.has(entry.codec);
    const blob = accepted ? entry.blob : decompressBlob(entry.codec, entry.blob, BATCH_ITEM_BUDGET_BYTES * 2);
    if (this.batches.length > 0 && this.bytes + blob.length > this.limits.maxBytes) return offsetOf(first);
    const taken = Math.min(total - first, this.limits.maxRecords - this.records);
    this.batches.push({
      baseOffset: entry.baseOffset,
      count: entry.count,
      codec: accepted ? entry.codec : "none",
      blob,
      ...(entry.recordOffsets ? { recordOffsets: entry.recordOffsets } : {}),
      ...(entry.producerId === undefined ? {} : { producerId: entry.producerId }),
      transactional: entry.transaction !== undefined,
      firstOffset: offsetOf(first),
      records: taken,
    });
    this.records += taken;
    this.bytes += blob.length;
    this.tally.add(entry, taken, blob.length);
    return first + taken < total ? offsetOf(first + taken) : undefined;
  }
}

/**
 * A Query bills the items it returns, summed and rounded up to 4 KB. One item more than the
 * estimate wants is nearly free when items are small, and spares a second Query (≥ 0.5 units and a
 * round trip) when the estimate falls short; when items are large it is a whole item's units
 * wasted on every fetch (the next fetch reads it again), so then none is added.
 */
function pageFor(entriesWanted: number, storedBytesPerEntry: number): number {
  const margin = storedBytesPerEntry < SMALL_ITEM_BYTES ? 1 : 0;
  return Math.min(MAX_PAGE_ITEMS, Math.max(1, Math.ceil(entriesWanted) + margin));
}

const SMALL_ITEM_BYTES = 1024;

/** Record index → offset: dense (base + index) unless compaction left the batch sparse. */
export function recordOffsetMap(entry: BatchEntry): (index: number) => number {
  const offsets = entry.recordOffsets;
  return offsets === undefined ? (index) => entry.baseOffset + index : (index) => offsets[index]!;
}

/** Index of the batch's first record at or after `offset` (the record count if none is). */
export function firstIndexAtOrAfter(entry: BatchEntry, offset: number): number {
  const offsets = entry.recordOffsets;
  if (offsets === undefined) return Math.min(entry.count, Math.max(0, offset - entry.baseOffset));
  let low = 0;
  let high = offsets.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (offsets[middle]! < offset) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** Bytes a record counts against fetch limits: key, value and header bytes. */
export function recordBytes(record: { key: Uint8Array | null; value: Uint8Array | null; headers: readonly RecordHeader[] }): number {
  let size = (record.key?.length ?? 0) + (record.value?.length ?? 0);
  for (const header of record.headers) size += Buffer.byteLength(header.key, "utf8") + (header.value?.length ?? 0);
  return size;
}
