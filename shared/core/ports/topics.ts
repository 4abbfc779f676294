/** Topics (shared/core/topics.ts, topic-admin.ts; items in shared/storage/topic-store.ts). */
import type { CompressionCodec } from "../../compression.js";

export type TimestampType = "CreateTime" | "LogAppendTime";

/** Kafka's cleanup.policy: time-based deletion, compaction (latest record per key), or both. */
export type CleanupPolicy = "delete" | "compact" | "compact,delete";

export interface TopicRecord {
  readonly name: string;
  /** Unique per creation: log keys use it, so a deleted-then-recreated topic never sees old data. */
  readonly topicId: string;
  readonly partitions: number;
  /** null = keep forever. */
  readonly retentionMs: number | null;
  readonly compression: CompressionCodec;
  readonly timestampType: TimestampType;
  readonly createdAt: number;
  /** "compact" alone keeps records regardless of retentionMs (as Kafka); see docs/compaction.md. */
  readonly cleanupPolicy: CleanupPolicy;
  /** Kafka's delete.retention.ms: how long a tombstone outlives the compaction that first kept it. */
  readonly deleteRetentionMs: number;
  /** Kafka's min.compaction.lag.ms: records younger than this (append time) are never compacted. */
  readonly minCompactionLagMs: number;
  /**
   * Kafka's max.message.bytes, per record: the largest record (its encoding in a stored batch, as
   * RECORD_TOO_LARGE counts it) this topic accepts; at most MAX_RECORD_BYTES, the default.
   */
  readonly maxMessageBytes: number;
}

export interface TopicStore {
  /** Throws TOPIC_ALREADY_EXISTS when the name is taken. */
  create(topic: TopicRecord): Promise<void>;
  get(name: string): Promise<TopicRecord | undefined>;
  list(): Promise<TopicRecord[]>;
  /** Removes the topic item; returns what was removed. */
  remove(name: string): Promise<TopicRecord | undefined>;
  /** Replace the item only while it still is exactly `expected` (same incarnation and settings); false otherwise. */
  replace(topic: TopicRecord, expected: TopicRecord): Promise<boolean>;
}
