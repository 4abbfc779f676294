/** Topic metadata a producer needs (partition counts), cached for `metadataMaxAge`. */
import type { Transport } from "./transport.js";

export interface TopicDescription {
  readonly name: string;
  readonly topicId: string;
  readonly partitionCount: number;
  readonly retentionMs: number | null;
  readonly compression: string;
  readonly timestampType: string;
  readonly createdAt: string;
  readonly cleanupPolicy: string;
  readonly deleteRetentionMs: number;
  readonly minCompactionLagMs: number;
  /** The largest record (encoded) the topic accepts: Kafka's max.message.bytes. */
  readonly maxMessageBytes: number;
  readonly partitions: readonly {
    readonly partition: number;
    readonly logStartOffset: number;
    readonly highWatermark: number;
    /** Record bytes ever appended to the partition, from its offset counter (approximate: docs/api.md). */
    readonly bytesWritten: number;
    /** bytesWritten × retained offsets ÷ high watermark: an estimate of the bytes still in the log (docs/api.md). */
    readonly retainedBytesEstimate: number;
    /** Compacted topics only: the last compaction pass (null = none yet). */
    readonly compaction?: { readonly cleanedUpTo: number; readonly lastRunAt: number } | null;
  }[];
}

export class TopicMetadata {
  private readonly cache = new Map<string, { count: number; at: number }>();
  private readonly inFlight = new Map<string, Promise<number>>();

  constructor(
    private readonly transport: Transport,
    private readonly maxAgeMs: number,
  ) {}

  async partitionCount(topic: string): Promise<number> {
    const cached = this.cache.get(topic);
    if (cached && Date.now() - cached.at < this.maxAgeMs) return cached.count;
    // Concurrent sends to a new topic share one lookup.
    let pending = this.inFlight.get(topic);
    if (!pending) {
      pending = this.transport
        .request<TopicDescription>({ method: "GET", path: `/v1/topics/${encodeURIComponent(topic)}`, idempotent: true })
        .then((described) => {
          this.cache.set(topic, { count: described.partitionCount, at: Date.now() });
          return described.partitionCount;
        })
        .finally(() => this.inFlight.delete(topic));
      this.inFlight.set(topic, pending);
    }
    return pending;
  }

  invalidate(topic: string): void {
    this.cache.delete(topic);
  }
}
