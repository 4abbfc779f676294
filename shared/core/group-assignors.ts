/**
 * The server-side assignors of the consumer groups (see groups.ts for the protocol): pure functions
 * from the members' subscriptions and the topics' partition counts to a target assignment.
 */
import type { TopicPartitions } from "./ports.js";
import { byString, fromKeys, partitionKey, splitKey } from "./group-partitions.js";

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

export function isAssignor(name: string | undefined): name is AssignorName {
  return name !== undefined && (ASSIGNORS as readonly string[]).includes(name);
}
