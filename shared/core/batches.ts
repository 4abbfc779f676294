/**
 * From client records to write-once batch items: validation of each record, partitioning by key,
 * splitting into chunks that fit one DynamoDB item, encoding and compression. Pure, no I/O; used
 * by plain produce and by transactions alike.
 */
import { DynalogError } from "../errors.js";
import { BATCH_ITEM_BUDGET_BYTES, MAX_HEADER_KEY_BYTES, MAX_HEADERS_PER_RECORD, MAX_PARTITION_REQUEST_BYTES, MAX_RECORD_BYTES } from "../limits.js";
import { partitionForKey, type RoundRobinPartitioner } from "../partitioner.js";
import { compressBlob, COMPRESSION_CODECS, type CompressionCodec } from "../compression.js";
import { batchHeaderSize, encodedRecordSize, encodeRecordBatch, type BatchRecord, type RecordHeader } from "../record-batch.js";
import type { EncodedBatch, PartitionRef, TopicRecord } from "./ports.js";
import { isCompacted, requirePartition } from "./topics.js";

export interface ProduceRecord {
  readonly key: Uint8Array | null;
  readonly value: Uint8Array | null;
  readonly headers: readonly RecordHeader[];
  /** CreateTime in ms; omitted = append time. */
  readonly timestamp?: number;
  /** Explicit partition; omitted = by key (murmur2) or, for null keys, one partition per request. */
  readonly partition?: number;
}

/** A codec name from a client, checked: UNSUPPORTED_COMPRESSION_TYPE for anything unknown. */
export function parseCompression(value: string | undefined): CompressionCodec | undefined {
  if (value === undefined) return undefined;
  if (!(COMPRESSION_CODECS as readonly string[]).includes(value)) {
    throw new DynalogError("UNSUPPORTED_COMPRESSION_TYPE", `Compression '${value.slice(0, 40)}' is not supported; use one of ${COMPRESSION_CODECS.join(", ")}`, {
      details: { compression: value.slice(0, 40), supported: [...COMPRESSION_CODECS] },
    });
  }
  return value as CompressionCodec;
}

/** A batch item's content before its offsets are known (they come from the reservation). */
export type UnplacedBatch = Omit<EncodedBatch, "baseOffset">;

export interface EncodedPartition {
  readonly ref: PartitionRef;
  readonly recordCount: number;
  readonly chunks: readonly UnplacedBatch[];
}

/** Validate and encode one partition's records. Throws before anything is written. */
export function encodePartition(topic: TopicRecord, partition: number, records: readonly ProduceRecord[], compression: CompressionCodec, appendTime: number): EncodedPartition {
  const ref = requirePartition(topic, partition);
  if (!COMPRESSION_CODECS.includes(compression)) {
    throw new DynalogError("UNSUPPORTED_COMPRESSION_TYPE", `Compression must be one of ${COMPRESSION_CODECS.join(", ")}`);
  }
  const batchRecords = records.map((r, i) => toBatchRecord(r, topic, appendTime, partition, i));
  return { ref, recordCount: records.length, chunks: encodeChunks(batchRecords, compression, partition, topic.maxMessageBytes) };
}

/**
 * Records without an explicit partition go by key (murmur2, as Kafka's Java client); null-key
 * records of one request all go to one partition (sticky per request, KIP-480). Order is kept.
 */
export function groupByPartition<R extends ProduceRecord>(topic: TopicRecord, records: readonly R[], nullKeyPartitioner: RoundRobinPartitioner): { partition: number; records: R[] }[] {
  let stickyPartition: number | undefined;
  const byPartition = new Map<number, R[]>();
  for (const record of records) {
    let partition = record.partition;
    if (partition === undefined) {
      partition = record.key !== null ? partitionForKey(record.key, topic.partitions) : (stickyPartition ??= nullKeyPartitioner.next(topic.partitions));
    }
    const list = byPartition.get(partition) ?? [];
    list.push(record);
    byPartition.set(partition, list);
  }
  return [...byPartition.entries()].sort(([a], [b]) => a - b).map(([partition, list]) => ({ partition, records: list }));
}

/** Stored record bytes of the chunks (their blobs): what a reservation adds to the partition's bytes written. */
export function chunkBytes(chunks: readonly UnplacedBatch[]): number {
  return chunks.reduce((sum, chunk) => sum + chunk.blob.length, 0);
}

/** Give each chunk its offsets, consecutively from `baseOffset`. */
export function placeChunks(chunks: readonly UnplacedBatch[], baseOffset: number): EncodedBatch[] {
  let offset = baseOffset;
  return chunks.map((chunk) => {
    const placed = { ...chunk, baseOffset: offset };
    offset += chunk.count;
    return placed;
  });
}

const MAX_TIMESTAMP = 8_640_000_000_000_000; // the largest date JavaScript can represent

function toBatchRecord(record: ProduceRecord, topic: TopicRecord, appendTime: number, partition: number, index: number): BatchRecord {
  // As Kafka: compaction keeps the latest record per key, so a record without one has no place.
  if (record.key === null && isCompacted(topic)) {
    throw new DynalogError("INVALID_RECORD", `Record ${index} for partition ${partition} has no key; topic '${topic.name}' is compacted (cleanupPolicy ${topic.cleanupPolicy}) and takes keyed records only`, {
      details: { partition, record: index, cleanupPolicy: topic.cleanupPolicy },
    });
  }
  let timestamp = appendTime;
  if (record.timestamp !== undefined && topic.timestampType === "CreateTime") {
    if (!Number.isInteger(record.timestamp) || record.timestamp < 0 || record.timestamp > MAX_TIMESTAMP) {
      throw new DynalogError("INVALID_RECORD", `Record ${index} for partition ${partition}: timestamp must be integer milliseconds since 1970 (0 to ${MAX_TIMESTAMP})`, {
        details: { partition, record: index },
      });
    }
    timestamp = record.timestamp;
  }
  if (record.headers.length > MAX_HEADERS_PER_RECORD) {
    throw new DynalogError("INVALID_RECORD", `Record ${index} for partition ${partition} has ${record.headers.length} headers; the limit is ${MAX_HEADERS_PER_RECORD}`, {
      details: { partition, record: index, limit: MAX_HEADERS_PER_RECORD },
    });
  }
  for (const header of record.headers) {
    if (Buffer.byteLength(header.key, "utf8") > MAX_HEADER_KEY_BYTES) {
      throw new DynalogError("INVALID_RECORD", `Record ${index} for partition ${partition} has a header key over ${MAX_HEADER_KEY_BYTES} bytes`, {
        details: { partition, record: index, limit: MAX_HEADER_KEY_BYTES },
      });
    }
  }
  return { timestamp, key: record.key, value: record.value, headers: [...record.headers] };
}

/** Split records into chunks that each fit one batch item, then encode and compress each. */
/** `maxRecordBytes`: the topic's max.message.bytes (never above MAX_RECORD_BYTES, which a batch item can hold). */
function encodeChunks(records: readonly BatchRecord[], compression: CompressionCodec, partition: number, maxRecordBytes: number): UnplacedBatch[] {
  const limit = Math.min(maxRecordBytes, MAX_RECORD_BYTES);
  const chunks: BatchRecord[][] = [];
  let current: BatchRecord[] = [];
  let currentBytes = 0;
  let totalBytes = 0;
  records.forEach((record, index) => {
    const size = encodedRecordSize(record, record.timestamp);
    if (size > limit) {
      const which = limit < MAX_RECORD_BYTES ? "the topic's maxMessageBytes" : "the limit";
      throw new DynalogError("RECORD_TOO_LARGE", `Record ${index} for partition ${partition} is ${size} bytes encoded; ${which} is ${limit}`, {
        details: { partition, record: index, size, limit },
      });
    }
    totalBytes += size;
    // Sizes are measured against the chunk's own base timestamp once it is chosen.
    const base = current[0]?.timestamp ?? record.timestamp;
    const sizeInChunk = encodedRecordSize(record, base);
    if (current.length > 0 && batchHeaderSize(current.length + 1, base) + currentBytes + sizeInChunk > BATCH_ITEM_BUDGET_BYTES) {
      chunks.push(current);
      current = [record];
      currentBytes = size;
    } else {
      current.push(record);
      currentBytes += sizeInChunk;
    }
  });
  if (current.length > 0) chunks.push(current);
  if (totalBytes > MAX_PARTITION_REQUEST_BYTES) {
    throw new DynalogError("REQUEST_TOO_LARGE", `Records for partition ${partition} total ${totalBytes} bytes; one request may carry at most ${MAX_PARTITION_REQUEST_BYTES} per partition`, {
      details: { partition, size: totalBytes, limit: MAX_PARTITION_REQUEST_BYTES },
    });
  }
  return chunks.map((chunk) => {
    const raw = encodeRecordBatch(chunk);
    let codec = compression;
    let blob = raw;
    if (codec !== "none") {
      const compressed = compressBlob(codec, raw);
      // Tiny or incompressible batches are stored raw: the codec is recorded per batch.
      if (compressed.length < raw.length) blob = compressed;
      else codec = "none";
    }
    return { count: chunk.length, codec, blob, maxTimestamp: Math.max(...chunk.map((r) => r.timestamp)) };
  });
}
