/**
 * What a log walk (log-reader.ts) collects from the batches it passes, and how many items it asks
 * each Query page for: decoded records (the JSON fetch) or the stored batches as they are (the
 * binary fetch: the broker neither decompresses nor decodes them, the client does).
 */
import { BATCH_ITEM_BUDGET_BYTES } from "../limits.js";
import { decodeRecordBatch, decompressBlob, type CompressionCodec, type RecordHeader } from "../record-batch.js";
import type { BatchEntry, TransactionRef } from "./ports.js";

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
}

export const PAGE_SIZE = 50;
export const FIRST_PAGE_SIZE = 4;
/**
 * A first page bounded by offsets (it cannot return items beyond the records wanted) is sized for
 * items of this many bytes: maxBytes / this, at least FIRST_PAGE_SIZE. A gzip batch of 100 ~1 KB
 * JSON events is ~25 KB; smaller items make the page stop at the offset bound, not at the limit.
 */
const FIRST_PAGE_ITEM_BYTES = 32_768;

function firstPage(limits: ReadLimits, bounded: boolean): number {
  return bounded ? Math.min(PAGE_SIZE, Math.max(FIRST_PAGE_SIZE, Math.floor(limits.maxBytes / FIRST_PAGE_ITEM_BYTES))) : FIRST_PAGE_SIZE;
}

/** Decoded records, cut at exactly maxRecords / maxBytes (key + value + header bytes). */
export class RecordSink implements ReadSink {
  readonly records: FetchedRecord[] = [];
  bytes = 0;
  private entriesSeen = 0;
  private recordsSeen = 0;
  private recordsTaken = 0;
  private bytesSeen = 0;
  private storedBytesSeen = 0;

  constructor(private readonly limits: ReadLimits) {}

  full(): boolean {
    return this.records.length >= this.limits.maxRecords || (this.records.length > 0 && this.bytes >= this.limits.maxBytes);
  }

  recordsLeft(): number {
    return this.limits.maxRecords - this.records.length;
  }

  pageLimit(bounded: boolean): number {
    // Every item a Query returns is billed in full, so ask for about as many batch items as the
    // limits can still take (estimated from the batches seen so far), not a fixed page.
    if (this.entriesSeen === 0) return firstPage(this.limits, bounded);
    const recordsPerEntry = Math.max(1, this.recordsSeen / this.entriesSeen);
    const bytesPerRecord = Math.max(1, this.bytesSeen / Math.max(1, this.recordsTaken));
    const recordsWanted = Math.min(this.limits.maxRecords - this.records.length, Math.ceil((this.limits.maxBytes - this.bytes) / bytesPerRecord));
    return pageFor(recordsWanted / recordsPerEntry, this.storedBytesSeen / this.entriesSeen);
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
    this.entriesSeen++;
    this.storedBytesSeen += entry.blob.length;
    this.recordsSeen += entry.recordOffsets?.length ?? entry.count;
    this.recordsTaken += this.records.length - before.count;
    this.bytesSeen += this.bytes - before.bytes;
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
  private recordsSeen = 0;
  private storedBytesSeen = 0;

  constructor(
    private readonly limits: ReadLimits,
    /** Codecs the client decodes; other batches are decompressed here and sent as "none". */
    private readonly acceptCodecs: ReadonlySet<CompressionCodec>,
  ) {}

  full(): boolean {
    return this.records >= this.limits.maxRecords || (this.batches.length > 0 && this.bytes >= this.limits.maxBytes);
  }

  recordsLeft(): number {
    return this.limits.maxRecords - this.records;
  }

  pageLimit(bounded: boolean): number {
    const seen = this.batches.length;
    if (seen === 0) return firstPage(this.limits, bounded);
    // Whole items are sent, so no item beyond what the limits take is worth its read units.
    const byRecords = (this.limits.maxRecords - this.records) / Math.max(1, this.recordsSeen / seen);
    const byBytes = (this.limits.maxBytes - this.bytes) / Math.max(1, this.bytes / seen);
    return pageFor(Math.min(byRecords, byBytes), this.storedBytesSeen / seen);
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
    this.recordsSeen += total;
    this.storedBytesSeen += entry.blob.length;
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
  return Math.min(PAGE_SIZE, Math.max(1, Math.ceil(entriesWanted) + margin));
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
