/**
 * Consumer-group offsets over HTTP: commit and read back with metadata, -1 for uncommitted
 * partitions, overwrite on re-commit, no leak across a topic's delete and re-create, and groups
 * isolated from each other.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestBroker, createTestTables, serveApp, topicName, type Served, type TestBroker } from "../support/broker.js";
import { jsonClient, type JsonClient } from "../support/http.js";
import { uniqueName } from "../support/dynamodb.js";

let served: Served;
let api: JsonClient;
let harness: TestBroker;

beforeAll(async () => {
  harness = createTestBroker(await createTestTables("offsets"));
  served = await serveApp(harness.app);
  api = jsonClient(served.url);
});
afterAll(async () => served?.close());

const groupName = (label = "group") => uniqueName(label);

async function createTopic(name: string, partitions: number): Promise<void> {
  const created = await api.post("/v1/topics", { name, partitions });
  expect(created.status).toBe(201);
}

async function commit(group: string, offsets: { topic: string; partition: number; offset: number; metadata?: string }[]) {
  const response = await api.post(`/v1/groups/${group}/offsets`, { offsets });
  expect(response.status).toBe(200);
  return response.body;
}

async function committed(group: string, topic: string) {
  const response = await api.get(`/v1/groups/${group}/offsets?topic=${topic}`);
  expect(response.status).toBe(200);
  expect(response.body).toMatchObject({ group, topic });
  return response.body.partitions as { partition: number; offset: number; metadata: string; committedAt: string | null }[];
}

/** partition → offset, for compact assertions. */
const offsetsOf = (partitions: { partition: number; offset: number }[]) => partitions.map((p) => [p.partition, p.offset]);

describe("committed offsets over HTTP", () => {
  it("commits several partitions with metadata and reads them back; uncommitted partitions report -1", async () => {
    const topic = topicName("orders");
    await createTopic(topic, 4);
    const group = groupName();
    const before = Date.now();
    const body = await commit(group, [
      { topic, partition: 0, offset: 17, metadata: "host-a generation 3" },
      { topic, partition: 2, offset: 0, metadata: "ünïcødé ✓" },
      { topic, partition: 3, offset: 9_007_199_254_740_991 },
    ]);
    expect(body).toEqual({
      group,
      offsets: [
        { topic, partition: 0, offset: 17 },
        { topic, partition: 2, offset: 0 },
        { topic, partition: 3, offset: 9_007_199_254_740_991 },
      ],
    });

    const partitions = await committed(group, topic);
    expect(offsetsOf(partitions)).toEqual([
      [0, 17],
      [1, -1],
      [2, 0],
      [3, 9_007_199_254_740_991],
    ]);
    expect(partitions.map((p) => p.metadata)).toEqual(["host-a generation 3", "", "ünïcødé ✓", ""]);
    expect(partitions[1]!.committedAt).toBeNull();
    for (const i of [0, 2, 3]) {
      const at = Date.parse(partitions[i]!.committedAt!);
      expect(at).toBeGreaterThanOrEqual(before - 1000);
      expect(at).toBeLessThanOrEqual(Date.now() + 1000);
    }
  });

  it("a topic nobody committed for reports -1 for every partition", async () => {
    const topic = topicName("fresh");
    await createTopic(topic, 3);
    const partitions = await committed(groupName(), topic);
    expect(partitions).toEqual([0, 1, 2].map((partition) => ({ partition, offset: -1, metadata: "", committedAt: null })));
  });

  it("a re-commit overwrites the offset and the metadata, also with a lower offset (a rewind)", async () => {
    const topic = topicName("rewind");
    await createTopic(topic, 2);
    const group = groupName();
    await commit(group, [
      { topic, partition: 0, offset: 10, metadata: "first" },
      { topic, partition: 1, offset: 20, metadata: "first" },
    ]);
    await commit(group, [{ topic, partition: 0, offset: 15, metadata: "second" }]);
    let partitions = await committed(group, topic);
    expect(offsetsOf(partitions)).toEqual([
      [0, 15],
      [1, 20],
    ]);
    expect(partitions.map((p) => p.metadata)).toEqual(["second", "first"]);

    // A commit without metadata replaces the old metadata with "" (Kafka's behavior).
    await commit(group, [{ topic, partition: 1, offset: 3 }]);
    partitions = await committed(group, topic);
    expect(offsetsOf(partitions)).toEqual([
      [0, 15],
      [1, 3],
    ]);
    expect(partitions.map((p) => p.metadata)).toEqual(["second", ""]);
  });

  it("offsets of a deleted-then-recreated topic do not leak into the new topic", async () => {
    const topic = topicName("reborn");
    await createTopic(topic, 2);
    const group = groupName();
    await commit(group, [
      { topic, partition: 0, offset: 42, metadata: "old incarnation" },
      { topic, partition: 1, offset: 7 },
    ]);
    expect(offsetsOf(await committed(group, topic))).toEqual([
      [0, 42],
      [1, 7],
    ]);

    expect((await api.delete(`/v1/topics/${topic}`)).status).toBe(200);
    const gone = await api.get(`/v1/groups/${group}/offsets?topic=${topic}`);
    expect(gone.status).toBe(404);
    expect(gone.body.error.code).toBe("UNKNOWN_TOPIC_OR_PARTITION");
    // Committing for a deleted topic is refused.
    const refused = await api.post(`/v1/groups/${group}/offsets`, { offsets: [{ topic, partition: 0, offset: 1 }] });
    expect(refused.status).toBe(404);
    expect(refused.body.error.code).toBe("UNKNOWN_TOPIC_OR_PARTITION");

    await createTopic(topic, 3);
    expect(await committed(group, topic)).toEqual([0, 1, 2].map((partition) => ({ partition, offset: -1, metadata: "", committedAt: null })));

    // The new incarnation's commits work as usual and overwrite the stale items.
    await commit(group, [{ topic, partition: 0, offset: 1, metadata: "new incarnation" }]);
    const partitions = await committed(group, topic);
    expect(offsetsOf(partitions)).toEqual([
      [0, 1],
      [1, -1],
      [2, -1],
    ]);
    expect(partitions[0]!.metadata).toBe("new incarnation");
  });

  it("groups are isolated from each other, also groups whose names share a prefix", async () => {
    const topic = topicName("shared");
    await createTopic(topic, 2);
    const a = groupName("team");
    const b = `${a}-b`;
    const c = `${a}b`;
    await commit(a, [{ topic, partition: 0, offset: 5, metadata: "a" }]);
    await commit(b, [{ topic, partition: 0, offset: 50, metadata: "b" }, { topic, partition: 1, offset: 51 }]);

    const ofA = await committed(a, topic);
    expect(offsetsOf(ofA)).toEqual([
      [0, 5],
      [1, -1],
    ]);
    expect(ofA[0]!.metadata).toBe("a");
    expect(offsetsOf(await committed(b, topic))).toEqual([
      [0, 50],
      [1, 51],
    ]);
    expect(offsetsOf(await committed(c, topic))).toEqual([
      [0, -1],
      [1, -1],
    ]);
  });

  it("topics are isolated within a group, also topics whose names share a prefix", async () => {
    const short = topicName("pre");
    const long = `${short}.x`;
    const longer = `${short}1`;
    await createTopic(short, 1);
    await createTopic(long, 1);
    await createTopic(longer, 12);
    const group = groupName();
    await commit(group, [
      { topic: long, partition: 0, offset: 8 },
      { topic: longer, partition: 11, offset: 11 },
    ]);
    expect(offsetsOf(await committed(group, short))).toEqual([[0, -1]]);
    expect(offsetsOf(await committed(group, long))).toEqual([[0, 8]]);
    expect(offsetsOf((await committed(group, longer)).filter((p) => p.offset !== -1))).toEqual([[11, 11]]);
  });

  it("the committed offset is the client's value, by Kafka convention the next offset to read (not the last one read)", async () => {
    const topic = topicName("convention");
    await createTopic(topic, 1);
    const produced = await api.post(`/v1/topics/${topic}/records`, { encoding: "utf8", records: [{ value: "a" }, { value: "b" }, { value: "c" }].map((r) => ({ ...r, partition: 0 })) });
    expect(produced.status).toBe(200);
    const fetched = await api.get(`/v1/topics/${topic}/partitions/0/records?offset=0&maxRecords=2&encoding=utf8`);
    expect(fetched.body.records.map((r: any) => r.value)).toEqual(["a", "b"]);

    // A consumer that processed offsets 0 and 1 commits nextOffset (2), and resumes from it.
    const group = groupName();
    await commit(group, [{ topic, partition: 0, offset: fetched.body.nextOffset }]);
    const [position] = await committed(group, topic);
    expect(position!.offset).toBe(2);
    const resumed = await api.get(`/v1/topics/${topic}/partitions/0/records?offset=${position!.offset}&encoding=utf8`);
    expect(resumed.body.records.map((r: any) => [r.offset, r.value])).toEqual([[2, "c"]]);

    // The broker stores what the client sends; it does not check it against the log.
    await commit(group, [{ topic, partition: 0, offset: 1_000 }]);
    expect((await committed(group, topic))[0]!.offset).toBe(1_000);
  });

  it("refuses bad commits without writing anything", async () => {
    const topic = topicName("bad");
    await createTopic(topic, 2);
    const group = groupName();
    await commit(group, [{ topic, partition: 0, offset: 4 }]);
    harness.writes.reset();
    const cases: [unknown, number, string][] = [
      [{ offsets: [{ topic, partition: 2, offset: 1 }] }, 404, "UNKNOWN_TOPIC_OR_PARTITION"],
      [{ offsets: [{ topic, partition: 0, offset: -1 }] }, 400, "INVALID_COMMIT_OFFSET"],
      [{ offsets: [{ topic, partition: 0, offset: 1, metadata: "m".repeat(4097) }] }, 400, "OFFSET_METADATA_TOO_LARGE"],
      [{ offsets: [] }, 400, "INVALID_REQUEST"],
      [{ offsets: [{ topic, partition: 0, offset: 1 }, { topic, partition: 0, offset: 2 }] }, 400, "INVALID_REQUEST"],
      // One bad partition refuses the whole commit: partition 1 is not written either.
      [{ offsets: [{ topic, partition: 1, offset: 1 }, { topic, partition: 9, offset: 1 }] }, 404, "UNKNOWN_TOPIC_OR_PARTITION"],
    ];
    for (const [body, status, code] of cases) {
      const response = await api.post(`/v1/groups/${group}/offsets`, body);
      expect(response.status, JSON.stringify(body).slice(0, 100)).toBe(status);
      expect(response.body.error.code).toBe(code);
    }
    const badGroup = await api.post(`/v1/groups/${encodeURIComponent("bad group!")}/offsets`, { offsets: [{ topic, partition: 0, offset: 1 }] });
    expect(badGroup.status).toBe(400);
    expect(badGroup.body.error.code).toBe("INVALID_GROUP_ID");
    expect(harness.writes.total).toBe(0);
    expect(offsetsOf(await committed(group, topic))).toEqual([
      [0, 4],
      [1, -1],
    ]);
  });
});
