/**
 * The consumer-group logic without storage: the assignors (balance, stickiness, eligibility,
 * co-partitioning) and the KIP-848 state machine driven against an in-memory snapshot (join,
 * revoke-before-handover, epochs, expiry, static membership, leave).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { chooseAssignor, rangeAssignor, uniformAssignor, type AssignmentSpec, type TargetAssignment } from "../../shared/core/group-assignors.js";
import { decideHeartbeat, validateHeartbeat, type HeartbeatInput, type HeartbeatResult } from "../../shared/core/group-heartbeat.js";
import type { GroupSnapshot, GroupWrite, SubscribedTopic } from "../../shared/core/ports.js";
import { DynalogError } from "../../shared/errors.js";
import { decodePartitions, encodePartitions } from "../../shared/storage/group-store.js";

// ---- assignors --------------------------------------------------------------------------------

/** Every partition of every topic someone subscribes to → its owners. */
function owners(target: TargetAssignment): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const [member, assignment] of Object.entries(target)) {
    for (const [topic, partitions] of Object.entries(assignment)) for (const p of partitions) map.set(`${topic}-${p}`, [...(map.get(`${topic}-${p}`) ?? []), member]);
  }
  return map;
}

function expectValid(spec: AssignmentSpec, target: TargetAssignment): void {
  const byPartition = owners(target);
  for (const [topic, count] of Object.entries(spec.topics)) {
    const eligible = spec.members.filter((m) => m.subscription.includes(topic)).map((m) => m.memberId);
    for (let p = 0; p < count; p++) {
      const held = byPartition.get(`${topic}-${p}`) ?? [];
      if (eligible.length === 0) expect(held).toEqual([]);
      else {
        expect(held, `${topic}-${p}`).toHaveLength(1);
        expect(eligible).toContain(held[0]);
      }
    }
  }
  // Nothing outside the topics, and every member present.
  expect([...byPartition.keys()].every((k) => Object.keys(spec.topics).some((t) => k.startsWith(`${t}-`)))).toBe(true);
  expect(Object.keys(target).sort()).toEqual(spec.members.map((m) => m.memberId).sort());
}

const loads = (target: TargetAssignment) => Object.values(target).map((a) => Object.values(a).reduce((n, ps) => n + ps.length, 0));

const members = (...ids: string[]) => ids.map((memberId) => ({ memberId, subscription: ["orders", "payments"] }));

describe("uniform assignor", () => {
  it("spreads partitions evenly, each owned once", () => {
    const spec = { members: members("a", "b", "c"), topics: { orders: 6, payments: 4 } };
    const target = uniformAssignor(spec);
    expectValid(spec, target);
    expect(loads(target).sort()).toEqual([3, 3, 4]);
  });

  it("is sticky: recomputing with the same members changes nothing, and a join moves only what it must", () => {
    const spec = { members: members("a", "b", "c"), topics: { orders: 12 } };
    const before = uniformAssignor(spec);
    expect(uniformAssignor({ ...spec, previous: before })).toEqual(before);

    const grown = { members: members("a", "b", "c", "d"), topics: { orders: 12 }, previous: before };
    const after = uniformAssignor(grown);
    expectValid(grown, after);
    expect(loads(after)).toEqual([3, 3, 3, 3]);
    // The newcomer's 3 partitions are the only ones that moved.
    let moved = 0;
    for (const m of ["a", "b", "c"]) moved += before[m]!["orders"]!.filter((p) => !(after[m]!["orders"] ?? []).includes(p)).length;
    expect(moved).toBe(3);
  });

  it("a leave moves only the leaver's partitions", () => {
    const spec = { members: members("a", "b", "c"), topics: { orders: 9 } };
    const before = uniformAssignor(spec);
    const after = uniformAssignor({ members: members("a", "c"), topics: { orders: 9 }, previous: before });
    for (const m of ["a", "c"]) for (const p of before[m]!["orders"]!) expect(after[m]!["orders"]).toContain(p);
    expect(loads(after).sort()).toEqual([4, 5]);
  });

  it("respects subscriptions: a partition only goes to a member subscribed to its topic, balanced where it can", () => {
    const spec = {
      members: [
        { memberId: "a", subscription: ["t1", "t2"] },
        { memberId: "b", subscription: ["t1"] },
        { memberId: "c", subscription: ["t3"] },
      ],
      topics: { t1: 2, t2: 2, t3: 1, t4: 5 },
    };
    const target = uniformAssignor(spec);
    expectValid(spec, target);
    expect(target["a"]).toEqual({ t2: [0, 1] });
    expect(target["b"]).toEqual({ t1: [0, 1] });
    expect(target["c"]).toEqual({ t3: [0] });
  });

  it("drops previous partitions that no longer exist or are no longer subscribed", () => {
    const spec = { members: [{ memberId: "a", subscription: ["t1"] }], topics: { t1: 2 }, previous: { a: { t1: [0, 1, 7], gone: [0] } } };
    expect(uniformAssignor(spec)).toEqual({ a: { t1: [0, 1] } });
  });

  it("property: valid, balanced for equal subscriptions, and stable on recompute", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 4 }), fc.integer({ min: 0, max: 11 }), (n, counts, leaveAt) => {
        const ids = Array.from({ length: n }, (_, i) => `m${String(i).padStart(2, "0")}`);
        const topics = Object.fromEntries(counts.map((c, i) => [`t${i}`, c]));
        const spec = { members: ids.map((memberId) => ({ memberId, subscription: Object.keys(topics) })), topics };
        const target = uniformAssignor(spec);
        expectValid(spec, target);
        const l = loads(target);
        expect(Math.max(...l) - Math.min(...l)).toBeLessThanOrEqual(1);
        expect(uniformAssignor({ ...spec, previous: target })).toEqual(target);
        // After one member leaves: still valid and balanced, and survivors keep all they had.
        if (n > 1) {
          const gone = ids[leaveAt % n]!;
          const rest = { members: spec.members.filter((m) => m.memberId !== gone), topics, previous: target };
          const after = uniformAssignor(rest);
          expectValid(rest, after);
          const la = loads(after);
          expect(Math.max(...la) - Math.min(...la)).toBeLessThanOrEqual(1);
          for (const m of rest.members) {
            for (const [t, ps] of Object.entries(target[m.memberId]!)) for (const p of ps) expect(after[m.memberId]![t]).toContain(p);
          }
        }
      }),
      { numRuns: 150 },
    );
  });

  it("property: valid for arbitrary subscriptions", () => {
    fc.assert(
      fc.property(fc.array(fc.subarray(["a", "b", "c", "d"], { minLength: 0 }), { minLength: 1, maxLength: 8 }), (subscriptions) => {
        const spec = { members: subscriptions.map((subscription, i) => ({ memberId: `m${i}`, subscription })), topics: { a: 3, b: 7, c: 1, d: 12 } };
        expectValid(spec, uniformAssignor(spec));
      }),
      { numRuns: 150 },
    );
  });
});

describe("range assignor", () => {
  it("gives contiguous ranges, the first members one extra (Kafka's RangeAssignor)", () => {
    const spec = { members: members("c", "a", "b"), topics: { orders: 7 } };
    expect(rangeAssignor(spec)).toEqual({ a: { orders: [0, 1, 2] }, b: { orders: [3, 4] }, c: { orders: [5, 6] } });
  });

  it("co-partitions: topics with equal partition counts give each member the same partition numbers", () => {
    const spec = { members: members("x", "y", "z"), topics: { orders: 5, payments: 5 } };
    const target = rangeAssignor(spec);
    expectValid(spec, target);
    for (const m of ["x", "y", "z"]) expect(target[m]!["orders"]).toEqual(target[m]!["payments"]);
  });

  it("orders static members by instance id, so a restarted instance keeps its range", () => {
    const before = rangeAssignor({ members: [{ memberId: "zz", instanceId: "host-1", subscription: ["t"] }, { memberId: "aa", instanceId: "host-2", subscription: ["t"] }], topics: { t: 4 } });
    expect(before).toEqual({ aa: { t: [2, 3] }, zz: { t: [0, 1] } });
  });

  it("the group uses the assignor most members ask for, uniform when none or tied", () => {
    expect(chooseAssignor([])).toBe("uniform");
    expect(chooseAssignor([{ serverAssignor: "range" }, {}])).toBe("range");
    expect(chooseAssignor([{ serverAssignor: "range" }, { serverAssignor: "uniform" }])).toBe("uniform");
    expect(chooseAssignor([{ serverAssignor: "range" }, { serverAssignor: "range" }, { serverAssignor: "uniform" }])).toBe("range");
  });
});

describe("partition list encoding", () => {
  it("round-trips ranges", () => {
    expect(encodePartitions([0, 1, 2, 3, 7, 9, 10])).toBe("0-3,7,9-10");
    expect(encodePartitions([])).toBe("");
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 999 })), (ps) => {
        const sorted = [...ps].sort((a, b) => a - b);
        expect(decodePartitions(encodePartitions(sorted))).toEqual(sorted);
      }),
    );
  });
});

// ---- state machine ----------------------------------------------------------------------------

/** An in-memory group store: applies a decision's write the way DynamoDB would (conditions included). */
class MemoryGroup {
  snapshot: GroupSnapshot = { group: undefined, members: [] };
  now = 1_000_000;
  metadata = new Map<string, SubscribedTopic | undefined>([
    ["orders", { topicId: "orders-1", partitions: 6 }],
    ["payments", { topicId: "payments-1", partitions: 2 }],
  ]);
  private ids = 0;

  heartbeat(input: HeartbeatInput): HeartbeatResult {
    const decision = decideHeartbeat("g", this.snapshot, validateHeartbeat(input), { now: this.now, metadata: this.metadata, newMemberId: `member-${++this.ids}` });
    if (decision.write) this.apply(decision.write);
    return decision.result;
  }

  apply(write: GroupWrite): void {
    const { group, putMembers, deleteMembers } = write;
    const current = this.snapshot;
    if (group.kind !== "none") expect(current.group?.version ?? null).toBe(group.expectedVersion);
    const members = new Map(current.members.map((m) => [m.memberId, m]));
    for (const d of deleteMembers) {
      expect(members.get(d.memberId)?.version).toBe(d.expectedVersion);
      members.delete(d.memberId);
    }
    for (const p of putMembers) {
      expect(members.get(p.record.memberId)?.version ?? null).toBe(p.expectedVersion);
      members.set(p.record.memberId, p.record);
    }
    this.snapshot = { group: group.kind === "put" ? group.record : current.group, members: [...members.values()] };
  }

  member(id: string) {
    return this.snapshot.members.find((m) => m.memberId === id);
  }
}

const all = (result: HeartbeatResult) => result.assignment.flatMap((tp) => tp.partitions.map((p) => `${tp.topic}-${p}`));

function refusal(run: () => unknown): DynalogError {
  try {
    run();
  } catch (error) {
    if (error instanceof DynalogError) return error;
    throw error;
  }
  throw new Error("expected a refusal");
}

describe("heartbeat state machine", () => {
  it("a first member gets every partition at once; a second gets its share only after the first released it", () => {
    const g = new MemoryGroup();
    const a = g.heartbeat({ memberEpoch: 0, topics: ["orders"], sessionTimeoutMs: 10_000 });
    expect(a).toMatchObject({ memberId: "member-1", memberEpoch: 1, groupEpoch: 1, memberState: "Stable", heartbeatIntervalMs: 3_333 });
    expect(all(a)).toEqual(["orders-0", "orders-1", "orders-2", "orders-3", "orders-4", "orders-5"]);

    const b = g.heartbeat({ memberEpoch: 0, topics: ["orders"], sessionTimeoutMs: 10_000 });
    expect(b).toMatchObject({ memberEpoch: 2, groupEpoch: 2, memberState: "UnreleasedPartitions", assignment: [] });

    // A is told to give up three partitions; they stay its own (epoch unchanged) until it confirms.
    const a2 = g.heartbeat({ memberId: a.memberId, memberEpoch: 1 });
    expect(a2).toMatchObject({ memberEpoch: 1, memberState: "UnrevokedPartitions" });
    expect(a2.assignment[0]!.partitions).toHaveLength(3);
    expect(g.heartbeat({ memberId: b.memberId, memberEpoch: 2 }).assignment).toEqual([]);
    // Still listing a revoked partition: not released.
    expect(g.heartbeat({ memberId: a.memberId, memberEpoch: 1, ownedPartitions: [{ topic: "orders", partitions: [0, 1, 2, 3, 4, 5] }] }).memberEpoch).toBe(1);

    const a3 = g.heartbeat({ memberId: a.memberId, memberEpoch: 1, ownedPartitions: a2.assignment });
    expect(a3).toMatchObject({ memberEpoch: 2, memberState: "Stable", assignment: a2.assignment });
    const b2 = g.heartbeat({ memberId: b.memberId, memberEpoch: 2 });
    expect(b2).toMatchObject({ memberEpoch: 2, memberState: "Stable" });
    expect([...all(a3), ...all(b2)].sort()).toEqual(["orders-0", "orders-1", "orders-2", "orders-3", "orders-4", "orders-5"]);
  });

  it("an expired member is removed by the next call of anyone, and its partitions move", () => {
    const g = new MemoryGroup();
    const a = g.heartbeat({ memberId: "a", memberEpoch: 0, topics: ["orders"], sessionTimeoutMs: 10_000 });
    const b = g.heartbeat({ memberId: "b", memberEpoch: 0, topics: ["orders"], sessionTimeoutMs: 10_000 });
    const a2 = g.heartbeat({ memberId: "a", memberEpoch: a.memberEpoch });
    g.heartbeat({ memberId: "a", memberEpoch: a2.memberEpoch, ownedPartitions: a2.assignment });
    expect(all(g.heartbeat({ memberId: "b", memberEpoch: b.memberEpoch }))).toHaveLength(3);

    g.now += 9_999;
    const alive = g.heartbeat({ memberId: "b", memberEpoch: b.memberEpoch });
    expect(g.member("a")).toBeDefined();
    g.now += 1; // a's lease (10 s from its last heartbeat) has run out
    const after = g.heartbeat({ memberId: "b", memberEpoch: alive.memberEpoch });
    expect(g.member("a")).toBeUndefined();
    expect(after.groupEpoch).toBe(alive.groupEpoch + 1);
    expect(all(after)).toHaveLength(6);
    expect(refusal(() => g.heartbeat({ memberId: "a", memberEpoch: a2.memberEpoch })).code).toBe("UNKNOWN_MEMBER_ID");
  });

  it("fences epochs never issued; accepts the previous epoch once after a lost response", () => {
    const g = new MemoryGroup();
    g.heartbeat({ memberId: "a", memberEpoch: 0, topics: ["orders"] });
    g.heartbeat({ memberId: "b", memberEpoch: 0, topics: ["payments"] }); // group epoch 2; a's target unchanged
    const bumped = g.heartbeat({ memberId: "a", memberEpoch: 1 }); // a moves to epoch 2 (nothing to revoke)
    expect(bumped.memberEpoch).toBe(2);
    // The response was lost: a retries with epoch 1 — accepted, and answered with epoch 2.
    expect(g.heartbeat({ memberId: "a", memberEpoch: 1, ownedPartitions: bumped.assignment }).memberEpoch).toBe(2);
    expect(refusal(() => g.heartbeat({ memberId: "a", memberEpoch: 7 })).code).toBe("FENCED_MEMBER_EPOCH");
    // The previous epoch claiming partitions it never had: fenced.
    expect(refusal(() => g.heartbeat({ memberId: "a", memberEpoch: 1, ownedPartitions: [{ topic: "payments", partitions: [0] }] })).code).toBe("FENCED_MEMBER_EPOCH");
    expect(refusal(() => g.heartbeat({ memberId: "nobody", memberEpoch: 3 })).code).toBe("UNKNOWN_MEMBER_ID");
  });

  it("a member that does not release within its rebalance timeout is removed", () => {
    const g = new MemoryGroup();
    g.heartbeat({ memberId: "a", memberEpoch: 0, topics: ["orders"], rebalanceTimeoutMs: 5_000, sessionTimeoutMs: 60_000 });
    g.heartbeat({ memberId: "b", memberEpoch: 0, topics: ["orders"] });
    expect(g.heartbeat({ memberId: "a", memberEpoch: 1 }).memberState).toBe("UnrevokedPartitions");
    g.now += 4_000;
    g.heartbeat({ memberId: "a", memberEpoch: 1 }); // heartbeats, but never releases
    g.now += 1_000;
    expect(refusal(() => g.heartbeat({ memberId: "a", memberEpoch: 1 })).code).toBe("UNKNOWN_MEMBER_ID");
    expect(all(g.heartbeat({ memberId: "b", memberEpoch: 2 }))).toHaveLength(6);
  });

  it("leave (-1) rebalances at once; leaving twice is fine", () => {
    const g = new MemoryGroup();
    g.heartbeat({ memberId: "a", memberEpoch: 0, topics: ["orders"] });
    g.heartbeat({ memberId: "b", memberEpoch: 0, topics: ["orders"] });
    const left = g.heartbeat({ memberId: "a", memberEpoch: -1 });
    expect(left).toMatchObject({ memberEpoch: -1, memberState: "Left", assignment: [], groupEpoch: 3 });
    expect(g.heartbeat({ memberId: "a", memberEpoch: -1 }).memberEpoch).toBe(-1);
    expect(all(g.heartbeat({ memberId: "b", memberEpoch: 2 }))).toHaveLength(6);
  });

  it("static membership: leave with -2 keeps the partitions reserved; the same instance id gets them back without moving anyone", () => {
    const g = new MemoryGroup();
    const a = g.heartbeat({ memberId: "a1", instanceId: "host-a", memberEpoch: 0, topics: ["orders"], sessionTimeoutMs: 30_000 });
    const b = g.heartbeat({ memberId: "b", memberEpoch: 0, topics: ["orders"] });
    const a2 = g.heartbeat({ memberId: "a1", memberEpoch: a.memberEpoch });
    const a3 = g.heartbeat({ memberId: "a1", memberEpoch: a2.memberEpoch, ownedPartitions: a2.assignment });
    const b2 = g.heartbeat({ memberId: "b", memberEpoch: b.memberEpoch });
    const groupEpoch = b2.groupEpoch;

    // A live holder of the instance id blocks a second instance.
    expect(refusal(() => g.heartbeat({ memberId: "a2", instanceId: "host-a", memberEpoch: 0, topics: ["orders"] })).code).toBe("UNRELEASED_INSTANCE_ID");

    expect(g.heartbeat({ memberId: "a1", memberEpoch: -2 })).toMatchObject({ memberEpoch: -2, groupEpoch });
    expect(all(g.heartbeat({ memberId: "b", memberEpoch: b2.memberEpoch }))).toEqual(all(b2)); // nothing moved to b
    g.now += 20_000;
    const back = g.heartbeat({ memberId: "a2", instanceId: "host-a", memberEpoch: 0, topics: ["orders"] });
    expect(back).toMatchObject({ memberId: "a2", memberEpoch: a3.memberEpoch, groupEpoch, memberState: "Stable" });
    expect(back.assignment).toEqual(a3.assignment);
    expect(g.member("a1")).toBeUndefined();
    expect(refusal(() => g.heartbeat({ memberId: "a1", memberEpoch: a3.memberEpoch })).code).toBe("UNKNOWN_MEMBER_ID");
  });

  it("a static member that left and never came back is removed after its session timeout", () => {
    const g = new MemoryGroup();
    g.heartbeat({ memberId: "a", instanceId: "host-a", memberEpoch: 0, topics: ["orders"], sessionTimeoutMs: 30_000 });
    g.heartbeat({ memberId: "a", memberEpoch: -2 });
    const b = g.heartbeat({ memberId: "b", memberEpoch: 0, topics: ["orders"] });
    expect(b.assignment).toEqual([]); // reserved for host-a
    g.now += 30_000;
    expect(all(g.heartbeat({ memberId: "b", memberEpoch: b.memberEpoch }))).toHaveLength(6);
  });

  it("a subscription change or a new partition rebalances", () => {
    const g = new MemoryGroup();
    const a = g.heartbeat({ memberId: "a", memberEpoch: 0, topics: ["orders"] });
    const more = g.heartbeat({ memberId: "a", memberEpoch: a.memberEpoch, topics: ["orders", "payments"] });
    expect(more.groupEpoch).toBe(2);
    expect(all(more)).toContain("payments-1");
    g.metadata.set("payments", { topicId: "payments-1", partitions: 3 });
    const grown = g.heartbeat({ memberId: "a", memberEpoch: more.memberEpoch });
    expect(grown.groupEpoch).toBe(3);
    expect(all(grown)).toContain("payments-2");
    g.metadata.set("payments", undefined); // deleted
    const shrunk = g.heartbeat({ memberId: "a", memberEpoch: grown.memberEpoch });
    expect(shrunk.memberState).toBe("UnrevokedPartitions");
    expect(all(shrunk).filter((k) => k.startsWith("payments"))).toEqual([]);
  });

  it("validates requests", () => {
    const g = new MemoryGroup();
    expect(refusal(() => g.heartbeat({ memberEpoch: 0 })).code).toBe("INVALID_REQUEST");
    expect(refusal(() => g.heartbeat({ memberEpoch: 4 })).code).toBe("INVALID_REQUEST");
    expect(refusal(() => g.heartbeat({ memberEpoch: -3, memberId: "a" })).code).toBe("INVALID_REQUEST");
    expect(refusal(() => g.heartbeat({ memberEpoch: 0, topics: ["bad topic"] })).code).toBe("INVALID_TOPIC_EXCEPTION");
    expect(refusal(() => g.heartbeat({ memberEpoch: 0, topics: ["t"], sessionTimeoutMs: 10 })).code).toBe("INVALID_SESSION_TIMEOUT");
    expect(refusal(() => g.heartbeat({ memberEpoch: 0, topics: ["t"], serverAssignor: "sticky" })).code).toBe("UNSUPPORTED_ASSIGNOR");
    expect(refusal(() => g.heartbeat({ memberEpoch: 0, topics: ["t"], memberId: "a#b" })).code).toBe("INVALID_REQUEST");
  });
});
