import { beforeAll, describe, expect, it } from "vitest";
import type { TableNames } from "../../shared/storage/tables.js";
import { createTestBroker, createTestTables, topicName, type TestBroker } from "../support/broker.js";
import { uniqueName } from "../support/dynamodb.js";

// Two Lambda instances: `admin` changes topics, `stale` caches topic metadata for a minute.
let tables: TableNames;
let admin: TestBroker;
let stale: TestBroker;

beforeAll(async () => {
  tables = await createTestTables("incarnation");
  admin = createTestBroker(tables);
  stale = createTestBroker(tables, { config: { topicCacheTtlMs: 60_000 } });
});

const text = (value: string) => ({ key: null, value: Buffer.from(value), headers: [] });

async function values(broker: TestBroker, topic: string): Promise<string[]> {
  const [result] = await broker.broker.fetch({ partitions: [{ topic, partition: 0, offset: 0 }] });
  if (!result || "error" in result) throw new Error(`fetch failed: ${JSON.stringify(result)}`);
  return result.records.map((r) => Buffer.from(r.value!).toString());
}

describe("an instance with stale topic metadata", () => {
  it("produces into the recreated topic, where every instance sees it, never into the deleted one", async () => {
    const topic = topicName();
    await admin.broker.createTopic({ name: topic, partitions: 1 });
    await stale.broker.produce({ topic, records: [text("old")] }); // caches the first incarnation
    await admin.broker.deleteTopic(topic);
    await admin.broker.createTopic({ name: topic, partitions: 1 });

    const result = await stale.broker.produce({ topic, records: [text("new")] });
    expect(result.partitions).toEqual([expect.objectContaining({ partition: 0, baseOffset: 0 })]);
    expect(await values(admin, topic)).toEqual(["new"]);
    expect(await values(stale, topic)).toEqual(["new"]);
  });

  it("is told the topic is unknown once it is deleted, and recreates no partition", async () => {
    const topic = topicName();
    const created = await admin.broker.createTopic({ name: topic, partitions: 2 });
    await stale.broker.produce({ topic, records: [text("cached")] });
    await admin.broker.deleteTopic(topic);

    await expect(stale.broker.produce({ topic, records: [text("lost?")] })).rejects.toMatchObject({ code: "UNKNOWN_TOPIC_OR_PARTITION" });
    const [fetched] = await stale.broker.fetch({ partitions: [{ topic, partition: 0, offset: 0 }] });
    expect(fetched).toMatchObject({ error: { code: "UNKNOWN_TOPIC_OR_PARTITION" } });
    const heads = await admin.storage.log.readHeads([0, 1].map((partition) => ({ topicId: created.topicId, partition })));
    expect(heads.map((h) => h.exists)).toEqual([false, false]);
  });
});

describe("committed offsets of a recreated topic", () => {
  async function recreatedWithStaleInstance(group: string): Promise<{ topic: string; oldId: string; newId: string }> {
    const topic = topicName();
    const first = await admin.broker.createTopic({ name: topic, partitions: 1 });
    await stale.broker.commitOffsets(group, [{ topic, partition: 0, offset: 1 }]); // caches the first incarnation
    await admin.broker.deleteTopic(topic);
    const second = await admin.broker.createTopic({ name: topic, partitions: 1 });
    await admin.broker.commitOffsets(group, [{ topic, partition: 0, offset: 5, metadata: "new" }]);
    return { topic, oldId: first.topicId, newId: second.topicId };
  }

  it("a plain commit from an instance that still caches the deleted incarnation never erases the new incarnation's offset", async () => {
    const group = uniqueName("g");
    const { topic, newId } = await recreatedWithStaleInstance(group);

    await stale.broker.commitOffsets(group, [{ topic, partition: 0, offset: 2, metadata: "stale" }]);

    expect(await admin.broker.committedOffsets(group, topic)).toEqual([expect.objectContaining({ partition: 0, offset: 5, metadata: "new" })]);
    const described = await admin.broker.describeGroup(group);
    expect(described.topics).toEqual([expect.objectContaining({ topic, partitions: [expect.objectContaining({ partition: 0, committedOffset: 5 })] })]);
    // Both incarnations keep their own item; readers by name see only the current one.
    const all = await admin.storage.offsets.readAll(group);
    expect(all.find((c) => c.topicId === newId)).toMatchObject({ topic, offset: 5 });
    expect(all.filter((c) => c.topicId !== newId).map((c) => c.offset)).toEqual([2]);
  });

  it("a transaction's offsets from such an instance never erase them either", async () => {
    const group = uniqueName("g");
    const { topic } = await recreatedWithStaleInstance(group);

    const output = topicName("out");
    await admin.broker.createTopic({ name: output, partitions: 1 });
    await stale.broker.commitTransaction({ records: [{ topic: output, ...text("copied") }], offsets: { group, offsets: [{ topic, partition: 0, offset: 3 }] } });

    expect((await admin.broker.committedOffsets(group, topic)).map((c) => c.offset)).toEqual([5]);
    expect((await stale.broker.committedOffsets(group, topic)).map((c) => c.offset)).toEqual([3]); // its cache: the deleted incarnation
  });
});
