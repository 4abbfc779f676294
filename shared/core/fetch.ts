/**
 * Fetch across partitions, with a total byte budget and an optional long poll: when nothing is
 * available the request waits (polling the partition heads) until data arrives or maxWaitMs passes.
 */
import { DynalogError } from "../errors.js";
import { FETCH_DEFAULT_MAX_BYTES, FETCH_DEFAULT_MAX_RECORDS, FETCH_MAX_BYTES, FETCH_MAX_RECORDS, FETCH_MAX_WAIT_MS, MAX_FETCH_PARTITIONS, MAX_OFFSET } from "../limits.js";
import type { BrokerContext } from "./context.js";
import type { CompressionCodec } from "../compression.js";
import { recordBytes, type FetchedBatch, type FetchedRecord, type LogReader, type ReadLimits } from "./log-reader.js";
import type { PartitionRef, TopicRecord } from "./ports.js";
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

export interface BatchFetchInput extends Omit<FetchInput, "measureRecord"> {
  /** Codecs the client decodes itself; batches in any other are decompressed by the broker. */
  readonly acceptCodecs: ReadonlySet<CompressionCodec>;
  /** Bytes a batch counts against maxBytes (the HTTP layer: its frame as the Lambda result carries it); default: the blob's length. */
  readonly measureBatch?: (batch: FetchedBatch) => number;
}

/** One partition's answer: its data and position, or why it could not be read. */
type PartitionRead<Payload> =
  | ({ readonly topic: string; readonly partition: number; readonly nextOffset: number; readonly highWatermark: number; readonly logStartOffset: number } & Payload)
  | PartitionError;

export type PartitionBatchFetchResult = PartitionRead<{
  /** Whole stored batches: the client keeps their records in [the requested offset, nextOffset). */
  readonly batches: readonly FetchedBatch[];
}>;

export type PartitionFetchResult = PartitionRead<{ readonly records: readonly FetchedRecord[] }>;

const READ_CONCURRENCY = 8;

export class Fetcher {
  constructor(
    private readonly ctx: BrokerContext,
    private readonly topics: TopicCatalog,
    private readonly reader: LogReader,
  ) {}

  /** Decoded records (the JSON fetch). */
  async fetch(input: FetchInput): Promise<PartitionFetchResult[]> {
    const limits = validateFetch(input);
    const measure = input.measureRecord ?? recordBytes;
    return this.poll(input.partitions, limits, {
      read: async (topic, ref, _request, readLimits) => {
        const read = await this.reader.read(topic, ref, _request.offset, readLimits);
        return { records: read.records, nextOffset: read.nextOffset, highWatermark: read.highWatermark, logStartOffset: read.logStartOffset };
      },
      count: (result) => result.records.length,
      cut: (result, request, budget) => {
        const kept = budget.take(result.records, measure);
        if (kept.length === result.records.length) return result;
        const nextOffset = kept.length > 0 ? kept[kept.length - 1]!.offset + 1 : Math.max(request.offset, result.records[0]!.offset);
        return { ...result, records: kept, nextOffset };
      },
    });
  }

  /**
   * The stored batches, whole and undecoded (the binary fetch, docs/api.md). The same limits as
   * `fetch`, at batch granularity for bytes: a batch is sent whole or not at all (the first one
   * always, as the first record always is); maxRecords counts the records the client keeps.
   */
  async fetchBatches(input: BatchFetchInput): Promise<PartitionBatchFetchResult[]> {
    const limits = validateFetch(input);
    const measure = input.measureBatch ?? ((batch: FetchedBatch) => batch.blob.length);
    return this.poll(input.partitions, limits, {
      read: async (topic, ref, request, readLimits) => {
        const read = await this.reader.readBatches(topic, ref, request.offset, readLimits, input.acceptCodecs);
        return { batches: read.batches, nextOffset: read.nextOffset, highWatermark: read.highWatermark, logStartOffset: read.logStartOffset };
      },
      count: (result) => result.batches.reduce((sum, b) => sum + b.records, 0),
      cut: (result, _request, budget) => {
        const kept = budget.take(result.batches, measure);
        if (kept.length === result.batches.length) return result;
        return { ...result, batches: kept, nextOffset: result.batches[kept.length]!.firstOffset };
      },
    });
  }

  /**
   * Reads every partition; with maxWaitMs, waits (polling the partition heads) until one has
   * records or an error. Like Kafka, answers at once when any partition has records or an error
   * (waiting cannot fix an error).
   */
  private async poll<Data extends PartitionData>(partitions: readonly PartitionFetchRequest[], limits: ValidatedLimits, mode: FetchMode<Data>): Promise<(Data | PartitionError)[]> {
    const deadline = this.ctx.clock() + limits.maxWaitMs;
    const has = (r: Data | PartitionError): boolean => "error" in r || mode.count(r) > 0;
    let results = await this.readAll(partitions, limits, mode);
    while (limits.maxWaitMs > 0 && !results.some(has) && this.ctx.clock() < deadline) {
      await this.ctx.sleep(Math.min(this.ctx.config.longPollIntervalMs, Math.max(0, deadline - this.ctx.clock())));
      const waiting = await this.partitionsWithNewData(partitions, results);
      if (waiting.length === 0) continue;
      results = await this.readAll(partitions, limits, mode);
    }
    for (const r of results) if (!("error" in r)) this.ctx.observer?.partitionFetched?.({ topic: r.topic, partition: r.partition, records: mode.count(r), lag: Math.max(0, r.highWatermark - r.nextOffset) });
    return results;
  }

  private async readAll<Data extends PartitionData>(partitions: readonly PartitionFetchRequest[], limits: ValidatedLimits, mode: FetchMode<Data>): Promise<(Data | PartitionError)[]> {
    const reads = await mapWithConcurrency(partitions, READ_CONCURRENCY, async (request): Promise<Data | PartitionError> => {
      try {
        return await this.topics.withTopic(request.topic, async (topic) => {
          const ref = requirePartition(topic, request.partition);
          const data = await mode.read(topic, ref, request, {
            maxRecords: Math.min(request.maxRecords ?? limits.maxRecords, limits.maxRecords),
            maxBytes: Math.min(request.maxBytes ?? limits.maxBytes, limits.maxBytes),
          });
          return { ...data, topic: topic.name, partition: ref.partition } as Data;
        });
      } catch (error) {
        if (error instanceof DynalogError) return { topic: request.topic, partition: request.partition, error };
        throw error;
      }
    });
    // Enforce the budgets in request order, counted with the HTTP layer's measure (what is actually
    // sent; the reader's own cut counts raw bytes, never more than that, so it returns at least as much).
    const budget = new ByteBudget(limits.maxBytes);
    return reads.map((result, index) => {
      if ("error" in result || mode.count(result) === 0) return result;
      const request = partitions[index]!;
      return mode.cut(result, request, budget.forPartition(Math.min(request.maxBytes ?? limits.maxBytes, limits.maxBytes)));
    });
  }

  /** Partitions whose counter moved past the position we read up to. */
  private async partitionsWithNewData(partitions: readonly PartitionFetchRequest[], results: readonly (PartitionData | PartitionError)[]): Promise<number[]> {
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

interface PartitionData {
  readonly topic: string;
  readonly partition: number;
  readonly nextOffset: number;
  readonly highWatermark: number;
}

export type PartitionError = { readonly topic: string; readonly partition: number; readonly error: DynalogError };

/** What differs between the record and the batch fetch. */
interface FetchMode<Data extends PartitionData> {
  read(topic: TopicRecord, ref: PartitionRef, request: PartitionFetchRequest, limits: ReadLimits): Promise<Omit<Data, "topic" | "partition">>;
  /** Records the result returns. */
  count(result: Data): number;
  /** The result cut to the byte budget (records or whole batches, in order). */
  cut(result: Data, request: PartitionFetchRequest, budget: PartitionBudget): Data;
}

interface PartitionBudget {
  /** The longest prefix of `items` the budgets allow. */
  take<T>(items: readonly T[], measure: (item: T) => number): T[];
}

/** The request's total byte budget, spent partition by partition in request order. */
class ByteBudget {
  private left: number;

  constructor(private readonly total: number) {
    this.left = total;
  }

  forPartition(partitionLimit: number): PartitionBudget {
    return {
      take: <T>(items: readonly T[], measure: (item: T) => number): T[] => {
        const kept: T[] = [];
        let partitionBytes = 0;
        for (const item of items) {
          const size = measure(item);
          // A partition's first item may exceed its own budget when nothing was spent yet (so
          // consumers progress past a large record), never the total once something was.
          const fits = size <= this.left && (kept.length === 0 || partitionBytes + size <= partitionLimit);
          if (!fits && !(kept.length === 0 && this.left === this.total)) break;
          kept.push(item);
          this.left -= size;
          partitionBytes += size;
        }
        return kept;
      },
    };
  }
}

interface ValidatedLimits {
  readonly maxRecords: number;
  readonly maxBytes: number;
  readonly maxWaitMs: number;
}

function validateFetch(input: Omit<FetchInput, "measureRecord">): ValidatedLimits {
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
  };
}

function checkRange(name: string, value: number | undefined, min: number, max: number): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new DynalogError("INVALID_REQUEST", `${name} must be an integer from ${min} to ${max}, got ${value}`, { details: { field: name, min, max } });
  }
}
