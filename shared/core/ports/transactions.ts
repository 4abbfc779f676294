/**
 * Transactions, and the staged batches of large ones (shared/core/transactions.ts, staged-commit.ts,
 * staged-outcomes.ts; items in shared/storage/transaction-store.ts, staged-transaction-store.ts).
 */
import type { DynalogError } from "../../errors.js";
import type { OffsetCommit, OffsetCommitFence } from "./offsets.js";
import type { EncodedBatch, PartitionRef, StagedMark, TransactionRef } from "./partition-items.js";

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
