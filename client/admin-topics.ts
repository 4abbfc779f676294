/**
 * The admin client's topic calls in KafkaJS's shapes (createTopics, deleteTopics, listTopics,
 * fetchTopicMetadata, fetchTopicOffsets…) plus Dynalog's describeTopic and listTopicDetails, over
 * /v1/topics. Offsets are numbers. The Admin class (admin.ts) exposes these as methods; a topic's
 * configs, partition count, records and compaction are in admin-lifecycle.ts.
 */
import { DynalogError } from "./errors.js";
import { plainTopicConfig } from "./admin-lifecycle.js";
import type { TopicDescription } from "./metadata.js";
import type { CompressionType } from "./producer.js";
import type { Transport } from "./transport.js";

export interface ITopicConfig {
  readonly topic: string;
  /** Default 1. */
  readonly numPartitions?: number;
  /** Accepted for KafkaJS compatibility: DynamoDB replicates. */
  readonly replicationFactor?: number;
  /** Kafka config names: `retention.ms` (-1 = forever), `compression.type`, `message.timestamp.type`, `cleanup.policy`, `delete.retention.ms`, `min.compaction.lag.ms`, `max.message.bytes`. */
  readonly configEntries?: readonly { readonly name: string; readonly value: string }[];
  /** Dynalog's own fields (win over configEntries). */
  readonly retentionMs?: number | null;
  readonly compression?: CompressionType;
  readonly timestampType?: "CreateTime" | "LogAppendTime";
  /** Kafka's cleanup.policy (docs/compaction.md); compacted topics take keyed records only. */
  readonly cleanupPolicy?: "delete" | "compact" | "compact,delete";
  readonly deleteRetentionMs?: number;
  readonly minCompactionLagMs?: number;
  /** Kafka's max.message.bytes, per record (encoded size); default and maximum 379,936. */
  readonly maxMessageBytes?: number;
}

export interface PartitionOffsets {
  readonly partition: number;
  /** The high watermark (where a consumer "at the end" starts). */
  readonly offset: number;
  readonly high: number;
  readonly low: number;
  /** Compacted topics: the partition's last compaction pass (null = none yet). */
  readonly compaction?: { readonly cleanedUpTo: number; readonly lastRunAt: number } | null;
}

const topicPath = (topic: string) => `/v1/topics/${encodeURIComponent(topic)}`;

/** Resolves false if any of the topics already existed (like KafkaJS), true otherwise. */
export async function createTopics(transport: Transport, topics: readonly ITopicConfig[]): Promise<boolean> {
  let allCreated = true;
  const bodies = topics.map(topicBody); // every topic checked before any is created
  for (const body of bodies) {
    try {
      await transport.request({ method: "POST", path: "/v1/topics", body, idempotent: false });
    } catch (error) {
      if (error instanceof DynalogError && error.code === "TOPIC_ALREADY_EXISTS") {
        allCreated = false;
        continue;
      }
      throw error;
    }
  }
  return allCreated;
}

export async function deleteTopics(transport: Transport, topics: readonly string[]): Promise<void> {
  for (const topic of topics) await transport.request({ method: "DELETE", path: topicPath(topic), idempotent: false });
}

export async function listTopics(transport: Transport): Promise<string[]> {
  const answer = await transport.request<{ topics: { name: string }[] }>({ method: "GET", path: "/v1/topics", idempotent: true });
  return answer.topics.map((t) => t.name);
}

export async function listTopicDetails(transport: Transport): Promise<Omit<TopicDescription, "partitions">[]> {
  return (await transport.request<{ topics: Omit<TopicDescription, "partitions">[] }>({ method: "GET", path: "/v1/topics", idempotent: true })).topics;
}

export function describeTopic(transport: Transport, topic: string): Promise<TopicDescription> {
  return transport.request<TopicDescription>({ method: "GET", path: topicPath(topic), idempotent: true });
}

/** Every topic when `names` is undefined; one describeTopic per topic. Leader and replicas are placeholders (DynamoDB replicates). */
export async function fetchTopicMetadata(
  transport: Transport,
  names: readonly string[] | undefined,
): Promise<{ topics: { name: string; partitions: { partitionErrorCode: 0; partitionId: number; leader: 0; replicas: number[]; isr: number[] }[] }[] }> {
  const topics = [];
  for (const name of names ?? (await listTopics(transport))) {
    const described = await describeTopic(transport, name);
    topics.push({ name, partitions: described.partitions.map((p) => ({ partitionErrorCode: 0 as const, partitionId: p.partition, leader: 0 as const, replicas: [0], isr: [0] })) });
  }
  return { topics };
}

export async function fetchTopicOffsets(transport: Transport, topic: string): Promise<PartitionOffsets[]> {
  const described = await describeTopic(transport, topic);
  return described.partitions.map((p) => ({
    partition: p.partition,
    offset: p.highWatermark,
    high: p.highWatermark,
    low: p.logStartOffset,
    ...(p.compaction !== undefined ? { compaction: p.compaction } : {}),
  }));
}

/** No timestamp: the high watermarks. Otherwise one offset lookup per partition, in parallel. */
export async function fetchTopicOffsetsByTimestamp(transport: Transport, topic: string, timestamp: number | undefined): Promise<{ partition: number; offset: number }[]> {
  const described = await describeTopic(transport, topic);
  return Promise.all(
    described.partitions.map(async (p) => {
      if (timestamp === undefined) return { partition: p.partition, offset: p.highWatermark };
      const answer = await transport.request<{ offset: number | null }>({
        method: "GET",
        path: `${topicPath(topic)}/partitions/${p.partition}/offsets`,
        query: { at: Math.max(0, Math.floor(timestamp)) },
        idempotent: true,
      });
      return { partition: p.partition, offset: answer.offset ?? p.highWatermark };
    }),
  );
}

/** A KafkaJS topic config → the body of POST /v1/topics; a config Dynalog does not take throws INVALID_CONFIG. */
function topicBody(t: ITopicConfig): Record<string, unknown> {
  const body: Record<string, unknown> = { name: t.topic, partitions: t.numPartitions ?? 1 };
  for (const { name, value } of t.configEntries ?? []) {
    const plain = plainTopicConfig(name, value);
    if (plain) body[plain[0]] = plain[1];
    else if (name === "retention.ms") body["retentionMs"] = Number(value) < 0 ? null : Number(value);
    else if (name === "compression.type") body["compression"] = value === "uncompressed" ? "none" : value;
    else if (name === "message.timestamp.type") body["timestampType"] = value;
    else {
      // The broker's own code for a setting it does not take: nothing was sent, nothing created.
      throw new DynalogError({
        code: "INVALID_CONFIG",
        message: `Topic '${t.topic}': config '${name}' is not supported by Dynalog (supported: retention.ms, compression.type, message.timestamp.type, cleanup.policy, delete.retention.ms, min.compaction.lag.ms, max.message.bytes); nothing was created`,
        retriable: false,
        outcome: "definite",
        details: { topic: t.topic, config: name },
      });
    }
  }
  if (t.retentionMs !== undefined) body["retentionMs"] = t.retentionMs;
  if (t.compression !== undefined) body["compression"] = t.compression;
  if (t.timestampType !== undefined) body["timestampType"] = t.timestampType;
  if (t.cleanupPolicy !== undefined) body["cleanupPolicy"] = t.cleanupPolicy;
  if (t.deleteRetentionMs !== undefined) body["deleteRetentionMs"] = t.deleteRetentionMs;
  if (t.minCompactionLagMs !== undefined) body["minCompactionLagMs"] = t.minCompactionLagMs;
  if (t.maxMessageBytes !== undefined) body["maxMessageBytes"] = t.maxMessageBytes;
  return body;
}
