/**
 * The admin client's topic-lifecycle calls, in KafkaJS's shapes (describeConfigs, alterConfigs,
 * createPartitions, deleteTopicRecords, deleteGroups) over Dynalog's HTTP routes. Kafka's config
 * names map to Dynalog's topic fields:
 *   retention.ms            ↔ retentionMs ("-1" = forever ↔ null)
 *   compression.type        ↔ compression ("uncompressed" ↔ "none"; also gzip, brotli)
 *   message.timestamp.type  ↔ timestampType (CreateTime, LogAppendTime)
 *   max.message.bytes       ↔ maxMessageBytes (the largest record, encoded; at most 379,936, the default)
 *   cleanup.policy          ↔ cleanupPolicy (delete, compact, compact,delete; docs/compaction.md)
 *   delete.retention.ms     ↔ deleteRetentionMs (how long tombstones outlive the pass that kept them)
 *   min.compaction.lag.ms   ↔ minCompactionLagMs
 * The Admin class (admin.ts) exposes these as methods.
 */
import { DynalogError } from "./errors.js";
import type { Transport } from "./transport.js";

/** KafkaJS's ConfigResourceTypes (only TOPIC is served: Dynalog has no brokers to configure). */
export const ConfigResourceTypes = Object.freeze({ UNKNOWN: 0, TOPIC: 2, BROKER: 4, BROKER_LOGGER: 8 } as const);
export type ConfigResourceType = (typeof ConfigResourceTypes)[keyof typeof ConfigResourceTypes];

export interface DescribeConfigResource {
  readonly type: ConfigResourceType;
  readonly name: string;
  /** Only these Kafka config names; all when omitted. */
  readonly configNames?: readonly string[];
}

export interface ConfigEntry {
  readonly configName: string;
  readonly configValue: string;
  readonly readOnly: boolean;
  readonly isDefault: false;
  readonly configSource: 1;
  readonly isSensitive: false;
  readonly configSynonyms: readonly never[];
}

export interface DescribeConfigResponse {
  readonly resources: readonly {
    readonly errorCode: 0;
    readonly errorMessage: null;
    readonly resourceName: string;
    readonly resourceType: ConfigResourceType;
    readonly configEntries: readonly ConfigEntry[];
  }[];
  readonly throttleTime: 0;
}

export interface AlterConfigResource {
  readonly type: ConfigResourceType;
  readonly name: string;
  readonly configEntries: readonly { readonly name: string; readonly value: string }[];
}

interface TopicConfigs {
  readonly topic: string;
  readonly configs: {
    retentionMs: number | null;
    compression: string;
    timestampType: string;
    maxMessageBytes: number;
    cleanupPolicy: string;
    deleteRetentionMs: number;
    minCompactionLagMs: number;
  };
}

/** What one compaction pass did to one partition (POST /v1/topics/:topic/compact). */
export interface PartitionCompaction {
  readonly partition: number;
  readonly logStartOffset: number;
  readonly highWatermark: number;
  /** Every batch below this offset was compacted by the pass. */
  readonly cleanedUpTo: number;
  readonly scannedRecords: number;
  readonly removedRecords: number;
  readonly removedTombstones: number;
  readonly rewrittenBatches: number;
  /** Batches that changed while the pass ran; the next pass takes them. */
  readonly skippedBatches: number;
  readonly lastRunAt: number;
  /**
   * Why nothing was read or written (null: the pass ran): "unchanged" — nothing could change since
   * the last complete pass (no new records, no tombstone due); "dirty-ratio" — scheduled passes
   * only, too little new since then (docs/compaction.md).
   */
  readonly skipped: "unchanged" | "dirty-ratio" | null;
}

export interface TopicCompaction {
  readonly topic: string;
  readonly topicId: string;
  readonly cleanupPolicy: string;
  readonly partitions: readonly PartitionCompaction[];
}

/** Kafka config names taken as they are (compaction, max.message.bytes) → the topic field and its value; undefined for other names. */
export function plainTopicConfig(name: string, value: string): [string, string | number] | undefined {
  if (name === "max.message.bytes") return ["maxMessageBytes", Number(value)];
  if (name === "cleanup.policy") return ["cleanupPolicy", value];
  if (name === "delete.retention.ms") return ["deleteRetentionMs", Number(value)];
  if (name === "min.compaction.lag.ms") return ["minCompactionLagMs", Number(value)];
  return undefined;
}

const topicPath = (topic: string, rest: string) => `/v1/topics/${encodeURIComponent(topic)}/${rest}`;

function requireTopicResource(type: ConfigResourceType, name: string): void {
  if (type !== ConfigResourceTypes.TOPIC) throw new TypeError(`Config resource type ${type} is not supported for '${name}': Dynalog configures topics only (ConfigResourceTypes.TOPIC)`);
}

/** Kafka config entries → the body of POST /v1/topics/:topic/configs; unknown or read-only names throw. */
export function configBody(entries: readonly { readonly name: string; readonly value: string }[]): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const { name, value } of entries) {
    const plain = plainTopicConfig(name, value);
    if (plain) body[plain[0]] = plain[1];
    else if (name === "retention.ms") body["retentionMs"] = Number(value) === -1 ? null : Number(value);
    else if (name === "compression.type") body["compression"] = value === "uncompressed" ? "none" : value;
    else if (name === "message.timestamp.type") body["timestampType"] = value;
    else throw new TypeError(`Unsupported topic config '${name}' (alterable: retention.ms, compression.type, message.timestamp.type, cleanup.policy, delete.retention.ms, min.compaction.lag.ms, max.message.bytes)`);
  }
  return body;
}

function configEntries(configs: TopicConfigs["configs"]): ConfigEntry[] {
  const entry = (configName: string, configValue: string, readOnly = false): ConfigEntry => ({
    configName,
    configValue,
    readOnly,
    isDefault: false,
    configSource: 1,
    isSensitive: false,
    configSynonyms: [],
  });
  return [
    entry("retention.ms", String(configs.retentionMs ?? -1)),
    entry("compression.type", configs.compression === "none" ? "uncompressed" : configs.compression),
    entry("message.timestamp.type", configs.timestampType),
    entry("cleanup.policy", configs.cleanupPolicy),
    entry("delete.retention.ms", String(configs.deleteRetentionMs)),
    entry("min.compaction.lag.ms", String(configs.minCompactionLagMs)),
    entry("max.message.bytes", String(configs.maxMessageBytes)),
  ];
}

export async function describeConfigs(transport: Transport, resources: readonly DescribeConfigResource[]): Promise<DescribeConfigResponse> {
  for (const r of resources) requireTopicResource(r.type, r.name);
  const described = [];
  for (const r of resources) {
    const answer = await transport.request<TopicConfigs>({ method: "GET", path: topicPath(r.name, "configs"), idempotent: true });
    const entries = configEntries(answer.configs).filter((e) => !r.configNames || r.configNames.includes(e.configName));
    described.push({ errorCode: 0 as const, errorMessage: null, resourceName: r.name, resourceType: r.type, configEntries: entries });
  }
  return { resources: described, throttleTime: 0 };
}

export async function alterConfigs(transport: Transport, resources: readonly AlterConfigResource[]) {
  // Every resource is checked before the first request: a bad entry changes nothing.
  const bodies = resources.map((r) => (requireTopicResource(r.type, r.name), configBody(r.configEntries)));
  const altered = [];
  for (const [i, r] of resources.entries()) {
    // Setting the same values again is harmless: safe to retry.
    await transport.request({ method: "POST", path: topicPath(r.name, "configs"), body: bodies[i], idempotent: true });
    altered.push({ errorCode: 0 as const, errorMessage: null, resourceName: r.name, resourceType: r.type });
  }
  return { resources: altered, throttleTime: 0 as const };
}

export async function createPartitions(transport: Transport, topicPartitions: readonly { readonly topic: string; readonly count: number }[]): Promise<boolean> {
  for (const { topic, count } of topicPartitions) {
    // Not retried: a retry after a lost answer would be refused as INVALID_PARTITIONS (count unchanged).
    await transport.request({ method: "POST", path: topicPath(topic, "partitions"), body: { count }, idempotent: false });
  }
  return true;
}

/** KafkaJS's deleteTopicRecords: offsets are strings; "-1" deletes up to the high watermark. */
export async function deleteTopicRecords(transport: Transport, topic: string, partitions: readonly { readonly partition: number; readonly offset: string | number }[]): Promise<void> {
  const body = { partitions: partitions.map((p) => ({ partition: p.partition, offset: Number(p.offset) })) };
  // Moving the log start to the same offset again changes nothing: safe to retry.
  await transport.request({ method: "POST", path: topicPath(topic, "delete-records"), body, idempotent: true });
}

/** One compaction pass over a compacted topic's partitions (default all); Kafka has no such call (its cleaner runs by itself). */
export async function compactTopic(transport: Transport, topic: string, partitions?: readonly number[]): Promise<TopicCompaction> {
  // A second pass after a lost answer only finds less to do: safe to retry.
  return transport.request<TopicCompaction>({ method: "POST", path: topicPath(topic, "compact"), body: partitions ? { partitions } : {}, idempotent: true });
}

/** KafkaJS's deleteGroups: tries every group, then throws the first failure (details on the error). */
export async function deleteGroups(transport: Transport, groupIds: readonly string[]): Promise<{ groupId: string; errorCode: "NONE" }[]> {
  const deleted: { groupId: string; errorCode: "NONE" }[] = [];
  let failure: unknown;
  for (const groupId of groupIds) {
    try {
      await transport.request({ method: "DELETE", path: `/v1/groups/${encodeURIComponent(groupId)}`, idempotent: false });
      deleted.push({ groupId, errorCode: "NONE" });
    } catch (error) {
      if (!(error instanceof DynalogError)) throw error;
      failure ??= error;
    }
  }
  if (failure) throw failure;
  return deleted;
}
