/**
 * The history sampler and its store (shared/core/history.ts, shared/storage/history-store.ts) on
 * DynamoDB Local: lag and throughput values after produce + commit, one write per bucket however
 * many samplers run, the TTL attribute, the bounds on item size, the window and topic incarnations,
 * and that sampling writes no log items.
 */
import { DescribeTimeToLiveCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { beforeAll, describe, expect, it } from "vitest";
import { HISTORY_RETENTION_MS, type HistoryRun } from "../../shared/core/history.js";
import { scheduledHistory } from "../../shared/runtime/history.js";
import { localDynamoDbClientConfig } from "../../local/dynamodb-local.js";
import { GROUP_HISTORY_PREFIX, HISTORY_DETAIL_BUDGET_BYTES, TOPIC_HISTORY_PREFIX } from "../../shared/storage/history-store.js";
import type { TableNames } from "../../shared/storage/tables.js";
import { createTestBroker, createTestTables, TestClock, topicName, type TestBroker } from "../support/broker.js";
import { testEndpoint, uniqueName } from "../support/dynamodb.js";

const MINUTE = 60_000;
let tables: TableNames;
let harness: TestBroker;
let documents: DynamoDBDocumentClient;

const text = (s: string) => new TextEncoder().encode(s);
const records = (n: number) => Array.from({ length: n }, (_, i) => ({ key: null, value: text(`v${i}`), headers: [] }));

beforeAll(async () => {
  tables = await createTestTables("history");
  // The clock is a minute-aligned time, so the buckets the tests name are predictable.
  harness = createTestBroker(tables, { clock: new TestClock(Math.floor(Date.now() / MINUTE) * MINUTE), config: { holeTimeoutMs: 1_000 } });
  documents = DynamoDBDocumentClient.from(new DynamoDBClient(localDynamoDbClientConfig(testEndpoint())));
});

const item = async (pk: string, bucket: number) => (await documents.send(new GetCommand({ TableName: tables.producers, Key: { pk, sk: String(bucket).padStart(13, "0") }, ConsistentRead: true }))).Item;

describe("history sampler", { timeout: 120_000 }, () => {
  it("records high watermarks, bytes written and lag as describeTopic and describeGroup answer them", async () => {
    const { broker, clock } = harness;
    const topic = await broker.createTopic({ name: topicName("hist-lag"), partitions: 2 });
    const group = uniqueName("hist-g");
    await broker.produce({ topic: topic.name, partitions: [{ partition: 0, records: records(5) }, { partition: 1, records: records(3) }] });
    await broker.commitOffsets(group, [{ topic: topic.name, partition: 0, offset: 2 }, { topic: topic.name, partition: 1, offset: 3 }]);
    const first = clock.now() - 2 * MINUTE;
    const run = await broker.sampleHistory(first + 5_000);
    expect(run.failed).toEqual([]);
    expect(run.bucket).toBe(first);
    await broker.produce({ topic: topic.name, partitions: [{ partition: 1, records: records(4) }] });
    await broker.sampleHistory(first + MINUTE + 5_000);

    const history = await broker.topicHistory(topic.name, 5);
    expect(history.topicId).toBe(topic.topicId);
    expect(history.samples.map((s) => s.at)).toEqual([first + 5_000, first + MINUTE + 5_000]);
    expect(history.samples.map((s) => s.highWatermark)).toEqual([8, 12]);
    expect(history.samples[1]!.partitions!.map((p) => p.highWatermark)).toEqual([5, 7]);
    const description = await broker.describeTopic(topic.name);
    expect(history.samples[1]!.bytesWritten).toBe(description.partitions.reduce((sum, p) => sum + p.bytesWritten, 0));
    expect(history.samples[0]!.bytesWritten).toBeGreaterThan(0);
    expect(history.samples[0]!.bytesWritten).toBeLessThan(history.samples[1]!.bytesWritten);

    const lag = await broker.groupHistory(group, 5);
    expect(lag.samples.map((s) => s.totalLag)).toEqual([3, 7]);
    const [topicLag] = lag.samples[1]!.topics;
    expect(topicLag).toEqual({
      topic: topic.name,
      lag: 7,
      partitions: [
        { partition: 0, committedOffset: 2, highWatermark: 5, lag: 3 },
        { partition: 1, committedOffset: 3, highWatermark: 7, lag: 4 },
      ],
    });
    expect((await broker.describeGroup(group)).totalLag).toBe(7);
  });

  it("writes each bucket once: a second sampler in the same bucket, even concurrent ones, never overwrite", async () => {
    const { broker, clock } = harness;
    const topic = await broker.createTopic({ name: topicName("hist-once"), partitions: 1 });
    await broker.produce({ topic: topic.name, partitions: [{ partition: 0, records: records(2) }] });
    const bucket = clock.now() - 3 * MINUTE;
    const other = createTestBroker(tables, { clock: harness.clock });
    const runs = await Promise.all([broker.sampleHistory(bucket + 1_000), other.broker.sampleHistory(bucket + 2_000)]);
    // Every topic of the tables is sampled; this topic's item was written by exactly one of them.
    expect(runs.every((r) => r.failed.length === 0)).toBe(true);
    const written = runs.reduce((sum, r) => sum + r.topics.written, 0);
    const existing = runs.reduce((sum, r) => sum + r.topics.existing, 0);
    expect(written).toBe(existing);
    const stored = await item(TOPIC_HISTORY_PREFIX + topic.name, bucket);
    expect(stored?.["H"]).toBe(2);
    // Later in the same bucket, with more records: the stored sample stands.
    await broker.produce({ topic: topic.name, partitions: [{ partition: 0, records: records(3) }] });
    const again = await broker.sampleHistory(bucket + 50_000);
    expect(again.topics.written).toBe(0);
    expect(again.topics.existing).toBeGreaterThan(0);
    const after = await item(TOPIC_HISTORY_PREFIX + topic.name, bucket);
    expect(after?.["H"]).toBe(2);
    expect([bucket + 1_000, bucket + 2_000]).toContain(after?.["a"]);
  });

  it("sets the TTL attribute a day after the bucket, on a table whose TTL is that attribute", async () => {
    const { broker, clock } = harness;
    const topic = await broker.createTopic({ name: topicName("hist-ttl"), partitions: 1 });
    const group = uniqueName("hist-ttl-g");
    await broker.commitOffsets(group, [{ topic: topic.name, partition: 0, offset: 0 }]);
    const bucket = clock.now() - 4 * MINUTE;
    await broker.sampleHistory(bucket + 10);
    const expected = Math.ceil((bucket + HISTORY_RETENTION_MS) / 1000);
    expect((await item(TOPIC_HISTORY_PREFIX + topic.name, bucket))?.["x"]).toBe(expected);
    expect((await item(GROUP_HISTORY_PREFIX + group, bucket))?.["x"]).toBe(expected);
    const ttl = await documents.send(new DescribeTimeToLiveCommand({ TableName: tables.producers }));
    expect(ttl.TimeToLiveDescription?.AttributeName).toBe("x");
  });

  it("answers only the window asked for, and only the current topic of a name", async () => {
    const { broker, clock } = harness;
    const name = topicName("hist-window");
    const before = await broker.createTopic({ name, partitions: 1 });
    await broker.sampleHistory(clock.now() - 30 * MINUTE);
    await broker.sampleHistory(clock.now() - 10 * MINUTE);
    expect((await broker.topicHistory(name, 20)).samples).toHaveLength(1);
    expect((await broker.topicHistory(name, 60)).samples).toHaveLength(2);
    await broker.deleteTopic(name);
    const after = await broker.createTopic({ name, partitions: 1 });
    expect(after.topicId).not.toBe(before.topicId);
    expect((await broker.topicHistory(name, 60)).samples).toEqual([]);
    await broker.sampleHistory(clock.now() - 5 * MINUTE);
    expect((await broker.topicHistory(name, 60)).samples.map((s) => s.highWatermark)).toEqual([0]);
  });

  it("refuses bad windows and unknown names with the describe routes' errors", async () => {
    const { broker } = harness;
    const topic = await broker.createTopic({ name: topicName("hist-bad"), partitions: 1 });
    for (const minutes of [0, -1, 1.5, 1441]) await expect(broker.topicHistory(topic.name, minutes)).rejects.toMatchObject({ code: "INVALID_REQUEST", status: 400 });
    await expect(broker.topicHistory(topicName("hist-missing"))).rejects.toMatchObject({ code: "UNKNOWN_TOPIC_OR_PARTITION", status: 404 });
    await expect(broker.groupHistory(uniqueName("hist-missing-g"))).rejects.toMatchObject({ code: "GROUP_ID_NOT_FOUND", status: 404 });
    expect((await broker.topicHistory(topic.name, 1440)).samples).toEqual([]);
  });

  it("writes no log items: a dead writer's gap ends the sampled high watermark instead of being filled", async () => {
    const { broker, storage, clock } = harness;
    const topic = await broker.createTopic({ name: topicName("hist-gap"), partitions: 1 });
    const ref = { topicId: topic.topicId, partition: 0 };
    await broker.produce({ topic: topic.name, partitions: [{ partition: 0, records: records(2) }] });
    await storage.log.reserve(ref, 3, clock.now() - 60_000); // a writer that died long ago
    await broker.produce({ topic: topic.name, partitions: [{ partition: 0, records: records(1) }] });
    clock.advance(2_000);
    const bucket = Math.floor(clock.now() / MINUTE) * MINUTE - 6 * MINUTE;
    await broker.sampleHistory(bucket);
    expect((await item(TOPIC_HISTORY_PREFIX + topic.name, bucket))?.["H"]).toBe(2);
    // No void was written at the gap (a reader's describe fills it).
    expect((await storage.log.entriesFrom(ref, 0, 10)).entries.map((e) => e.kind)).toEqual(["batch", "batch"]);
    expect((await storage.log.readHead(ref)).highWatermarkHint).toBe(2);
    expect((await broker.describeTopic(topic.name)).partitions[0]!.highWatermark).toBe(6);
  });
});

describe("history items stay bounded", { timeout: 60_000 }, () => {
  it("keeps totals only for a topic whose per-partition detail exceeds the budget", async () => {
    const name = topicName("hist-wide");
    const partitions = Array.from({ length: 2_000 }, () => ({ highWatermark: 123_456_789_012, bytesWritten: 98_765_432_109 }));
    const sample = { at: 1_000_000, topicId: "t-id", highWatermark: 2_000 * 123_456_789_012, bytesWritten: 2_000 * 98_765_432_109, partitions };
    expect(JSON.stringify(partitions).length).toBeGreaterThan(HISTORY_DETAIL_BUDGET_BYTES);
    expect(await harness.storage.history.putTopicSample(name, 960_000, sample, 9_999_999_999)).toBe("written");
    expect(await harness.storage.history.putTopicSample(name, 960_000, { ...sample, highWatermark: 1 }, 9_999_999_999)).toBe("exists");
    const [stored] = await harness.storage.history.topicSamples(name, 0, 2_000_000);
    expect(stored).toEqual({ at: 1_000_000, topicId: "t-id", highWatermark: sample.highWatermark, bytesWritten: sample.bytesWritten, partitions: null });
  });

  it("drops a group's partition detail, then its smallest-lag topics, keeping the total lag", async () => {
    const group = uniqueName("hist-wide-g");
    const topics = Array.from({ length: 400 }, (_, i) => ({
      topic: `t${String(i).padStart(3, "0")}-${"x".repeat(200)}`,
      topicId: `id-${i}`,
      lag: i,
      partitions: Array.from({ length: 10 }, (_, p) => ({ partition: p, committedOffset: 1, highWatermark: 1 + i })),
    }));
    const totalLag = topics.reduce((sum, t) => sum + t.lag, 0);
    expect(await harness.storage.history.putGroupSample(group, 960_000, { at: 1_000_000, totalLag, omittedTopics: 0, topics }, 9_999_999_999)).toBe("written");
    const [stored] = await harness.storage.history.groupSamples(group, 0, 2_000_000);
    expect(stored!.totalLag).toBe(totalLag);
    expect(stored!.omittedTopics).toBeGreaterThan(0);
    expect(stored!.topics.length + stored!.omittedTopics).toBe(400);
    expect(stored!.topics.every((t) => t.partitions === null)).toBe(true);
    // The largest lags were kept.
    expect(stored!.topics[0]!.lag).toBe(399);
    expect(Math.min(...stored!.topics.map((t) => t.lag))).toBe(stored!.omittedTopics);
    const raw = await item(GROUP_HISTORY_PREFIX + group, 960_000);
    expect(Buffer.byteLength(String(raw?.["d"]))).toBeLessThanOrEqual(HISTORY_DETAIL_BUDGET_BYTES);
  });

  it("answers every n-th sample of a group whose day would be too large an answer, the latest included", async () => {
    const { broker, clock } = harness;
    const topic = await broker.createTopic({ name: topicName("hist-stride"), partitions: 1 });
    const group = uniqueName("hist-stride-g");
    await broker.commitOffsets(group, [{ topic: topic.name, partition: 0, offset: 0 }]);
    const topics = Array.from({ length: 400 }, (_, i) => ({ topic: `t${i}`, topicId: `id-${i}`, lag: 1, partitions: [{ partition: 0, committedOffset: 0, highWatermark: 1 }] }));
    const base = Math.floor(clock.now() / MINUTE) * MINUTE - 40 * MINUTE;
    for (let i = 0; i < 30; i++) {
      expect(await harness.storage.history.putGroupSample(group, base + i * MINUTE, { at: base + i * MINUTE, totalLag: i, omittedTopics: 0, topics }, 9_999_999_999)).toBe("written");
    }
    const history = await broker.groupHistory(group, 60);
    // 30 samples × 400 topics = 12,000 entries: every second sample.
    expect(history.stride).toBe(2);
    expect(history.samples.map((s) => s.totalLag)).toEqual(Array.from({ length: 15 }, (_, i) => 1 + 2 * i));
    // 15 × 400 partition values fit: the detail stays.
    expect(history.samples[0]!.topics[0]!.partitions).toEqual([{ partition: 0, committedOffset: 0, highWatermark: 1, lag: 1 }]);
    expect((await broker.groupHistory(group, 20)).stride).toBe(1);
  });

  it("reads items it cannot trust as totals only, or not at all", async () => {
    const name = topicName("hist-junk");
    const group = uniqueName("hist-junk-g");
    const put = (item: Record<string, unknown>) => documents.send(new PutCommand({ TableName: tables.producers, Item: item }));
    await put({ pk: TOPIC_HISTORY_PREFIX + name, sk: "0000000060000", a: 60_000, i: "id", H: 5, B: 7, d: "{not json" });
    await put({ pk: TOPIC_HISTORY_PREFIX + name, sk: "0000000120000", a: "soon", i: "id", H: 5, B: 7 });
    await put({ pk: TOPIC_HISTORY_PREFIX + name, sk: "0000000180000", a: 180_000, i: "id", H: 6, B: 8, d: JSON.stringify({ h: [1, -2], b: [1, 1] }) });
    await put({ pk: GROUP_HISTORY_PREFIX + group, sk: "0000000060000", a: 60_000, L: 3, d: JSON.stringify([["t", "id", "three", null]]) });
    const samples = await harness.storage.history.topicSamples(name, 0, 1_000_000);
    expect(samples.map((s) => [s.at, s.highWatermark, s.partitions])).toEqual([
      [60_000, 5, null],
      [180_000, 6, null],
    ]);
    expect(await harness.storage.history.groupSamples(group, 0, 1_000_000)).toEqual([]);
  });
});

describe("the scheduled history handler", { timeout: 60_000 }, () => {
  const logged: { level: string; message: string }[] = [];
  const logger = { info: (message: string) => void logged.push({ level: "info", message }), error: (message: string) => void logged.push({ level: "error", message }) };

  it("samples at its clock and answers a summary", async () => {
    const { broker, clock } = harness;
    const topic = await broker.createTopic({ name: topicName("hist-handler"), partitions: 1 });
    const run = scheduledHistory({ sampleHistory: (now) => broker.sampleHistory(now), clock: () => clock.now() - 7 * MINUTE, logger });
    const summary = await run({});
    expect(summary.bucket).toBe(new Date(Math.floor((clock.now() - 7 * MINUTE) / MINUTE) * MINUTE).toISOString());
    expect(summary.failed).toEqual([]);
    expect(summary.topicsWritten).toBeGreaterThan(0);
    expect((await broker.topicHistory(topic.name, 10)).samples).toHaveLength(1);
    expect(logged.some((l) => l.level === "info" && l.message === "history run")).toBe(true);
  });

  it("logs each failed sample, and fails the invocation (for the alarm) only when every sample failed", async () => {
    const failing = (topics: number, failed: number): HistoryRun => ({
      bucket: 0,
      topics: { written: topics, existing: 0 },
      groups: { written: 0, existing: 0 },
      failed: Array.from({ length: failed }, (_, i) => ({ kind: "topic" as const, name: `t${i}`, error: new Error("throttled") })),
    });
    logged.length = 0;
    const partial = await scheduledHistory({ sampleHistory: async () => failing(3, 1), clock: Date.now, logger })({});
    expect(partial.failed).toEqual(["topic:t0"]);
    expect(logged.filter((l) => l.level === "error")).toHaveLength(1);
    await expect(scheduledHistory({ sampleHistory: async () => failing(0, 2), clock: Date.now, logger })({})).rejects.toThrow(/Every history sample of this run failed \(2\)/);
    // Nothing to sample (no topics, no groups) is not a failure.
    expect((await scheduledHistory({ sampleHistory: async () => failing(0, 0), clock: Date.now, logger })({})).failed).toEqual([]);
  });
});
