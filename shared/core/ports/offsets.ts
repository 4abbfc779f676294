/**
 * Committed offsets and the fences a commit checks against the group (validated in
 * shared/core/offsets.ts, committed by groups.ts and transactions.ts; items in
 * shared/storage/offset-store.ts).
 */

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
