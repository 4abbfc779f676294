/** Consumer groups (shared/core/groups.ts and group-*.ts; items in shared/storage/group-store.ts). */

/** Partitions by topic name, each list ascending. */
export type TopicPartitions = Readonly<Record<string, readonly number[]>>;

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

