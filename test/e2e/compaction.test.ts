/**
 * Compaction over real HTTP and through the SDK (docs/compaction.md): the cleanup-policy configs at
 * create and alter, POST /v1/topics/:topic/compact and what describe reports afterwards, the SDK's
 * compactTopic and Kafka config names, and bad input refused with zero writes.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigResourceTypes, Dynalog, logLevel, type Admin } from "../../client/index.js";
import { createTestBroker, createTestTables, serveApp, TestClock, topicName, type Served, type TestBroker } from "../support/broker.js";
import { jsonClient, type JsonClient } from "../support/http.js";

let served: Served;
let api: JsonClient;
let harness: TestBroker;
let admin: Admin;
const clock = new TestClock();

beforeAll(async () => {
  harness = createTestBroker(await createTestTables("compact-http"), { clock });
  served = await serveApp(harness.app);
  api = jsonClient(served.url);
  admin = new Dynalog({ url: served.url, logLevel: logLevel.NOTHING, retry: { retries: 0 } }).admin();
});
afterAll(async () => served?.close());

async function createTopic(extra: Record<string, unknown> = { cleanupPolicy: "compact" }, partitions = 1): Promise<string> {
  const name = topicName("cmp-http");
  const response = await api.post("/v1/topics", { name, partitions, ...extra });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return name;
}

async function produce(topic: string, records: { key: string; value: string | null }[], partition = 0) {
  const response = await api.post(`/v1/topics/${topic}/records`, { encoding: "utf8", partitions: [{ partition, records }] });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
}

async function values(topic: string, partition = 0): Promise<{ offset: number; key: string; value: string | null }[]> {
  const response = await api.get(`/v1/topics/${topic}/partitions/${partition}/records?offset=0&encoding=utf8`);
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body.records.map((r: { offset: number; key: string; value: string | null }) => ({ offset: r.offset, key: r.key, value: r.value }));
}

async function expectRefused(call: () => Promise<{ status: number; body: any }>, status: number, code: string) {
  harness.writes.reset();
  const response = await call();
  expect(response.status, JSON.stringify(response.body)).toBe(status);
  expect(response.body.error.code).toBe(code);
  expect(harness.writes.total).toBe(0);
}

describe("POST /v1/topics/:topic/compact", () => {
  it("compacts every partition, answers what it did; describe and fetchTopicOffsets report the cleanup state", async () => {
    const topic = await createTopic({ cleanupPolicy: "compact", deleteRetentionMs: 0 }, 2);
    for (const partition of [0, 1]) {
      await produce(topic, [{ key: "a", value: "1" }, { key: "b", value: "1" }], partition);
      await produce(topic, [{ key: "a", value: "2" }, { key: "b", value: null }], partition);
    }
    const before = await api.get(`/v1/topics/${topic}`);
    expect(before.body).toMatchObject({ cleanupPolicy: "compact", deleteRetentionMs: 0, partitions: [{ compaction: null }, { compaction: null }] });

    const response = await api.post(`/v1/topics/${topic}/compact`);
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(response.body).toMatchObject({ topic, cleanupPolicy: "compact" });
    expect(response.body.partitions).toEqual([0, 1].map((partition) => expect.objectContaining({ partition, cleanedUpTo: 4, highWatermark: 4, removedRecords: 2, removedTombstones: 0 })));
    // deleteRetentionMs 0: the tombstone goes at the next pass (its horizon is the first pass's time).
    expect(await values(topic)).toEqual([{ offset: 2, key: "a", value: "2" }, { offset: 3, key: "b", value: null }]);
    expect((await api.post(`/v1/topics/${topic}/compact`, { partitions: [0] })).body.partitions).toEqual([expect.objectContaining({ partition: 0, removedTombstones: 1 })]);
    expect(await values(topic)).toEqual([{ offset: 2, key: "a", value: "2" }]);
    expect(await values(topic, 1)).toEqual([{ offset: 2, key: "a", value: "2" }, { offset: 3, key: "b", value: null }]);

    const after = await api.get(`/v1/topics/${topic}`);
    expect(after.body.partitions).toMatchObject([0, 1].map((partition) => ({ partition, logStartOffset: 0, highWatermark: 4, compaction: { cleanedUpTo: 4, lastRunAt: clock.time } })));
    const offsets = await admin.fetchTopicOffsets(topic);
    expect(offsets[0]).toEqual({ partition: 0, offset: 4, high: 4, low: 0, compaction: { cleanedUpTo: 4, lastRunAt: clock.time } });
  });

  it("refuses bad input without writing", async () => {
    const compacted = await createTopic();
    const plain = await createTopic({});
    await expectRefused(() => api.post(`/v1/topics/${plain}/compact`), 400, "INVALID_CONFIG");
    await expectRefused(() => api.post(`/v1/topics/${topicName("nope")}/compact`), 404, "UNKNOWN_TOPIC_OR_PARTITION");
    await expectRefused(() => api.post("/v1/topics/bad%20name/compact"), 400, "INVALID_TOPIC_EXCEPTION");
    await expectRefused(() => api.post(`/v1/topics/${compacted}/compact`, { partitions: [1] }), 404, "UNKNOWN_TOPIC_OR_PARTITION");
    await expectRefused(() => api.post(`/v1/topics/${compacted}/compact`, { partitions: [0, 0] }), 400, "INVALID_REQUEST");
    await expectRefused(() => api.post(`/v1/topics/${compacted}/compact`, { partitions: [] }), 400, "INVALID_REQUEST");
    await expectRefused(() => api.post(`/v1/topics/${compacted}/compact`, { partitions: ["0"] }), 400, "INVALID_REQUEST");
    await expectRefused(() => api.post(`/v1/topics/${compacted}/compact`, { partitions: [-1] }), 404, "UNKNOWN_TOPIC_OR_PARTITION");
    await expectRefused(() => api.post(`/v1/topics/${compacted}/compact`, { all: true }), 400, "INVALID_REQUEST");
    await expectRefused(() => api.postRaw(`/v1/topics/${compacted}/compact`, "{"), 400, "INVALID_REQUEST");
  });

  it("validates the cleanup configs at create and alter, without writing; a compacted topic refuses keyless records", async () => {
    await expectRefused(() => api.post("/v1/topics", { name: topicName("cmp-bad"), partitions: 1, cleanupPolicy: "shred" }), 400, "INVALID_CONFIG");
    await expectRefused(() => api.post("/v1/topics", { name: topicName("cmp-bad"), partitions: 1, deleteRetentionMs: -5 }), 400, "INVALID_CONFIG");
    await expectRefused(() => api.post("/v1/topics", { name: topicName("cmp-bad"), partitions: 1, minCompactionLagMs: 1.5 }), 400, "INVALID_REQUEST");
    const topic = await createTopic({});
    await expectRefused(() => api.post(`/v1/topics/${topic}/configs`, { cleanupPolicy: "compact;delete" }), 400, "INVALID_CONFIG");
    await expectRefused(() => api.post(`/v1/topics/${topic}/configs`, { minCompactionLagMs: -1 }), 400, "INVALID_CONFIG");

    // Kafka's order "delete,compact" is the same policy.
    const altered = await api.post(`/v1/topics/${topic}/configs`, { cleanupPolicy: "delete,compact", deleteRetentionMs: 1_000 });
    expect(altered.status, JSON.stringify(altered.body)).toBe(200);
    expect(altered.body.configs).toMatchObject({ cleanupPolicy: "compact,delete", deleteRetentionMs: 1_000, minCompactionLagMs: 0 });
    await expectRefused(() => api.post(`/v1/topics/${topic}/records`, { encoding: "utf8", records: [{ value: "no key" }] }), 400, "INVALID_RECORD");
  });
});

describe("SDK", () => {
  it("creates, alters and describes with Kafka's names; compactTopic runs a pass", async () => {
    const topic = topicName("cmp-sdk");
    await admin.createTopics({ topics: [{ topic, configEntries: [{ name: "cleanup.policy", value: "compact" }, { name: "delete.retention.ms", value: "120000" }] }] });
    await admin.alterConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configEntries: [{ name: "min.compaction.lag.ms", value: "0" }, { name: "cleanup.policy", value: "compact,delete" }] }] });
    const described = await admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ["cleanup.policy", "delete.retention.ms", "min.compaction.lag.ms"] }] });
    expect(described.resources[0]!.configEntries.map((e) => [e.configName, e.configValue])).toEqual([
      ["cleanup.policy", "compact,delete"],
      ["delete.retention.ms", "120000"],
      ["min.compaction.lag.ms", "0"],
    ]);
    await produce(topic, [{ key: "k", value: "1" }, { key: "k", value: "2" }]);
    const result = await admin.compactTopic({ topic });
    expect(result).toMatchObject({ topic, cleanupPolicy: "compact,delete", partitions: [{ partition: 0, cleanedUpTo: 2, removedRecords: 1, rewrittenBatches: 1, skippedBatches: 0 }] });
    expect(await values(topic)).toEqual([{ offset: 1, key: "k", value: "2" }]);
  });
});
