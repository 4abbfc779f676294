/** The API's response shapes the console reads (docs/api.md is the reference). */

export interface TopicSummary {
  readonly name: string;
  readonly topicId: string;
  readonly partitionCount: number;
  readonly retentionMs: number | null;
  readonly compression: string;
  readonly timestampType: string;
  readonly createdAt: string;
}

export interface PartitionBounds {
  readonly partition: number;
  readonly logStartOffset: number;
  readonly highWatermark: number;
  /** Record bytes ever appended to the partition (approximate, docs/api.md). */
  readonly bytesWritten: number;
  /** Estimated bytes still in the log (approximate, docs/api.md). */
  readonly retainedBytesEstimate: number;
}

export interface TopicDescription extends TopicSummary {
  readonly partitions: readonly PartitionBounds[];
}

export interface RecordHeader {
  readonly key: string;
  readonly value: string | null;
  readonly valueEncoding?: "base64";
}

export interface FetchedRecord {
  readonly offset: number;
  readonly timestamp: number;
  readonly key: string | null;
  readonly value: string | null;
  readonly keyEncoding?: "base64";
  readonly valueEncoding?: "base64";
  readonly headers: readonly RecordHeader[];
  /** Asked for with `metadata=true`: the idempotent or transactional producer that wrote it, else null. */
  readonly producerId: number | null;
  /** Asked for with `metadata=true`: written by a transactional commit. */
  readonly transactional: boolean;
}

export interface RecordPage {
  readonly topic: string;
  readonly partition: number;
  readonly records: readonly FetchedRecord[];
  readonly nextOffset: number;
  readonly highWatermark: number;
  readonly logStartOffset: number;
}

export interface ProduceResult {
  readonly topic: string;
  readonly partitions: readonly { readonly partition: number; readonly baseOffset: number; readonly lastOffset: number }[];
}

export interface GroupSummary {
  readonly group: string;
  readonly state: string;
  readonly groupEpoch: number;
  readonly members: number;
}

export interface GroupMember {
  readonly memberId: string;
  readonly instanceId: string | null;
  readonly memberEpoch: number;
  readonly state: string;
  readonly subscription: readonly string[];
  readonly assignment: readonly { readonly topic: string; readonly partitions: readonly number[] }[];
  readonly revoking: readonly { readonly topic: string; readonly partitions: readonly number[] }[];
  readonly lastHeartbeatAt: string;
  readonly expiresAt: string;
}

export interface GroupPartition {
  readonly partition: number;
  readonly committedOffset: number | null;
  readonly highWatermark: number;
  readonly lag: number | null;
  readonly memberId: string | null;
}

export interface GroupDescription {
  readonly group: string;
  readonly state: string;
  readonly groupEpoch: number;
  readonly assignmentEpoch: number;
  readonly assignor: string;
  readonly members: readonly GroupMember[];
  readonly topics: readonly { readonly topic: string; readonly lag: number; readonly partitions: readonly GroupPartition[] }[];
  readonly totalLag: number;
}

/** One committed transaction, as the trace route shows it. */
export interface TracedTransaction {
  readonly transactionalId: string;
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly transactionSequence: number;
  readonly committedAt: string;
  readonly group: string | null;
  readonly inputs: readonly { readonly topic: string; readonly partition: number; readonly committedOffset: number }[];
  readonly outputs: readonly { readonly topic: string; readonly partition: number; readonly baseOffset: number; readonly count: number }[];
}

/** GET /v1/topics/:topic/partitions/:partition/records/:offset/trace. */
export interface RecordTrace {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly transactional: boolean;
  readonly producerId: number | null;
  readonly groups: readonly { readonly group: string; readonly committedOffset: number; readonly committedAt: string }[];
  readonly consumedBy: readonly TracedTransaction[];
  readonly producedBy: TracedTransaction | null;
}

/** A push subscription as the API shows it (docs/subscriptions.md; never its secret). */
export interface Subscription {
  readonly name: string;
  readonly topic: string;
  readonly group: string;
  readonly target: { readonly type: "webhook"; readonly url: string } | { readonly type: "function"; readonly arn: string } | { readonly type: "module"; readonly path: string };
  readonly batchSize: number;
  readonly maxBatchingWindowMs: number;
  readonly startingPosition: "earliest" | "latest" | number;
  readonly maxRetries: number;
  readonly deadLetterTopic: string | null;
  readonly delivery: "at-least-once" | "exactly-once";
  readonly timeoutMs: number;
  readonly state: "active" | "paused";
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface SubscriptionPartition {
  readonly partition: number;
  /** The next record to deliver (the subscription's group's committed offset); -1 when the topic is gone. */
  readonly committedOffset: number;
  readonly highWatermark: number;
  readonly lag: number;
  readonly delivered: number;
  readonly failed: number;
  readonly deadLettered: number;
  readonly lastError: { readonly message: string; readonly offset: number; readonly at: string } | null;
  readonly retry: { readonly offset: number; readonly attempts: number; readonly nextAttemptAt: string } | null;
  readonly lastDeliveredAt: string | null;
  readonly lastLatencyMs: number | null;
  readonly leased: boolean;
}

/** GET /v1/subscriptions/:name. */
export interface SubscriptionDescription extends Subscription {
  readonly topicExists: boolean;
  readonly totalLag: number;
  readonly partitions: readonly SubscriptionPartition[];
}

/** GET /v1/topics/:topic/history (docs/console.md, "History"): the broker's samples, oldest first. */
export interface TopicHistory {
  readonly topic: string;
  readonly samples: readonly { readonly at: string; readonly highWatermark: number; readonly bytesWritten: number }[];
}

/** GET /v1/history/topics: every topic the key may describe, totals only, oldest first. */
export interface TopicsHistory {
  readonly topics: readonly { readonly topic: string; readonly samples: readonly { readonly at: string; readonly highWatermark: number }[] }[];
}

/** GET /v1/groups/:group/history. */
export interface GroupHistory {
  readonly group: string;
  readonly samples: readonly { readonly at: string; readonly totalLag: number }[];
}
