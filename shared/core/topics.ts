/** Topic administration and the per-instance topic metadata cache. */
import { randomUUID } from "node:crypto";
import { DynalogError } from "../errors.js";
import { DEFAULT_DELETE_RETENTION_MS, MAX_COMPACTION_LAG_MS, MAX_DELETE_RETENTION_MS, MAX_PARTITIONS, MAX_RECORD_BYTES, MAX_RETENTION_MS, MIN_RETENTION_MS, TOPIC_NAME_PATTERN, TTL_GRACE_MS } from "../limits.js";
import { COMPRESSION_CODECS, type CompressionCodec } from "../compression.js";
import type { BrokerContext } from "./context.js";
import type { CleanupPolicy, PartitionRef, TimestampType, TopicRecord } from "./ports.js";

/** A topic's settable configs, as create and alterConfigs take them (omitted = default / unchanged). */
export interface TopicConfigs {
  /** Omitted = 7 days; null = forever. */
  readonly retentionMs?: number | null;
  readonly compression?: CompressionCodec;
  readonly timestampType?: TimestampType;
  /** Omitted = "delete". */
  readonly cleanupPolicy?: CleanupPolicy;
  /** Omitted = one day (Kafka's default). */
  readonly deleteRetentionMs?: number;
  /** Omitted = 0. */
  readonly minCompactionLagMs?: number;
  /** Omitted = MAX_RECORD_BYTES (the most any topic accepts). */
  readonly maxMessageBytes?: number;
}

export interface CreateTopicInput extends TopicConfigs {
  readonly name: string;
  readonly partitions: number;
}

const CLEANUP_POLICIES: readonly CleanupPolicy[] = ["delete", "compact", "compact,delete"];

/** A cleanup policy from a client, checked: INVALID_CONFIG for anything else. Kafka's "delete,compact" is "compact,delete". */
export function parseCleanupPolicy(value: string | undefined): CleanupPolicy | undefined {
  if (value === undefined) return undefined;
  const normalized = value === "delete,compact" ? "compact,delete" : value;
  if (!(CLEANUP_POLICIES as readonly string[]).includes(normalized)) {
    throw new DynalogError("INVALID_CONFIG", `cleanupPolicy must be one of ${CLEANUP_POLICIES.join(", ")}`, { details: { cleanupPolicy: value.slice(0, 40) } });
  }
  return normalized as CleanupPolicy;
}

/** Whether the topic is compacted (its records are kept per key; null keys are refused). */
export function isCompacted(topic: Pick<TopicRecord, "cleanupPolicy">): boolean {
  return topic.cleanupPolicy !== "delete";
}

/** The retention that deletes records: none under "compact" alone (Kafka ignores retention.ms then). */
export function effectiveRetentionMs(topic: Pick<TopicRecord, "cleanupPolicy" | "retentionMs">): number | null {
  return topic.cleanupPolicy === "compact" ? null : topic.retentionMs;
}

const TIMESTAMP_TYPES: readonly TimestampType[] = ["CreateTime", "LogAppendTime"];

/** A timestamp type from a client, checked: INVALID_CONFIG for anything else. */
export function parseTimestampType(value: string | undefined): TimestampType | undefined {
  if (value === undefined) return undefined;
  if (!(TIMESTAMP_TYPES as readonly string[]).includes(value)) {
    throw new DynalogError("INVALID_CONFIG", `timestampType must be one of ${TIMESTAMP_TYPES.join(", ")}`, { details: { timestampType: value.slice(0, 40) } });
  }
  return value as TimestampType;
}

export function validateTopicName(name: string): void {
  if (!TOPIC_NAME_PATTERN.test(name) || name === "." || name === "..") {
    throw new DynalogError(
      "INVALID_TOPIC_EXCEPTION",
      `Topic name '${name.slice(0, 260)}' is invalid: use 1-249 characters of a-z, A-Z, 0-9, '.', '_' and '-' (not '.' or '..')`,
      { details: { topic: name.slice(0, 260) } },
    );
  }
}

export function validateCreateTopic(input: CreateTopicInput): void {
  validateTopicName(input.name);
  if (!Number.isInteger(input.partitions) || input.partitions < 1 || input.partitions > MAX_PARTITIONS) {
    throw new DynalogError("INVALID_PARTITIONS", `Partition count must be an integer from 1 to ${MAX_PARTITIONS}, got ${input.partitions}`, {
      details: { partitions: input.partitions, max: MAX_PARTITIONS },
    });
  }
  validateTopicConfig(input);
}

/** The settable topic configs (create and alterConfigs): INVALID_CONFIG / UNSUPPORTED_COMPRESSION_TYPE. */
export function validateTopicConfig(input: TopicConfigs): void {
  const retention = input.retentionMs;
  if (retention !== undefined && retention !== null && (!Number.isInteger(retention) || retention < MIN_RETENTION_MS || retention > MAX_RETENTION_MS)) {
    throw new DynalogError("INVALID_CONFIG", `retentionMs must be an integer from ${MIN_RETENTION_MS} to ${MAX_RETENTION_MS}, or null to keep records forever`, {
      details: { retentionMs: retention, min: MIN_RETENTION_MS, max: MAX_RETENTION_MS },
    });
  }
  if (input.compression !== undefined && !COMPRESSION_CODECS.includes(input.compression)) {
    throw new DynalogError("UNSUPPORTED_COMPRESSION_TYPE", `Compression must be one of ${COMPRESSION_CODECS.join(", ")}`);
  }
  if (input.cleanupPolicy !== undefined && !CLEANUP_POLICIES.includes(input.cleanupPolicy)) {
    throw new DynalogError("INVALID_CONFIG", `cleanupPolicy must be one of ${CLEANUP_POLICIES.join(", ")}`);
  }
  checkDuration("deleteRetentionMs", input.deleteRetentionMs, MAX_DELETE_RETENTION_MS);
  checkDuration("minCompactionLagMs", input.minCompactionLagMs, MAX_COMPACTION_LAG_MS);
  const maxBytes = input.maxMessageBytes;
  if (maxBytes !== undefined && (!Number.isInteger(maxBytes) || maxBytes < MIN_MAX_MESSAGE_BYTES || maxBytes > MAX_RECORD_BYTES)) {
    throw new DynalogError("INVALID_CONFIG", `maxMessageBytes must be an integer from ${MIN_MAX_MESSAGE_BYTES} to ${MAX_RECORD_BYTES} (the largest record a batch item holds)`, {
      details: { maxMessageBytes: maxBytes, min: MIN_MAX_MESSAGE_BYTES, max: MAX_RECORD_BYTES },
    });
  }
}

/** The smallest max.message.bytes: an empty record (no key, no value, no headers) encodes in a few bytes. */
export const MIN_MAX_MESSAGE_BYTES = 16;

function checkDuration(name: string, value: number | undefined, max: number): void {
  if (value !== undefined && (!Number.isInteger(value) || value < 0 || value > max)) {
    throw new DynalogError("INVALID_CONFIG", `${name} must be an integer from 0 to ${max}`, { details: { [name]: value, min: 0, max } });
  }
}

/** Topic metadata as the data path sees it: cached per warm instance for `topicCacheTtlMs`. */
export class TopicCatalog {
  private readonly cache = new Map<string, { topic: TopicRecord | undefined; expiresAt: number }>();

  constructor(private readonly ctx: BrokerContext) {}

  async create(input: CreateTopicInput): Promise<TopicRecord> {
    validateCreateTopic(input);
    const topic: TopicRecord = {
      name: input.name,
      topicId: randomUUID(),
      partitions: input.partitions,
      retentionMs: input.retentionMs === undefined ? this.ctx.config.defaultRetentionMs : input.retentionMs,
      compression: input.compression ?? this.ctx.config.defaultCompression,
      timestampType: input.timestampType ?? "CreateTime",
      createdAt: this.ctx.clock(),
      cleanupPolicy: input.cleanupPolicy ?? "delete",
      deleteRetentionMs: input.deleteRetentionMs ?? DEFAULT_DELETE_RETENTION_MS,
      minCompactionLagMs: input.minCompactionLagMs ?? 0,
      maxMessageBytes: input.maxMessageBytes ?? MAX_RECORD_BYTES,
    };
    // Counters first: once the topic item is visible, every partition can be appended to.
    await this.ctx.storage.log.createPartitions(partitionRefs(topic));
    try {
      await this.ctx.storage.topics.create(topic);
    } catch (error) {
      await mapWithConcurrency(partitionRefs(topic), 8, (ref) => this.ctx.storage.log.purge(ref));
      throw error;
    }
    this.cache.delete(topic.name);
    return topic;
  }

  /** Drop this instance's cached copy (after this instance changed the topic item). */
  forget(name: string): void {
    this.cache.delete(name);
  }

  /** The topic, or UNKNOWN_TOPIC_OR_PARTITION. `fresh` skips the cache. */
  async require(name: string, options: { fresh?: boolean } = {}): Promise<TopicRecord> {
    // Before any lookup: a name DynamoDB cannot use as a key (> 2 KB) would fail as a 5xx.
    validateTopicName(name);
    const now = this.ctx.clock();
    const cached = options.fresh ? undefined : this.cache.get(name);
    let topic: TopicRecord | undefined;
    if (cached && cached.expiresAt > now) {
      topic = cached.topic;
    } else {
      topic = await this.ctx.storage.topics.get(name);
      if (this.ctx.config.topicCacheTtlMs > 0) this.cache.set(name, { topic, expiresAt: now + this.ctx.config.topicCacheTtlMs });
    }
    if (!topic) throw unknownTopic(name);
    return topic;
  }

  /**
   * Run `operation` with the topic; if it finds the topic's partitions gone (deleted, and maybe
   * recreated, since this instance cached it), look the topic up afresh and run it once more.
   */
  async withTopic<T>(name: string, operation: (topic: TopicRecord) => Promise<T>): Promise<T> {
    const topic = await this.require(name);
    try {
      return await operation(topic);
    } catch (error) {
      if (!(error instanceof StaleTopicError)) throw error;
      const current = await this.require(name, { fresh: true });
      if (current.topicId === topic.topicId) throw unknownTopic(name);
      try {
        return await operation(current);
      } catch (retryError) {
        if (retryError instanceof StaleTopicError) throw unknownTopic(name);
        throw retryError;
      }
    }
  }

  async list(): Promise<TopicRecord[]> {
    return this.ctx.storage.topics.list();
  }

  /** Deletes the topic item first (producers stop finding it), then its data. */
  async delete(name: string): Promise<TopicRecord> {
    validateTopicName(name);
    // An unknown topic is refused without a write (DeleteItem on a missing key still costs one).
    if (!(await this.ctx.storage.topics.get(name))) throw unknownTopic(name);
    const removed = await this.ctx.storage.topics.remove(name);
    this.cache.delete(name);
    if (!removed) throw unknownTopic(name);
    const refs = partitionRefs(removed);
    await mapWithConcurrency(refs, 8, async (ref) => {
      await this.ctx.storage.log.purge(ref);
      await this.ctx.storage.producers.purgePartition(ref);
    });
    return removed;
  }
}

/** Internal signal: a partition of the topic incarnation at hand no longer exists. */
export class StaleTopicError extends Error {
  override readonly name = "StaleTopicError";
  constructor(readonly topicId: string) {
    super(`Topic incarnation ${topicId} no longer exists`);
  }
}

export function unknownTopic(name: string): DynalogError {
  return new DynalogError("UNKNOWN_TOPIC_OR_PARTITION", `Topic '${name}' does not exist`, { details: { topic: name } });
}

export function requirePartition(topic: TopicRecord, partition: number): PartitionRef {
  if (!Number.isInteger(partition) || partition < 0 || partition >= topic.partitions) {
    throw new DynalogError(
      "UNKNOWN_TOPIC_OR_PARTITION",
      `Topic '${topic.name}' has partitions 0-${topic.partitions - 1}; there is no partition ${partition}`,
      { details: { topic: topic.name, partition, partitions: topic.partitions } },
    );
  }
  return { topicId: topic.topicId, partition };
}

export function partitionRefs(topic: TopicRecord): PartitionRef[] {
  return Array.from({ length: topic.partitions }, (_, partition) => ({ topicId: topic.topicId, partition }));
}

/** Runs `fn` over items with at most `limit` in flight, keeping result order. */
export async function mapWithConcurrency<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** TTL attribute (epoch seconds) for an item written now: logical expiry plus a grace day (see TTL_GRACE_MS). */
export function itemExpiry(topic: TopicRecord, now: number): number | undefined {
  const retentionMs = effectiveRetentionMs(topic);
  return retentionMs === null ? undefined : Math.ceil((now + retentionMs + TTL_GRACE_MS) / 1000);
}
