/**
 * The broker's operations by area, each built from only the services it uses. createBroker
 * (broker.ts) joins them all, sharing one of each service; a Lambda function joins only the areas
 * its routes call (shared/http/function-routes/<fn>.ts), so its bundle leaves the other areas'
 * code out: fetch carries no transactions, groups, produce, compaction or subscriptions (issue 17,
 * the ≤ 400 KB budget per function, docs/deploy.md). Each factory takes the services it needs
 * rather than building them, so functions with several areas share one topic cache and reader.
 */
import { Compactor, type CompactPartitionOptions, type TopicCompaction } from "./compactor.js";
import { DEFAULT_BROKER_CONFIG, type BrokerConfig, type BrokerContext, type BrokerObserver, type Clock } from "./context.js";
import { Fetcher, type BatchFetchInput, type FetchInput, type PartitionBatchFetchResult, type PartitionFetchResult } from "./fetch.js";
import type { HeartbeatInput, HeartbeatResult } from "./group-heartbeat.js";
import type { GroupMembership } from "./group-membership.js";
import type { CommittedPartitionOffset, ConsumerGroups, GroupDescription, GroupListing, OffsetReset } from "./groups.js";
import { History, type GroupHistory, type HistoryRun, type TopicHistory, type TopicsHistory } from "./history.js";
import type { LogReader } from "./log-reader.js";
import type { OffsetCommitInput } from "./offsets.js";
import type { CompactionCheckpoint, Storage, TopicRecord } from "./ports.js";
import { ANONYMOUS_PRINCIPAL, type ProducerIds } from "./producer-ids.js";
import { Producer, type ProduceInput, type ProduceResult } from "./produce.js";
import type { CreateSubscriptionInput, SubscriptionRecord } from "./subscription-model.js";
import { Subscriptions, type SubscriptionDescription } from "./subscriptions.js";
import { TopicAdmin, type DeletedRecords, type DeleteRecordsInput, type TopicConfigChanges } from "./topic-admin.js";
import { isCompacted, mapWithConcurrency, partitionRefs, requirePartition, validateTopicName, type CreateTopicInput, type TopicCatalog } from "./topics.js";
import { traceRecord, type RecordTrace } from "./trace.js";
import { Transactions, type TransactionCommitInput, type TransactionCommitResult } from "./transactions.js";

export interface BrokerDependencies {
  readonly storage: Storage;
  readonly clock?: Clock;
  readonly config?: Partial<BrokerConfig>;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
  readonly observer?: BrokerObserver;
  /** See BrokerContext.webhookCheck; default none (local runs). */
  readonly webhookCheck?: (url: string) => Promise<void>;
}

/** The context every service shares, defaults filled in. */
export function brokerContext(deps: BrokerDependencies): BrokerContext {
  return {
    storage: deps.storage,
    clock: deps.clock ?? Date.now,
    config: { ...DEFAULT_BROKER_CONFIG, ...deps.config },
    sleep: deps.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
    random: deps.random ?? Math.random,
    observer: deps.observer,
    webhookCheck: deps.webhookCheck,
  };
}

export interface PartitionDescription {
  readonly partition: number;
  readonly logStartOffset: number;
  readonly highWatermark: number;
  /**
   * Record bytes ever appended (the batches' stored blobs), from the partition's counter.
   * Approximate: a voided reservation still counts (docs/api.md).
   */
  readonly bytesWritten: number;
  /** bytesWritten scaled by the share of offsets still in the log; an estimate (docs/api.md). */
  readonly retainedBytesEstimate: number;
  /** Compacted topics only: the last compaction pass of the partition (null = none yet). */
  readonly compaction?: CompactionCheckpoint | null;
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

/** Topics: create, list, delete, describe (admin). */
export function topicOperations(ctx: BrokerContext, topics: TopicCatalog, reader: LogReader) {
  return {
    createTopic: (input: CreateTopicInput): Promise<TopicRecord> => topics.create(input),
    listTopics: (): Promise<TopicRecord[]> => topics.list(),
    deleteTopic: (name: string): Promise<TopicRecord> => topics.delete(name),
    /** The topic item alone (no partition reads), read strongly consistently: what configs show. */
    topicConfigs: (name: string): Promise<TopicRecord> => topics.require(name, { fresh: true }),

    async describeTopic(name: string): Promise<TopicDescription> {
      validateTopicName(name);
      const topic = await topics.require(name, { fresh: true });
      const refs = partitionRefs(topic);
      const heads = await ctx.storage.log.readHeads(refs);
      const partitions = await mapWithConcurrency(refs, 16, async (ref, i) => {
        const head = heads[i]!;
        const highWatermark = await reader.highWatermark(topic, ref, head);
        const logStartOffset = await reader.refreshLogStart(topic, ref, head);
        const sizes = partitionSizes(head.bytesWritten, logStartOffset, highWatermark);
        return { partition: ref.partition, logStartOffset, highWatermark, ...sizes, ...(isCompacted(topic) ? { compaction: head.compaction ? { cleanedUpTo: head.compaction.cleanedUpTo, lastRunAt: head.compaction.lastRunAt } : null } : {}) };
      });
      return { topic, partitions };
    },
  };
}

/** Topic lifecycle (topic-admin.ts): Kafka's AlterConfigs, CreatePartitions, DeleteRecords, DeleteGroups (admin). */
export function lifecycleOperations(ctx: BrokerContext, topics: TopicCatalog, reader: LogReader) {
  const admin = new TopicAdmin(ctx, topics, reader);
  return {
    alterTopicConfigs: (name: string, changes: TopicConfigChanges): Promise<TopicRecord> => admin.alterConfigs(name, changes),
    createPartitions: (name: string, count: number): Promise<TopicRecord> => admin.createPartitions(name, count),
    deleteRecords: (name: string, partitions: readonly DeleteRecordsInput[]): Promise<DeletedRecords[]> => admin.deleteRecords(name, partitions),
    deleteGroup: (group: string): Promise<void> => admin.deleteGroup(group),
  };
}

/** Compaction (compactor.ts, docs/compaction.md): the admin route and the scheduled compactor. */
export function compactionOperations(ctx: BrokerContext, topics: TopicCatalog, reader: LogReader) {
  const compactor = new Compactor(ctx, topics, reader);
  return {
    /** One compaction pass over the named partitions (default all) of a compacted topic. */
    compactTopic: (name: string, partitions?: readonly number[], options?: CompactPartitionOptions): Promise<TopicCompaction> => compactor.compactTopic(name, partitions, options),
    /** One pass over every compacted topic (what a periodic job runs); failures are reported per topic. */
    compactAllTopics: (options?: { readonly startBefore?: number; readonly minDirtyRatio?: number }) => compactor.compactAll(options),
  };
}

/** Producer ids and appends (produce). */
export function produceOperations(ctx: BrokerContext, topics: TopicCatalog, producerIds: ProducerIds) {
  const producer = new Producer(ctx, topics, producerIds);
  return {
    /**
     * Without a transactional id: a fresh idempotent producer (new id, epoch 0). With one: that
     * id's producer with its epoch bumped, which fences every earlier instance. Either way the id is
     * recorded as issued to `principal` (the authenticated caller; default: security off), and
     * only that principal may produce or commit with it.
     */
    async initProducer(options: { transactionalId?: string; principal?: string } = {}): Promise<{ producerId: number; epoch: number }> {
      const principal = options.principal ?? ANONYMOUS_PRINCIPAL;
      if (options.transactionalId !== undefined) return producerIds.initTransactional(options.transactionalId, principal);
      return producerIds.issueIdempotent(principal);
    },
    produce: (input: ProduceInput): Promise<ProduceResult> => producer.produce(input),
  };
}

/** Reads and offsets lookups (fetch; the Upstash consume in commit). */
export function fetchOperations(ctx: BrokerContext, topics: TopicCatalog, reader: LogReader) {
  const fetcher = new Fetcher(ctx, topics, reader);
  return {
    fetch: (input: FetchInput): Promise<PartitionFetchResult[]> => fetcher.fetch(input),
    /** The stored batches as they are, for the binary fetch format (docs/api.md). */
    fetchBatches: (input: BatchFetchInput): Promise<PartitionBatchFetchResult[]> => fetcher.fetchBatches(input),

    async listOffsets(topicName: string, partition: number, spec: OffsetSpec): Promise<ListedOffset> {
      validateTopicName(topicName);
      const topic = await topics.require(topicName, { fresh: true });
      const ref = requirePartition(topic, partition);
      if (spec.kind === "earliest") return { topic: topic.name, partition, offset: await reader.refreshLogStart(topic, ref), timestamp: null };
      if (spec.kind === "latest") return { topic: topic.name, partition, offset: await reader.highWatermark(topic, ref), timestamp: null };
      const found = await reader.offsetForTimestamp(topic, ref, spec.timestamp);
      return { topic: topic.name, partition, offset: found?.offset ?? null, timestamp: found?.timestamp ?? null };
    },
  };
}

/** Offsets and consumer groups (groups.ts): commit, and admin's listings. */
export function groupOperations(groups: ConsumerGroups) {
  return {
    /** With memberId + memberEpoch: fenced (one transaction). Without: only while the group has no live members. */
    commitOffsets: (group: string, offsets: readonly OffsetCommitInput[], member?: { memberId?: string; memberEpoch?: number }): Promise<void> =>
      groups.commitOffsets(group, offsets, member),
    /** Committed offsets; with `reset`, also the position to start from where nothing is committed. */
    committedOffsets: (group: string, topicName: string, options?: { reset?: OffsetReset; partitions?: readonly number[] }): Promise<CommittedPartitionOffset[]> =>
      groups.committedOffsets(group, topicName, options),
    describeGroup: (group: string): Promise<GroupDescription> => groups.describe(group),
    listGroups: (): Promise<GroupListing[]> => groups.list(),
  };
}

/** Group membership (KIP-848 style; group-membership.ts and the group-*.ts modules): commit. */
export function membershipOperations(membership: GroupMembership) {
  return {
    heartbeat: (group: string, input: HeartbeatInput): Promise<HeartbeatResult> => membership.heartbeat(group, input),
    removeMember: (group: string, memberId: string): Promise<HeartbeatResult> => membership.removeMember(group, memberId),
  };
}

/** Transactions and atomic multi-partition writes, in one DynamoDB transaction (transactions). */
export function transactionOperations(ctx: BrokerContext, topics: TopicCatalog, groups: ConsumerGroups, producerIds: ProducerIds) {
  const transactions = new Transactions(ctx, topics, groups, producerIds);
  return {
    commitTransaction: (input: TransactionCommitInput): Promise<TransactionCommitResult> => transactions.commit(input),
  };
}

/** Trace one record: groups past it, transactions that consumed it, the one that wrote it (trace.ts; admin). */
export function traceOperations(ctx: BrokerContext, topics: TopicCatalog, groups: ConsumerGroups) {
  return {
    traceRecord: (topicName: string, partition: number, offset: number): Promise<RecordTrace> => traceRecord(ctx, topics, groups, topicName, partition, offset),
  };
}

/** Push subscriptions (subscriptions.ts; delivery: dispatch.ts): admin and the dispatcher. */
export function subscriptionOperations(ctx: BrokerContext, topics: TopicCatalog, reader: LogReader, groups: ConsumerGroups) {
  const subscriptions = new Subscriptions(ctx, topics, reader, groups);
  return {
    createSubscription: (input: CreateSubscriptionInput): Promise<SubscriptionRecord> => subscriptions.create(input),
    getSubscription: (name: string): Promise<SubscriptionRecord> => subscriptions.require(name),
    listSubscriptions: (): Promise<SubscriptionRecord[]> => subscriptions.list(),
    describeSubscription: (name: string): Promise<SubscriptionDescription> => subscriptions.describe(name),
    pauseSubscription: (name: string): Promise<SubscriptionRecord> => subscriptions.pause(name),
    resumeSubscription: (name: string): Promise<SubscriptionRecord> => subscriptions.resume(name),
    deleteSubscription: (name: string): Promise<SubscriptionRecord> => subscriptions.delete(name),
    rotateSubscriptionSecret: (name: string, graceMs?: number): Promise<SubscriptionRecord> => subscriptions.rotateSecret(name, graceMs),
    /** The dispatcher's leases and counters (dispatch.ts). */
    subscriptionStore: ctx.storage.subscriptions,
  };
}


/** History for the console's charts (shared/core/history.ts; docs/console.md, "History"). */
export function historyOperations(ctx: BrokerContext, topics: TopicCatalog, reader: LogReader) {
  const history = new History(ctx, topics, reader);
  return {
    /** One sample of every topic and group in the `intervalMs` bucket of `now` (what the scheduled function and the local timer run). */
    sampleHistory: (now: number = ctx.clock(), intervalMs?: number): Promise<HistoryRun> => history.sample(now, intervalMs),
    topicHistory: (name: string, minutes?: number): Promise<TopicHistory> => history.topicHistory(name, minutes),
    groupHistory: (group: string, minutes?: number): Promise<GroupHistory> => history.groupHistory(group, minutes),
    /** Every topic's totals of the last `minutes`, of the topics `visible` keeps (a caller's describe rights); `maxSamples` bounds the answer (tests lower it). */
    topicsHistory: (minutes?: number, visible?: (topic: string) => Promise<boolean>, maxSamples?: number): Promise<TopicsHistory> => history.topicsHistory(minutes, visible, maxSamples),
  };
}

/**
 * DynamoDB reports no size per partition key, so the broker counts the bytes each reservation
 * writes and estimates what is left by the share of offsets still in the log (retention,
 * deleteRecords). Records removed by compaction are not seen: compacted topics overstate.
 */
export function partitionSizes(bytesWritten: number, logStartOffset: number, highWatermark: number): { bytesWritten: number; retainedBytesEstimate: number } {
  const written = Math.max(0, bytesWritten);
  if (highWatermark <= 0) return { bytesWritten: written, retainedBytesEstimate: 0 };
  const retained = Math.max(0, highWatermark - logStartOffset);
  return { bytesWritten: written, retainedBytesEstimate: Math.round((written * retained) / highWatermark) };
}
