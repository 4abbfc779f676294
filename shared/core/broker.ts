/**
 * The broker core: every operation the API offers, with no knowledge of HTTP or of how storage
 * lays out items. Built by a factory from named dependencies.
 */
import { DynalogError } from "../errors.js";
import { GROUP_ID_PATTERN, MAX_OFFSET, MAX_OFFSET_METADATA_BYTES, MAX_OFFSETS_PER_COMMIT } from "../limits.js";
import { DEFAULT_BROKER_CONFIG, type BrokerConfig, type BrokerContext, type Clock } from "./context.js";
import { Fetcher, type FetchInput, type PartitionFetchResult } from "./fetch.js";
import { LogReader } from "./log-reader.js";
import type { Storage, TopicRecord } from "./ports.js";
import { Producer, type ProduceInput, type ProduceResult } from "./produce.js";
import { mapWithConcurrency, partitionRefs, requirePartition, TopicCatalog, validateTopicName, type CreateTopicInput } from "./topics.js";

export interface PartitionDescription {
  readonly partition: number;
  readonly logStartOffset: number;
  readonly highWatermark: number;
}

export interface TopicDescription {
  readonly topic: TopicRecord;
  readonly partitions: readonly PartitionDescription[];
}

export type OffsetSpec = { readonly kind: "earliest" } | { readonly kind: "latest" } | { readonly kind: "timestamp"; readonly timestamp: number };

export interface ListedOffset {
  readonly topic: string;
  readonly partition: number;
  /** null when no record has a timestamp at or after the one asked for. */
  readonly offset: number | null;
  readonly timestamp: number | null;
}

export interface OffsetCommitInput {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly metadata?: string;
}

export interface CommittedPartitionOffset {
  readonly partition: number;
  /** -1 when the group has committed nothing for this partition (Kafka's convention). */
  readonly offset: number;
  readonly metadata: string;
  readonly committedAt: number | null;
}

export interface BrokerDependencies {
  readonly storage: Storage;
  readonly clock?: Clock;
  readonly config?: Partial<BrokerConfig>;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

export type Broker = ReturnType<typeof createBroker>;

export function createBroker(deps: BrokerDependencies) {
  const ctx: BrokerContext = {
    storage: deps.storage,
    clock: deps.clock ?? Date.now,
    config: { ...DEFAULT_BROKER_CONFIG, ...deps.config },
    sleep: deps.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
    random: deps.random ?? Math.random,
  };
  const topics = new TopicCatalog(ctx);
  const reader = new LogReader(ctx);
  const producer = new Producer(ctx, topics);
  const fetcher = new Fetcher(ctx, topics, reader);

  return {
    config: ctx.config,

    createTopic: (input: CreateTopicInput): Promise<TopicRecord> => topics.create(input),
    listTopics: (): Promise<TopicRecord[]> => topics.list(),
    deleteTopic: (name: string): Promise<TopicRecord> => topics.delete(name),

    async describeTopic(name: string): Promise<TopicDescription> {
      validateTopicName(name);
      const topic = await topics.require(name, { fresh: true });
      const refs = partitionRefs(topic);
      const heads = await ctx.storage.log.readHeads(refs);
      const partitions = await mapWithConcurrency(refs, 16, async (ref, i) => {
        const head = heads[i]!;
        const highWatermark = await reader.highWatermark(topic, ref, head);
        const logStartOffset = await reader.refreshLogStart(topic, ref, head);
        return { partition: ref.partition, logStartOffset, highWatermark };
      });
      return { topic, partitions };
    },

    /** A fresh idempotent producer: a new id at epoch 0. */
    async initProducer(): Promise<{ producerId: number; epoch: number }> {
      return { producerId: await ctx.storage.producers.allocateProducerId(), epoch: 0 };
    },

    produce: (input: ProduceInput): Promise<ProduceResult> => producer.produce(input),

    fetch: (input: FetchInput): Promise<PartitionFetchResult[]> => fetcher.fetch(input),

    async listOffsets(topicName: string, partition: number, spec: OffsetSpec): Promise<ListedOffset> {
      validateTopicName(topicName);
      const topic = await topics.require(topicName, { fresh: true });
      const ref = requirePartition(topic, partition);
      if (spec.kind === "earliest") return { topic: topic.name, partition, offset: await reader.refreshLogStart(topic, ref), timestamp: null };
      if (spec.kind === "latest") return { topic: topic.name, partition, offset: await reader.highWatermark(topic, ref), timestamp: null };
      const found = await reader.offsetForTimestamp(topic, ref, spec.timestamp);
      return { topic: topic.name, partition, offset: found?.offset ?? null, timestamp: found?.timestamp ?? null };
    },

    async commitOffsets(group: string, offsets: readonly OffsetCommitInput[]): Promise<void> {
      validateGroupId(group);
      if (offsets.length === 0 || offsets.length > MAX_OFFSETS_PER_COMMIT) {
        throw new DynalogError("INVALID_REQUEST", `An offset commit carries 1 to ${MAX_OFFSETS_PER_COMMIT} partitions, got ${offsets.length}`);
      }
      const seen = new Set<string>();
      const commits = [];
      for (const o of offsets) {
        const key = `${o.topic}#${o.partition}`;
        if (seen.has(key)) throw new DynalogError("INVALID_REQUEST", `${o.topic}-${o.partition} appears twice in one commit`);
        seen.add(key);
        validateTopicName(o.topic);
        const topic = await topics.require(o.topic);
        requirePartition(topic, o.partition);
        if (!Number.isInteger(o.offset) || o.offset < 0 || o.offset > MAX_OFFSET) {
          throw new DynalogError("INVALID_COMMIT_OFFSET", `Committed offset for ${o.topic}-${o.partition} must be an integer from 0 to ${MAX_OFFSET}`, {
            details: { topic: o.topic, partition: o.partition },
          });
        }
        const metadata = o.metadata ?? "";
        if (Buffer.byteLength(metadata, "utf8") > MAX_OFFSET_METADATA_BYTES) {
          throw new DynalogError("OFFSET_METADATA_TOO_LARGE", `Offset metadata for ${o.topic}-${o.partition} exceeds ${MAX_OFFSET_METADATA_BYTES} bytes`, {
            details: { topic: o.topic, partition: o.partition, limit: MAX_OFFSET_METADATA_BYTES },
          });
        }
        commits.push({ topic: o.topic, topicId: topic.topicId, partition: o.partition, offset: o.offset, metadata });
      }
      await ctx.storage.offsets.commit(group, commits, ctx.clock());
    },

    async committedOffsets(group: string, topicName: string): Promise<CommittedPartitionOffset[]> {
      validateGroupId(group);
      validateTopicName(topicName);
      const topic = await topics.require(topicName);
      const stored = new Map((await ctx.storage.offsets.read(group, topic.name, topic.topicId)).map((c) => [c.partition, c]));
      return Array.from({ length: topic.partitions }, (_, partition) => {
        const committed = stored.get(partition);
        return committed
          ? { partition, offset: committed.offset, metadata: committed.metadata, committedAt: committed.committedAt }
          : { partition, offset: -1, metadata: "", committedAt: null };
      });
    },
  };
}

export function validateGroupId(group: string): void {
  if (!GROUP_ID_PATTERN.test(group)) {
    throw new DynalogError("INVALID_GROUP_ID", `Group id must be 1-255 characters of a-z, A-Z, 0-9, '.', '_', '-', ':' and '@'`, {
      details: { group: group.slice(0, 260) },
    });
  }
}
