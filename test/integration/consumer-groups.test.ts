/**
 * Consumer groups against DynamoDB Local, driven through the broker core with a TestClock (no
 * sleeps): even spread and single ownership, expiry moving partitions and fencing late commits,
 * ten concurrent joins converging, safe handover, at-least-once consumption across rebalances,
 * lag, static membership, offset reset, and what the steady state costs in writes.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { Broker } from "../../shared/core/broker.js";
import type { HeartbeatResult, TopicPartitionList } from "../../shared/core/groups.js";
import { DynalogError } from "../../shared/errors.js";
import type { TableNames } from "../../shared/storage/tables.js";
import { createTestBroker, createTestTables, TestClock, topicName, type TestBroker } from "../support/broker.js";
import { uniqueName } from "../support/dynamodb.js";

let tables: TableNames;
let clock: TestClock;
let harness: TestBroker;
let broker: Broker;

beforeAll(async () => {
  tables = await createTestTables("groups");
  clock = new TestClock();
  harness = createTestBroker(tables, { clock });
  broker = harness.broker;
});

const SESSION = 10_000;
const flat = (assignment: readonly TopicPartitionList[]) => assignment.flatMap((tp) => tp.partitions.map((p) => `${tp.topic}-${p}`)).sort();
const enc = (text: string) => new TextEncoder().encode(text);
const dec = (bytes: Uint8Array | null) => new TextDecoder().decode(bytes ?? new Uint8Array());

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return "ok";
  } catch (error) {
    if (error instanceof DynalogError) return error.code;
    throw error;
  }
}

async function newTopic(partitions: number): Promise<string> {
  const name = topicName("grp");
  await broker.createTopic({ name, partitions });
  return name;
}

/** A consumer as an SDK would run it: heartbeats carry what it owns; revoked partitions are committed first. */
class Member {
  readonly memberId = uniqueName("m");
  epoch = 0;
  owned: TopicPartitionList[] = [];
  last?: HeartbeatResult;

  constructor(
    readonly group: string,
    readonly topics: string[],
    readonly options: { broker?: Broker; instanceId?: string; sessionTimeoutMs?: number; rebalanceTimeoutMs?: number; onRevoke?: (m: Member, keys: string[]) => Promise<void> } = {},
  ) {}

  get via(): Broker {
    return this.options.broker ?? broker;
  }

  async heartbeat(extra: { release?: boolean } = { release: true }): Promise<HeartbeatResult> {
    const joining = this.epoch === 0;
    const result = await this.via.heartbeat(this.group, {
      memberId: this.memberId,
      memberEpoch: this.epoch,
      instanceId: this.options.instanceId,
      topics: joining ? this.topics : undefined,
      sessionTimeoutMs: this.options.sessionTimeoutMs ?? SESSION,
      rebalanceTimeoutMs: this.options.rebalanceTimeoutMs,
      ownedPartitions: joining ? undefined : this.owned,
    });
    const revoked = flat(this.owned).filter((k) => !flat(result.assignment).includes(k));
    if (revoked.length > 0) await this.options.onRevoke?.(this, revoked);
    this.epoch = result.memberEpoch;
    if (extra.release) this.owned = [...result.assignment];
    this.last = result;
    return result;
  }

  commit(topic: string, partition: number, offset: number, epoch = this.epoch): Promise<void> {
    return this.via.commitOffsets(this.group, [{ topic, partition, offset }], { memberId: this.memberId, memberEpoch: epoch });
  }
}

/** Heartbeat everyone (in order) until the group is stable; asserts nobody ever shares a partition. */
async function settle(members: Member[], rounds = 8): Promise<void> {
  for (let round = 0; round < rounds; round++) {
    for (const m of members) {
      await m.heartbeat();
      expectDisjoint(members);
    }
    const epochs = new Set(members.map((m) => m.last!.memberEpoch));
    if (members.every((m) => m.last!.memberState === "Stable") && epochs.size === 1 && [...epochs][0] === members[0]!.last!.groupEpoch) return;
  }
  throw new Error(`group did not settle: ${JSON.stringify(members.map((m) => m.last))}`);
}

function expectDisjoint(members: Member[]): void {
  const seen = new Map<string, string>();
  for (const m of members) {
    for (const key of flat(m.owned)) {
      expect(seen.get(key), `${key} owned by ${seen.get(key)} and ${m.memberId}`).toBeUndefined();
      seen.set(key, m.memberId);
    }
  }
}

describe("membership and assignment", () => {
  it("three members split six partitions evenly; one stops heartbeating, its partitions move after its session timeout and its late commit is refused", async () => {
    const topic = await newTopic(6);
    const group = uniqueName("g");
    const members = [new Member(group, [topic]), new Member(group, [topic]), new Member(group, [topic])];
    for (const m of members) await m.heartbeat();
    await settle(members);
    expect(members.map((m) => flat(m.owned).length)).toEqual([2, 2, 2]);
    expect(members.flatMap((m) => flat(m.owned)).sort()).toEqual([0, 1, 2, 3, 4, 5].map((p) => `${topic}-${p}`).sort());

    const [a, b, c] = members as [Member, Member, Member];
    const cPartition = c.owned[0]!.partitions[0]!;
    await c.commit(topic, cPartition, 5);
    // Commits carry the current epoch: an older one is stale, a newer one never existed.
    expect(await codeOf(c.commit(topic, cPartition, 6, c.epoch - 1))).toBe("STALE_MEMBER_EPOCH");
    expect(await codeOf(c.commit(topic, cPartition, 6, c.epoch + 1))).toBe("FENCED_MEMBER_EPOCH");

    // c goes silent. Just before its lease ends, nothing moves.
    clock.advance(SESSION - 1);
    await a.heartbeat();
    await b.heartbeat();
    expect(flat(a.owned).length + flat(b.owned).length).toBe(4);
    // At its session timeout c is out — its commit is refused even before any other call notices.
    clock.advance(1);
    expect(await codeOf(c.commit(topic, cPartition, 9))).toBe("UNKNOWN_MEMBER_ID");
    await settle([a, b]);
    expect(flat(a.owned).length).toBe(3);
    expect(flat(b.owned).length).toBe(3);
    expect([...flat(a.owned), ...flat(b.owned)]).toContain(`${topic}-${cPartition}`);
    // Removed now: its commits and heartbeats are refused; it must rejoin.
    expect(await codeOf(c.commit(topic, cPartition, 9))).toBe("UNKNOWN_MEMBER_ID");
    expect(await codeOf(c.heartbeat())).toBe("UNKNOWN_MEMBER_ID");
    const committed = await broker.committedOffsets(group, topic);
    expect(committed.find((p) => p.partition === cPartition)!.offset).toBe(5);

    // The new owner commits with its own epoch.
    const owner = flat(a.owned).includes(`${topic}-${cPartition}`) ? a : b;
    await owner.commit(topic, cPartition, 11);
    expect((await broker.committedOffsets(group, topic)).find((p) => p.partition === cPartition)!.offset).toBe(11);
  });

  it("ten members joining at once through three broker instances converge to one valid assignment", async () => {
    const topic = await newTopic(12);
    const group = uniqueName("g");
    const instances = [broker, createTestBroker(tables, { clock }).broker, createTestBroker(tables, { clock }).broker];
    const members = Array.from({ length: 10 }, (_, i) => new Member(group, [topic], { broker: instances[i % 3] }));
    const joined = await Promise.all(members.map((m) => m.heartbeat()));
    // Every join got its own group epoch: none was lost to a race.
    expect(joined.map((r) => r.groupEpoch).sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expectDisjoint(members);
    await settle(members);
    const keys = members.flatMap((m) => flat(m.owned));
    expect(keys.sort()).toEqual(Array.from({ length: 12 }, (_, p) => `${topic}-${p}`).sort());
    expect(members.map((m) => flat(m.owned).length).sort()).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 2, 2]);
    expect(new Set(members.map((m) => m.epoch))).toEqual(new Set([10]));
    const description = await broker.describeGroup(group);
    expect(description).toMatchObject({ state: "Stable", groupEpoch: 10, assignmentEpoch: 10, assignor: "uniform" });
    expect(description.members).toHaveLength(10);
  });

  it("safe handover: a partition reaches its new owner only after the old owner released it, or when the old owner's lease ends", async () => {
    const topic = await newTopic(4);
    const group = uniqueName("g");
    const a = new Member(group, [topic], { sessionTimeoutMs: 60_000, rebalanceTimeoutMs: 20_000 });
    const b = new Member(group, [topic]);
    await a.heartbeat();
    expect(flat(a.owned)).toHaveLength(4);

    expect(await b.heartbeat()).toMatchObject({ memberState: "UnreleasedPartitions", assignment: [] });
    // a hears it must give up two partitions, but has not released them yet.
    const told = await a.heartbeat({ release: false });
    expect(told).toMatchObject({ memberEpoch: 1, memberState: "UnrevokedPartitions" });
    expect(flat(told.assignment)).toHaveLength(2);
    const giving = flat(a.owned).filter((k) => !flat(told.assignment).includes(k));
    expect((await b.heartbeat()).assignment).toEqual([]);
    // While revoking, a still commits the partitions it is giving up (at-least-once handover).
    const givingPartition = Number(giving[0]!.split("-").pop());
    await a.commit(topic, givingPartition, 3);
    expect((await b.heartbeat()).assignment).toEqual([]);

    a.owned = [...told.assignment]; // released
    expect(await a.heartbeat()).toMatchObject({ memberEpoch: 2, memberState: "Stable" });
    expect(flat((await b.heartbeat()).assignment)).toEqual(giving);

    // b leaves; a takes everything back. Then c joins, and a goes silent while it should be revoking:
    // c gets nothing until a's rebalance timeout (20 s) — although a's session (60 s) has not ended.
    await broker.heartbeat(group, { memberId: b.memberId, memberEpoch: -1 });
    await a.heartbeat();
    expect(flat(a.owned)).toHaveLength(4);
    const c = new Member(group, [topic]);
    await c.heartbeat();
    expect(flat((await a.heartbeat({ release: false })).assignment)).toHaveLength(2); // told; never confirms
    for (let i = 0; i < 3; i++) {
      clock.advance(5_000);
      expect((await c.heartbeat()).assignment).toEqual([]);
    }
    clock.advance(5_000);
    await settle([c]);
    expect(flat(c.owned)).toEqual([0, 1, 2, 3].map((p) => `${topic}-${p}`).sort());
    expect(await codeOf(a.commit(topic, 0, 1))).toBe("UNKNOWN_MEMBER_ID");
  });
});

describe("at-least-once consumption across rebalances", () => {
  it("every message is processed at least once while members join, leave and crash mid-way; committed offsets end at the high watermark", async () => {
    const topic = await newTopic(4);
    const group = uniqueName("g");
    const N = 120;
    await broker.produce({ topic, records: Array.from({ length: N }, (_, i) => ({ key: null, value: enc(`m${i}`), headers: [], partition: i % 4 })) });
    const processed = new Map<string, number>();
    const positions = new Map<Member, Map<number, number>>();

    /** Commit after processing; on revocation, commit what was processed and forget the partition. */
    const commitProgress = async (m: Member, partitions: number[], forget: boolean) => {
      const pos = positions.get(m)!;
      const offsets = partitions.filter((p) => pos.has(p)).map((p) => ({ topic, partition: p, offset: pos.get(p)! }));
      if (offsets.length > 0) await broker.commitOffsets(group, offsets, { memberId: m.memberId, memberEpoch: m.epoch });
      if (forget) for (const p of partitions) pos.delete(p);
    };
    const join = () => {
      const m = new Member(group, [topic], { onRevoke: (member, keys) => commitProgress(member, keys.map((k) => Number(k.split("-").pop())), true) });
      positions.set(m, new Map());
      return m;
    };
    /** One poll: fetch a few records of each owned partition, process them, maybe commit. */
    const poll = async (m: Member, commit: boolean) => {
      const pos = positions.get(m)!;
      for (const p of m.owned.flatMap((tp) => tp.partitions)) {
        if (!pos.has(p)) {
          const [start] = await broker.committedOffsets(group, topic, { reset: "earliest", partitions: [p] });
          pos.set(p, start!.position!);
        }
        const [result] = await broker.fetch({ partitions: [{ topic, partition: p, offset: pos.get(p)! }], maxRecords: 3 });
        if (!result || "error" in result) throw new Error(`fetch failed: ${JSON.stringify(result)}`);
        for (const r of result.records) processed.set(dec(r.value), (processed.get(dec(r.value)) ?? 0) + 1);
        pos.set(p, result.nextOffset);
      }
      if (commit) await commitProgress(m, [...pos.keys()], false);
    };

    const active: Member[] = [join()];
    let crashed: { member: Member; at: number } | undefined;
    /** Nobody shares a partition; a crashed member's partitions stay put until its lease has run out. */
    const checkOwnership = () => {
      expectDisjoint(active);
      if (crashed && clock.now() < crashed.at + SESSION) {
        const held = new Set(flat(crashed.member.owned));
        for (const m of active) for (const k of flat(m.owned)) expect(held.has(k), `${k} moved before the crashed owner's lease ended`).toBe(false);
      }
    };
    for (let round = 0; round < 60; round++) {
      if (round === 1 || round === 2) active.push(join());
      if (round === 4) {
        // A graceful leave: commit, then leave with epoch -1.
        const leaving = active.shift()!;
        await commitProgress(leaving, leaving.owned.flatMap((tp) => tp.partitions), true);
        await broker.heartbeat(group, { memberId: leaving.memberId, memberEpoch: -1 });
      }
      if (round === 5) active.push(join());
      for (const m of active) {
        await m.heartbeat();
        checkOwnership();
        await poll(m, true);
      }
      if (round === 7) {
        // A crash between processing and committing: its last records will be processed again.
        const victim = active.shift()!;
        expect(flat(victim.owned).length).toBeGreaterThan(0);
        await poll(victim, false);
        crashed = { member: victim, at: clock.now() };
      }
      clock.advance(2_500); // sessions of 10 s: the crashed member's lease ends 4 rounds later
      const committed = await broker.committedOffsets(group, topic);
      if (round > 12 && committed.every((c) => c.offset === N / 4)) break;
    }
    for (let i = 0; i < N; i++) expect(processed.get(`m${i}`) ?? 0, `m${i}`).toBeGreaterThanOrEqual(1);
    expect((await broker.committedOffsets(group, topic)).map((c) => c.offset)).toEqual([30, 30, 30, 30]);
    // Duplicates are only the crashed member's uncommitted tail (at most one fetch per partition).
    const duplicates = [...processed.values()].reduce((sum, n) => sum + n - 1, 0);
    expect(duplicates).toBeGreaterThan(0);
    expect(duplicates).toBeLessThanOrEqual(4 * 3);
    const description = await broker.describeGroup(group);
    expect(description.totalLag).toBe(0);
    expect(description.members.map((m) => m.memberId).sort()).toEqual(active.map((m) => m.memberId).sort());
  });
});

describe("describe, list and lag", () => {
  it("lag per partition is the high watermark minus the committed offset", async () => {
    const topic = await newTopic(3);
    const group = uniqueName("g");
    await broker.produce({ topic, records: Array.from({ length: 10 }, (_, i) => ({ key: null, value: enc(`a${i}`), headers: [], partition: 0 })) });
    await broker.produce({ topic, records: Array.from({ length: 4 }, (_, i) => ({ key: null, value: enc(`b${i}`), headers: [], partition: 1 })) });
    expect(await codeOf(broker.describeGroup(group))).toBe("GROUP_ID_NOT_FOUND");
    await broker.commitOffsets(group, [
      { topic, partition: 0, offset: 7 },
      { topic, partition: 1, offset: 4 },
    ]);
    const described = await broker.describeGroup(group);
    expect(described).toMatchObject({ group, state: "Empty", members: [], totalLag: 3 });
    expect(described.topics).toEqual([
      {
        topic,
        lag: 3,
        partitions: [
          { partition: 0, committedOffset: 7, highWatermark: 10, lag: 3, memberId: null },
          { partition: 1, committedOffset: 4, highWatermark: 4, lag: 0, memberId: null },
          { partition: 2, committedOffset: null, highWatermark: 0, lag: null, memberId: null },
        ],
      },
    ]);

    // A member joins: owners appear; more records raise the lag.
    const m = new Member(group, [topic]);
    await m.heartbeat();
    await broker.produce({ topic, records: Array.from({ length: 5 }, (_, i) => ({ key: null, value: enc(`c${i}`), headers: [], partition: 1 })) });
    const after = await broker.describeGroup(group);
    expect(after.state).toBe("Stable");
    expect(after.topics[0]!.partitions.map((p) => [p.partition, p.highWatermark, p.lag, p.memberId])).toEqual([
      [0, 10, 3, m.memberId],
      [1, 9, 5, m.memberId],
      [2, 0, null, m.memberId],
    ]);
    expect(after.totalLag).toBe(8);
    expect(after.members[0]).toMatchObject({ memberId: m.memberId, memberEpoch: 1, state: "Stable", subscription: [topic], instanceId: null });

    const listed = (await broker.listGroups()).find((g) => g.group === group);
    expect(listed).toEqual({ group, state: "Stable", groupEpoch: 1, members: 1 });
    clock.advance(SESSION);
    expect((await broker.listGroups()).find((g) => g.group === group)).toMatchObject({ state: "Empty", members: 0 });
    expect((await broker.describeGroup(group)).state).toBe("Empty");
  });
});

describe("commits and resets", () => {
  it("an active group's offsets are committed only by its members; a fenced commit is one all-or-nothing transaction", async () => {
    const topic = await newTopic(2);
    const group = uniqueName("g");
    const m = new Member(group, [topic]);
    await m.heartbeat();
    expect(await codeOf(broker.commitOffsets(group, [{ topic, partition: 0, offset: 1 }]))).toBe("NON_EMPTY_GROUP");
    expect(await codeOf(broker.commitOffsets(group, [{ topic, partition: 0, offset: 1 }], { memberId: m.memberId }))).toBe("INVALID_REQUEST");

    harness.writes.reset();
    await broker.commitOffsets(group, [{ topic, partition: 0, offset: 3 }, { topic, partition: 1, offset: 4 }], { memberId: m.memberId, memberEpoch: m.epoch });
    expect(Object.fromEntries(harness.writes.byCommand)).toEqual({ TransactWriteItemsCommand: 1 });
    // One partition of the commit invalid: nothing of it is written.
    expect(await codeOf(broker.commitOffsets(group, [{ topic, partition: 0, offset: 9 }, { topic, partition: 5, offset: 9 }], { memberId: m.memberId, memberEpoch: m.epoch }))).toBe(
      "UNKNOWN_TOPIC_OR_PARTITION",
    );
    expect(await codeOf(broker.commitOffsets(group, [{ topic, partition: 0, offset: 9 }, { topic, partition: 1, offset: 9 }], { memberId: m.memberId, memberEpoch: m.epoch + 1 }))).toBe(
      "FENCED_MEMBER_EPOCH",
    );
    expect((await broker.committedOffsets(group, topic)).map((c) => c.offset)).toEqual([3, 4]);
    // A fenced commit must fit one transaction with the member check: 99 partitions at most.
    const wide = await newTopic(100);
    const w = new Member(group, [topic, wide]);
    await w.heartbeat();
    const hundred = Array.from({ length: 100 }, (_, partition) => ({ topic: wide, partition, offset: 1 }));
    expect(await codeOf(broker.commitOffsets(group, hundred, { memberId: w.memberId, memberEpoch: w.epoch }))).toBe("REQUEST_TOO_LARGE");
    await broker.commitOffsets(group, hundred.slice(0, 99), { memberId: w.memberId, memberEpoch: w.epoch });
    await broker.heartbeat(group, { memberId: w.memberId, memberEpoch: -1 });

    // Once the last member has left, plain commits work again (admin resets).
    await broker.heartbeat(group, { memberId: m.memberId, memberEpoch: -1 });
    await broker.commitOffsets(group, [{ topic, partition: 0, offset: 0 }]);
    expect((await broker.committedOffsets(group, topic)).map((c) => c.offset)).toEqual([0, 4]);
  });

  it("a plain heartbeat costs one small PutItem; nothing else is written", async () => {
    const topic = await newTopic(2);
    const group = uniqueName("g");
    const m = new Member(group, [topic]);
    await m.heartbeat();
    harness.writes.reset();
    await m.heartbeat();
    await m.heartbeat();
    expect(Object.fromEntries(harness.writes.byCommand)).toEqual({ PutItemCommand: 2 });
  });

  it("auto offset reset: earliest, latest, or none (an error naming the partitions)", async () => {
    const topic = await newTopic(3);
    const group = uniqueName("g");
    await broker.produce({ topic, records: Array.from({ length: 6 }, (_, i) => ({ key: null, value: enc(`${i}`), headers: [], partition: 1 })) });
    await broker.commitOffsets(group, [{ topic, partition: 0, offset: 0 }]);
    const earliest = await broker.committedOffsets(group, topic, { reset: "earliest" });
    expect(earliest.map((p) => [p.partition, p.offset, p.position, p.resetTo])).toEqual([
      [0, 0, 0, undefined],
      [1, -1, 0, "earliest"],
      [2, -1, 0, "earliest"],
    ]);
    const latest = await broker.committedOffsets(group, topic, { reset: "latest", partitions: [1] });
    expect(latest).toEqual([{ partition: 1, offset: -1, metadata: "", committedAt: null, position: 6, resetTo: "latest" }]);
    const none = await broker.committedOffsets(group, topic, { reset: "none" }).catch((e: DynalogError) => e);
    expect(none).toBeInstanceOf(DynalogError);
    expect((none as DynalogError).code).toBe("NO_OFFSET_FOR_PARTITION");
    expect((none as DynalogError).details["partitions"]).toEqual([1, 2]);
    expect((await broker.committedOffsets(group, topic, { reset: "none", partitions: [0] }))[0]!.position).toBe(0);
  });
});

describe("static membership", () => {
  it("a member rejoining with the same instance id within its session timeout gets its partitions back; nobody else moves", async () => {
    const topic = await newTopic(6);
    const group = uniqueName("g");
    const a = new Member(group, [topic], { instanceId: "host-a", sessionTimeoutMs: 30_000 });
    const b = new Member(group, [topic], { sessionTimeoutMs: 30_000 });
    await a.heartbeat();
    await b.heartbeat();
    await settle([a, b]);
    const before = { a: flat(a.owned), b: flat(b.owned), epoch: b.last!.groupEpoch, bEpoch: b.epoch };

    // A second process with the same instance id is refused while a is alive.
    const twin = new Member(group, [topic], { instanceId: "host-a" });
    expect(await codeOf(twin.heartbeat())).toBe("UNRELEASED_INSTANCE_ID");

    // a restarts: leaves with -2 (partitions stay reserved), comes back as a new process.
    await broker.heartbeat(group, { memberId: a.memberId, memberEpoch: -2 });
    expect(await codeOf(a.commit(topic, 0, 1))).toBe("UNKNOWN_MEMBER_ID");
    clock.advance(20_000);
    await b.heartbeat();
    expect(flat(b.owned)).toEqual(before.b);
    const restarted = new Member(group, [topic], { instanceId: "host-a", sessionTimeoutMs: 30_000 });
    const back = await restarted.heartbeat();
    expect(flat(back.assignment)).toEqual(before.a);
    expect(back).toMatchObject({ groupEpoch: before.epoch, memberState: "Stable" });
    await b.heartbeat();
    expect(b.epoch).toBe(before.bEpoch);
    expect(flat(b.owned)).toEqual(before.b);
    await restarted.commit(topic, Number(before.a[0]!.split("-").pop()), 1);

    // A crash without -2: the instance id is held until the old lease runs out; a restart right
    // then (before any other call removed the dead member) still takes its partitions over as they are.
    for (let i = 0; i < 5; i++) {
      clock.advance(5_000);
      await b.heartbeat();
    }
    clock.advance(4_999);
    await b.heartbeat();
    const again = new Member(group, [topic], { instanceId: "host-a", sessionTimeoutMs: 30_000 });
    expect(await codeOf(again.heartbeat())).toBe("UNRELEASED_INSTANCE_ID");
    clock.advance(1);
    const takenOver = await again.heartbeat();
    expect(flat(takenOver.assignment)).toEqual(before.a);
    expect(takenOver.groupEpoch).toBe(before.epoch);
    expect(await codeOf(restarted.commit(topic, 0, 2))).toBe("UNKNOWN_MEMBER_ID");
  });
});
