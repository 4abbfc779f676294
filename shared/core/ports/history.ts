/** History samples (shared/core/history.ts; items in shared/storage/history-store.ts). */

/** One partition of a topic sample. */
export interface PartitionSample {
  readonly highWatermark: number;
  readonly bytesWritten: number;
}

/** A topic at one sample time: totals, and per partition when the topic is small enough (history-store.ts). */
export interface TopicSample {
  /** When it was taken (ms). */
  readonly at: number;
  readonly topicId: string;
  /** Sum of the partitions' high watermarks: offsets ever written. */
  readonly highWatermark: number;
  readonly bytesWritten: number;
  /** Index = partition; null when the item keeps totals only. */
  readonly partitions: readonly PartitionSample[] | null;
}

/** One committed partition of a group sample. */
export interface CommittedPartitionSample {
  readonly partition: number;
  readonly committedOffset: number;
  readonly highWatermark: number;
}

export interface GroupTopicSample {
  readonly topic: string;
  readonly topicId: string;
  /** Sum over the committed partitions of max(0, high watermark − committed offset). */
  readonly lag: number;
  /** Null when the item keeps totals only. */
  readonly partitions: readonly CommittedPartitionSample[] | null;
}

/** A consumer group at one sample time: its lag on every topic it has committed offsets for. */
export interface GroupSample {
  readonly at: number;
  readonly totalLag: number;
  /** Topics left out to bound the item (the smallest lags first); totalLag still counts them. */
  readonly omittedTopics: number;
  readonly topics: readonly GroupTopicSample[];
}

export interface HistoryStore {
  /**
   * Write the topic's sample of the bucket starting at `bucket` (ms) unless one exists: "exists"
   * when another sampler wrote the bucket first (never overwritten). `expiresAt`: TTL, epoch seconds.
   */
  putTopicSample(topic: string, bucket: number, sample: TopicSample, expiresAt: number): Promise<"written" | "exists">;
  putGroupSample(group: string, bucket: number, sample: GroupSample, expiresAt: number): Promise<"written" | "exists">;
  /** Samples of buckets starting in [from, to], oldest first. */
  topicSamples(topic: string, from: number, to: number): Promise<TopicSample[]>;
  groupSamples(group: string, from: number, to: number): Promise<GroupSample[]>;
}
