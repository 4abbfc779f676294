/**
 * One consumer-group heartbeat, pure (see groups.ts for the protocol): the request and response
 * types, their validation, and `decideHeartbeat` — join, leave, heartbeat against a snapshot — with
 * the conditional write that makes its answer true.
 */
import { DynalogError } from "../errors.js";
import {
  DEFAULT_REBALANCE_TIMEOUT_MS,
  DEFAULT_SESSION_TIMEOUT_MS,
  INSTANCE_ID_PATTERN,
  MAX_GROUP_MEMBERS,
  MAX_HEARTBEAT_INTERVAL_MS,
  MAX_REBALANCE_TIMEOUT_MS,
  MAX_SESSION_TIMEOUT_MS,
  MAX_SUBSCRIBED_TOPICS,
  MEMBER_ID_PATTERN,
  MIN_REBALANCE_TIMEOUT_MS,
  MIN_SESSION_TIMEOUT_MS,
} from "../limits.js";
import { ASSIGNORS, isAssignor } from "./group-assignors.js";
import { dropMember, expireMembers, memberState, openWorkspace, reconcile, renewLease, settle, type MemberState, type Workspace } from "./group-members.js";
import { byString, keySet, partitionKey, sameSet, toPartitionList, type TopicPartitionList } from "./group-partitions.js";
import type { GroupSnapshot, GroupWrite, MemberRecord, SubscribedTopic } from "./ports.js";
import { validateTopicName } from "./topics.js";

/** Kafka's member epochs for joining and leaving (KIP-848). */
export const JOIN_EPOCH = 0;
export const LEAVE_EPOCH = -1;
export const STATIC_LEAVE_EPOCH = -2;

export interface HeartbeatInput {
  /** Absent on a join: the broker makes one. Clients should send their own (a retried join then stays one member). */
  readonly memberId?: string;
  /** 0 = join, -1 = leave, -2 = static leave, otherwise the epoch the last response gave. */
  readonly memberEpoch: number;
  readonly instanceId?: string;
  /** The subscription; required on a join, otherwise only when it changes. */
  readonly topics?: readonly string[];
  readonly serverAssignor?: string;
  readonly sessionTimeoutMs?: number;
  readonly rebalanceTimeoutMs?: number;
  /** What the member owns now; a heartbeat that no longer lists revoked partitions releases them. */
  readonly ownedPartitions?: readonly TopicPartitionList[];
}

export interface HeartbeatResult {
  readonly memberId: string;
  /** -1 / -2 after a leave. */
  readonly memberEpoch: number;
  readonly groupEpoch: number;
  /** Heartbeat this often (never more than a third of the session timeout). */
  readonly heartbeatIntervalMs: number;
  readonly memberState: MemberState;
  /** The partitions the member owns now: process these; stop and commit anything owned that is not listed. */
  readonly assignment: readonly TopicPartitionList[];
}

export interface HeartbeatDecision {
  /** undefined: nothing to write. */
  readonly write: GroupWrite | undefined;
  readonly result: HeartbeatResult;
}

export interface DecisionEnvironment {
  readonly now: number;
  /** Every topic any member (or the request) subscribes to; undefined = the topic does not exist. */
  readonly metadata: ReadonlyMap<string, SubscribedTopic | undefined>;
  /** The id a join without memberId gets. */
  readonly newMemberId: string;
}

export function heartbeatIntervalMs(sessionTimeoutMs: number): number {
  return Math.min(MAX_HEARTBEAT_INTERVAL_MS, Math.floor(sessionTimeoutMs / 3));
}

/** Shape and range checks of a heartbeat; returns it normalized (sorted, de-duplicated subscription). */
export function validateHeartbeat(input: HeartbeatInput): HeartbeatInput {
  const epoch = input.memberEpoch;
  if (!Number.isInteger(epoch) || epoch < STATIC_LEAVE_EPOCH) {
    throw new DynalogError("INVALID_REQUEST", `memberEpoch must be 0 (join), -1 (leave), -2 (static leave) or the epoch the broker gave, got ${epoch}`);
  }
  if (input.memberId !== undefined && !MEMBER_ID_PATTERN.test(input.memberId)) {
    throw new DynalogError("INVALID_REQUEST", "memberId must be 1-64 characters of a-z, A-Z, 0-9, '.', '_', '-', ':' and '@'", { details: { field: "memberId" } });
  }
  if (epoch !== JOIN_EPOCH && input.memberId === undefined) throw new DynalogError("INVALID_REQUEST", "memberId is required unless joining (memberEpoch 0)");
  if (input.instanceId !== undefined && !INSTANCE_ID_PATTERN.test(input.instanceId)) {
    throw new DynalogError("INVALID_REQUEST", "instanceId must be 1-255 characters of a-z, A-Z, 0-9, '.', '_', '-', ':' and '@'", { details: { field: "instanceId" } });
  }
  if (epoch === JOIN_EPOCH && input.topics === undefined) throw new DynalogError("INVALID_REQUEST", "A join (memberEpoch 0) needs topics: the subscription");
  let topics: string[] | undefined;
  if (input.topics !== undefined) {
    topics = [...new Set(input.topics)].sort(byString);
    if (topics.length > MAX_SUBSCRIBED_TOPICS) {
      throw new DynalogError("INVALID_REQUEST", `A member subscribes to at most ${MAX_SUBSCRIBED_TOPICS} topics, got ${topics.length}`, { details: { limit: MAX_SUBSCRIBED_TOPICS } });
    }
    for (const topic of topics) validateTopicName(topic);
  }
  if (input.serverAssignor !== undefined && !isAssignor(input.serverAssignor)) {
    throw new DynalogError("UNSUPPORTED_ASSIGNOR", `serverAssignor must be one of ${ASSIGNORS.join(", ")}, got '${input.serverAssignor.slice(0, 100)}'`, {
      details: { serverAssignor: input.serverAssignor.slice(0, 100), supported: [...ASSIGNORS] },
    });
  }
  checkTimeout("sessionTimeoutMs", input.sessionTimeoutMs, MIN_SESSION_TIMEOUT_MS, MAX_SESSION_TIMEOUT_MS);
  checkTimeout("rebalanceTimeoutMs", input.rebalanceTimeoutMs, MIN_REBALANCE_TIMEOUT_MS, MAX_REBALANCE_TIMEOUT_MS);
  for (const tp of input.ownedPartitions ?? []) {
    if (tp.partitions.some((p) => !Number.isInteger(p) || p < 0)) {
      throw new DynalogError("INVALID_REQUEST", `ownedPartitions of '${tp.topic.slice(0, 100)}' must be non-negative integers`);
    }
  }
  return { ...input, topics };
}

function checkTimeout(field: string, value: number | undefined, min: number, max: number): void {
  if (value !== undefined && (!Number.isInteger(value) || value < min || value > max)) {
    throw new DynalogError("INVALID_SESSION_TIMEOUT", `${field} must be an integer from ${min} to ${max}, got ${value}`, { details: { field, min, max } });
  }
}

const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * One heartbeat against a snapshot of the group: the response and the conditional write that makes
 * it true (undefined if nothing changes). Pure: the caller reads, decides, writes, and on a
 * conflict reads again. `input` must have passed `validateHeartbeat`.
 */
export function decideHeartbeat(group: string, snapshot: GroupSnapshot, input: HeartbeatInput, env: DecisionEnvironment): HeartbeatDecision {
  const ws = openWorkspace(snapshot, env.now);
  const now = env.now;
  const epoch = input.memberEpoch;
  let caller: MemberRecord | undefined;
  let callerOriginal: MemberRecord | undefined;

  // Static membership: a join with an instance id whose member left (-2) or expired takes its place.
  let successor: MemberRecord | undefined;
  if (epoch === JOIN_EPOCH && input.instanceId !== undefined) {
    const holder = [...ws.members.values()].find((m) => m.instanceId === input.instanceId && m.memberId !== input.memberId);
    if (holder) {
      if (holder.leftAt === undefined && holder.expiresAt > now) {
        throw new DynalogError("UNRELEASED_INSTANCE_ID", `Instance id '${input.instanceId}' of group '${group}' is held by live member '${holder.memberId}'; retry once it has left (memberEpoch -2) or its session expired`, {
          details: { group, instanceId: input.instanceId, memberId: holder.memberId, expiresAt: holder.expiresAt },
        });
      }
      successor = holder;
    }
  }
  expireMembers(ws, successor?.memberId);

  if (epoch === JOIN_EPOCH) {
    const memberId = input.memberId ?? env.newMemberId;
    const existing = ws.members.get(memberId);
    const subscription = input.topics!;
    if (existing) {
      // A retried join or a rejoin: the member keeps its assignment; it holds nothing it was revoking.
      if (input.instanceId !== existing.instanceId) {
        throw new DynalogError("INVALID_REQUEST", `Member '${memberId}' joined with instanceId ${existing.instanceId === undefined ? "none" : `'${existing.instanceId}'`}; a rejoin must keep it`);
      }
      callerOriginal = existing;
      caller = withSettings({ ...existing, leftAt: undefined, revoking: {}, revocationDeadline: undefined }, input);
      if (!sameList(existing.subscription, subscription) || existing.serverAssignor !== caller.serverAssignor) ws.rebalance = true;
    } else if (successor) {
      ws.members.delete(successor.memberId);
      ws.removed.push(successor);
      const target = { ...ws.group.target };
      if (target[successor.memberId]) {
        target[memberId] = target[successor.memberId]!;
        delete target[successor.memberId];
      }
      ws.group.target = target;
      ws.groupChanged = true;
      caller = withSettings(
        { ...successor, memberId, version: 0, joinedAt: now, leftAt: undefined, revoking: {}, revocationDeadline: undefined, previousMemberEpoch: successor.memberEpoch, serverAssignor: undefined },
        input,
      );
      if (!sameList(successor.subscription, subscription) || successor.serverAssignor !== caller.serverAssignor) ws.rebalance = true;
    } else {
      if (ws.members.size >= MAX_GROUP_MEMBERS) {
        throw new DynalogError("GROUP_MAX_SIZE_REACHED", `Group '${group}' has ${ws.members.size} members; the maximum is ${MAX_GROUP_MEMBERS}`, { details: { group, limit: MAX_GROUP_MEMBERS } });
      }
      caller = withSettings(
        {
          memberId,
          instanceId: input.instanceId,
          memberEpoch: 0,
          previousMemberEpoch: 0,
          subscription,
          assigned: {},
          revoking: {},
          sessionTimeoutMs: DEFAULT_SESSION_TIMEOUT_MS,
          rebalanceTimeoutMs: DEFAULT_REBALANCE_TIMEOUT_MS,
          joinedAt: now,
          lastHeartbeatAt: now,
          expiresAt: now,
          version: 0,
        },
        input,
      );
      ws.rebalance = true;
    }
    ws.members.set(memberId, caller);
  } else if (epoch === LEAVE_EPOCH || epoch === STATIC_LEAVE_EPOCH) {
    const memberId = input.memberId!;
    const member = ws.members.get(memberId);
    if (member && epoch === STATIC_LEAVE_EPOCH && member.instanceId !== undefined) {
      // Reserved for the instance until its session ends: no rebalance unless it never returns.
      callerOriginal = member;
      caller = { ...member, leftAt: now, revoking: {}, revocationDeadline: undefined, lastHeartbeatAt: now, expiresAt: now + member.sessionTimeoutMs };
      ws.members.set(memberId, caller);
    } else if (member) {
      dropMember(ws, memberId);
    }
    // Leaving twice (a retry after a lost response) or after expiry is fine: the member is gone.
  } else {
    const memberId = input.memberId!;
    const member = ws.members.get(memberId);
    if (!member) {
      const expired = ws.removed.some((m) => m.memberId === memberId);
      throw new DynalogError(
        "UNKNOWN_MEMBER_ID",
        expired
          ? `Member '${memberId}' of group '${group}' missed its session (or rebalance) timeout and was removed; rejoin with memberEpoch 0`
          : `Member '${memberId}' is not in group '${group}'; join with memberEpoch 0`,
        { details: { group, memberId } },
      );
    }
    if (member.leftAt !== undefined) {
      throw new DynalogError("UNKNOWN_MEMBER_ID", `Member '${memberId}' left group '${group}'; rejoin with memberEpoch 0`, { details: { group, memberId } });
    }
    if (input.instanceId !== undefined && input.instanceId !== member.instanceId) {
      throw new DynalogError("INVALID_REQUEST", `Member '${memberId}' has instanceId ${member.instanceId === undefined ? "none" : `'${member.instanceId}'`}, not '${input.instanceId}'`);
    }
    if (epoch !== member.memberEpoch) {
      // A response that bumped the epoch may have been lost: the previous epoch is still accepted
      // when the member claims nothing it no longer has.
      const assignedOrRevoking = new Set([...keySet(member.assigned), ...keySet(member.revoking)]);
      const claims = (input.ownedPartitions ?? []).flatMap((tp) => tp.partitions.map((p) => partitionKey(tp.topic, p)));
      if (epoch !== member.previousMemberEpoch || !claims.every((k) => assignedOrRevoking.has(k))) {
        throw new DynalogError("FENCED_MEMBER_EPOCH", `Member '${memberId}' of group '${group}' is at epoch ${member.memberEpoch}, not ${epoch}; rejoin with memberEpoch 0`, {
          details: { group, memberId, memberEpoch: epoch, currentMemberEpoch: member.memberEpoch },
        });
      }
    }
    callerOriginal = member;
    caller = withSettings(member, input);
    if ((input.topics !== undefined && !sameList(member.subscription, caller.subscription)) || caller.serverAssignor !== member.serverAssignor) ws.rebalance = true;
    ws.members.set(memberId, caller);
  }

  if (!ws.existed && caller === undefined) {
    // Leaving a group that does not exist: nothing to do.
    return { write: undefined, result: leftResult(input, 0) };
  }
  settle(ws, env.metadata);

  if (caller && caller.leftAt === undefined) {
    caller = renewLease(reconcile(caller, ws.group, ws.members, input.ownedPartitions, now), now);
    ws.members.set(caller.memberId, caller);
  }

  const write = buildWrite(ws, caller, callerOriginal);
  const result: HeartbeatResult =
    caller && caller.leftAt === undefined
      ? {
          memberId: caller.memberId,
          memberEpoch: caller.memberEpoch,
          groupEpoch: ws.group.groupEpoch,
          heartbeatIntervalMs: heartbeatIntervalMs(caller.sessionTimeoutMs),
          memberState: memberState(caller, ws.group),
          assignment: toPartitionList(caller.assigned),
        }
      : leftResult(input, ws.group.groupEpoch);
  return { write, result };
}

function leftResult(input: HeartbeatInput, groupEpoch: number): HeartbeatResult {
  return { memberId: input.memberId!, memberEpoch: input.memberEpoch, groupEpoch, heartbeatIntervalMs: 0, memberState: "Left", assignment: [] };
}

function withSettings(member: MemberRecord, input: HeartbeatInput): MemberRecord {
  return {
    ...member,
    subscription: input.topics ?? member.subscription,
    serverAssignor: input.serverAssignor ?? member.serverAssignor,
    sessionTimeoutMs: input.sessionTimeoutMs ?? member.sessionTimeoutMs,
    rebalanceTimeoutMs: input.rebalanceTimeoutMs ?? member.rebalanceTimeoutMs,
  };
}

function ownershipChanged(before: MemberRecord | undefined, after: MemberRecord): boolean {
  if (!before) return true;
  return (
    before.memberEpoch !== after.memberEpoch ||
    !sameSet(keySet(before.assigned), keySet(after.assigned)) ||
    !sameSet(keySet(before.revoking), keySet(after.revoking))
  );
}

function buildWrite(ws: Workspace, caller: MemberRecord | undefined, callerOriginal: MemberRecord | undefined): GroupWrite | undefined {
  const putMembers: { record: MemberRecord; expectedVersion: number | null }[] = [];
  // A member that expired and rejoins under the same id is overwritten, not deleted and re-put.
  const replaced = caller && ws.removed.find((m) => m.memberId === caller.memberId);
  if (caller) {
    const expectedVersion = callerOriginal && callerOriginal.memberId === caller.memberId ? callerOriginal.version : replaced ? replaced.version : null;
    putMembers.push({ record: { ...caller, version: (expectedVersion ?? 0) + 1 }, expectedVersion });
  }
  const deleteMembers = ws.removed.filter((m) => m !== replaced).map((m) => ({ memberId: m.memberId, expectedVersion: m.version }));
  let groupWrite: GroupWrite["group"] = { kind: "none" };
  if (ws.groupChanged || ws.removed.length > 0 || (!ws.existed && caller)) {
    groupWrite = { kind: "put", record: { ...ws.group, version: ws.group.version + 1, updatedAt: ws.now }, expectedVersion: ws.existed ? ws.original!.version : null };
  } else if (caller && ownershipChanged(callerOriginal, caller) && ws.existed) {
    // Taking (or giving up) partitions is decided on this snapshot: it must still be current.
    groupWrite = { kind: "check", expectedVersion: ws.original!.version };
  }
  if (groupWrite.kind === "none" && putMembers.length === 0 && deleteMembers.length === 0) return undefined;
  return { group: groupWrite, putMembers, deleteMembers };
}
