/**
 * Fetch across partitions, with a total byte budget and an optional long poll: when nothing is
 * available the request waits (polling the partition heads) until data arrives or maxWaitMs passes.
 */
import { DynalogError } from "../errors.js";
import { FETCH_DEFAULT_MAX_BYTES, FETCH_DEFAULT_MAX_RECORDS, FETCH_MAX_BYTES, FETCH_MAX_RECORDS, FETCH_MAX_WAIT_MS, MAX_FETCH_PARTITIONS, MAX_OFFSET } from "../limits.js";
import type { BrokerContext } from "./context.js";
import { recordBytes, type FetchedRecord, type LogReader } from "./log-reader.js";
import type { PartitionRef } from "./ports.js";
import { mapWithConcurrency, requirePartition, type TopicCatalog } from "./topics.js";

export interface PartitionFetchRequest {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  /** Per-partition cap; defaults to the request's. */
  readonly maxRecords?: number;
  readonly maxBytes?: number;
}

export interface FetchInput {
  readonly partitions: readonly PartitionFetchRequest[];
  readonly maxRecords?: number;
  /** Total record bytes (keys + values + headers) across partitions. */
  readonly maxBytes?: number;
  readonly maxWaitMs?: number;
  /**
   * Bytes a record counts against maxBytes. The HTTP layer passes what the record costs on the wire
   * (its JSON, escaped again inside the Lambda result); default: key + value + headers.
   */
  readonly measureRecord?: (record: FetchedRecord) => number;
}

export type PartitionFetchResult =
  | {
      readonly topic: string;
      readonly partition: number;
      readonly records: readonly FetchedRecord[];
      readonly nextOffset: number;
      readonly highWatermark: number;
      readonly logStartOffset: number;
    }
  | { readonly topic: string; readonly partition: number; readonly error: DynalogError };

const READ_CONCURRENCY = 8;

export class Fetcher {
  constructor(
    private readonly ctx: BrokerContext,
    private readonly topics: TopicCatalog,
    private readonly reader: LogReader,
  ) {}

  async fetch(input: FetchInput): Promise<PartitionFetchResult[]> {
    const limits = validateFetch(input);
    const deadline = this.ctx.clock() + limits.maxWaitMs;
    let results = await this.readAll(input.partitions, limits);
    // Like Kafka, answer at once when any partition has records or an error (waiting cannot fix an error).
    while (limits.maxWaitMs > 0 && !results.some((r) => hasRecords(r) || "error" in r) && this.ctx.clock() < deadline) {
      await this.ctx.sleep(Math.min(this.ctx.config.longPollIntervalMs, Math.max(0, deadline - this.ctx.clock())));
      const waiting = await this.partitionsWithNewData(input.partitions, results);
      if (waiting.length === 0) continue;
      results = await this.readAll(input.partitions, limits);
    }
    for (const r of results) if (!("error" in r)) this.ctx.observer?.partitionFetched?.({ topic: r.topic, partition: r.partition, records: r.records.length, lag: Math.max(0, r.highWatermark - r.nextOffset) });
    return results;
  }

  private async readAll(partitions: readonly PartitionFetchRequest[], limits: ValidatedLimits): Promise<PartitionFetchResult[]> {
    let bytesLeft = limits.maxBytes;
    const reads = await mapWithConcurrency(partitions, READ_CONCURRENCY, async (request): Promise<PartitionFetchResult> => {
      try {
        return await this.topics.withTopic(request.topic, async (topic) => {
          const ref = requirePartition(topic, request.partition);
          const read = await this.reader.read(topic, ref, request.offset, {
            maxRecords: Math.min(request.maxRecords ?? limits.maxRecords, limits.maxRecords),
            maxBytes: Math.min(request.maxBytes ?? limits.maxBytes, limits.maxBytes),
          });
          return { topic: topic.name, partition: ref.partition, records: read.records, nextOffset: read.nextOffset, highWatermark: read.highWatermark, logStartOffset: read.logStartOffset };
        });
      } catch (error) {
        if (error instanceof DynalogError) return { topic: request.topic, partition: request.partition, error };
        throw error;
      }
    });
    // Enforce the budgets in request order, counted with measureRecord (what is actually sent; the
    // reader's own cut counts raw bytes, never more than that, so it returns at least as much).
    const measure = limits.measureRecord;
    return reads.map((result, index) => {
      if (!hasRecords(result)) return result;
      const request = partitions[index]!;
      const partitionLimit = Math.min(request.maxBytes ?? limits.maxBytes, limits.maxBytes);
      const kept: FetchedRecord[] = [];
      let partitionBytes = 0;
      for (const record of result.records) {
        const size = measure(record);
        // A partition's first record may exceed its own budget when nothing was spent yet (so
        // consumers progress past a large record), never the total once something was.
        const fits = size <= bytesLeft && (kept.length === 0 || partitionBytes + size <= partitionLimit);
        if (!fits && !(kept.length === 0 && bytesLeft === limits.maxBytes)) break;
        kept.push(record);
        bytesLeft -= size;
        partitionBytes += size;
      }
      if (kept.length === result.records.length) return result;
      const nextOffset = kept.length > 0 ? kept[kept.length - 1]!.offset + 1 : result.records[0]!.offset;
      return { ...result, records: kept, nextOffset };
    });
  }

  /** Partitions whose counter moved past the position we read up to. */
  private async partitionsWithNewData(partitions: readonly PartitionFetchRequest[], results: readonly PartitionFetchResult[]): Promise<number[]> {
    const refs: { index: number; ref: PartitionRef; position: number }[] = [];
    for (const [index, result] of results.entries()) {
      if ("error" in result) continue;
      const topic = await this.topics.require(result.topic);
      refs.push({ index, ref: { topicId: topic.topicId, partition: result.partition }, position: Math.max(result.nextOffset, partitions[index]!.offset) });
    }
    const heads = await this.ctx.storage.log.readHeads(refs.map((r) => r.ref));
    return refs.filter((r, i) => heads[i]!.nextOffset > r.position).map((r) => r.index);
  }
}

interface ValidatedLimits {
  readonly maxRecords: number;
  readonly maxBytes: number;
  readonly maxWaitMs: number;
  readonly measureRecord: (record: FetchedRecord) => number;
}

function validateFetch(input: FetchInput): ValidatedLimits {
  if (input.partitions.length === 0 || input.partitions.length > MAX_FETCH_PARTITIONS) {
    throw new DynalogError("INVALID_REQUEST", `A fetch names 1 to ${MAX_FETCH_PARTITIONS} partitions, got ${input.partitions.length}`, {
      details: { limit: MAX_FETCH_PARTITIONS, actual: input.partitions.length },
    });
  }
  for (const p of input.partitions) {
    // Negative or huge integer offsets are not refused here: the reader answers them per partition
    // with OFFSET_OUT_OF_RANGE and the valid range, like any other offset outside the log.
    if (!Number.isSafeInteger(p.offset)) {
      throw new DynalogError("INVALID_REQUEST", `Offset ${p.offset} for ${p.topic}-${p.partition} is not an integer up to ${MAX_OFFSET}`, {
        details: { topic: p.topic, partition: p.partition },
      });
    }
    checkRange("maxRecords", p.maxRecords, 1, FETCH_MAX_RECORDS);
    checkRange("maxBytes", p.maxBytes, 1, FETCH_MAX_BYTES);
  }
  checkRange("maxRecords", input.maxRecords, 1, FETCH_MAX_RECORDS);
  checkRange("maxBytes", input.maxBytes, 1, FETCH_MAX_BYTES);
  checkRange("maxWaitMs", input.maxWaitMs, 0, FETCH_MAX_WAIT_MS);
  return {
    maxRecords: input.maxRecords ?? FETCH_DEFAULT_MAX_RECORDS,
    maxBytes: input.maxBytes ?? FETCH_DEFAULT_MAX_BYTES,
    maxWaitMs: input.maxWaitMs ?? 0,
    measureRecord: input.measureRecord ?? recordBytes,
  };
}

function checkRange(name: string, value: number | undefined, min: number, max: number): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new DynalogError("INVALID_REQUEST", `${name} must be an integer from ${min} to ${max}, got ${value}`, { details: { field: name, min, max } });
  }
}

function hasRecords(result: PartitionFetchResult): result is Extract<PartitionFetchResult, { records: readonly FetchedRecord[] }> {
  return "records" in result && result.records.length > 0;
}
