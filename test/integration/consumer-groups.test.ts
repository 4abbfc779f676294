/**
 * Consumer groups against DynamoDB Local, driven through the broker core with a TestClock (no
 * sleeps): even spread and single ownership, expiry moving partitions and fencing late commits,
 * safe handover, lag, fenced and memberless commits, offset reset, static membership, and what the
 * steady state costs in writes. Concurrent joins and at-least-once consumption:
 * consumer-group-rebalance.test.ts.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { Broker } from "../../shared/core/broker.js";
import { DynalogError } from "../../shared/errors.js";
import { createTestBroker, createTestTables, TestClock, timeoutError, topicName, type TestBroker } from "../support/broker.js";
import { uniqueName } from "../support/dynamodb.js";
import { codeOf, enc, flat, Member, SESSION, settle, type MemberOptions } from "../support/group-member.js";

let clock: TestClock;
let harness: TestBroker;
let broker: Broker;

beforeAll(async () => {
  clock = new TestClock();
  harness = createTestBroker(await createTestTables("groups"), { clock });
  broker = harness.broker;
});

async function newTopic(partitions: number): Promise<string> {
  const name = topicName("grp");
  await broker.createTopic({ name, partitions });
  return name;
}

const member = (group: string, topics: string[], options: MemberOptions = {}) => new Member(broker, group, topics, options);

describe("membership and assignment", () => {
  it("three members split six partitions evenly; one stops heartbeating, its partitions move after its session timeout and its late commit is refused", async () => {
    const topic = await newTopic(6);
    const group = uniqueName("g");
    const members = [member(group, [topic]), member(group, [topic]), member(group, [topic])];
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

  it("safe handover: a partition reaches its new owner only after the old owner released it, or when the old owner's lease ends", async () => {
    const topic = await newTopic(4);
    const group = uniqueName("g");
    const a = member(group, [topic], { sessionTimeoutMs: 60_000, rebalanceTimeoutMs: 20_000 });
    const b = member(group, [topic]);
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
    const c = member(group, [topic]);
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
    const m = member(group, [topic]);
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
    const m = member(group, [topic]);
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
    const w = member(group, [topic, wide]);
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
    const m = member(group, [topic]);
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

describe("lost responses", () => {
  it("a join whose response was lost, retried with the same memberId, is one member", async () => {
    const topic = await newTopic(2);
    const group = uniqueName("g");
    const m = member(group, [topic]);
    harness.faults.once(/TransactWriteItems/, { kind: "drop-response", error: timeoutError() });
    const lost = await m.heartbeat().catch((e: DynalogError) => e);
    expect((lost as DynalogError).code).toBe("REQUEST_TIMED_OUT");
    expect((lost as DynalogError).outcome).toBe("indefinite");
    expect(m.epoch).toBe(0);
    const retried = await m.heartbeat();
    expect(retried).toMatchObject({ memberId: m.memberId, memberEpoch: 1, groupEpoch: 1, memberState: "Stable" });
    expect(flat(retried.assignment)).toEqual([`${topic}-0`, `${topic}-1`]);
    const description = await broker.describeGroup(group);
    expect(description.members.map((d) => d.memberId)).toEqual([m.memberId]);
    expect(description.groupEpoch).toBe(1);
  });
});

describe("static membership", () => {
  it("a member rejoining with the same instance id within its session timeout gets its partitions back; nobody else moves", async () => {
    const topic = await newTopic(6);
    const group = uniqueName("g");
    const a = member(group, [topic], { instanceId: "host-a", sessionTimeoutMs: 30_000 });
    const b = member(group, [topic], { sessionTimeoutMs: 30_000 });
    await a.heartbeat();
    await b.heartbeat();
    await settle([a, b]);
    const before = { a: flat(a.owned), b: flat(b.owned), epoch: b.last!.groupEpoch, bEpoch: b.epoch };

    // A second process with the same instance id is refused while a is alive.
    const twin = member(group, [topic], { instanceId: "host-a" });
    expect(await codeOf(twin.heartbeat())).toBe("UNRELEASED_INSTANCE_ID");

    // a restarts: leaves with -2 (partitions stay reserved), comes back as a new process.
    await broker.heartbeat(group, { memberId: a.memberId, memberEpoch: -2 });
    expect(await codeOf(a.commit(topic, 0, 1))).toBe("UNKNOWN_MEMBER_ID");
    clock.advance(20_000);
    await b.heartbeat();
    expect(flat(b.owned)).toEqual(before.b);
    const restarted = member(group, [topic], { instanceId: "host-a", sessionTimeoutMs: 30_000 });
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
    const again = member(group, [topic], { instanceId: "host-a", sessionTimeoutMs: 30_000 });
    expect(await codeOf(again.heartbeat())).toBe("UNRELEASED_INSTANCE_ID");
    clock.advance(1);
    const takenOver = await again.heartbeat();
    expect(flat(takenOver.assignment)).toEqual(before.a);
    expect(takenOver.groupEpoch).toBe(before.epoch);
    expect(await codeOf(restarted.commit(topic, 0, 2))).toBe("UNKNOWN_MEMBER_ID");
  });
});
