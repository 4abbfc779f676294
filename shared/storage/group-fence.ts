/**
 * The ConditionChecks that fence an offset commit by a consumer group's state, for the stores whose
 * transactions write offsets (offset-store.ts: commits; transaction-store.ts: a transaction's
 * offsets). The items they check are the group store's (group-store.ts has their layout).
 *
 * `memberFencingCheck(tables, fence, now)` builds the ConditionCheck action to put into a
 * TransactWriteItems next to the offset Puts: it holds only if the member item exists, its epoch
 * equals `fence.memberEpoch`, its lease has not expired at `now` (`x > now`, which also covers a
 * missed rebalance timeout) and it has not left. It asks for ALL_OLD on failure.
 *
 * `memberFencingError(oldItem, fence, now)` turns that action's cancellation reason into the
 * DynalogError to answer: pass `CancelledAction.oldItem` from dynamo-errors.ts `cancelledActions`
 * (already unmarshalled; undefined when the member item does not exist). No member / left / expired
 * → UNKNOWN_MEMBER_ID; stored epoch newer → STALE_MEMBER_EPOCH; older → FENCED_MEMBER_EPOCH.
 * Without a memberId, the refusal of commits to an active group (NON_EMPTY_GROUP) is the core's
 * job (shared/core/groups.ts `offsetCommitFence`, with group-members.ts `liveMembers`) on a
 * consistent read; `emptyGroupCheck(tables, group, version)` makes that read part of the write: a
 * ConditionCheck that the group item is still at the version read (or still absent). Every write
 * that can add a live member writes the group item (a new member, or a successor of a static
 * member, bumps the group epoch; a member whose lease ran out is removed with a group write before
 * it could rejoin), so a join that lands between the read and the commit makes the commit's
 * transaction fail instead of overwriting the new member's offsets. `offsetFenceCheck` /
 * `offsetFenceError` pick the check for either fence.
 */
import { isMemberFence, type MemberFence, type OffsetCommitFence } from "../core/ports.js";
import { DynalogError } from "../errors.js";
import { GROUP_SK, groupPartitionKey, memberSortKey, versionCondition } from "./group-store.js";
import type { TableNames } from "./tables.js";

type Item = Record<string, unknown>;

/** A member fence for a group, as the exactly-once path has it at hand. */
export interface GroupMemberFence extends MemberFence {
  readonly group: string;
}

/**
 * The ConditionCheck that fences a transactional write by group membership (KIP-447 style): see
 * the top of this file. `now` is the broker's clock (ctx.clock()).
 */
export function memberFencingCheck(tables: TableNames, fence: GroupMemberFence, now: number): { ConditionCheck: Record<string, unknown> } {
  return {
    ConditionCheck: {
      TableName: tables.offsets,
      Key: { pk: groupPartitionKey(fence.group), sk: memberSortKey(fence.memberId) },
      ConditionExpression: "attribute_exists(sk) AND e = :e AND x > :now AND attribute_not_exists(lft)",
      ExpressionAttributeValues: { ":e": fence.memberEpoch, ":now": now },
      ReturnValuesOnConditionCheckFailure: "ALL_OLD",
    },
  };
}

/** The refusal for a failed `memberFencingCheck`, from the member item as it was (see the top of this file). */
export function memberFencingError(oldItem: Item | undefined, fence: GroupMemberFence, now: number): DynalogError {
  const details = { group: fence.group, memberId: fence.memberId, memberEpoch: fence.memberEpoch };
  const who = `Member '${fence.memberId}' of group '${fence.group}'`;
  if (!oldItem || typeof oldItem["e"] !== "number") {
    return new DynalogError("UNKNOWN_MEMBER_ID", `${who} is not in the group (it left, was removed after its session expired, or never joined); rejoin with memberEpoch 0`, { details });
  }
  if (oldItem["lft"] !== undefined) {
    return new DynalogError("UNKNOWN_MEMBER_ID", `${who} left the group; rejoin with memberEpoch 0`, { details });
  }
  if (typeof oldItem["x"] === "number" && oldItem["x"] <= now) {
    return new DynalogError("UNKNOWN_MEMBER_ID", `${who} missed its session (or rebalance) timeout and no longer owns partitions; rejoin with memberEpoch 0`, {
      details: { ...details, expiredAt: oldItem["x"] },
    });
  }
  const current = oldItem["e"];
  if (current > fence.memberEpoch) {
    return new DynalogError("STALE_MEMBER_EPOCH", `${who} is at epoch ${current}, not ${fence.memberEpoch}; heartbeat for the current epoch and commit what it still owns`, {
      details: { ...details, currentMemberEpoch: current },
    });
  }
  if (current < fence.memberEpoch) {
    return new DynalogError("FENCED_MEMBER_EPOCH", `${who} was never given epoch ${fence.memberEpoch} (current: ${current}); rejoin with memberEpoch 0`, {
      details: { ...details, currentMemberEpoch: current },
    });
  }
  // The item as returned satisfies the check: it changed between the check and the read.
  return new DynalogError("CONCURRENT_TRANSACTIONS", `${who} changed while the commit was checked; nothing was written, retry`, { details });
}

/** The ConditionCheck of a commit without a member: the group item is still at `version` (null: still absent). */
export function emptyGroupCheck(tables: TableNames, group: string, version: number | null): { ConditionCheck: Record<string, unknown> } {
  return {
    ConditionCheck: {
      TableName: tables.offsets,
      Key: { pk: groupPartitionKey(group), sk: GROUP_SK },
      ...versionCondition(version),
    },
  };
}

/** The check that guards an offset commit's Puts, for either kind of fence. */
export function offsetFenceCheck(tables: TableNames, group: string, fence: OffsetCommitFence, now: number): { ConditionCheck: Record<string, unknown> } {
  return isMemberFence(fence) ? memberFencingCheck(tables, { group, ...fence }, now) : emptyGroupCheck(tables, group, fence.emptyGroupVersion);
}

/** The refusal for a failed `offsetFenceCheck` (`oldItem` as in `memberFencingError`). */
export function offsetFenceError(oldItem: Item | undefined, group: string, fence: OffsetCommitFence, now: number): DynalogError {
  if (isMemberFence(fence)) return memberFencingError(oldItem, { group, ...fence }, now);
  return new DynalogError("CONCURRENT_TRANSACTIONS", `Group '${group}' changed while this commit without memberId was checked (a member may have joined); nothing was written. Retry: it is refused with NON_EMPTY_GROUP if the group now has live members`, {
    details: { group },
  });
}
