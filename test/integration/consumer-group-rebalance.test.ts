/**
 * Consumer groups under change, against DynamoDB Local through the broker core with a TestClock
 * (deterministic, no sleeps): ten members joining at once through three broker instances converge
 * to one valid assignment, and consumption stays at-least-once while members join, leave and crash.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { Broker } from "../../shared/core/broker.js";
import type { TableNames } from "../../shared/storage/tables.js";
import { createTestBroker, createTestTables, TestClock, topicName } from "../support/broker.js";
import { uniqueName } from "../support/dynamodb.js";
import { dec, enc, expectDisjoint, flat, Member, SESSION, settle } from "../support/group-member.js";

let tables: TableNames;
let clock: TestClock;
let broker: Broker;

beforeAll(async () => {
  tables = await createTestTables("groups-rb");
  clock = new TestClock();
  broker = createTestBroker(tables, { clock }).broker;
});

async function newTopic(partitions: number): Promise<string> {
  const name = topicName("grp");
  await broker.createTopic({ name, partitions });
  return name;
}

describe("concurrent joins", () => {
  it("ten members joining at once through three broker instances converge to one valid assignment", async () => {
    const topic = await newTopic(12);
    const group = uniqueName("g");
    const instances = [broker, createTestBroker(tables, { clock }).broker, createTestBroker(tables, { clock }).broker];
    const members = Array.from({ length: 10 }, (_, i) => new Member(instances[i % 3]!, group, [topic]));
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
      const m = new Member(broker, group, [topic], { onRevoke: (member, keys) => commitProgress(member, keys.map((k) => Number(k.split("-").pop())), true) });
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
