/**
 * The topic lifecycle over real HTTP (issue 19): topic configs (describe, alter, and what changes
 * when), adding partitions under a running group and a keyed producer, deleting records (moving the
 * log start), and deleting consumer groups — plus bad input and unauthorized callers, with zero writes.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_PARTITIONS, MAX_RECORD_BYTES, MIN_RETENTION_MS } from "../../shared/limits.js";
import { partitionForKey } from "../../shared/partitioner.js";
import { createTestBroker, createTestTables, serveApp, TestClock, topicName, type Served, type TestBroker } from "../support/broker.js";
import { uniqueName } from "../support/dynamodb.js";
import { flat, Member } from "../support/group-member.js";
import { jsonClient, type JsonClient } from "../support/http.js";

let served: Served;
let api: JsonClient;
let harness: TestBroker;
const clock = new TestClock();

beforeAll(async () => {
  harness = createTestBroker(await createTestTables("lifecycle"), { clock });
  served = await serveApp(harness.app);
  api = jsonClient(served.url);
});
afterAll(async () => served?.close());

async function createTopic(partitions: number, extra: Record<string, unknown> = {}): Promise<string> {
  const name = topicName("life");
  const response = await api.post("/v1/topics", { name, partitions, ...extra });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return name;
}

async function produce(topic: string, partition: number, values: string[]) {
  const response = await api.post(`/v1/topics/${topic}/records`, { encoding: "utf8", partitions: [{ partition, records: values.map((value) => ({ value })) }] });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body.partitions[0];
}

async function fetchAll(topic: string, partition: number, offset = 0) {
  return api.get(`/v1/topics/${topic}/partitions/${partition}/records?offset=${offset}&encoding=utf8`);
}

/** Calls `call` and asserts it was refused with `status`/`code` and wrote nothing. */
async function expectRefused(call: () => Promise<{ status: number; body: any }>, status: number, code: string) {
  harness.writes.reset();
  const response = await call();
  expect(response.status, JSON.stringify(response.body)).toBe(status);
  expect(response.body.error.code).toBe(code);
  expect(harness.writes.total).toBe(0);
}

describe("topic configs", () => {
  it("describes the configs, with the most maxMessageBytes may be set to", async () => {
    const topic = await createTopic(1, { retentionMs: 3_600_000, compression: "none" });
    const response = await api.get(`/v1/topics/${topic}/configs`);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      topic,
      partitionCount: 1,
      configs: { retentionMs: 3_600_000, compression: "none", timestampType: "CreateTime", maxMessageBytes: MAX_RECORD_BYTES },
      limits: { maxMessageBytes: MAX_RECORD_BYTES },
    });
  });

  it("maxMessageBytes: set at create and altered; a larger record is refused with RECORD_TOO_LARGE and nothing written; out of range is INVALID_CONFIG", async () => {
    const topic = uniqueName("max-bytes");
    const created = await api.post("/v1/topics", { name: topic, partitions: 1, maxMessageBytes: 200 });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ maxMessageBytes: 200 });
    const big = "x".repeat(300);
    const produce = () => api.post(`/v1/topics/${topic}/records`, { encoding: "utf8", records: [{ value: "small" }, { value: big }] });
    await expectRefused(produce, 413, "RECORD_TOO_LARGE");
    const refused = await produce();
    expect(refused.body.error).toMatchObject({ record: 1, limit: 200 });
    expect(refused.body.error.message).toMatch(/maxMessageBytes is 200/);
    // All or nothing: the small record of the refused request is not there either.
    expect((await fetchAll(topic, 0)).body.records).toEqual([]);

    const raised = await api.post(`/v1/topics/${topic}/configs`, { maxMessageBytes: 1_000 });
    expect(raised.status, JSON.stringify(raised.body)).toBe(200);
    expect(raised.body.configs).toMatchObject({ maxMessageBytes: 1_000 });
    const accepted = await api.post(`/v1/topics/${topic}/records`, { encoding: "utf8", records: [{ value: big }] });
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(200);
    expect((await fetchAll(topic, 0)).body.records.map((r: { value: string }) => r.value)).toEqual([big]);

    for (const maxMessageBytes of [0, MAX_RECORD_BYTES + 1, 1.5]) {
      await expectRefused(() => api.post(`/v1/topics/${topic}/configs`, { maxMessageBytes }), 400, maxMessageBytes === 1.5 ? "INVALID_REQUEST" : "INVALID_CONFIG");
    }
    expect((await api.get(`/v1/topics/${topic}/configs`)).body.configs).toMatchObject({ maxMessageBytes: 1_000 });
  });

  it("alters timestampType and compression: new batches follow, describe shows it", async () => {
    const topic = await createTopic(1, { compression: "none" });
    const before = clock.now();
    const altered = await api.post(`/v1/topics/${topic}/configs`, { timestampType: "LogAppendTime", compression: "gzip" });
    expect(altered.status, JSON.stringify(altered.body)).toBe(200);
    expect(altered.body.configs).toMatchObject({ timestampType: "LogAppendTime", compression: "gzip", retentionMs: 604_800_000 });
    expect((await api.get(`/v1/topics/${topic}`)).body).toMatchObject({ timestampType: "LogAppendTime", compression: "gzip" });
    const response = await api.post(`/v1/topics/${topic}/records`, { encoding: "utf8", records: [{ value: "v", timestamp: 1000 }] });
    expect(response.status).toBe(200);
    const fetched = await fetchAll(topic, 0);
    // LogAppendTime: the broker's append time replaces the producer's timestamp.
    expect(fetched.body.records[0].timestamp).toBeGreaterThanOrEqual(before);
  });

  it("a shortened retention expires old records at read time", async () => {
    const topic = await createTopic(1);
    await produce(topic, 0, ["a", "b", "c"]);
    clock.advance(2 * MIN_RETENTION_MS);
    expect((await fetchAll(topic, 0)).body.records).toHaveLength(3);
    expect((await api.post(`/v1/topics/${topic}/configs`, { retentionMs: MIN_RETENTION_MS })).status).toBe(200);
    const expired = await fetchAll(topic, 0);
    expect(expired.status).toBe(416);
    expect(expired.body.error).toMatchObject({ code: "OFFSET_OUT_OF_RANGE", logStartOffset: 3, highWatermark: 3 });
    await produce(topic, 0, ["d"]);
    expect((await fetchAll(topic, 0, 3)).body.records.map((r: any) => r.value)).toEqual(["d"]);
  });

  it("concurrent alterations of different configs both hold (conditional replace, re-read on a lost race)", async () => {
    const topic = await createTopic(1, { compression: "none" });
    const path = `/v1/topics/${topic}/configs`;
    const answers = await Promise.all([
      api.post(path, { retentionMs: 120_000 }),
      api.post(path, { compression: "brotli" }),
      api.post(path, { timestampType: "LogAppendTime" }),
    ]);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect((await api.get(path)).body.configs).toMatchObject({ retentionMs: 120_000, compression: "brotli", timestampType: "LogAppendTime" });
  });

  it("refuses bad values and unknown topics without writing", async () => {
    const topic = await createTopic(1);
    const path = `/v1/topics/${topic}/configs`;
    await expectRefused(() => api.post(path, { retentionMs: 5 }), 400, "INVALID_CONFIG");
    await expectRefused(() => api.post(path, { compression: "lz77" }), 400, "UNSUPPORTED_COMPRESSION_TYPE");
    await expectRefused(() => api.post(path, { timestampType: "Whenever" }), 400, "INVALID_CONFIG");
    await expectRefused(() => api.post(path, { maxMessageBytes: 10 }), 400, "INVALID_CONFIG"); // below the smallest a record can be
    await expectRefused(() => api.post(path, {}), 400, "INVALID_REQUEST");
    await expectRefused(() => api.post(`/v1/topics/${topicName("none")}/configs`, { retentionMs: null }), 404, "UNKNOWN_TOPIC_OR_PARTITION");
    expect((await api.get(path)).body.configs.retentionMs).toBe(604_800_000);
  });
});

describe("createPartitions", () => {
  it("refuses a decrease, an equal count, and counts out of range, without writing", async () => {
    const topic = await createTopic(3);
    const path = `/v1/topics/${topic}/partitions`;
    await expectRefused(() => api.post(path, { count: 2 }), 400, "INVALID_PARTITIONS");
    await expectRefused(() => api.post(path, { count: 3 }), 400, "INVALID_PARTITIONS");
    await expectRefused(() => api.post(path, { count: MAX_PARTITIONS + 1 }), 400, "INVALID_PARTITIONS");
    await expectRefused(() => api.post(path, { count: "4" }), 400, "INVALID_REQUEST");
    await expectRefused(() => api.post(`/v1/topics/${topicName("none")}/partitions`, { count: 4 }), 404, "UNKNOWN_TOPIC_OR_PARTITION");
    expect((await api.get(`/v1/topics/${topic}`)).body.partitionCount).toBe(3);
  });

  it("two concurrent increases to the same count: one wins, the other is refused after re-reading", async () => {
    const topic = await createTopic(1);
    const answers = await Promise.all([1, 2].map(() => api.post(`/v1/topics/${topic}/partitions`, { count: 3 })));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 400]);
    expect(answers.find((a) => a.status === 400)!.body.error.code).toBe("INVALID_PARTITIONS");
    const described = await api.get(`/v1/topics/${topic}`);
    expect(described.body.partitions.map((p: any) => p.highWatermark)).toEqual([0, 0, 0]);
    await produce(topic, 2, ["new"]);
    expect((await fetchAll(topic, 2)).body.records.map((r: any) => r.value)).toEqual(["new"]);
  });

  it("under a running group and a keyed producer: no record lost, keys follow the new count, the group takes the new partitions", async () => {
    const topic = await createTopic(2);
    const member = new Member(harness.broker, uniqueName("grow"), [topic]);
    await member.heartbeat();
    await member.heartbeat();
    expect(flat(member.owned)).toEqual([`${topic}-0`, `${topic}-1`]);
    const keys = Array.from({ length: 20 }, (_, i) => `key-${i}`);
    const produceKeyed = async (round: string) => {
      const response = await api.post(`/v1/topics/${topic}/records`, { encoding: "utf8", records: keys.map((key) => ({ key, value: `${round}:${key}` })) });
      expect(response.status, JSON.stringify(response.body)).toBe(200);
    };
    await produceKeyed("before");
    const grown = await api.post(`/v1/topics/${topic}/partitions`, { count: 4 });
    expect(grown.status, JSON.stringify(grown.body)).toBe(200);
    expect(grown.body).toMatchObject({ topic, partitionCount: 4 });
    await produceKeyed("after");

    // Kafka's re-keying: a key now maps by the new count (murmur2 % 4), so it may move partitions.
    const byPartition = new Map<number, string[]>();
    for (let partition = 0; partition < 4; partition++) {
      const response = await fetchAll(topic, partition);
      expect(response.status, JSON.stringify(response.body)).toBe(200);
      byPartition.set(partition, response.body.records.map((r: any) => r.value));
    }
    const all = [...byPartition.values()].flat();
    expect(all.sort()).toEqual([...keys.map((k) => `before:${k}`), ...keys.map((k) => `after:${k}`)].sort());
    for (const key of keys) {
      expect(byPartition.get(partitionForKey(new TextEncoder().encode(key), 2))).toContain(`before:${key}`);
      expect(byPartition.get(partitionForKey(new TextEncoder().encode(key), 4))).toContain(`after:${key}`);
    }
    expect(byPartition.get(2)!.length + byPartition.get(3)!.length).toBeGreaterThan(0);

    // The next heartbeat sees the new count: the group rebalances and the member gets all four.
    for (let i = 0; i < 4 && flat(member.owned).length < 4; i++) await member.heartbeat();
    expect(flat(member.owned)).toEqual([0, 1, 2, 3].map((p) => `${topic}-${p}`));
  });
});

describe("deleteRecords", () => {
  it("moves the log start: a fetch below answers 416, describe and earliest show it", async () => {
    const topic = await createTopic(2);
    await produce(topic, 0, ["a", "b", "c", "d", "e"]);
    await produce(topic, 1, ["x"]);
    const response = await api.post(`/v1/topics/${topic}/delete-records`, { partitions: [{ partition: 0, offset: 3 }, { partition: 1, offset: -1 }] });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(response.body.partitions).toEqual([{ partition: 0, lowWatermark: 3 }, { partition: 1, lowWatermark: 1 }]);
    const below = await fetchAll(topic, 0, 2);
    expect(below.status).toBe(416);
    expect(below.body.error).toMatchObject({ code: "OFFSET_OUT_OF_RANGE", logStartOffset: 3, highWatermark: 5 });
    expect((await fetchAll(topic, 0, 3)).body.records.map((r: any) => r.value)).toEqual(["d", "e"]);
    expect((await api.get(`/v1/topics/${topic}/partitions/0/offsets?at=earliest`)).body.offset).toBe(3);
    expect((await api.get(`/v1/topics/${topic}`)).body.partitions[1]).toMatchObject({ logStartOffset: 1, highWatermark: 1 });
    // Below the current log start: nothing to do, the low watermark stays.
    const again = await api.post(`/v1/topics/${topic}/delete-records`, { partitions: [{ partition: 0, offset: 1 }] });
    expect(again.body.partitions).toEqual([{ partition: 0, lowWatermark: 3 }]);
  });

  it("refuses an offset above the high watermark (for any partition) and bad input, without writing", async () => {
    const topic = await createTopic(2);
    await produce(topic, 0, ["a", "b"]);
    const path = `/v1/topics/${topic}/delete-records`;
    await expectRefused(() => api.post(path, { partitions: [{ partition: 0, offset: 1 }, { partition: 1, offset: 1 }] }), 416, "OFFSET_OUT_OF_RANGE");
    await expectRefused(() => api.post(path, { partitions: [{ partition: 0, offset: -2 }] }), 416, "OFFSET_OUT_OF_RANGE");
    await expectRefused(() => api.post(path, { partitions: [{ partition: 2, offset: 0 }] }), 404, "UNKNOWN_TOPIC_OR_PARTITION");
    await expectRefused(() => api.post(path, { partitions: [] }), 400, "INVALID_REQUEST");
    await expectRefused(() => api.post(path, { partitions: [{ partition: 0, offset: 1 }, { partition: 0, offset: 2 }] }), 400, "INVALID_REQUEST");
    expect((await fetchAll(topic, 0)).body.records).toHaveLength(2);
  });
});

describe("deleteGroup", () => {
  it("is refused while members are live, then removes the group and its offsets", async () => {
    const topic = await createTopic(1);
    await produce(topic, 0, ["a", "b"]);
    const group = uniqueName("doomed");
    const member = new Member(harness.broker, group, [topic]);
    await member.heartbeat();
    await member.heartbeat();
    await member.commit(topic, 0, 2);
    await expectRefused(() => api.delete(`/v1/groups/${group}`), 409, "NON_EMPTY_GROUP");
    await harness.broker.removeMember(group, member.memberId);
    const deleted = await api.delete(`/v1/groups/${group}`);
    expect(deleted.status, JSON.stringify(deleted.body)).toBe(200);
    expect(deleted.body).toEqual({ deleted: group });
    expect((await api.get(`/v1/groups/${group}`)).status).toBe(404);
    expect((await api.get(`/v1/groups/${group}/offsets?topic=${topic}`)).body.partitions[0].offset).toBe(-1);
    await expectRefused(() => api.delete(`/v1/groups/${group}`), 404, "GROUP_ID_NOT_FOUND");
  });

  it("deletes a group whose members expired (their items too), and a group with only offsets", async () => {
    const topic = await createTopic(1);
    const group = uniqueName("expired");
    const member = new Member(harness.broker, group, [topic]);
    await member.heartbeat();
    await member.commit(topic, 0, 0);
    clock.advance(60_000);
    expect((await api.delete(`/v1/groups/${group}`)).status).toBe(200);
    expect(await harness.storage.groups.load(group)).toEqual({ group: undefined, members: [] });
    const offsetsOnly = uniqueName("offsets-only");
    expect((await api.post(`/v1/groups/${offsetsOnly}/offsets`, { offsets: [{ topic, partition: 0, offset: 0 }] })).status).toBe(200);
    expect((await api.delete(`/v1/groups/${offsetsOnly}`)).status).toBe(200);
    expect(await harness.storage.offsets.readAll(offsetsOnly)).toEqual([]);
  });
});

describe("authorization", () => {
  let secured: TestBroker;
  let securedServed: Served;
  const tokens = { admin: "", bob: "" };
  beforeAll(async () => {
    secured = createTestBroker(await createTestTables("lifecycle-sec"), { security: { enabled: true, superUsers: ["User:admin"] } });
    securedServed = await serveApp(secured.app);
    tokens.admin = (await secured.security.createApiKey("User:admin")).token;
    tokens.bob = (await secured.security.createApiKey("User:bob")).token;
  });
  afterAll(async () => securedServed?.close());

  const call = async (token: string, method: string, path: string, body?: unknown) => {
    const response = await fetch(securedServed.url + path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as any };
  };
  const allow = async (resourceType: string, resourceName: string, operation: string) =>
    expect((await call(tokens.admin, "POST", "/v1/acls", { principal: "User:bob", resourceType, resourceName, operation })).status).toBe(201);

  it("needs Alter for configs and partitions, Delete for records and groups; Describe is not enough", async () => {
    const topic = topicName("sec-life");
    const group = uniqueName("sec-life-g");
    expect((await call(tokens.admin, "POST", "/v1/topics", { name: topic, partitions: 1 })).status).toBe(201);
    expect((await call(tokens.admin, "POST", `/v1/groups/${group}/offsets`, { offsets: [{ topic, partition: 0, offset: 0 }] })).status).toBe(200);
    await allow("Topic", topic, "Describe");
    await allow("Group", group, "Describe");
    const attempts: [string, string, unknown, string][] = [
      ["POST", `/v1/topics/${topic}/configs`, { retentionMs: null }, "TOPIC_AUTHORIZATION_FAILED"],
      ["POST", `/v1/topics/${topic}/partitions`, { count: 2 }, "TOPIC_AUTHORIZATION_FAILED"],
      ["POST", `/v1/topics/${topic}/delete-records`, { partitions: [{ partition: 0, offset: 0 }] }, "TOPIC_AUTHORIZATION_FAILED"],
      ["DELETE", `/v1/groups/${group}`, undefined, "GROUP_AUTHORIZATION_FAILED"],
    ];
    for (const [method, path, body, code] of attempts) {
      secured.writes.reset();
      const response = await call(tokens.bob, method, path, body);
      expect(response.status, path).toBe(403);
      expect(response.body.error.code).toBe(code);
      expect(secured.writes.total).toBe(0);
    }
    expect((await call(tokens.bob, "GET", `/v1/topics/${topic}/configs`)).status).toBe(200);
    await allow("Topic", topic, "Alter");
    await allow("Topic", topic, "Delete");
    await allow("Group", group, "Delete");
    expect((await call(tokens.bob, "POST", `/v1/topics/${topic}/configs`, { retentionMs: null })).status).toBe(200);
    expect((await call(tokens.bob, "POST", `/v1/topics/${topic}/partitions`, { count: 2 })).status).toBe(200);
    expect((await call(tokens.bob, "POST", `/v1/topics/${topic}/delete-records`, { partitions: [{ partition: 0, offset: 0 }] })).status).toBe(200);
    expect((await call(tokens.bob, "DELETE", `/v1/groups/${group}`)).status).toBe(200);
  });
});
