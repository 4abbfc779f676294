/**
 * What the broker core needs from storage. The core decides; the storage adapter
 * (shared/storage/) is the only code that knows DynamoDB item layouts and builds requests.
 */
import type { DynalogError } from "../errors.js";
import type { CompressionCodec } from "../record-batch.js";
import type { ConsumerInstanceStore } from "./consumer-instances.js";
import type { SubscriptionStore } from "./subscription-model.js";

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

export interface PartitionRef {
  readonly topicId: string;
  readonly partition: number;
}

/** The partition's counter item: the sequencer and the hints readers keep. */
export interface PartitionHead {
  /** False when the counter item is missing: the partition (topic incarnation) was deleted. */
  readonly exists: boolean;
  /** First offset not yet reserved. */
  readonly nextOffset: number;
  /** When the latest reservation was made (ms); 0 if never. */
  readonly reservedAt: number;
  /** Every offset below this is filled (batch or void). */
  readonly highWatermarkHint: number;
  /** Every offset below this is expired. */
  readonly logStartHint: number;
  /**
   * Record-blob bytes of every reservation ever made on the partition, less those given back
   * (approximate: a voided reservation still counts; see docs/api.md, describe topic).
   */
  readonly bytesWritten: number;
  /** The last compaction pass: every batch below `cleanedUpTo` was compacted then (absent = never). */
  readonly compaction?: CompactionCheckpoint;
}

export interface CompactionCheckpoint {
  readonly cleanedUpTo: number;
  readonly lastRunAt: number;
  /**
   * The pass read every batch below `cleanedUpTo` without a gap and rewrote every batch it meant to
   * (none changed under it): the range holds at most one record per key. Absent on checkpoints
   * written before this was recorded, which count as incomplete.
   */
  readonly complete?: boolean;
  /** The earliest delete horizon of a tombstone the pass kept: the next thing that can change with time alone. */
  readonly nextDeleteHorizon?: number;
  /** Records the pass kept below `cleanedUpTo` (the clean part's size, for the dirty ratio). */
  readonly retainedRecords?: number;
}

export interface BatchEntry {
  readonly kind: "batch";
  readonly baseOffset: number;
  readonly count: number;
  readonly codec: CompressionCodec;
  readonly blob: Uint8Array;
  readonly maxTimestamp: number;
  readonly appendTime: number;
  /**
   * Absent: the batch is dense, record i has offset baseOffset + i. Present (a compacted batch): the
   * offset of each record, ascending, inside [baseOffset, baseOffset + count).
   */
  readonly recordOffsets?: readonly number[];
  /** Times the compactor rewrote this item (0 = never): its rewrites are conditional on it. */
  readonly compactionVersion?: number;
  /** Set when a compaction first kept a tombstone of this batch: tombstones go once it has passed. */
  readonly deleteHorizon?: number;
  /** Set when a transactional commit wrote the batch: which transaction (its record: TransactionStore.readRecord). */
  readonly transaction?: TransactionRef;
  /** The producer id that wrote the batch: an idempotent producer's, or the transaction's. */
  readonly producerId?: number;
  /**
   * Set on a batch staged by a transaction too large for one TransactWriteItems (docs/transactions.md):
   * its records count only once that attempt's commit record exists (the mark stays after the
   * commit). Readers resolve it (staged-outcomes.ts) and never read past an undecided one.
   */
  readonly staged?: StagedMark;
}

/** Names one staging attempt of a large transaction: its decision record's key, and when it began. */
export interface StagedMark {
  readonly attempt: string;
  /** The broker's clock when the attempt began (before its reservations): its abort timeout runs from here. */
  readonly startedAt: number;
}

/** The decision on a staged attempt: committed (its records count) or aborted (they are voids). */
export type StagedDecision = "committed" | "aborted";

/**
 * Staged batches and the decision records of large transactions (docs/transactions.md). Exactly one
 * decision is ever written per attempt: the commit (in the commit's TransactWriteItems) and an abort
 * race with the same `attribute_not_exists` condition.
 */
export interface StagedTransactionStore {
  /** Put one staged batch item (write-once, like a batch): "slot-taken" when its offset already holds an item. */
  stage(ref: PartitionRef, batch: EncodedBatch, appendTime: number, expiresAtSeconds: number | undefined, mark: StagedMark, transaction?: TransactionRef): Promise<"staged" | "slot-taken">;
  /** The attempt's decision (strongly consistent), undefined while undecided. */
  readDecision(attempt: string): Promise<StagedDecision | undefined>;
  /** Write "aborted" unless a decision exists; returns the decision that holds (ours or the commit that won). */
  abort(attempt: string, expiresAtSeconds: number | undefined): Promise<StagedDecision>;
  /** The writer gives its attempt up: replace its staged item at `baseOffset` — or the empty slot — with a void over `count` offsets. */
  voidStaged(ref: PartitionRef, baseOffset: number, count: number, attempt: string, now: number, expiresAtSeconds?: number): Promise<void>;
}

export interface VoidEntry {
  readonly kind: "void";
  readonly baseOffset: number;
  readonly count: number;
  readonly appendTime: number;
}

export type LogEntry = BatchEntry | VoidEntry;

/** One write-once batch item to put, with its records already encoded (and maybe compressed). */
export interface EncodedBatch {
  readonly baseOffset: number;
  readonly count: number;
  readonly codec: CompressionCodec;
  readonly blob: Uint8Array;
  readonly maxTimestamp: number;
}

/** What an idempotent producer's append asserts about, and writes to, its per-partition state. */
export interface ProducerAppend {
  readonly producerId: number;
  readonly epoch: number;
  readonly baseSequence: number;
  readonly lastSequence: number;
  /**
   * Set for a write named by an idempotency key (ProduceInput.idempotencyKey) rather than by an
   * issued producer id (`producerId` is then 0, `epoch` 0, sequences from 0): its state is one
   * remembered batch per (partition, scoped key), written in the append's own transaction
   * (AppendRequest.idempotencyKey, keyed-append.ts) and ignored — then overwritten — once
   * `expiresAtSeconds` has passed.
   */
  readonly idempotencyKey?: IdempotencyKeyClaim;
}

/** A write's claim of an idempotency key (Upstash dialect), scoped to the caller. */
export interface IdempotencyKeyClaim {
  readonly scopedKey: string;
  readonly expiresAtSeconds: number;
  /** The append time records without their own timestamp carry: remembered so a duplicate answers it. */
  readonly appendTime: number;
}

/** A batch remembered in producer state, so a retry can get its original offsets back. */
export interface RememberedBatch {
  readonly epoch: number;
  readonly baseSequence: number;
  readonly lastSequence: number;
  readonly baseOffset: number;
}

export interface ProducerState {
  readonly epoch: number;
  readonly lastSequence: number;
  /** Oldest first, at most 5. */
  readonly recent: readonly RememberedBatch[];
  /** An idempotency key's state only: the append time of the write it names (its answer's timestamp). */
  readonly appendTime?: number;
}

/** What claiming an idempotent batch's sequence range did (docs/append.md). */
export type ClaimResult =
  /** Claimed at our reservation; `previous` = this epoch's claim right before ours, which must have landed before ours may. */
  | { readonly status: "claimed"; readonly previous?: RememberedBatch }
  /**
   * The continuity/epoch condition failed; `state` is the stored state (undefined = none). Nothing was
   * claimed — unless `retried` (the SDK sent the claim more than once) and the state shows our own claim.
   */
  | { readonly status: "mismatch"; readonly state: ProducerState | undefined; readonly retried: boolean };

export interface AppendRequest {
  readonly ref: PartitionRef;
  /** Written all or nothing: one PutItem, or one TransactWriteItems of Puts when there are several. */
  readonly batches: readonly EncodedBatch[];
  readonly appendTime: number;
  /** TTL (epoch seconds) for the items, or undefined to keep forever. */
  readonly expiresAtSeconds?: number;
  /** Distinguishes retries of the same reservation for DynamoDB's idempotency token. */
  readonly attempt: number;
  /** Unique per produce request: offsets may be handed out twice (a released reservation), tokens never. */
  readonly requestId?: string;
  /** The idempotent producer writing the batches: recorded on them (`pi`) for tracing. */
  readonly producerId?: number;
  /**
   * A write named by an idempotency key: the key's state item is claimed in ONE TransactWriteItems
   * with the batch items (both land or neither), conditioned on the key being free or expired.
   * Producer ids never come here: their sequences are claimed by a plain write (docs/append.md).
   */
  readonly idempotencyKey?: IdempotencyKeyClaim;
}

export type AppendResult =
  | { readonly status: "appended" }
  /** A reader voided our reservation (we were slower than the hole timeout). */
  | { readonly status: "slot-taken" }
  /**
   * Keyed appends only: the key is held by an unexpired earlier write; `state` is its stored state
   * (undefined = none after all). Nothing was written; `retried` = the SDK sent the request more
   * than once, so an earlier copy may still be in flight and the reservation must be voided.
   */
  | { readonly status: "key-taken"; readonly state: ProducerState | undefined; readonly retried: boolean }
  /** Concurrent transaction on the same items (AWS only): retry the same reservation. */
  | { readonly status: "conflict"; readonly retried: boolean };

export interface FillResult {
  /** Offsets [from, filledUpTo) are now voids. */
  readonly filledUpTo: number;
  /** True if a real batch blocked the fill at `filledUpTo`: re-read from there. */
  readonly blocked: boolean;
}

export interface LogStore {
  /** Strongly consistent. */
  readHead(ref: PartitionRef): Promise<PartitionHead>;
  readHeads(refs: readonly PartitionRef[]): Promise<PartitionHead[]>;
  /** Create the counter items of new partitions (before the topic becomes visible). */
  createPartitions(refs: readonly PartitionRef[]): Promise<void>;
  /** Create counter items that do not exist yet; an existing one (a retry) is left untouched. */
  addPartitions(refs: readonly PartitionRef[]): Promise<void>;
  /**
   * Reserve `count` offsets; returns the base offset of the range, or undefined if the partition
   * does not exist (its topic was deleted). Never fails on contention. `bytes` (the size of the
   * batches to be written) is added to the partition's bytes-written counter in the same write.
   */
  reserve(ref: PartitionRef, count: number, now: number, bytes?: number): Promise<number | undefined>;
  /**
   * Give an unused reservation back, so refused and duplicate requests leave no hole in the
   * offsets: succeeds only while it is still the latest reservation (nobody else knows its offsets).
   * Its `bytes` are taken off the bytes-written counter again.
   */
  releaseReservation(ref: PartitionRef, baseOffset: number, count: number, bytes?: number): Promise<boolean>;
  append(request: AppendRequest): Promise<AppendResult>;
  /** The writer voids its own failed reservation with one item. False if the slot is taken. */
  voidOwnReservation(ref: PartitionRef, baseOffset: number, count: number, now: number, expiresAtSeconds?: number): Promise<boolean>;
  /** The entry keyed exactly at `offset`, read consistently. */
  entryAt(ref: PartitionRef, offset: number): Promise<LogEntry | undefined>;
  /** The entry with the greatest base offset below `offset`. */
  entryBefore(ref: PartitionRef, offset: number): Promise<LogEntry | undefined>;
  /** Entries with base offset >= from, ascending; pages of at most `limit` entries. */
  /** Entries with base offset >= from (and < below, when given), at most `limit`; `more` when the Query stopped at its limit. */
  entriesFrom(ref: PartitionRef, from: number, limit: number, below?: number): Promise<{ entries: LogEntry[]; more: boolean }>;
  /** Void every offset in [from, to) one item per offset, in increasing order (DESIGN.md §1.4). */
  fillWithVoids(ref: PartitionRef, from: number, to: number, now: number, expiresAtSeconds?: number): Promise<FillResult>;
  /** Raise the stored hints monotonically (never lowers them). */
  raiseHints(ref: PartitionRef, hints: { highWatermark?: number; logStart?: number }): Promise<void>;
  /** Remove every item of the partition, the counter first so no new reservation succeeds. */
  purge(ref: PartitionRef): Promise<void>;
}

/** A compacted batch's new content; the item keeps its key, count, append time and TTL. */
export interface CompactedBatch {
  readonly codec: CompressionCodec;
  readonly blob: Uint8Array;
  readonly maxTimestamp: number;
  /** Each record's offset, ascending (the records are no longer dense). */
  readonly recordOffsets: readonly number[];
  readonly deleteHorizon?: number;
}

export interface CompactionStore {
  /**
   * Replace a batch item's records with `replacement` ("empty": the item becomes a void over the
   * same range, which readers step over). Only while the stored item is still the batch that was
   * read (same kind, count and compactionVersion): false when it changed or is gone.
   */
  rewriteBatch(ref: PartitionRef, read: BatchEntry, replacement: CompactedBatch | "empty"): Promise<boolean>;
  /** Record a finished pass on the partition's counter item (cleanedUpTo never moves back). */
  saveCheckpoint(ref: PartitionRef, checkpoint: CompactionCheckpoint): Promise<void>;
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

/**
 * What the broker recorded when it issued a producer id: who it was issued to and the highest
 * epoch issued so far. The binding (principal, transactional id) never changes; only the epoch
 * rises, and only when the broker re-initializes the transactional id.
 */
export interface ProducerIdIssue {
  readonly producerId: number;
  /** The principal that initialized it ("User:anonymous" with security off). */
  readonly principal: string;
  /** The transactional id it serves; undefined for a plain idempotent producer. */
  readonly transactionalId: string | undefined;
  readonly maxEpoch: number;
}

export interface ProducerStore {
  /** A fresh producer id (never reused), not yet issued to anyone. */
  allocateProducerId(): Promise<number>;
  /** A fresh idempotent producer id (epoch 0), recorded as issued to `principal`. */
  issueIdempotent(principal: string): Promise<number>;
  /** What was recorded when `producerId` was issued (strongly consistent); undefined = never issued. */
  readIssue(producerId: number): Promise<ProducerIdIssue | undefined>;
  /** Producer state of every producer of a partition, to purge on topic deletion. */
  purgePartition(ref: PartitionRef): Promise<void>;
  /**
   * Claim an idempotent batch's sequences at `baseOffset` (already reserved), conditioned on
   * continuity and epoch. One plain conditional write; the batch item is put afterwards.
   */
  claimSequence(ref: PartitionRef, producer: ProducerAppend, baseOffset: number): Promise<ClaimResult>;
  /** The producer's state on a partition (strongly consistent). */
  readSequenceState(ref: PartitionRef, producerId: number): Promise<ProducerState | undefined>;
  /**
   * Drop the claims `observed.recent[keep..]` (their slots are known void): the sequence goes back to
   * just before the first dropped one. False if the state is no longer `observed`.
   */
  rewindSequence(ref: PartitionRef, producerId: number, observed: ProducerState, keep: number): Promise<boolean>;
}

export interface CommittedOffset {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly metadata: string;
  readonly committedAt: number;
}

export interface OffsetCommit {
  readonly topic: string;
  readonly topicId: string;
  readonly partition: number;
  readonly offset: number;
  readonly metadata: string;
}

export interface OffsetStore {
  /**
   * Offsets are kept per topic INCARNATION (`topicId`): a commit made for a deleted incarnation
   * never touches the offsets of the topic recreated under the same name.
   *
   * With a member fence: ONE TransactWriteItems that also checks the member is current (exists,
   * not expired at `now`, epoch matches), all or nothing; a failed check throws UNKNOWN_MEMBER_ID /
   * FENCED_MEMBER_EPOCH / STALE_MEMBER_EPOCH. With an empty-group fence: TransactWriteItems of at
   * most MAX_FENCED_OFFSETS_PER_COMMIT Puts, each also checking the group item is still at the
   * version the caller saw without live members; a failed check throws CONCURRENT_TRANSACTIONS
   * (nothing of that transaction written; the caller reads the group again).
   */
  commit(group: string, offsets: readonly OffsetCommit[], now: number, fence: OffsetCommitFence): Promise<void>;
  /** Committed offsets of `group` for this incarnation of the topic (strongly consistent). */
  read(group: string, topic: string, topicId: string): Promise<CommittedOffset[]>;
  /** Every committed offset of `group`, of any topic incarnation (callers compare `topicId`; strongly consistent). */
  readAll(group: string): Promise<(CommittedOffset & { readonly topicId: string })[]>;
}

/** Where a committed transaction put one partition's records (remembered for retries). */
export interface TransactionPartitionResult {
  readonly topic: string;
  readonly partition: number;
  readonly baseOffset: number;
  readonly lastOffset: number;
}

/** The state of a transactional id: who owns it and which transaction comes next. */
export interface TransactionalState {
  readonly producerId: number;
  readonly epoch: number;
  readonly nextSequence: number;
  /** The last committed transaction's sequence and results, for answering its retries. */
  readonly lastResult: readonly TransactionPartitionResult[];
}

/** Everything one transaction writes, applied by one TransactWriteItems. */
export interface TransactionWrite {
  readonly transactional?: {
    readonly transactionalId: string;
    readonly producerId: number;
    readonly epoch: number;
    readonly sequence: number;
    readonly result: readonly TransactionPartitionResult[];
  };
  readonly partitions: readonly { readonly ref: PartitionRef; readonly batches: readonly EncodedBatch[]; readonly expiresAtSeconds?: number }[];
  /** The same transaction checks `fence`: the group member is current (KIP-447), or the group still has no live member. */
  readonly offsets?: { readonly group: string; readonly commits: readonly OffsetCommit[]; readonly fence: OffsetCommitFence };
  readonly appendTime: number;
  /** Idempotency token of this attempt (DynamoDB ClientRequestToken, 1-36 characters). */
  readonly token: string;
  /**
   * A large transaction's commit (docs/transactions.md): its batches were staged beforehand
   * (`partitions` is then empty) and this write puts the attempt's commit record instead, on
   * condition that no decision exists (an abort may have won the race).
   */
  readonly stagedCommit?: { readonly attempt: string; readonly expiresAtSeconds?: number };
}

export type TransactionWriteResult =
  | { readonly status: "committed" }
  | (TransactionRefusal & {
      /** The SDK sent the request more than once: an earlier copy may be in flight (void, never release). */
      readonly retried: boolean;
    });

/** Why a transaction was not committed; nothing was written. */
export type TransactionRefusal =
  /** The transactional id's condition failed; `state` is what is stored (undefined = unknown id). */
  | { readonly status: "transaction-state-mismatch"; readonly state: TransactionalState | undefined }
  /** A reader voided one of our reservations. */
  | { readonly status: "slot-taken" }
  /** A staged commit only: the attempt was aborted first (a reader judged it abandoned). */
  | { readonly status: "aborted" }
  /** Concurrent transaction on the same items (AWS only). */
  | { readonly status: "conflict" }
  /**
   * The offsets' group check failed: `error` says why (UNKNOWN_MEMBER_ID, STALE_MEMBER_EPOCH, …; for
   * a commit without a member, CONCURRENT_TRANSACTIONS: the group changed, maybe a member joined).
   */
  | { readonly status: "member-fenced"; readonly error: DynalogError };

export interface TransactionStore {
  /**
   * Register the transactional id or bump its epoch (fencing every older instance), recording the
   * producer id as issued to `principal` for this transactional id. When the epoch would pass
   * `maxEpoch`, or `principal` is not the one its current producer id was issued to, the id moves
   * to a fresh producer id (bindings never change).
   */
  initTransactional(transactionalId: string, principal: string, maxEpoch: number): Promise<{ producerId: number; epoch: number }>;
  read(transactionalId: string): Promise<TransactionalState | undefined>;
  commit(write: TransactionWrite): Promise<TransactionWriteResult>;
  /** The record of a committed transaction (docs/console.md, "Tracing a message"); undefined once expired. */
  readRecord(ref: TransactionRef): Promise<TransactionRecord | undefined>;
  /** The first transaction of `group` that committed an offset past `offset` of the partition: the one that consumed that record. */
  consumedBy(group: string, topicId: string, partition: number, offset: number): Promise<TransactionRecord | undefined>;
}

/** Names one committed transaction: the producer id and epoch of its transactional id, and its sequence in that epoch. */
export interface TransactionRef {
  readonly producerId: number;
  readonly epoch: number;
  readonly sequence: number;
}

/** What a committed transaction consumed and wrote, kept for tracing (TTL: TRANSACTION_RECORD_TTL_SECONDS). */
export interface TransactionRecord extends TransactionRef {
  readonly transactionalId: string;
  readonly committedAt: number;
  /** The group whose offsets it committed, when it committed any. */
  readonly group?: string;
  /** The offsets it committed: the next record to consume of each input partition. */
  readonly inputs: readonly { readonly topic: string; readonly topicId: string; readonly partition: number; readonly offset: number }[];
  readonly outputs: readonly TransactionPartitionResult[];
}

export interface Storage {
  readonly topics: TopicStore;
  readonly log: LogStore;
  readonly compaction: CompactionStore;
  readonly producers: ProducerStore;
  readonly offsets: OffsetStore;
  readonly transactions: TransactionStore;
  /** Large transactions' staged batches and decision records (docs/transactions.md). */
  readonly staged: StagedTransactionStore;
  readonly groups: GroupStore;
  /** Upstash-dialect consumer instances (consumer-instances.ts). */
  readonly consumerInstances: ConsumerInstanceStore;
  /** Push subscriptions and their per-partition dispatch state (subscription-model.ts). */
  readonly subscriptions: SubscriptionStore;
  /** Per-minute samples of topics and groups for the console's charts (history.ts). */
  readonly history: HistoryStore;
}

// --- history samples (shared/core/history.ts; items in shared/storage/history-store.ts) ---------

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

// --- consumer groups (shared/core/groups.ts and group-*.ts; items in shared/storage/group-store.ts) ----

/** Partitions by topic name, each list ascending. */
export type TopicPartitions = Readonly<Record<string, readonly number[]>>;

/** What a fenced offset commit asserts: this member, at this epoch, is current. */
export interface MemberFence {
  readonly memberId: string;
  readonly memberEpoch: number;
}

/**
 * What a commit without a member asserts: the group has no live member, as read at this version
 * of the group item (null: there is no group item). Every change that can add a live member
 * writes the group item (a join bumps the group epoch), so "still at this version" is checked in
 * the commit's own transaction — a member that joins meanwhile makes the commit fail, never lose
 * the member's own commits.
 */
export interface EmptyGroupFence {
  readonly emptyGroupVersion: number | null;
}

export type OffsetCommitFence = MemberFence | EmptyGroupFence;

export const isMemberFence = (fence: OffsetCommitFence): fence is MemberFence => "memberId" in fence;

/** A subscribed topic as the group last saw it: a change (new partitions, re-creation) rebalances. */
export interface SubscribedTopic {
  readonly topicId: string;
  readonly partitions: number;
}

/** The group item: epochs, the target assignment, and the metadata it was computed from. */
export interface GroupRecord {
  /** Bumped by every write of the group item; every change of ownership is checked against it. */
  readonly version: number;
  /** Bumped when membership, subscriptions or subscribed topics change (KIP-848's group epoch). */
  readonly groupEpoch: number;
  /** The group epoch the target assignment was computed for. */
  readonly assignmentEpoch: number;
  readonly assignor: string;
  /** memberId → the partitions the assignor wants it to own. */
  readonly target: Readonly<Record<string, TopicPartitions>>;
  /** The subscribed topics that exist, as of the last rebalance. */
  readonly metadata: Readonly<Record<string, SubscribedTopic>>;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** One member item: its lease (session), epoch and current assignment. */
export interface MemberRecord {
  readonly memberId: string;
  /** Static membership (KIP-345): the same instance gets its partitions back after a restart. */
  readonly instanceId?: string;
  readonly memberEpoch: number;
  /** The epoch before the last bump: a heartbeat retried after a lost response may still carry it. */
  readonly previousMemberEpoch: number;
  /** Subscribed topic names, sorted. */
  readonly subscription: readonly string[];
  readonly serverAssignor?: string;
  /** The partitions the member owns and may process (its current assignment). */
  readonly assigned: TopicPartitions;
  /** Partitions the member was asked to give up and has not yet confirmed released: still its own. */
  readonly revoking: TopicPartitions;
  readonly sessionTimeoutMs: number;
  readonly rebalanceTimeoutMs: number;
  readonly joinedAt: number;
  readonly lastHeartbeatAt: number;
  /** From this time on the member counts as gone (session timeout, or rebalance timeout while revoking). */
  readonly expiresAt: number;
  /** Set while revoking: the member is removed if it has not released the partitions by then. */
  readonly revocationDeadline?: number;
  /** A static member that left with epoch -2: its partitions stay reserved for its instance until expiresAt. */
  readonly leftAt?: number;
  /** Bumped by every write of the member item (optimistic concurrency). */
  readonly version: number;
}

export interface GroupSnapshot {
  readonly group: GroupRecord | undefined;
  readonly members: readonly MemberRecord[];
}

/** `expectedVersion: null` = the item must not exist yet. Records carry their NEW version. */
export type GroupItemWrite =
  | { readonly kind: "put"; readonly record: GroupRecord; readonly expectedVersion: number | null }
  | { readonly kind: "check"; readonly expectedVersion: number }
  | { readonly kind: "none" };

export interface GroupWrite {
  readonly group: GroupItemWrite;
  readonly putMembers: readonly { readonly record: MemberRecord; readonly expectedVersion: number | null }[];
  readonly deleteMembers: readonly { readonly memberId: string; readonly expectedVersion: number }[];
}

export interface StoredGroup {
  readonly group: string;
  readonly snapshot: GroupSnapshot;
  /** The group has committed offsets (a group may have offsets and no members, or neither item). */
  readonly hasOffsets: boolean;
}

export interface GroupStore {
  /** The group item and every member item, read consistently. */
  load(group: string): Promise<GroupSnapshot>;
  /** All or nothing; "conflict" when an expected version did not hold (someone else wrote first). */
  write(group: string, write: GroupWrite): Promise<"applied" | "conflict">;
  /** Every group that has a group item or committed offsets (a Scan: an admin operation). */
  list(): Promise<StoredGroup[]>;
  /**
   * Delete the group item (at `groupVersion`; null = there is none) and these member items (each at
   * its version) in one transaction, then every committed offset of the group. "conflict" (nothing
   * deleted) when any version no longer holds.
   */
  remove(group: string, groupVersion: number | null, members: readonly { readonly memberId: string; readonly expectedVersion: number }[]): Promise<"applied" | "conflict">;
}
