/**
 * Consumer groups in the style of Kafka's KIP-848 ("the next generation of the consumer rebalance
 * protocol"), built for a serverless broker: no connections, no timers, no coordinator process.
 *
 * - A member JOINS by heartbeating with memberEpoch 0 and its subscription, HEARTBEATS with its
 *   current epoch, and LEAVES with epoch -1 (a static member may leave with -2: its partitions stay
 *   reserved for its instance id until its session timeout). Every heartbeat answers with the
 *   member's epoch and current assignment.
 * - The BROKER assigns (server-side assignor, see `uniformAssignor` / `rangeAssignor`). The group
 *   epoch is bumped when members join, leave or expire, when subscriptions change, and when a
 *   subscribed topic's partitions change; the target assignment is recomputed for it.
 * - SAFE HANDOVER (reconciliation): a member moves toward its target on its own heartbeats. A
 *   partition it must give up stays its own ("revoking") until a heartbeat's `ownedPartitions`
 *   no longer lists it; a partition it should get is handed over only when no other member owns
 *   or is revoking it. A member that does not release within its rebalance timeout, or stops
 *   heartbeating for its session timeout, is removed — and only then are its partitions free.
 * - EXPIRY IS LAZY: every group call compares leases (`expiresAt`) with the broker's clock and
 *   removes expired members in the same conditional write as the rebalance it causes. Fenced
 *   commits check the lease themselves (`x > now` in the ConditionCheck), so an expired member is
 *   refused even before anyone has noticed it expired.
 * - CONCURRENCY: the group item carries a version; a change of membership or of anyone's
 *   ownership is a TransactWriteItems conditional on it (and on each touched member's version).
 *   Concurrent calls retry on a fresh read; ten members joining at once converge to one group
 *   epoch, one target assignment and one owner per partition. A plain heartbeat (nothing changes
 *   but the lease) writes only its own member item. Why taking a partition is safe: it is in the
 *   caller's target of group version v only, the read showed no other member owning it, and the
 *   write checks v is still current. Another member could only have taken it under a different
 *   version's target, whose write was serialized (on the group item) before version v existed —
 *   and the Query reads the group item before the members, so that write was visible to it.
 *   Releases only shrink ownership, so they need no check.
 * - FENCING: a member's epoch changes when its assignment moves to a new target (after it has
 *   released what it had to). Offset commits carrying memberId + memberEpoch are accepted only
 *   while that member is current (storage checks it in the commit's own transaction). Commits
 *   without a member are refused while the group has live members (NON_EMPTY_GROUP); their write
 *   is conditional on the group item's version that showed no live member (a join writes it).
 */
import { randomUUID } from "node:crypto";
import { DynalogError } from "../errors.js";
import {
  DEFAULT_REBALANCE_TIMEOUT_MS,
  DEFAULT_SESSION_TIMEOUT_MS,
  INSTANCE_ID_PATTERN,
  MAX_FENCED_OFFSETS_PER_COMMIT,
  MAX_GROUP_MEMBERS,
  MAX_HEARTBEAT_INTERVAL_MS,
  MAX_REBALANCE_TIMEOUT_MS,
  MAX_SESSION_TIMEOUT_MS,
  MAX_SUBSCRIBED_TOPICS,
  MEMBER_ID_PATTERN,
  MIN_REBALANCE_TIMEOUT_MS,
  MIN_SESSION_TIMEOUT_MS,
} from "../limits.js";
import type { BrokerContext } from "./context.js";
import type { LogReader } from "./log-reader.js";
import { validateGroupId, validateOffsetCommits, type OffsetCommitInput } from "./offsets.js";
import { isMemberFence, type GroupRecord, type GroupSnapshot, type GroupWrite, type MemberFence, type MemberRecord, type OffsetCommitFence, type SubscribedTopic, type TopicPartitions, type TopicRecord } from "./ports.js";
import { mapWithConcurrency, partitionRefs, requirePartition, validateTopicName, type TopicCatalog } from "./topics.js";

// ================================================================================================
// Assignors (pure)
// ================================================================================================

/**
 * The server-side assignors (KIP-848's `serverAssignor`). Members may ask for one; the group uses
 * the one most of its members ask for (ties: uniform first), uniform when nobody asks.
 *
 * - `uniform` (default): balanced and STICKY. Every partition a member had in the previous target
 *   stays with it as long as balance allows; new or freed partitions go to the least-loaded
 *   eligible member; then partitions move from the most- to the least-loaded member while that
 *   reduces imbalance. With equal subscriptions every member gets ⌊P/N⌋ or ⌈P/N⌉ partitions, and
 *   a join or leave moves only the partitions it must. Chosen as the default because here every
 *   moved partition costs a revoke → commit → release round trip over HTTP.
 * - `range`: Kafka's RangeAssignor, per topic: members sorted (by instance id, else member id)
 *   take contiguous ranges, the first P mod N one extra. Not sticky (a join can shift every
 *   range), but co-partitioned: members subscribed to topics with equal partition counts get the
 *   SAME partition numbers of each — what joins of co-partitioned topics need.
 */
export const ASSIGNORS = ["uniform", "range"] as const;
export type AssignorName = (typeof ASSIGNORS)[number];

export interface AssignorMember {
  readonly memberId: string;
  readonly instanceId?: string;
  readonly subscription: readonly string[];
}

export interface AssignmentSpec {
  readonly members: readonly AssignorMember[];
  /** Partition count of every subscribed topic that exists. */
  readonly topics: Readonly<Record<string, number>>;
  /** The previous target (uniform keeps what it can of it). */
  readonly previous?: Readonly<Record<string, TopicPartitions>>;
}

/** memberId → topic → ascending partitions; every member appears, maybe with `{}`. */
export type TargetAssignment = Record<string, Record<string, number[]>>;

const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const partitionKey = (topic: string, partition: number) => `${topic}#${partition}`;
function splitKey(key: string): [string, number] {
  const at = key.lastIndexOf("#");
  return [key.slice(0, at), Number(key.slice(at + 1))];
}

function keySet(assignment: TopicPartitions | undefined): Set<string> {
  const keys = new Set<string>();
  for (const [topic, partitions] of Object.entries(assignment ?? {})) for (const p of partitions) keys.add(partitionKey(topic, p));
  return keys;
}

function fromKeys(keys: Iterable<string>): Record<string, number[]> {
  const assignment: Record<string, number[]> = {};
  for (const key of keys) {
    const [topic, partition] = splitKey(key);
    (assignment[topic] ??= []).push(partition);
  }
  const sorted: Record<string, number[]> = {};
  for (const topic of Object.keys(assignment).sort(byString)) sorted[topic] = assignment[topic]!.sort((a, b) => a - b);
  return sorted;
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false;
  for (const k of a) if (!b.has(k)) return false;
  return true;
}

function eligibleByTopic(members: readonly AssignorMember[], topics: Readonly<Record<string, number>>): Map<string, string[]> {
  const eligible = new Map<string, string[]>();
  for (const topic of Object.keys(topics).sort(byString)) {
    const ids = members.filter((m) => m.subscription.includes(topic)).map((m) => m.memberId);
    if (ids.length > 0) eligible.set(topic, ids.sort(byString));
  }
  return eligible;
}

/** Balanced, sticky assignment (see ASSIGNORS). Pure and deterministic. */
export function uniformAssignor(spec: AssignmentSpec): TargetAssignment {
  const ids = spec.members.map((m) => m.memberId).sort(byString);
  const subscriptions = new Map(spec.members.map((m) => [m.memberId, new Set(m.subscription)]));
  const eligible = eligibleByTopic(spec.members, spec.topics);
  const owner = new Map<string, string>();
  const owned = new Map<string, Set<string>>(ids.map((id) => [id, new Set<string>()]));
  const load = (id: string) => owned.get(id)!.size;
  const give = (key: string, id: string) => {
    const from = owner.get(key);
    if (from !== undefined) owned.get(from)!.delete(key);
    owner.set(key, id);
    owned.get(id)!.add(key);
  };
  const leastLoaded = (candidates: readonly string[], except?: string) => {
    let best: string | undefined;
    for (const id of candidates) if (id !== except && (best === undefined || load(id) < load(best))) best = id;
    return best;
  };

  // 1. Stickiness: keep every still-valid partition of the previous target.
  for (const id of ids) {
    for (const [topic, partitions] of Object.entries(spec.previous?.[id] ?? {})) {
      const count = spec.topics[topic];
      if (count === undefined || !subscriptions.get(id)!.has(topic)) continue;
      for (const p of partitions) if (p < count && !owner.has(partitionKey(topic, p))) give(partitionKey(topic, p), id);
    }
  }
  // 2. Every partition nobody holds goes to the least-loaded eligible member.
  for (const [topic, candidates] of eligible) {
    for (let p = 0; p < spec.topics[topic]!; p++) {
      const key = partitionKey(topic, p);
      if (!owner.has(key)) give(key, leastLoaded(candidates)!);
    }
  }
  // 3. Balance: move one partition from the most-loaded member that can give one to an eligible
  //    member holding at least two fewer, until no such move exists (each move lowers the sum of
  //    squared loads, so this ends). One move at a time, heaviest first, so nothing moves twice.
  const sorted = new Map<string, string[]>();
  const keysOf = (id: string) => {
    let keys = sorted.get(id);
    if (!keys) {
      keys = [...owned.get(id)!].sort((a, b) => {
        const [ta, pa] = splitKey(a);
        const [tb, pb] = splitKey(b);
        return byString(ta, tb) || pb - pa;
      });
      sorted.set(id, keys);
    }
    return keys;
  };
  for (;;) {
    let move: { key: string; from: string; to: string } | undefined;
    const heaviestFirst = [...ids].sort((a, b) => load(b) - load(a) || byString(a, b));
    search: for (const from of heaviestFirst) {
      if (load(from) < 2) break;
      for (const key of keysOf(from)) {
        const to = leastLoaded(eligible.get(splitKey(key)[0])!, from);
        if (to !== undefined && load(to) < load(from) - 1) {
          move = { key, from, to };
          break search;
        }
      }
    }
    if (!move) break;
    give(move.key, move.to);
    const keys = sorted.get(move.from)!;
    keys.splice(keys.indexOf(move.key), 1);
    sorted.delete(move.to);
  }
  const target: TargetAssignment = {};
  for (const id of ids) target[id] = fromKeys(owned.get(id)!);
  return target;
}

/** Kafka's range assignment, per topic (see ASSIGNORS). Pure and deterministic. */
export function rangeAssignor(spec: AssignmentSpec): TargetAssignment {
  const target: TargetAssignment = {};
  for (const m of spec.members) target[m.memberId] = {};
  const sortKey = (m: AssignorMember) => m.instanceId ?? m.memberId;
  for (const topic of Object.keys(spec.topics).sort(byString)) {
    const count = spec.topics[topic]!;
    const members = spec.members.filter((m) => m.subscription.includes(topic)).sort((a, b) => byString(sortKey(a), sortKey(b)) || byString(a.memberId, b.memberId));
    if (members.length === 0) continue;
    const per = Math.floor(count / members.length);
    const extra = count % members.length;
    members.forEach((m, i) => {
      const start = i * per + Math.min(i, extra);
      const length = per + (i < extra ? 1 : 0);
      if (length > 0) target[m.memberId]![topic] = Array.from({ length }, (_, j) => start + j);
    });
  }
  const sorted: TargetAssignment = {};
  for (const id of Object.keys(target).sort(byString)) sorted[id] = target[id]!;
  return sorted;
}

export function assignPartitions(assignor: AssignorName, spec: AssignmentSpec): TargetAssignment {
  return assignor === "range" ? rangeAssignor(spec) : uniformAssignor(spec);
}

/** The assignor most members ask for; ties go to the earlier one in ASSIGNORS. */
export function chooseAssignor(members: Iterable<{ readonly serverAssignor?: string }>): AssignorName {
  const votes = new Map<AssignorName, number>();
  for (const m of members) if (isAssignor(m.serverAssignor)) votes.set(m.serverAssignor, (votes.get(m.serverAssignor) ?? 0) + 1);
  let best: AssignorName = "uniform";
  for (const name of ASSIGNORS) if ((votes.get(name) ?? 0) > (votes.get(best) ?? 0)) best = name;
  return best;
}

function isAssignor(name: string | undefined): name is AssignorName {
  return name !== undefined && (ASSIGNORS as readonly string[]).includes(name);
}

// ================================================================================================
// Membership state machine (pure)
// ================================================================================================

/** Kafka's member epochs for joining and leaving (KIP-848). */
export const JOIN_EPOCH = 0;
export const LEAVE_EPOCH = -1;
export const STATIC_LEAVE_EPOCH = -2;

export interface TopicPartitionList {
  readonly topic: string;
  readonly partitions: readonly number[];
}

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

/** KIP-848's member states, plus Left for a static member that left with epoch -2. */
export type MemberState = "Stable" | "UnrevokedPartitions" | "UnreleasedPartitions" | "Left";
export type GroupState = "Empty" | "Stable" | "Reconciling";

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

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

interface Workspace {
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

function open(snapshot: GroupSnapshot, now: number): Workspace {
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
function expire(ws: Workspace, keep?: string): void {
  for (const m of [...ws.members.values()]) {
    if (m.memberId !== keep && m.expiresAt <= ws.now) remove(ws, m.memberId);
  }
}

function remove(ws: Workspace, memberId: string): void {
  const original = ws.originals.get(memberId);
  ws.members.delete(memberId);
  if (original && !ws.removed.some((r) => r.memberId === memberId)) ws.removed.push(original);
  ws.rebalance = true;
}

/** Detect metadata changes and, when anything calls for it, bump the group epoch and reassign. */
function settle(ws: Workspace, metadata: ReadonlyMap<string, SubscribedTopic | undefined>): void {
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
function renew(member: MemberRecord, now: number): MemberRecord {
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

export function heartbeatIntervalMs(sessionTimeoutMs: number): number {
  return Math.min(MAX_HEARTBEAT_INTERVAL_MS, Math.floor(sessionTimeoutMs / 3));
}

export function toPartitionList(assignment: TopicPartitions | undefined): TopicPartitionList[] {
  return Object.keys(assignment ?? {})
    .sort(byString)
    .filter((topic) => assignment![topic]!.length > 0)
    .map((topic) => ({ topic, partitions: [...assignment![topic]!].sort((a, b) => a - b) }));
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
  const ws = open(snapshot, now);
  expire(ws);
  if (ws.existed) settle(ws, metadata);
  return { group: ws.existed ? ws.group : undefined, members: [...ws.members.values()] };
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
  const ws = open(snapshot, env.now);
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
  expire(ws, successor?.memberId);

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
      remove(ws, memberId);
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
    caller = renew(reconcile(caller, ws.group, ws.members, input.ownedPartitions, now), now);
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

// ================================================================================================
// The service: read → decide → conditional write, retried on conflicts
// ================================================================================================

const MAX_ATTEMPTS = 30;
/** A commit without a member re-reads the group this often when the group changed under it. */
const MAX_COMMIT_ATTEMPTS = 4;

export type OffsetReset = "earliest" | "latest" | "none";

export interface CommittedPartitionOffset {
  readonly partition: number;
  /** -1 when the group has committed nothing for this partition (Kafka's convention). */
  readonly offset: number;
  readonly metadata: string;
  readonly committedAt: number | null;
  /** With a reset policy: where to start consuming (the committed offset, or the reset position). */
  readonly position?: number;
  /** Set when `position` came from the reset policy (no committed offset). */
  readonly resetTo?: "earliest" | "latest";
}

export interface MemberDescription {
  readonly memberId: string;
  readonly instanceId: string | null;
  readonly memberEpoch: number;
  readonly state: MemberState;
  readonly subscription: readonly string[];
  readonly serverAssignor: string | null;
  readonly assignment: readonly TopicPartitionList[];
  readonly revoking: readonly TopicPartitionList[];
  readonly targetAssignment: readonly TopicPartitionList[];
  readonly sessionTimeoutMs: number;
  readonly rebalanceTimeoutMs: number;
  readonly joinedAt: number;
  readonly lastHeartbeatAt: number;
  readonly expiresAt: number;
}

export interface PartitionLag {
  readonly partition: number;
  readonly committedOffset: number | null;
  readonly highWatermark: number;
  /** High watermark − committed offset (never below 0); null when nothing is committed. */
  readonly lag: number | null;
  /** The member that owns the partition now (assigned or revoking), if any. */
  readonly memberId: string | null;
}

export interface GroupDescription {
  readonly group: string;
  readonly state: GroupState;
  readonly groupEpoch: number;
  readonly assignmentEpoch: number;
  readonly assignor: string;
  readonly members: readonly MemberDescription[];
  readonly topics: readonly { readonly topic: string; readonly partitions: readonly PartitionLag[]; readonly lag: number }[];
  readonly totalLag: number;
}

export interface GroupListing {
  readonly group: string;
  readonly state: GroupState;
  readonly groupEpoch: number;
  readonly members: number;
}

export class ConsumerGroups {
  constructor(
    private readonly ctx: BrokerContext,
    private readonly topics: TopicCatalog,
    private readonly reader: LogReader,
  ) {}

  async heartbeat(group: string, request: HeartbeatInput): Promise<HeartbeatResult> {
    validateGroupId(group);
    const input = validateHeartbeat(request);
    const newMemberId = randomUUID();
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const snapshot = await this.ctx.storage.groups.load(group);
      const names = new Set(input.topics ?? []);
      for (const m of snapshot.members) for (const t of m.subscription) names.add(t);
      const metadata = await this.lookup(names);
      const decision = decideHeartbeat(group, snapshot, input, { now: this.ctx.clock(), metadata, newMemberId });
      if (!decision.write) return decision.result;
      if ((await this.ctx.storage.groups.write(group, decision.write)) === "applied") return decision.result;
      await this.ctx.sleep(Math.min(100, 2 * 2 ** Math.min(attempt, 6)) * (0.5 + this.ctx.random()));
    }
    throw new DynalogError("CONCURRENT_TRANSACTIONS", `Group '${group}' kept changing under this request; nothing was written, retry`, { details: { group } });
  }

  /** Remove a member (an admin's kick, or a leave by URL): a heartbeat with epoch -1. */
  async removeMember(group: string, memberId: string): Promise<HeartbeatResult> {
    validateGroupId(group);
    const snapshot = await this.ctx.storage.groups.load(group);
    if (!snapshot.members.some((m) => m.memberId === memberId)) {
      throw new DynalogError("UNKNOWN_MEMBER_ID", `Member '${memberId.slice(0, 100)}' is not in group '${group}'`, { details: { group, memberId: memberId.slice(0, 100) } });
    }
    return this.heartbeat(group, { memberId, memberEpoch: LEAVE_EPOCH });
  }

  async describe(group: string): Promise<GroupDescription> {
    validateGroupId(group);
    const [snapshot, committed] = await Promise.all([this.ctx.storage.groups.load(group), this.ctx.storage.offsets.readAll(group)]);
    if (!snapshot.group && snapshot.members.length === 0 && committed.length === 0) {
      throw new DynalogError("GROUP_ID_NOT_FOUND", `Group '${group}' does not exist: nobody joined it or committed offsets for it`, { details: { group } });
    }
    const names = new Set<string>(committed.map((c) => c.topic));
    for (const m of snapshot.members) for (const t of m.subscription) names.add(t);
    const records = await this.lookupTopics(names);
    const metadata = new Map([...records].map(([name, t]) => [name, t && { topicId: t.topicId, partitions: t.partitions }]));
    const view = settledView(snapshot, this.ctx.clock(), metadata);
    const owners = new Map<string, string>();
    for (const m of view.members) for (const k of [...keySet(m.assigned), ...keySet(m.revoking)]) owners.set(k, m.memberId);

    const topics: GroupDescription["topics"][number][] = [];
    for (const name of [...names].sort(byString)) {
      const topic = records.get(name);
      if (!topic) continue;
      const stored = new Map(committed.filter((c) => c.topic === name && c.topicId === topic.topicId).map((c) => [c.partition, c.offset]));
      const partitions = await this.highWatermarks(topic);
      const rows: PartitionLag[] = partitions.map((highWatermark, partition) => {
        const committedOffset = stored.get(partition) ?? null;
        return {
          partition,
          committedOffset,
          highWatermark,
          lag: committedOffset === null ? null : Math.max(0, highWatermark - committedOffset),
          memberId: owners.get(partitionKey(name, partition)) ?? null,
        };
      });
      topics.push({ topic: name, partitions: rows, lag: rows.reduce((sum, r) => sum + (r.lag ?? 0), 0) });
    }
    return {
      group,
      state: groupState(view.group, view.members),
      groupEpoch: view.group?.groupEpoch ?? 0,
      assignmentEpoch: view.group?.assignmentEpoch ?? 0,
      assignor: view.group?.assignor ?? "uniform",
      members: view.members
        .sort((a, b) => byString(a.memberId, b.memberId))
        .map((m) => ({
          memberId: m.memberId,
          instanceId: m.instanceId ?? null,
          memberEpoch: m.memberEpoch,
          state: memberState(m, view.group),
          subscription: m.subscription,
          serverAssignor: m.serverAssignor ?? null,
          assignment: toPartitionList(m.assigned),
          revoking: toPartitionList(m.revoking),
          targetAssignment: toPartitionList(view.group?.target[m.memberId]),
          sessionTimeoutMs: m.sessionTimeoutMs,
          rebalanceTimeoutMs: m.rebalanceTimeoutMs,
          joinedAt: m.joinedAt,
          lastHeartbeatAt: m.lastHeartbeatAt,
          expiresAt: m.expiresAt,
        })),
      topics,
      totalLag: topics.reduce((sum, t) => sum + t.lag, 0),
    };
  }

  async list(): Promise<GroupListing[]> {
    const now = this.ctx.clock();
    return (await this.ctx.storage.groups.list()).map(({ group, snapshot }) => {
      const members = liveMembers(snapshot, now);
      // Members that expired but were not yet removed make a rebalance pending.
      const pending = members.length < snapshot.members.length;
      const state = groupState(snapshot.group, members);
      return { group, state: pending && state === "Stable" ? "Reconciling" : state, groupEpoch: snapshot.group?.groupEpoch ?? 0, members: members.length };
    });
  }

  /**
   * Commit offsets. With a member (memberId + memberEpoch): one transaction, refused unless that
   * member is current. Without: refused while the group has live members (NON_EMPTY_GROUP).
   */
  async commitOffsets(group: string, offsets: readonly OffsetCommitInput[], member?: { readonly memberId?: string; readonly memberEpoch?: number }): Promise<void> {
    const commits = await validateOffsetCommits(this.topics, group, offsets);
    for (let attempt = 0; ; attempt++) {
      const fence = await this.offsetCommitFence(group, member);
      if (isMemberFence(fence) && commits.length > MAX_FENCED_OFFSETS_PER_COMMIT) {
        throw new DynalogError("REQUEST_TOO_LARGE", `A commit with memberId carries at most ${MAX_FENCED_OFFSETS_PER_COMMIT} partitions (one DynamoDB transaction), got ${commits.length}; split it`, {
          details: { limit: MAX_FENCED_OFFSETS_PER_COMMIT, actual: commits.length },
        });
      }
      try {
        await this.ctx.storage.offsets.commit(group, commits, this.ctx.clock(), fence);
        return;
      } catch (error) {
        // Without a member: the group changed after it was read empty. Read it again — a member
        // that joined makes this NON_EMPTY_GROUP; anything else (an expired member removed) retries.
        const groupChanged = !isMemberFence(fence) && error instanceof DynalogError && error.code === "CONCURRENT_TRANSACTIONS";
        if (!groupChanged || attempt >= MAX_COMMIT_ATTEMPTS - 1) throw error;
      }
    }
  }

  /**
   * How offsets of `group` may be committed (plain or inside a transaction, KIP-447): with a member,
   * fenced by that member's epoch; without one, only while the group has no live members
   * (NON_EMPTY_GROUP) — fenced by the version of the group item read here, so that a member joining
   * before the commit lands makes it fail. The storage checks either fence in the commit's own
   * DynamoDB transaction.
   */
  async offsetCommitFence(group: string, member?: { readonly memberId?: string; readonly memberEpoch?: number }): Promise<OffsetCommitFence> {
    if (member && (member.memberId !== undefined || member.memberEpoch !== undefined)) return validateFence(member);
    const snapshot = await this.ctx.storage.groups.load(group);
    const live = liveMembers(snapshot, this.ctx.clock());
    if (live.length > 0) {
      throw new DynalogError("NON_EMPTY_GROUP", `Group '${group}' has ${live.length} live member(s); its offsets are committed by its members, with memberId and memberEpoch`, {
        details: { group, members: live.length },
      });
    }
    return { emptyGroupVersion: snapshot.group?.version ?? null };
  }

  async committedOffsets(group: string, topicName: string, options: { readonly reset?: OffsetReset; readonly partitions?: readonly number[] } = {}): Promise<CommittedPartitionOffset[]> {
    validateGroupId(group);
    validateTopicName(topicName);
    const topic = await this.topics.require(topicName);
    const wanted = options.partitions ?? Array.from({ length: topic.partitions }, (_, p) => p);
    for (const p of wanted) requirePartition(topic, p);
    const stored = new Map((await this.ctx.storage.offsets.read(group, topic.name, topic.topicId)).map((c) => [c.partition, c]));
    const rows: CommittedPartitionOffset[] = [...new Set(wanted)]
      .sort((a, b) => a - b)
      .map((partition) => {
        const committed = stored.get(partition);
        return committed
          ? { partition, offset: committed.offset, metadata: committed.metadata, committedAt: committed.committedAt }
          : { partition, offset: -1, metadata: "", committedAt: null };
      });
    const reset = options.reset;
    if (reset === undefined) return rows;
    const missing = rows.filter((r) => r.offset === -1).map((r) => r.partition);
    if (reset === "none" && missing.length > 0) {
      throw new DynalogError("NO_OFFSET_FOR_PARTITION", `Group '${group}' has no committed offset for ${topic.name} partition(s) ${missing.join(", ")} and the reset policy is 'none'`, {
        details: { group, topic: topic.name, partitions: missing },
      });
    }
    return mapWithConcurrency(rows, 16, async (row) => {
      if (row.offset !== -1 || reset === "none") return { ...row, position: row.offset };
      const ref = requirePartition(topic, row.partition);
      const position = reset === "earliest" ? await this.reader.refreshLogStart(topic, ref) : await this.reader.highWatermark(topic, ref);
      return { ...row, position, resetTo: reset };
    });
  }

  /** Topic metadata for group decisions; undefined for topics that do not exist. */
  private async lookup(names: Iterable<string>): Promise<Map<string, SubscribedTopic | undefined>> {
    const topics = await this.lookupTopics(names);
    return new Map([...topics].map(([name, t]) => [name, t && { topicId: t.topicId, partitions: t.partitions }]));
  }

  private async lookupTopics(names: Iterable<string>): Promise<Map<string, TopicRecord | undefined>> {
    const list = [...names];
    const found = await mapWithConcurrency(list, 8, async (name) => {
      try {
        return await this.topics.require(name);
      } catch (error) {
        if (error instanceof DynalogError && error.code === "UNKNOWN_TOPIC_OR_PARTITION") return undefined;
        throw error;
      }
    });
    return new Map(list.map((name, i) => [name, found[i]]));
  }

  private async highWatermarks(topic: TopicRecord): Promise<number[]> {
    const refs = partitionRefs(topic);
    const heads = await this.ctx.storage.log.readHeads(refs);
    return mapWithConcurrency(refs, 16, (ref, i) => this.reader.highWatermark(topic, ref, heads[i]));
  }
}

function validateFence(member: { readonly memberId?: string; readonly memberEpoch?: number }): MemberFence {
  const { memberId, memberEpoch } = member;
  if (memberId === undefined || memberEpoch === undefined) throw new DynalogError("INVALID_REQUEST", "memberId and memberEpoch go together");
  if (!MEMBER_ID_PATTERN.test(memberId)) throw new DynalogError("INVALID_REQUEST", "memberId must be 1-64 characters of a-z, A-Z, 0-9, '.', '_', '-', ':' and '@'", { details: { field: "memberId" } });
  if (!Number.isInteger(memberEpoch) || memberEpoch < 0) throw new DynalogError("INVALID_REQUEST", `memberEpoch of a commit must be a non-negative integer, got ${memberEpoch}`);
  return { memberId, memberEpoch };
}
