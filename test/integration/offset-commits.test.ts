/**
 * Committed offsets against DynamoDB Local: a commit without a member racing with a join (the
 * interleaving forced by a hook between the commit's group read and its write — no sleeps), large
 * memberless commits, and the read consistency of everything a resuming consumer depends on.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { TableNames } from "../../shared/storage/tables.js";
import { createTestBroker, createTestTables, TestClock, topicName, type TestBroker } from "../support/broker.js";
import { uniqueName } from "../support/dynamodb.js";
import { codeOf, enc, Member } from "../support/group-member.js";

let tables: TableNames;
let clock: TestClock;
/** The instance that commits without a member. */
let lambda: TestBroker;
/** Another instance, where the group's member joins and commits. */
let other: TestBroker;

beforeAll(async () => {
  tables = await createTestTables("offsets");
  clock = new TestClock();
  lambda = createTestBroker(tables, { clock });
  other = createTestBroker(tables, { clock });
});

async function newTopic(partitions = 1): Promise<string> {
  const name = topicName("off");
  await lambda.broker.createTopic({ name, partitions });
  return name;
}

/**
 * Before the first write request of `group` that `lambda` sends (after its NON_EMPTY_GROUP read),
 * a member joins on `other` and commits 100 for partition 0.
 */
function joinAndCommitBeforeWrite(group: string, topic: string): { fired: () => boolean } {
  let fired = false;
  lambda.chaos.beforeCommand(
    /^(TransactWrite|BatchWrite|Put)/,
    async () => {
      fired = true;
      const member = new Member(other.broker, group, [topic]);
      await member.heartbeat();
      await member.commit(topic, 0, 100);
    },
    { where: (request) => JSON.stringify(request.input).includes(`g#${group}`) },
  );
  return { fired: () => fired };
}

describe("a commit without a member racing with a join", () => {
  it("never overwrites what the member committed: the commit fails and, read again, is NON_EMPTY_GROUP", async () => {
    const topic = await newTopic();
    const group = uniqueName("g");
    const hook = joinAndCommitBeforeWrite(group, topic);

    const outcome = await codeOf(lambda.broker.commitOffsets(group, [{ topic, partition: 0, offset: 7 }]));

    expect(hook.fired()).toBe(true);
    expect(outcome).toBe("NON_EMPTY_GROUP");
    expect((await other.broker.committedOffsets(group, topic)).map((c) => c.offset)).toEqual([100]);
  });

  it("in a transaction (offsets without a member), the whole transaction fails: no records, no offset", async () => {
    const topic = await newTopic();
    const output = await newTopic();
    const group = uniqueName("g");
    const hook = joinAndCommitBeforeWrite(group, topic);

    const outcome = await codeOf(
      lambda.broker.commitTransaction({
        records: [{ topic: output, partition: 0, key: null, value: enc("copied"), headers: [] }],
        offsets: { group, offsets: [{ topic, partition: 0, offset: 7 }] },
      }),
    );

    expect(hook.fired()).toBe(true);
    expect(outcome).toBe("CONCURRENT_TRANSACTIONS"); // retriable: the group changed under the commit
    expect((await other.broker.committedOffsets(group, topic)).map((c) => c.offset)).toEqual([100]);
    const [fetched] = await other.broker.fetch({ partitions: [{ topic: output, partition: 0, offset: 0 }] });
    expect(fetched && "records" in fetched ? fetched.records : fetched).toEqual([]);
    // Retried, it is refused for what it is now: a commit to a group with a live member.
    const retry = lambda.broker.commitTransaction({ records: [], offsets: { group, offsets: [{ topic, partition: 0, offset: 7 }] } });
    expect(await codeOf(retry)).toBe("NON_EMPTY_GROUP");
  });

  it("a group that only changed (an expired member removed) does not refuse the commit: it is read again and applied", async () => {
    const topic = await newTopic();
    const group = uniqueName("g");
    const gone = new Member(other.broker, group, [topic], { sessionTimeoutMs: 6_000 });
    await gone.heartbeat();
    clock.advance(6_001); // expired, not yet removed: the group item still lists it
    let fired = false;
    // Someone else's call removes the expired member: a group write (new version), no live member.
    lambda.chaos.beforeCommand(
      /^TransactWrite/,
      async () => {
        fired = true;
        await other.broker.heartbeat(group, { memberId: gone.memberId, memberEpoch: -1 });
      },
      { where: (request) => JSON.stringify(request.input).includes(`g#${group}`) },
    );

    await lambda.broker.commitOffsets(group, [{ topic, partition: 0, offset: 7 }]);

    expect(fired).toBe(true);
    expect((await other.broker.committedOffsets(group, topic)).map((c) => c.offset)).toEqual([7]);
  });
});

describe("large commits without a member", () => {
  it("up to MAX_OFFSETS_PER_COMMIT offsets go in transactions of at most 100 actions, each checking the group", async () => {
    const topic = await newTopic(150);
    const group = uniqueName("g");
    const sent: number[] = [];
    lambda.faults.add((command, input) => {
      if (command === "TransactWriteItemsCommand" && JSON.stringify(input).includes(`g#${group}`)) sent.push((input["TransactItems"] as unknown[]).length);
      return undefined;
    });

    await lambda.broker.commitOffsets(group, Array.from({ length: 150 }, (_, partition) => ({ topic, partition, offset: partition + 1 })));

    expect(sent).toEqual([100, 52]); // 99 + 51 offsets, each with the group check
    const committed = await lambda.broker.committedOffsets(group, topic);
    expect(committed.map((c) => c.offset)).toEqual(Array.from({ length: 150 }, (_, p) => p + 1));
  });

  it("in a transaction, offsets without a member come with their group check too: 100 offsets alone do not fit, 1 batch item + 98 offsets do", async () => {
    const topic = await newTopic(100);
    const group = uniqueName("g");
    const offsets = Array.from({ length: 100 }, (_, partition) => ({ topic, partition, offset: 1 }));

    const tooLarge = lambda.broker.commitTransaction({ records: [], offsets: { group, offsets } });
    await expect(tooLarge).rejects.toMatchObject({ code: "TRANSACTION_TOO_LARGE", details: { limit: "actions", actions: 101, offsets: 100 } });
    const output = await newTopic();
    // 1 batch item + 98 offsets + the group check = 100 actions.
    await lambda.broker.commitTransaction({ records: [{ topic: output, key: null, value: enc("x"), headers: [] }], offsets: { group, offsets: offsets.slice(0, 98) } });
    expect((await lambda.broker.committedOffsets(group, topic)).filter((c) => c.offset === 1)).toHaveLength(98);
  });
});

describe("read consistency", () => {
  it("every read of committed offsets, groups and topics a consumer resumes from is strongly consistent", async () => {
    const topic = await newTopic(2);
    const group = uniqueName("g");
    const reads: { command: string; table: string; consistent: unknown }[] = [];
    const tablesRead = new Set<string>([tables.offsets, tables.topics]);
    const capture = (broker: TestBroker) =>
      broker.faults.add((command, input) => {
        if (!/^(Query|GetItem|BatchGetItem|Scan)/.test(command)) return undefined;
        if (command.startsWith("BatchGetItem")) {
          for (const [table, request] of Object.entries((input["RequestItems"] ?? {}) as Record<string, { ConsistentRead?: unknown }>)) {
            if (tablesRead.has(table)) reads.push({ command, table, consistent: request.ConsistentRead });
          }
        } else if (tablesRead.has(String(input["TableName"]))) {
          reads.push({ command, table: String(input["TableName"]), consistent: input["ConsistentRead"] });
        }
        return undefined;
      });
    const fresh = createTestBroker(tables, { clock }); // a new partition owner / restarted copier
    capture(fresh);

    const member = new Member(fresh.broker, group, [topic]);
    await member.heartbeat();
    await member.commit(topic, 0, 4);
    const output = await newTopic();
    const records = [{ topic: output, key: null, value: enc("copied"), headers: [] }];
    await fresh.broker.commitTransaction({ records, offsets: { group, memberId: member.memberId, memberEpoch: member.epoch, offsets: [{ topic, partition: 1, offset: 2 }] } });
    expect((await fresh.broker.committedOffsets(group, topic, { reset: "earliest" })).map((c) => c.offset)).toEqual([4, 2]);
    await fresh.broker.describeGroup(group);
    await fresh.broker.heartbeat(group, { memberId: member.memberId, memberEpoch: -1 });
    await fresh.broker.commitOffsets(group, [{ topic, partition: 0, offset: 9 }]);

    expect(new Set(reads.map((r) => r.table))).toEqual(tablesRead);
    expect(reads.filter((r) => r.consistent !== true)).toEqual([]);
  });
});
