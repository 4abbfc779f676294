/**
 * Produce: validate everything, then per partition reserve an offset range from the sequencer and
 * write the batch items once (DESIGN.md §1). Nothing reaches DynamoDB before the whole request has
 * been validated, so a refusal writes nothing.
 */
import { DynalogError } from "../errors.js";
import { IDEMPOTENCY_KEY_WINDOW_MS, MAX_IDEMPOTENCY_KEY_LENGTH, MAX_OFFSET, MAX_PRODUCER_EPOCH, MAX_RECORDS_PER_REQUEST, MAX_SEQUENCE } from "../limits.js";
import { partitionForKey, RoundRobinPartitioner } from "../partitioner.js";
import type { CompressionCodec } from "../compression.js";
import { chunkBytes, encodePartition, groupByPartition, placeChunks, type ProduceRecord, type UnplacedBatch } from "./batches.js";
import type { BrokerContext } from "./context.js";
import type { PartitionRef, ProducerAppend, TopicRecord } from "./ports.js";
import { backoffMs, writeReserved } from "./append-write.js";
import { IdempotentAppender } from "./idempotent-append.js";
import { appendKeyed } from "./keyed-append.js";
import { ANONYMOUS_PRINCIPAL, type ProducerIds } from "./producer-ids.js";
import { itemExpiry, StaleTopicError, unknownTopic, type TopicCatalog } from "./topics.js";

export type { ProduceRecord } from "./batches.js";

export interface ProducePartitionInput {
  readonly partition: number;
  /** Idempotent producers only: sequence number of the first record. */
  readonly baseSequence?: number;
  readonly records: readonly ProduceRecord[];
}

export interface ProduceInput {
  readonly topic: string;
  /** Records the broker partitions. Exactly one of `records` and `partitions`. */
  readonly records?: readonly ProduceRecord[];
  /** Records the client already partitioned (required for idempotent producers). */
  readonly partitions?: readonly ProducePartitionInput[];
  readonly producer?: { readonly producerId: number; readonly epoch: number };
  /** The authenticated caller: an idempotent producer's id must have been issued to it (default: security off). */
  readonly principal?: string;
  readonly compression?: CompressionCodec;
  /**
   * Names this write, for callers that retry blindly (the Upstash dialect's reserved header): a
   * produce with the same key, by the same principal, to the same partition within
   * IDEMPOTENCY_KEY_WINDOW_MS answers the first write's offsets (`duplicate: true`) and writes
   * nothing. Kept as idempotent-producer state keyed by the key, in the append's own transaction (keyed-append.ts).
   * Records without key or partition are placed by the idempotency key, so a retry lands where
   * the first write did. Not with `producer`.
   */
  readonly idempotencyKey?: string;
}

export type PartitionProduceResult =
  | {
      readonly partition: number;
      readonly baseOffset: number;
      readonly lastOffset: number;
      readonly recordCount: number;
      readonly duplicate: boolean;
      /** Writes named by an idempotency key only: the append time its records carry unless they have their own (the first write's, for a duplicate). */
      readonly appendTime?: number;
    }
  | { readonly partition: number; readonly error: DynalogError };

export interface ProduceResult {
  readonly topic: string;
  readonly partitions: readonly PartitionProduceResult[];
}

/** One partition's share of a request, validated and encoded, ready to append. */
interface PreparedAppend {
  readonly ref: PartitionRef;
  readonly recordCount: number;
  /** Encoded chunks without offsets yet (offsets come from the reservation). */
  readonly chunks: readonly UnplacedBatch[];
  readonly producer?: Omit<ProducerAppend, "lastSequence"> & { readonly lastSequence: number };
}

const MAX_APPEND_ATTEMPTS = 6;

export class Producer {
  private readonly nullKeyPartitioner: RoundRobinPartitioner;
  private readonly idempotent: IdempotentAppender;

  constructor(
    private readonly ctx: BrokerContext,
    private readonly topics: TopicCatalog,
    private readonly producerIds: ProducerIds,
  ) {
    this.nullKeyPartitioner = new RoundRobinPartitioner(ctx.random);
    this.idempotent = new IdempotentAppender(ctx);
  }

  async produce(input: ProduceInput): Promise<ProduceResult> {
    return this.topics.withTopic(input.topic, (topic) => this.produceTo(topic, input));
  }

  private async produceTo(topic: TopicRecord, input: ProduceInput): Promise<ProduceResult> {
    const appendTime = this.ctx.clock();
    const prepared = this.prepare(topic, input, appendTime);
    // A producer id the broker did not issue to this caller is refused before any reservation.
    if (input.producer) await this.producerIds.verify(input.producer, input.principal ?? ANONYMOUS_PRINCIPAL);
    const stale: number[] = [];
    const results: PartitionProduceResult[] = await Promise.all(
      prepared.map(async (p): Promise<PartitionProduceResult> => {
        try {
          const result = await this.append(topic, p, appendTime);
          if (result === "stale") stale.push(p.ref.partition);
          return result === "stale" ? { partition: p.ref.partition, error: unknownTopic(topic.name) } : result;
        } catch (error) {
          if (error instanceof DynalogError) return { partition: p.ref.partition, error };
          throw error;
        }
      }),
    );
    // Every partition gone (the whole request hit a deleted topic): retry on the current one.
    if (stale.length === prepared.length) throw new StaleTopicError(topic.topicId);
    for (const r of results) if ("recordCount" in r && !r.duplicate) this.ctx.observer?.recordsAppended?.({ topic: topic.name, partition: r.partition, count: r.recordCount });
    return { topic: topic.name, partitions: results };
  }

  /** All validation and encoding; throws before any write. */
  private prepare(topic: TopicRecord, input: ProduceInput, appendTime: number): PreparedAppend[] {
    const groups = this.partitionGroups(topic, input);
    const total = groups.reduce((sum, g) => sum + g.records.length, 0);
    if (total === 0) throw new DynalogError("INVALID_REQUEST", "A produce request needs at least one record");
    if (total > MAX_RECORDS_PER_REQUEST) {
      throw new DynalogError("REQUEST_TOO_LARGE", `A produce request may carry at most ${MAX_RECORDS_PER_REQUEST} records, got ${total}`, {
        details: { limit: MAX_RECORDS_PER_REQUEST, actual: total },
      });
    }
    const compression = input.compression ?? topic.compression;
    const producer = input.producer;
    if (producer) validateProducerIdentity(producer.producerId, producer.epoch);
    if (producer && input.idempotencyKey !== undefined) throw new DynalogError("INVALID_REQUEST", "An idempotency key names a write without a producer id; an idempotent producer has its own sequences");
    const keyed = input.idempotencyKey === undefined ? undefined : idempotencyState(input.idempotencyKey, input.principal, appendTime);
    return groups.map((group) => {
      const { ref, recordCount, chunks } = encodePartition(topic, group.partition, group.records, compression, appendTime);
      if (keyed) {
        if (group.baseSequence !== undefined) throw new DynalogError("INVALID_REQUEST", "baseSequence is for idempotent producers, not with an idempotency key", { details: { partition: group.partition } });
        // A one-batch producer: epoch 0, sequences from 0, identified by the key instead of an id.
        return { ref, recordCount, chunks, producer: { producerId: 0, epoch: 0, baseSequence: 0, lastSequence: recordCount - 1, idempotencyKey: keyed } };
      }
      if (!producer) {
        if (group.baseSequence !== undefined) {
          throw new DynalogError("INVALID_PRODUCER_EPOCH", "baseSequence is only meaningful with producerId and producerEpoch", { details: { partition: group.partition } });
        }
        return { ref, recordCount, chunks };
      }
      const baseSequence = group.baseSequence;
      if (baseSequence === undefined || !Number.isInteger(baseSequence) || baseSequence < 0 || baseSequence > MAX_SEQUENCE) {
        throw new DynalogError("INVALID_PRODUCER_EPOCH", `An idempotent produce needs baseSequence from 0 to ${MAX_SEQUENCE} for every partition`, {
          details: { partition: group.partition, baseSequence: baseSequence ?? null },
        });
      }
      const lastSequence = baseSequence + recordCount - 1;
      if (lastSequence > MAX_SEQUENCE) {
        throw new DynalogError("INVALID_PRODUCER_EPOCH", `Sequences would pass ${MAX_SEQUENCE}; initialize a new producer id`, {
          details: { partition: group.partition, baseSequence, recordCount },
        });
      }
      return { ref, recordCount, chunks, producer: { ...producer, baseSequence, lastSequence } };
    });
  }

  private partitionGroups(topic: TopicRecord, input: ProduceInput): { partition: number; baseSequence?: number; records: readonly ProduceRecord[] }[] {
    if ((input.records === undefined) === (input.partitions === undefined)) {
      throw new DynalogError("INVALID_REQUEST", "Give exactly one of 'records' (the broker partitions them) and 'partitions' (already partitioned)");
    }
    if (input.partitions) {
      const seen = new Set<number>();
      for (const p of input.partitions) {
        if (seen.has(p.partition)) throw new DynalogError("INVALID_REQUEST", `Partition ${p.partition} appears twice in one request`, { details: { partition: p.partition } });
        seen.add(p.partition);
        if (p.records.length === 0) throw new DynalogError("INVALID_REQUEST", `Partition ${p.partition} has no records`, { details: { partition: p.partition } });
      }
      return input.partitions.map((p) => ({ partition: p.partition, baseSequence: p.baseSequence, records: p.records }));
    }
    if (input.producer) {
      throw new DynalogError("INVALID_REQUEST", "An idempotent producer sends 'partitions' with a baseSequence each (sequences are per partition)");
    }
    const key = input.idempotencyKey;
    // Round-robin would send a retry elsewhere, where the key's state is not: place by the key.
    const records = key === undefined ? input.records! : input.records!.map((r) => (r.partition !== undefined || r.key !== null ? r : { ...r, partition: partitionForKey(utf8.encode(key), topic.partitions) }));
    return groupByPartition(topic, records, this.nullKeyPartitioner);
  }

  private async append(topic: TopicRecord, prepared: PreparedAppend, appendTime: number): Promise<PartitionProduceResult | "stale"> {
    const { ref, recordCount, chunks, producer } = prepared;
    const expiresAtSeconds = itemExpiry(topic, appendTime);
    const requestId = requestNonce(this.ctx.random);
    const answer = (baseOffset: number, duplicate: boolean) => ({ partition: ref.partition, baseOffset, lastOffset: baseOffset + recordCount - 1, recordCount, duplicate });
    if (producer?.idempotencyKey) {
      const result = await appendKeyed(this.ctx, { label: `${topic.name}-${ref.partition}`, ref, recordCount, chunks, producer: { ...producer, idempotencyKey: producer.idempotencyKey }, expiresAtSeconds, requestId });
      if (result === "stale") return result;
      return { ...answer(result.baseOffset, result.duplicate), ...(result.appendTime !== undefined && { appendTime: result.appendTime }) };
    }
    if (producer) {
      const result = await this.idempotent.append({ topic: topic.name, ref, recordCount, chunks, producer, expiresAtSeconds, requestId });
      return result === "stale" ? result : answer(result.baseOffset, result.duplicate);
    }
    const { log } = this.ctx.storage;
    const bytes = chunkBytes(chunks);
    let lastError: DynalogError | undefined;
    for (let attempt = 0; attempt < MAX_APPEND_ATTEMPTS; attempt++) {
      if (attempt > 0) await this.ctx.sleep(backoffMs(attempt, this.ctx.random));
      const reservedAt = this.ctx.clock();
      const baseOffset = await log.reserve(ref, recordCount, reservedAt, bytes);
      if (baseOffset === undefined) return "stale";
      const reservation = { ref, baseOffset, count: recordCount, reservedAt, expiresAtSeconds, bytes };
      const outcome = await writeReserved(this.ctx, { reservation, batches: placeChunks(chunks, baseOffset), requestId, attempt, mayRelease: true });
      if (outcome.kind === "appended") return answer(baseOffset, false);
      // slot-taken (a reader voided our slow reservation), persistent conflicts or a lost write:
      // nothing of ours is there; take a new reservation.
      lastError = outcome.error ?? lastError;
    }
    throw lastError ?? new DynalogError("STORAGE_ERROR", `Could not append to ${topic.name}-${ref.partition} after ${MAX_APPEND_ATTEMPTS} attempts; nothing was written`);
  }
}

export function validateProducerIdentity(producerId: number, epoch: number): void {
  if (!Number.isInteger(producerId) || producerId < 1 || producerId > MAX_OFFSET) {
    throw new DynalogError("INVALID_PRODUCER_EPOCH", `producerId must be an integer from 1 to ${MAX_OFFSET}`, { details: { producerId } });
  }
  if (!Number.isInteger(epoch) || epoch < 0 || epoch > MAX_PRODUCER_EPOCH) {
    throw new DynalogError("INVALID_PRODUCER_EPOCH", `producerEpoch must be an integer from 0 to ${MAX_PRODUCER_EPOCH}`, { details: { producerEpoch: epoch } });
  }
}

const utf8 = new TextEncoder();

/** Validates a caller's idempotency key and scopes it to the principal (another's key never matches). */
function idempotencyState(key: string, principal: string | undefined, appendTime: number): NonNullable<ProducerAppend["idempotencyKey"]> {
  if (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    throw new DynalogError("INVALID_REQUEST", `An idempotency key is 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters, got ${key.length}`, { details: { length: key.length, limit: MAX_IDEMPOTENCY_KEY_LENGTH } });
  }
  return { scopedKey: `${principal ?? ANONYMOUS_PRINCIPAL}\u0000${key}`, expiresAtSeconds: Math.ceil((appendTime + IDEMPOTENCY_KEY_WINDOW_MS) / 1000), appendTime };
}

/** An id unique to one request (a DynamoDB idempotency token must never be reused for other parameters). */
export function requestNonce(random: () => number): string {
  return Array.from({ length: 4 }, () => Math.floor(random() * 2 ** 32).toString(36)).join("");
}
