/**
 * The consumer-group membership state machine, pure (see groups.ts for the protocol): a workspace
 * opened on a snapshot of the group, lazy expiry, settling (group epoch bump and reassignment when
 * membership, subscriptions, metadata or the chosen assignor change), one member's reconciliation
 * toward its target, and the member and group states describe and list report.
 */
import type { GroupRecord, GroupSnapshot, MemberRecord, SubscribedTopic, TopicPartitions } from "./ports.js";
import { assignPartitions, chooseAssignor } from "./group-assignors.js";
import { byString, fromKeys, keySet, partitionKey, sameSet, type TopicPartitionList } from "./group-partitions.js";

/** KIP-848's member states, plus Left for a static member that left with epoch -2. */
export type MemberState = "Stable" | "UnrevokedPartitions" | "UnreleasedPartitions" | "Left";
export type GroupState = "Empty" | "Stable" | "Reconciling";

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** A decision's working copy of the group: what it changes, and what it read (for the conditional write). */
export interface Workspace {
  readonly now: number;
  readonly existed: boolean;
  readonly original: GroupRecord | undefined;
  group: Mutable<GroupRecord>;
  readonly members: Map<string, MemberRecord>;
  readonly originals: ReadonlyMap<string, MemberRecord>;
  readonly removed: MemberRecord[];
  groupChanged: boolean;
  rebalance: boolean;
}

/** A workspace over `snapshot`; an absent group item opens as a new, empty group (epoch 0). */
export function openWorkspace(snapshot: GroupSnapshot, now: number): Workspace {
  const group: Mutable<GroupRecord> = snapshot.group
    ? { ...snapshot.group }
    : { version: 0, groupEpoch: 0, assignmentEpoch: 0, assignor: "uniform", target: {}, metadata: {}, createdAt: now, updatedAt: now };
  return {
    now,
    existed: snapshot.group !== undefined,
    original: snapshot.group,
    group,
    members: new Map(snapshot.members.map((m) => [m.memberId, m])),
    originals: new Map(snapshot.members.map((m) => [m.memberId, m])),
    removed: [],
    groupChanged: false,
    rebalance: false,
  };
}

/** Remove every member whose lease ran out (session timeout, or rebalance timeout while revoking). */
export function expireMembers(ws: Workspace, keep?: string): void {
  for (const m of [...ws.members.values()]) {
    if (m.memberId !== keep && m.expiresAt <= ws.now) dropMember(ws, m.memberId);
  }
}

/** Take a member out of the group: the write deletes the item it was read from, and the group rebalances. */
export function dropMember(ws: Workspace, memberId: string): void {
  const original = ws.originals.get(memberId);
  ws.members.delete(memberId);
  if (original && !ws.removed.some((r) => r.memberId === memberId)) ws.removed.push(original);
  ws.rebalance = true;
}

/** Detect metadata changes and, when anything calls for it, bump the group epoch and reassign. */
export function settle(ws: Workspace, metadata: ReadonlyMap<string, SubscribedTopic | undefined>): void {
  const subscribed = new Set<string>();
  for (const m of ws.members.values()) for (const t of m.subscription) subscribed.add(t);
  const current: Record<string, SubscribedTopic> = {};
  for (const topic of [...subscribed].sort(byString)) {
    const known = metadata.has(topic) ? metadata.get(topic) : ws.group.metadata[topic];
    if (known) current[topic] = { topicId: known.topicId, partitions: known.partitions };
  }
  if (!sameMetadata(current, ws.group.metadata)) ws.rebalance = true;
  // Self-healing: the target must name exactly the members (the assignor lists every member).
  const targeted = Object.keys(ws.group.target);
  if (targeted.length !== ws.members.size || targeted.some((id) => !ws.members.has(id))) ws.rebalance = true;
  const assignor = chooseAssignor(ws.members.values());
  if (assignor !== ws.group.assignor && ws.members.size > 0) ws.rebalance = true;
  if (!ws.rebalance) return;
  const previous: Record<string, TopicPartitions> = {};
  for (const [id, assignment] of Object.entries(ws.group.target)) if (ws.members.has(id)) previous[id] = assignment;
  const topics: Record<string, number> = {};
  for (const [topic, m] of Object.entries(current)) topics[topic] = m.partitions;
  ws.group.groupEpoch += 1;
  ws.group.assignmentEpoch = ws.group.groupEpoch;
  ws.group.metadata = current;
  ws.group.assignor = assignor;
  ws.group.target = assignPartitions(assignor, { members: [...ws.members.values()], topics, previous });
  ws.groupChanged = true;
}

function sameMetadata(a: Readonly<Record<string, SubscribedTopic>>, b: Readonly<Record<string, SubscribedTopic>>): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((t) => b[t] !== undefined && b[t]!.topicId === a[t]!.topicId && b[t]!.partitions === a[t]!.partitions);
}

/** Partitions owned (assigned or still being revoked) by members other than `except`. */
function ownedByOthers(members: ReadonlyMap<string, MemberRecord>, except: string): Set<string> {
  const taken = new Set<string>();
  for (const m of members.values()) {
    if (m.memberId === except) continue;
    for (const k of keySet(m.assigned)) taken.add(k);
    for (const k of keySet(m.revoking)) taken.add(k);
  }
  return taken;
}

/**
 * Move one member toward its target (KIP-848's reconciliation, done on that member's heartbeat):
 * first it must release what it is revoking; then partitions outside its target become revoking
 * (epoch unchanged, so its commits for them still count); once nothing is left to revoke it takes
 * the new epoch and every target partition no other member owns.
 */
export function reconcile(member: MemberRecord, group: GroupRecord, members: ReadonlyMap<string, MemberRecord>, owned: readonly TopicPartitionList[] | undefined, now: number): MemberRecord {
  const target = keySet(group.target[member.memberId]);
  let assigned = keySet(member.assigned);
  let revoking = keySet(member.revoking);
  let { memberEpoch, previousMemberEpoch, revocationDeadline } = member;
  if (revoking.size > 0) {
    const stillOwned = owned === undefined ? revoking : new Set(owned.flatMap((tp) => tp.partitions.map((p) => partitionKey(tp.topic, p))));
    if ([...revoking].some((k) => stillOwned.has(k))) return member;
    revoking = new Set();
    revocationDeadline = undefined;
  }
  if (memberEpoch !== group.assignmentEpoch || !sameSet(assigned, target)) {
    const drop = [...assigned].filter((k) => !target.has(k));
    if (drop.length > 0) {
      assigned = new Set([...assigned].filter((k) => target.has(k)));
      revoking = new Set(drop);
      revocationDeadline = now + member.rebalanceTimeoutMs;
    } else {
      if (memberEpoch !== group.assignmentEpoch) {
        previousMemberEpoch = memberEpoch;
        memberEpoch = group.assignmentEpoch;
      }
      const taken = ownedByOthers(members, member.memberId);
      for (const k of target) if (!assigned.has(k) && !taken.has(k)) assigned.add(k);
    }
  }
  return { ...member, memberEpoch, previousMemberEpoch, assigned: fromKeys(assigned), revoking: fromKeys(revoking), revocationDeadline };
}

/** The lease: gone after the session timeout, or at the revocation deadline if that comes first. */
export function renewLease(member: MemberRecord, now: number): MemberRecord {
  const sessionEnd = now + member.sessionTimeoutMs;
  const expiresAt = member.revocationDeadline !== undefined && keySet(member.revoking).size > 0 ? Math.min(sessionEnd, member.revocationDeadline) : sessionEnd;
  return { ...member, lastHeartbeatAt: now, expiresAt };
}

export function memberState(member: MemberRecord, group: GroupRecord | undefined): MemberState {
  if (member.leftAt !== undefined) return "Left";
  if (keySet(member.revoking).size > 0) return "UnrevokedPartitions";
  const target = keySet(group?.target[member.memberId]);
  const assigned = keySet(member.assigned);
  if ([...assigned].some((k) => !target.has(k))) return "UnrevokedPartitions";
  return assigned.size === target.size ? "Stable" : "UnreleasedPartitions";
}

export function groupState(group: GroupRecord | undefined, members: Iterable<MemberRecord>): GroupState {
  const list = [...members];
  if (list.length === 0) return "Empty";
  const settled = list.every((m) => {
    const state = memberState(m, group);
    return state === "Stable" || (state === "Left" && sameSet(keySet(m.assigned), keySet(group?.target[m.memberId])));
  });
  return settled ? "Stable" : "Reconciling";
}

/** Members whose lease has not run out (including static members that left and still hold a reservation). */
export function liveMembers(snapshot: GroupSnapshot, now: number): MemberRecord[] {
  return snapshot.members.filter((m) => m.expiresAt > now);
}

/**
 * The group as the next group call will leave it (expired members removed, target recomputed if
 * that or a metadata change calls for it), without writing anything: what describe reports.
 */
export function settledView(snapshot: GroupSnapshot, now: number, metadata: ReadonlyMap<string, SubscribedTopic | undefined>): { group: GroupRecord | undefined; members: MemberRecord[] } {
  const ws = openWorkspace(snapshot, now);
  expireMembers(ws);
  if (ws.existed) settle(ws, metadata);
  return { group: ws.existed ? ws.group : undefined, members: [...ws.members.values()] };
}
