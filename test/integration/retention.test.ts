/**
 * Retention against DynamoDB Local with a hand-moved clock: the TTL attribute on log items, and the
 * log-start offset advancing as the oldest batches pass appendTime + retention.
 */
import { DynamoDBDocumentClient, GetCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PartitionFetchResult } from "../../shared/core/fetch.js";
import type { FetchedRecord } from "../../shared/core/log-reader.js";
import type { ProduceRecord } from "../../shared/core/produce.js";
import type { TopicRecord } from "../../shared/core/ports.js";
import { DEFAULT_RETENTION_MS, MIN_RETENTION_MS, TTL_GRACE_MS } from "../../shared/limits.js";
import type { TableNames } from "../../shared/storage/tables.js";
import { createTestBroker, createTestTables, serveApp, TestClock, timeoutError, topicName, type Served, type TestBroker } from "../support/broker.js";
import { jsonClient, type JsonClient } from "../support/http.js";

const RETENTION_MS = 60_000; // the minimum the broker accepts
const DAY_MS = 24 * 3_600_000;

let tables: TableNames;
let clock: TestClock;
let harness: TestBroker;
/** A second broker instance (another Lambda) on the same tables and clock. */
let other: TestBroker;
let served: Served;
let api: JsonClient;
let documents: DynamoDBDocumentClient;

beforeAll(async () => {
  tables = await createTestTables("retention");
  clock = new TestClock();
  harness = createTestBroker(tables, { clock });
  other = createTestBroker(tables, { clock });
  served = await serveApp(harness.app);
  api = jsonClient(served.url);
  documents = DynamoDBDocumentClient.from(harness.client);
});
afterAll(async () => {
  await served?.close();
});

const rec = (value: string, timestamp?: number): ProduceRecord => ({
  key: null,
  value: new Uint8Array(Buffer.from(value)),
  headers: [],
  ...(timestamp !== undefined ? { timestamp } : {}),
});

/** A topic with the given retention ("default" = omitted, so the broker's default applies). */
async function newTopic(retentionMs: number | null | "default" = RETENTION_MS, partitions = 1): Promise<TopicRecord> {
  return harness.broker.createTopic({ name: topicName("ret"), partitions, ...(retentionMs !== "default" ? { retentionMs } : {}) });
}

async function produce(topic: string, values: string[], partition = 0) {
  const result = await harness.broker.produce({ topic, partitions: [{ partition, records: values.map((v) => rec(v)) }] });
  const first = result.partitions[0]!;
  if ("error" in first) throw first.error;
  return first;
}

type OkResult = Extract<PartitionFetchResult, { records: readonly FetchedRecord[] }>;

async function fetchAt(topic: string, offset: number, broker = harness.broker): Promise<PartitionFetchResult> {
  const [result] = await broker.fetch({ partitions: [{ topic, partition: 0, offset }] });
  return result!;
}

async function fetchOk(topic: string, offset: number, broker = harness.broker): Promise<OkResult> {
  const result = await fetchAt(topic, offset, broker);
  if ("error" in result) throw result.error;
  return result;
}

async function fetchOutOfRange(topic: string, offset: number, broker = harness.broker) {
  const result = await fetchAt(topic, offset, broker);
  if (!("error" in result)) throw new Error(`expected OFFSET_OUT_OF_RANGE at ${offset}, got records ${result.records.map((r) => r.offset)}`);
  expect(result.error.code).toBe("OFFSET_OUT_OF_RANGE");
  return result.error.details;
}

/** The raw log item at (partition, base offset): layout documented in shared/storage/log-store.ts. */
async function rawItem(topic: TopicRecord, partition: number, baseOffset: number): Promise<Record<string, any> | undefined> {
  const result = await documents.send(
    new GetCommand({ TableName: tables.log, Key: { p: `${topic.topicId}#${partition}`, o: baseOffset }, ConsistentRead: true }),
  );
  return result.Item;
}

const expectedTtl = (appendTime: number, retentionMs: number) => Math.ceil((appendTime + retentionMs + DAY_MS) / 1000);

async function logStart(topic: string): Promise<number> {
  const described = await harness.broker.describeTopic(topic);
  return described.partitions[0]!.logStartOffset;
}

describe("TTL attribute", () => {
  it("sanity: the test's constants match the broker's", () => {
    expect(MIN_RETENTION_MS).toBe(RETENTION_MS);
    expect(TTL_GRACE_MS).toBe(DAY_MS);
  });

  it("batch items carry x = appendTime + retention + one day of grace, in epoch seconds", async () => {
    const topic = await newTopic();
    const t0 = clock.time;
    await produce(topic.name, ["a1", "a2"]);
    clock.advance(12_345);
    const t1 = clock.time;
    await produce(topic.name, ["b1"]);

    const a = await rawItem(topic, 0, 0);
    const b = await rawItem(topic, 0, 2);
    expect(a).toMatchObject({ k: "B", c: 2, a: t0, x: expectedTtl(t0, RETENTION_MS) });
    expect(b).toMatchObject({ k: "B", c: 1, a: t1, x: expectedTtl(t1, RETENTION_MS) });
    // Seconds, not milliseconds: about a day and a minute from now.
    expect(a!.x * 1000 - t0).toBeGreaterThanOrEqual(RETENTION_MS + DAY_MS);
    expect(a!.x * 1000 - t0).toBeLessThan(RETENTION_MS + DAY_MS + 1000);
  });

  it("topics kept forever (retentionMs null) have no TTL attribute; the default retention is 7 days", async () => {
    const forever = await newTopic(null);
    expect(forever.retentionMs).toBeNull();
    await produce(forever.name, ["x"]);
    const item = await rawItem(forever, 0, 0);
    expect(item).toBeDefined();
    expect(item!.k).toBe("B");
    expect(item).not.toHaveProperty("x");

    const byDefault = await newTopic("default");
    expect(byDefault.retentionMs).toBe(DEFAULT_RETENTION_MS);
    await produce(byDefault.name, ["y"]);
    expect((await rawItem(byDefault, 0, 0))!.x).toBe(expectedTtl(clock.time, DEFAULT_RETENTION_MS));
  });

  it("a void left by a failed append carries the TTL too", async () => {
    const topic = await newTopic();
    // The append's PutItem fails before reaching DynamoDB with an unknown outcome: the producer voids
    // its own reservation and retries with a new one.
    harness.faults.once(/^Put/, { kind: "fail-before", error: timeoutError() });
    try {
      const produced = await produce(topic.name, ["v"]);
      expect(produced.baseOffset).toBe(1);
    } finally {
      harness.faults.clear();
    }
    const voided = await rawItem(topic, 0, 0);
    expect(voided).toMatchObject({ k: "V", c: 1, x: expectedTtl(clock.time, RETENTION_MS) });
    expect((await rawItem(topic, 0, 1))!.x).toBe(expectedTtl(clock.time, RETENTION_MS));
  });
});

describe("voids and the log start", () => {
  /** A partition whose first append failed: a void at offset 0, the record at offset 1. */
  async function voidThenRecord(retentionMs: number | null) {
    const topic = await newTopic(retentionMs);
    // Offset 0 was the earliest offset when the consumer started.
    expect(await harness.broker.listOffsets(topic.name, 0, { kind: "earliest" })).toMatchObject({ offset: 0 });
    harness.faults.once(/^Put/, { kind: "fail-before", error: timeoutError() });
    try {
      expect(await produce(topic.name, ["after-void"])).toMatchObject({ baseOffset: 1 });
    } finally {
      harness.faults.clear();
    }
    expect(await rawItem(topic, 0, 0)).toMatchObject({ k: "V" });
    return topic;
  }

  it("a consumer at a void (no retention) skips it", async () => {
    const topic = await voidThenRecord(null);
    expect((await fetchOk(topic.name, 0)).records.map((r) => r.offset)).toEqual([1]);
  });

  it("a consumer at a void before any retention has passed skips it instead of getting OFFSET_OUT_OF_RANGE", async () => {
    // Nothing expired: no record was lost, so the consumer's position (0, valid a moment ago) must
    // stay valid; in Kafka only retention (or deleteRecords) moves the log start.
    const topic = await voidThenRecord(RETENTION_MS);
    expect((await fetchOk(topic.name, 0)).records.map((r) => r.offset)).toEqual([1]);
    expect((await fetchOk(topic.name, 0, other.broker)).records.map((r) => r.offset)).toEqual([1]);
    // Once the retention has passed, the void and the record are both gone.
    clock.advance(RETENTION_MS);
    expect(await fetchOutOfRange(topic.name, 0)).toMatchObject({ logStartOffset: 2, highWatermark: 2 });
  });
});

describe("log-start offset", () => {
  it("advances as the oldest batches expire; fetch below it is OFFSET_OUT_OF_RANGE; newer batches stay readable", async () => {
    const topic = await newTopic();
    const keptForever = await newTopic(null);
    const t0 = clock.time;
    // Batch A: offsets 0..4 at t0. Batch B: offsets 5..9 at t0 + 40 s.
    expect(await produce(topic.name, ["a0", "a1", "a2", "a3", "a4"])).toMatchObject({ baseOffset: 0, lastOffset: 4 });
    await produce(keptForever.name, ["f0"]);
    clock.advance(40_000);
    expect(await produce(topic.name, ["b5", "b6", "b7", "b8", "b9"])).toMatchObject({ baseOffset: 5, lastOffset: 9 });

    // t0 + 59.999 s: nothing expired yet.
    clock.time = t0 + RETENTION_MS - 1;
    expect((await fetchOk(topic.name, 0)).records.map((r) => r.offset)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(await logStart(topic.name)).toBe(0);

    // t0 + 70 s: A expired (t0 + 60 s), B not (t0 + 100 s). First a fetch below the new log start,
    // before anything has refreshed the stored hint: the reader itself notices.
    clock.time = t0 + 70_000;
    expect(await fetchOutOfRange(topic.name, 2)).toMatchObject({ offset: 2, logStartOffset: 5, highWatermark: 10 });
    expect(await fetchOutOfRange(topic.name, 0, other.broker)).toMatchObject({ logStartOffset: 5, highWatermark: 10 });
    expect(await fetchOutOfRange(topic.name, 4)).toMatchObject({ logStartOffset: 5, highWatermark: 10 });

    const described = await harness.broker.describeTopic(topic.name);
    expect(described.partitions).toMatchObject([{ partition: 0, logStartOffset: 5, highWatermark: 10 }]);
    expect(await harness.broker.listOffsets(topic.name, 0, { kind: "earliest" })).toMatchObject({ offset: 5 });
    expect(await other.broker.listOffsets(topic.name, 0, { kind: "earliest" })).toMatchObject({ offset: 5 });
    expect(await harness.broker.listOffsets(topic.name, 0, { kind: "latest" })).toMatchObject({ offset: 10 });
    // The timestamp index starts at the log start too.
    expect(await harness.broker.listOffsets(topic.name, 0, { kind: "timestamp", timestamp: 0 })).toMatchObject({ offset: 5 });

    const fromB = await fetchOk(topic.name, 5);
    expect(fromB.records.map((r) => [r.offset, Buffer.from(r.value!).toString()])).toEqual([
      [5, "b5"],
      [6, "b6"],
      [7, "b7"],
      [8, "b8"],
      [9, "b9"],
    ]);
    expect(fromB).toMatchObject({ nextOffset: 10, highWatermark: 10, logStartOffset: 5 });
    expect((await fetchOk(topic.name, 7, other.broker)).records.map((r) => r.offset)).toEqual([7, 8, 9]);

    // Over HTTP: 416 with the valid range; describe and list offsets show the new log start.
    const http = await api.get(`/v1/topics/${topic.name}/partitions/0/records?offset=0`);
    expect(http.status).toBe(416);
    expect(http.body.error).toMatchObject({ code: "OFFSET_OUT_OF_RANGE", logStartOffset: 5, highWatermark: 10 });
    expect((await api.get(`/v1/topics/${topic.name}`)).body.partitions).toMatchObject([{ partition: 0, logStartOffset: 5, highWatermark: 10 }]);
    expect((await api.get(`/v1/topics/${topic.name}/partitions/0/offsets?at=earliest`)).body).toMatchObject({ offset: 5 });

    // The topic kept forever is untouched.
    expect(await logStart(keptForever.name)).toBe(0);

    // t0 + 110 s: B expired as well. Log start = high watermark; fetching there is valid and empty.
    clock.time = t0 + 110_000;
    expect(await fetchOutOfRange(topic.name, 7)).toMatchObject({ logStartOffset: 10, highWatermark: 10 });
    expect(await fetchOutOfRange(topic.name, 5, other.broker)).toMatchObject({ logStartOffset: 10, highWatermark: 10 });
    expect(await harness.broker.describeTopic(topic.name)).toMatchObject({ partitions: [{ partition: 0, logStartOffset: 10, highWatermark: 10 }] });
    expect(await harness.broker.listOffsets(topic.name, 0, { kind: "earliest" })).toMatchObject({ offset: 10 });
    expect(await harness.broker.listOffsets(topic.name, 0, { kind: "latest" })).toMatchObject({ offset: 10 });
    expect(await harness.broker.listOffsets(topic.name, 0, { kind: "timestamp", timestamp: 0 })).toMatchObject({ offset: null });
    expect(await fetchOk(topic.name, 10)).toMatchObject({ records: [], nextOffset: 10, highWatermark: 10, logStartOffset: 10 });

    // The partition goes on: a new batch is readable at the old high watermark.
    expect(await produce(topic.name, ["c10"])).toMatchObject({ baseOffset: 10 });
    expect((await fetchOk(topic.name, 10)).records.map((r) => r.offset)).toEqual([10]);
    expect(await logStart(topic.name)).toBe(10);
    expect(await logStart(keptForever.name)).toBe(0);
    expect((await fetchOk(keptForever.name, 0)).records.map((r) => r.offset)).toEqual([0]);
  });

  it("expires per partition, by each batch's own append time", async () => {
    const topic = await newTopic(RETENTION_MS, 2);
    const t0 = clock.time;
    await produce(topic.name, ["p0-old"], 0);
    clock.advance(30_000);
    await produce(topic.name, ["p1-young"], 1);
    await produce(topic.name, ["p0-young"], 0);
    clock.time = t0 + 65_000;
    const described = await harness.broker.describeTopic(topic.name);
    expect(described.partitions).toMatchObject([
      { partition: 0, logStartOffset: 1, highWatermark: 2 },
      { partition: 1, logStartOffset: 0, highWatermark: 1 },
    ]);
    clock.time = t0 + 95_000;
    expect((await harness.broker.describeTopic(topic.name)).partitions).toMatchObject([
      { partition: 0, logStartOffset: 2, highWatermark: 2, retainedBytesEstimate: 0 },
      { partition: 1, logStartOffset: 1, highWatermark: 1 },
    ]);
  });
});
