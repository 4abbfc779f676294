/**
 * Fetch and list-offsets against DynamoDB Local: limits, continuation (also mid-batch), seeks,
 * the high-watermark boundary, large requests split into several batch items, compression codecs,
 * multi-partition fetch, long poll, and offset-by-timestamp.
 */
import { randomBytes } from "node:crypto";
import { DynamoDBDocumentClient, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PartitionFetchResult } from "../../shared/core/fetch.js";
import type { FetchedRecord } from "../../shared/core/log-reader.js";
import type { ProduceRecord } from "../../shared/core/produce.js";
import type { TopicRecord } from "../../shared/core/ports.js";
import type { TableNames } from "../../shared/storage/tables.js";
import { createTestBroker, createTestTables, serveApp, TestClock, topicName, type Served, type TestBroker } from "../support/broker.js";
import { b64, jsonClient, unb64, type JsonClient } from "../support/http.js";

let tables: TableNames;
let harness: TestBroker;
let served: Served;
let api: JsonClient;
let documents: DynamoDBDocumentClient;

beforeAll(async () => {
  tables = await createTestTables("fetch");
  harness = createTestBroker(tables, { config: { longPollIntervalMs: 50 } });
  served = await serveApp(harness.app);
  api = jsonClient(served.url);
  documents = DynamoDBDocumentClient.from(harness.client);
});
afterAll(async () => {
  await served?.close();
});

// ---- helpers ---------------------------------------------------------------------------------

const bytes = (text: string) => new Uint8Array(Buffer.from(text));

function rec(value: Uint8Array | string, extra: Partial<ProduceRecord> = {}): ProduceRecord {
  return { key: null, value: typeof value === "string" ? bytes(value) : value, headers: [], ...extra };
}

/** A value of exactly `size` bytes whose content tells which offset it was produced for. */
function sized(label: string | number, size: number): Uint8Array {
  const text = `v${label}-`.padEnd(size, ".");
  return bytes(text.slice(0, size));
}

async function newTopic(partitions = 1, extra: { compression?: "none" | "gzip" | "brotli"; timestampType?: "CreateTime" | "LogAppendTime"; retentionMs?: number | null } = {}, broker = harness.broker): Promise<TopicRecord> {
  return broker.createTopic({ name: topicName("fetch"), partitions, ...extra });
}

async function produceTo(topic: string, partition: number, records: ProduceRecord[], compression?: "none" | "gzip" | "brotli", broker = harness.broker) {
  const result = await broker.produce({ topic, partitions: [{ partition, records }], ...(compression ? { compression } : {}) });
  const first = result.partitions[0]!;
  if ("error" in first) throw first.error;
  return first;
}

type OkResult = Extract<PartitionFetchResult, { records: readonly FetchedRecord[] }>;

async function fetchOne(topic: string, partition: number, offset: number, limits: { maxRecords?: number; maxBytes?: number; maxWaitMs?: number } = {}, broker = harness.broker): Promise<OkResult> {
  const { maxWaitMs, ...perRequest } = limits;
  const [result] = await broker.fetch({ partitions: [{ topic, partition, offset }], ...perRequest, ...(maxWaitMs !== undefined ? { maxWaitMs } : {}) });
  if (!result) throw new Error("no result");
  if ("error" in result) throw result.error;
  return result;
}

async function fetchError(topic: string, partition: number, offset: number) {
  const [result] = await harness.broker.fetch({ partitions: [{ topic, partition, offset }] });
  if (!result || !("error" in result)) throw new Error(`expected an error, got ${JSON.stringify(result)}`);
  return result.error;
}

/** Raw log items of a partition, in offset order (the storage layout of shared/storage/log-store.ts). */
async function rawLogItems(topic: TopicRecord, partition: number): Promise<Record<string, any>[]> {
  const items: Record<string, any>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await documents.send(
      new QueryCommand({
        TableName: tables.log,
        KeyConditionExpression: "p = :p",
        ExpressionAttributeValues: { ":p": `${topic.topicId}#${partition}` },
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }),
    );
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
}

const text = (value: Uint8Array | null) => (value === null ? null : Buffer.from(value).toString());
const offsetsOf = (records: readonly { offset: number }[]) => records.map((r) => r.offset);

// ---- limits and continuation -----------------------------------------------------------------

describe("fetch limits and continuation", () => {
  it("maxRecords bounds a fetch, and nextOffset continues exactly where it stopped, also mid-batch", async () => {
    const topic = await newTopic();
    const produced = await produceTo(topic.name, 0, Array.from({ length: 10 }, (_, i) => rec(`r${i}`)));
    expect(produced).toMatchObject({ baseOffset: 0, lastOffset: 9, recordCount: 10 });
    expect(await rawLogItems(topic, 0)).toHaveLength(1); // really one batch item

    const seen: number[] = [];
    const pages: number[][] = [];
    let offset = 0;
    for (let round = 0; round < 10 && offset < 10; round++) {
      const page = await fetchOne(topic.name, 0, offset, { maxRecords: 3 });
      expect(page.records.length).toBeLessThanOrEqual(3);
      expect(page.records.length).toBeGreaterThan(0);
      expect(page.records[0]!.offset).toBe(offset);
      for (const r of page.records) expect(text(r.value)).toBe(`r${r.offset}`);
      expect(page.nextOffset).toBe(page.records[page.records.length - 1]!.offset + 1);
      expect(page.highWatermark).toBe(10);
      pages.push(offsetsOf(page.records));
      seen.push(...offsetsOf(page.records));
      offset = page.nextOffset;
    }
    expect(pages).toEqual([[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]);
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(offset).toBe(10);
  });

  it("maxBytes bounds a fetch (key + value + header bytes) and continuation is exact", async () => {
    const topic = await newTopic();
    // Every record counts exactly 100 bytes: 10-byte key + 80-byte value + header "h" (1) + 9-byte value.
    const records = Array.from({ length: 10 }, (_, i) =>
      rec(sized(i, 80), { key: sized(`k${i}`, 10), headers: [{ key: "h", value: sized(`h${i}`, 9) }] }),
    );
    await produceTo(topic.name, 0, records);

    const first = await fetchOne(topic.name, 0, 0, { maxBytes: 250 });
    expect(offsetsOf(first.records)).toEqual([0, 1]);
    expect(first.nextOffset).toBe(2);

    const exact = await fetchOne(topic.name, 0, 2, { maxBytes: 300 });
    expect(offsetsOf(exact.records)).toEqual([2, 3, 4]);
    expect(exact.nextOffset).toBe(5);

    const both = await fetchOne(topic.name, 0, 5, { maxBytes: 1000, maxRecords: 2 });
    expect(offsetsOf(both.records)).toEqual([5, 6]);

    const rest = await fetchOne(topic.name, 0, both.nextOffset, { maxBytes: 10_000 });
    expect(offsetsOf(rest.records)).toEqual([7, 8, 9]);
    expect(rest.nextOffset).toBe(10);
    expect(text(rest.records[0]!.value)).toBe(text(sized(7, 80)));
    expect(text(rest.records[0]!.key)).toBe(text(sized("k7", 10)));
  });

  it("returns a single record larger than maxBytes on its own, so a consumer always progresses", async () => {
    const topic = await newTopic();
    await produceTo(topic.name, 0, [rec(sized(0, 5000)), rec(sized(1, 5000)), rec(sized(2, 10))]);

    const first = await fetchOne(topic.name, 0, 0, { maxBytes: 100 });
    expect(offsetsOf(first.records)).toEqual([0]);
    expect(first.records[0]!.value).toHaveLength(5000);
    expect(first.nextOffset).toBe(1);

    const second = await fetchOne(topic.name, 0, 1, { maxBytes: 100 });
    expect(offsetsOf(second.records)).toEqual([1]);
    expect(second.nextOffset).toBe(2);

    const third = await fetchOne(topic.name, 0, 2, { maxBytes: 100 });
    expect(offsetsOf(third.records)).toEqual([2]);
    expect(third.nextOffset).toBe(3);

    // Over HTTP as well.
    const http = await api.get(`/v1/topics/${topic.name}/partitions/0/records?offset=0&maxBytes=1`);
    expect(http.status).toBe(200);
    expect(http.body.records.map((r: any) => r.offset)).toEqual([0]);
    expect(unb64(http.body.records[0].value)).toHaveLength(5000);
    expect(http.body.nextOffset).toBe(1);
  });

  it("continues across batch boundaries: fetching maxRecords 4 over batches of 3 sees each offset once", async () => {
    const topic = await newTopic();
    for (let b = 0; b < 4; b++) await produceTo(topic.name, 0, [0, 1, 2].map((j) => rec(`r${b * 3 + j}`)));
    expect(await rawLogItems(topic, 0)).toHaveLength(4);
    const seen: number[] = [];
    let offset = 0;
    while (offset < 12) {
      const page = await fetchOne(topic.name, 0, offset, { maxRecords: 4 });
      expect(page.records.length).toBeGreaterThan(0);
      for (const r of page.records) expect(text(r.value)).toBe(`r${r.offset}`);
      seen.push(...offsetsOf(page.records));
      offset = page.nextOffset;
    }
    expect(seen).toEqual(Array.from({ length: 12 }, (_, i) => i));
  });
});

describe("seeks and the high watermark", () => {
  it("a seek into the middle of a batch returns records from that offset", async () => {
    const topic = await newTopic();
    await produceTo(topic.name, 0, [rec("before-0"), rec("before-1")]);
    await produceTo(topic.name, 0, Array.from({ length: 10 }, (_, i) => rec(`r${i + 2}`)));
    await produceTo(topic.name, 0, [rec("after-12")]);

    const mid = await fetchOne(topic.name, 0, 7);
    expect(offsetsOf(mid.records)).toEqual([7, 8, 9, 10, 11, 12]);
    expect(text(mid.records[0]!.value)).toBe("r7");
    expect(text(mid.records[5]!.value)).toBe("after-12");

    const last = await fetchOne(topic.name, 0, 11, { maxRecords: 1 });
    expect(offsetsOf(last.records)).toEqual([11]);
    expect(last.nextOffset).toBe(12);

    const http = await api.get(`/v1/topics/${topic.name}/partitions/0/records?offset=5&maxRecords=2&encoding=utf8`);
    expect(http.status).toBe(200);
    expect(http.body.records.map((r: any) => [r.offset, r.value])).toEqual([[5, "r5"], [6, "r6"]]);
    expect(http.body.nextOffset).toBe(7);
  });

  it("a fetch at the high watermark returns no records, not an error; beyond it is OFFSET_OUT_OF_RANGE with the valid range", async () => {
    const topic = await newTopic();
    await produceTo(topic.name, 0, [rec("a"), rec("b"), rec("c")]);

    const atEnd = await fetchOne(topic.name, 0, 3);
    expect(atEnd).toMatchObject({ records: [], nextOffset: 3, highWatermark: 3, logStartOffset: 0 });

    const empty = await newTopic();
    expect(await fetchOne(empty.name, 0, 0)).toMatchObject({ records: [], nextOffset: 0, highWatermark: 0, logStartOffset: 0 });

    const beyond = await fetchError(topic.name, 0, 4);
    expect(beyond.code).toBe("OFFSET_OUT_OF_RANGE");
    expect(beyond.details).toMatchObject({ logStartOffset: 0, highWatermark: 3, offset: 4 });

    const httpAtEnd = await api.get(`/v1/topics/${topic.name}/partitions/0/records?offset=3`);
    expect(httpAtEnd.status).toBe(200);
    expect(httpAtEnd.body).toMatchObject({ records: [], nextOffset: 3, highWatermark: 3, logStartOffset: 0 });

    for (const offset of [4, 1_000_000_000]) {
      const http = await api.get(`/v1/topics/${topic.name}/partitions/0/records?offset=${offset}`);
      expect(http.status).toBe(416);
      expect(http.body.error).toMatchObject({ code: "OFFSET_OUT_OF_RANGE", logStartOffset: 0, highWatermark: 3, offset, retriable: false });
    }
    const httpEmpty = await api.get(`/v1/topics/${empty.name}/partitions/0/records?offset=1`);
    expect(httpEmpty.status).toBe(416);
    expect(httpEmpty.body.error).toMatchObject({ code: "OFFSET_OUT_OF_RANGE", logStartOffset: 0, highWatermark: 0 });
  });
});

// ---- large requests and compression ----------------------------------------------------------

describe("large requests and compression", () => {
  it("splits a large produce into several batch items (each under the item cap) and fetches it back byte-exact", async () => {
    const topic = await newTopic(1);
    const values = [0, 1, 2].map(() => new Uint8Array(randomBytes(300 * 1024)));
    const produced = await api.post(`/v1/topics/${topic.name}/records`, { partitions: [{ partition: 0, records: values.map((v) => ({ value: b64(v) })) }] });
    expect(produced.status).toBe(200);
    expect(produced.body.partitions).toEqual([{ partition: 0, baseOffset: 0, lastOffset: 2, recordCount: 3, duplicate: false }]);

    const items = await rawLogItems(topic, 0);
    expect(items.length).toBeGreaterThanOrEqual(2);
    expect(items.every((i) => i.k === "B")).toBe(true);
    // Contiguous ranges covering exactly offsets 0..2, each item under DynamoDB's 400 KB cap.
    let next = 0;
    for (const item of items) {
      expect(item.o).toBe(next);
      next += item.c;
      expect((item.d as Uint8Array).length).toBeLessThan(400_000);
    }
    expect(next).toBe(3);

    const fetched = await fetchOne(topic.name, 0, 0, { maxBytes: 3 * 1024 * 1024 });
    expect(offsetsOf(fetched.records)).toEqual([0, 1, 2]);
    fetched.records.forEach((r, i) => expect(Buffer.from(r.value!).equals(Buffer.from(values[i]!))).toBe(true));

    const http = await api.get(`/v1/topics/${topic.name}/partitions/0/records?offset=1&maxBytes=3000000`);
    expect(http.status).toBe(200);
    expect(http.body.records.map((r: any) => r.offset)).toEqual([1, 2]);
    expect(unb64(http.body.records[0].value).equals(Buffer.from(values[1]!))).toBe(true);
    expect(unb64(http.body.records[1].value).equals(Buffer.from(values[2]!))).toBe(true);
  });

  it("round-trips each codec (gzip, brotli, none), records it per batch, and the produce option overrides the topic default", async () => {
    const topic = await newTopic(1, { compression: "gzip" });
    const compressible = (tag: string) => rec(`${tag}:` + "the quick brown fox jumps over the lazy dog ".repeat(200), { key: bytes(`key-${tag}`), headers: [{ key: "codec", value: bytes(tag) }] });
    const plan: { tag: string; option?: "none" | "gzip" | "brotli"; stored: string | undefined }[] = [
      { tag: "default", stored: "gzip" },
      { tag: "brotli", option: "brotli", stored: "brotli" },
      { tag: "none", option: "none", stored: undefined },
      { tag: "gzip", option: "gzip", stored: "gzip" },
    ];
    for (const step of plan) await produceTo(topic.name, 0, [compressible(step.tag), compressible(`${step.tag}-2`)], step.option);

    const items = await rawLogItems(topic, 0);
    expect(items.map((i) => i.o)).toEqual([0, 2, 4, 6]);
    items.forEach((item, i) => {
      expect(item.z).toBe(plan[i]!.stored);
      const blobSize = (item.d as Uint8Array).length;
      if (plan[i]!.stored) expect(blobSize).toBeLessThan(2000); // ~18 KB of text, compressed
      else expect(blobSize).toBeGreaterThan(17_000);
    });

    const fetched = await fetchOne(topic.name, 0, 0);
    expect(offsetsOf(fetched.records)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    fetched.records.forEach((r, i) => {
      const tag = i % 2 === 0 ? plan[i / 2]!.tag : `${plan[(i - 1) / 2]!.tag}-2`;
      expect(text(r.value)).toBe(text(compressible(tag).value));
      expect(text(r.key)).toBe(`key-${tag}`);
      expect(r.headers.map((h) => [h.key, text(h.value)])).toEqual([["codec", tag]]);
    });

    // A brotli topic, overridden to none and to gzip per request.
    const brotliTopic = await newTopic(1, { compression: "brotli" });
    await produceTo(brotliTopic.name, 0, [compressible("b1")]);
    await produceTo(brotliTopic.name, 0, [compressible("b2")], "none");
    const http = await api.post(`/v1/topics/${brotliTopic.name}/records`, { encoding: "utf8", compression: "gzip", records: [{ value: "x".repeat(5000), partition: 0 }] });
    expect(http.status).toBe(200);
    expect((await rawLogItems(brotliTopic, 0)).map((i) => i.z)).toEqual(["brotli", undefined, "gzip"]);
    const back = await api.get(`/v1/topics/${brotliTopic.name}/partitions/0/records?offset=0&encoding=utf8`);
    expect(back.body.records.map((r: any) => r.value)).toEqual([text(compressible("b1").value), text(compressible("b2").value), "x".repeat(5000)]);
  });
});

// ---- multi-partition fetch ---------------------------------------------------------------------

describe("POST /v1/fetch across partitions", () => {
  it("answers per partition: an unknown partition or topic is a per-partition error while the others succeed", async () => {
    const topic = await newTopic(3);
    await produceTo(topic.name, 0, [rec("p0-a"), rec("p0-b")]);
    await produceTo(topic.name, 1, [rec("p1-a")]);
    const response = await api.post("/v1/fetch", {
      encoding: "utf8",
      partitions: [
        { topic: topic.name, partition: 0, offset: 0 },
        { topic: topic.name, partition: 7, offset: 0 },
        { topic: topic.name, partition: 1, offset: 0 },
        { topic: topicName("missing"), partition: 0, offset: 0 },
        { topic: topic.name, partition: 2, offset: 0 },
        { topic: topic.name, partition: 1, offset: 5 },
      ],
    });
    expect(response.status).toBe(200);
    const [p0, p7, p1, missing, p2, p1Beyond] = response.body.partitions;
    expect(p0).toMatchObject({ topic: topic.name, partition: 0, nextOffset: 2, highWatermark: 2, logStartOffset: 0 });
    expect(p0.records.map((r: any) => r.value)).toEqual(["p0-a", "p0-b"]);
    expect(p7).toMatchObject({ topic: topic.name, partition: 7, error: { code: "UNKNOWN_TOPIC_OR_PARTITION" } });
    expect(p7.records).toBeUndefined();
    expect(p1.records.map((r: any) => r.value)).toEqual(["p1-a"]);
    expect(missing.error.code).toBe("UNKNOWN_TOPIC_OR_PARTITION");
    expect(p2).toMatchObject({ partition: 2, records: [], nextOffset: 0, highWatermark: 0 });
    expect(p1Beyond.error).toMatchObject({ code: "OFFSET_OUT_OF_RANGE", logStartOffset: 0, highWatermark: 1 });
  });

  it("respects the total maxBytes budget across partitions and per-partition limits", async () => {
    const topic = await newTopic(3);
    for (const p of [0, 1, 2]) await produceTo(topic.name, p, Array.from({ length: 5 }, (_, i) => rec(sized(`${p}.${i}`, 100))));

    const response = await api.post("/v1/fetch", {
      maxBytes: 700,
      partitions: [0, 1, 2].map((partition) => ({ topic: topic.name, partition, offset: 0 })),
    });
    expect(response.status).toBe(200);
    const results = response.body.partitions;
    // maxBytes counts what is sent: each record's JSON, escaped again inside the Lambda result, plus
    // a comma (shared/http/app.ts recordEncoder), not the raw value bytes.
    const sentBytes = (record: unknown) => Buffer.byteLength(JSON.stringify(JSON.stringify(record))) - 2 + 1;
    const costs: number[] = results.flatMap((r: any) => r.records.map(sentBytes));
    const total = costs.reduce((sum, c) => sum + c, 0);
    expect(total).toBeLessThanOrEqual(700);
    expect(total + Math.max(...costs)).toBeGreaterThan(700); // the budget is used: one more record would not fit
    // Each partition's nextOffset continues right after what it returned.
    for (const r of results) {
      expect(r.records.map((x: any) => x.offset)).toEqual(Array.from({ length: r.records.length }, (_, i) => i));
      expect(r.nextOffset).toBe(r.records.length);
      r.records.forEach((x: any, i: number) => expect(unb64(x.value).toString()).toBe(text(sized(`${r.partition}.${i}`, 100))));
    }

    // Per-partition caps inside the total.
    const capped = await api.post("/v1/fetch", {
      maxRecords: 4,
      partitions: [
        { topic: topic.name, partition: 0, offset: 1, maxRecords: 2 },
        { topic: topic.name, partition: 1, offset: 0, maxBytes: 150 },
        { topic: topic.name, partition: 2, offset: 0 },
      ],
    });
    const [c0, c1, c2] = capped.body.partitions;
    expect(c0.records.map((x: any) => x.offset)).toEqual([1, 2]);
    expect(c0.nextOffset).toBe(3);
    expect(c1.records.map((x: any) => x.offset)).toEqual([0]);
    expect(c1.nextOffset).toBe(1);
    expect(c2.records.map((x: any) => x.offset)).toEqual([0, 1, 2, 3]);
    expect(c2.nextOffset).toBe(4);
  });
});

// ---- long poll -------------------------------------------------------------------------------

describe("round trips and reads per fetch", () => {
  /** Reads of the partitions and log tables while `run` runs (the topic lookup is cached, not counted). */
  async function readsDuring(run: () => Promise<unknown>): Promise<string[]> {
    const reads: string[] = [];
    let recording = true;
    harness.faults.add((command, input) => {
      const table = input["TableName"];
      if (recording && /^(GetItem|Query|BatchGetItem)Command$/.test(command) && (table === tables.partitions || table === tables.log)) {
        reads.push(`${command.replace("Command", "")} ${table === tables.log ? "log" : "partitions"}${input["ScanIndexForward"] === false ? " backwards" : ""}${input["ConsistentRead"] === true ? " consistent" : ""}`);
      }
      return undefined;
    });
    try {
      await run();
    } finally {
      recording = false;
    }
    return reads.sort();
  }

  it("asks for the first log page while the partition head is still being read: one round trip, not two", async () => {
    const topic = await newTopic();
    await produceTo(topic.name, 0, [rec("a"), rec("b")]);
    await produceTo(topic.name, 0, [rec("c")]);
    let pageAsked!: () => void;
    const asked = new Promise<boolean>((resolve) => (pageAsked = () => resolve(true)));
    harness.faults.add((command, input) => {
      if (command === "QueryCommand" && input["TableName"] === tables.log) pageAsked();
      return undefined;
    });
    // The head's GetItem is held until the log Query goes out; a reader that waits for the head
    // first would never send it, so the hold gives up after 2 s and the test fails.
    let pageWhileHeadHeld: boolean | undefined;
    const hold = harness.chaos.beforeCommand(
      /^GetItemCommand$/,
      async () => {
        pageWhileHeadHeld = await Promise.race([asked, new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 2_000))]);
      },
      { where: (request) => (request.input as Record<string, unknown>)["TableName"] === tables.partitions },
    );
    try {
      const result = await fetchOne(topic.name, 0, 0);
      expect(result.records.map((r) => Buffer.from(r.value!).toString())).toEqual(["a", "b", "c"]);
    } finally {
      hold.remove();
    }
    expect(pageWhileHeadHeld).toBe(true);
  });

  it("a backlog fetch reads the head and one page; a caught-up fetch the same, and not the batch before its offset", async () => {
    const topic = await newTopic();
    await produceTo(topic.name, 0, [rec("a"), rec("b")]);
    await produceTo(topic.name, 0, [rec("c")]);
    let result: OkResult | undefined;
    const backlog = await readsDuring(async () => (result = await fetchOne(topic.name, 0, 0)));
    expect(result!.nextOffset).toBe(3);
    expect(backlog).toEqual(["GetItem partitions consistent", "Query log"]);
    // At the end of the log: the page is empty, and the head says nothing at or past offset 3 was
    // reserved, so no batch can straddle it (before, a consistent Query read the batch at 2 whole).
    const caughtUp = await readsDuring(async () => (result = await fetchOne(topic.name, 0, 3)));
    expect(result!.records).toEqual([]);
    expect(caughtUp).toEqual(["GetItem partitions consistent", "Query log"]);
    // A seek into the middle of a batch still finds the batch holding it.
    const seek = await readsDuring(async () => (result = await fetchOne(topic.name, 0, 1)));
    expect(result!.records.map((r) => r.offset)).toEqual([1, 2]);
    expect(seek).toEqual(["GetItem partitions consistent", "Query log", "Query log backwards consistent"]);
  });

  it("sizes the first page from the partition's shape as the previous read saw it: 200 one-record batches are one Query", async () => {
    const topic = await newTopic();
    for (let start = 0; start < 300; start += 25) {
      // One-record produces, 25 at a time: each is its own batch item.
      await Promise.all(Array.from({ length: 25 }, (_, i) => produceTo(topic.name, 0, [rec(`r${start + i}`)])));
    }
    let result: OkResult | undefined;
    // No shape known yet: the first page guesses (32 items for 1 MiB), then the walk estimates.
    const first = await readsDuring(async () => (result = await fetchOne(topic.name, 0, 0, { maxRecords: 100 })));
    expect(result!.records).toHaveLength(100);
    expect(first.filter((r) => r === "Query log").length).toBeGreaterThan(1);
    // The next fetch knows the items hold one record each: one Query of ~200 items (it was five: 32, then 50 at a time).
    const next = await readsDuring(async () => (result = await fetchOne(topic.name, 0, 100, { maxRecords: 200 })));
    expect(result!.records.map((r) => r.offset)).toEqual(Array.from({ length: 200 }, (_, i) => 100 + i));
    expect(next).toEqual(["GetItem partitions consistent", "Query log"]);
  });
});

describe("long poll", () => {
  it("a fetch waiting at the high watermark resolves with a record produced while it waits", async () => {
    const topic = await newTopic(1);
    await produceTo(topic.name, 0, [rec("old")]);
    const waiting = longPollWaiting();
    try {
      const started = Date.now();
      const pending = fetchOne(topic.name, 0, 1, { maxWaitMs: 10_000 });
      await waiting;
      const [fetched, produced] = await Promise.all([pending, produceTo(topic.name, 0, [rec("new")])]);
      expect(produced.baseOffset).toBe(1);
      expect(offsetsOf(fetched.records)).toEqual([1]);
      expect(text(fetched.records[0]!.value)).toBe("new");
      expect(fetched.nextOffset).toBe(2);
      expect(fetched.highWatermark).toBe(2);
      expect(Date.now() - started).toBeLessThan(9_000);
    } finally {
      harness.faults.clear();
    }
  });

  it("a long poll over HTTP across partitions wakes when any partition gets data", async () => {
    const topic = await newTopic(2);
    const waiting = longPollWaiting();
    try {
      const pending = api.post("/v1/fetch", {
        encoding: "utf8",
        maxWaitMs: 10_000,
        partitions: [0, 1].map((partition) => ({ topic: topic.name, partition, offset: 0 })),
      });
      await waiting;
      const [response] = await Promise.all([pending, produceTo(topic.name, 1, [rec("woke")])]);
      expect(response.status).toBe(200);
      expect(response.body.partitions[0]).toMatchObject({ partition: 0, records: [], nextOffset: 0 });
      expect(response.body.partitions[1].records.map((r: any) => [r.offset, r.value])).toEqual([[0, "woke"]]);
    } finally {
      harness.faults.clear();
    }
  });

  it("a long poll with nothing produced returns empty after maxWaitMs", async () => {
    const topic = await newTopic(1);
    await produceTo(topic.name, 0, [rec("only")]);
    const started = Date.now();
    const fetched = await fetchOne(topic.name, 0, 1, { maxWaitMs: 300 });
    const elapsed = Date.now() - started;
    expect(fetched).toMatchObject({ records: [], nextOffset: 1, highWatermark: 1 });
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(3_000);

    // Without maxWaitMs the same fetch answers at once.
    const quick = Date.now();
    await fetchOne(topic.name, 0, 1);
    expect(Date.now() - quick).toBeLessThan(290);
  });

  it("a long poll answers at once when a partition's answer is an error (waiting cannot fix it; Kafka does not wait either)", async () => {
    const topic = await newTopic(2);
    await produceTo(topic.name, 0, [rec("only")]);
    const cases = [
      [{ topic: topic.name, partition: 0, offset: 5 }],
      [{ topic: topic.name, partition: 9, offset: 0 }],
      [{ topic: topic.name, partition: 1, offset: 0 }, { topic: topic.name, partition: 0, offset: 5 }],
    ];
    for (const partitions of cases) {
      const started = Date.now();
      const results = await harness.broker.fetch({ partitions, maxWaitMs: 5_000 });
      expect(Date.now() - started, JSON.stringify(partitions)).toBeLessThan(2_500);
      expect(results.some((r) => "error" in r)).toBe(true);
    }
  });
});

// ---- list offsets ----------------------------------------------------------------------------

describe("list offsets", () => {
  it("earliest and latest", async () => {
    const topic = await newTopic(2);
    expect(await harness.broker.listOffsets(topic.name, 0, { kind: "earliest" })).toMatchObject({ offset: 0 });
    expect(await harness.broker.listOffsets(topic.name, 0, { kind: "latest" })).toMatchObject({ offset: 0 });
    await produceTo(topic.name, 0, [rec("a"), rec("b")]);
    await produceTo(topic.name, 0, [rec("c")]);
    const earliest = await api.get(`/v1/topics/${topic.name}/partitions/0/offsets?at=earliest`);
    const latest = await api.get(`/v1/topics/${topic.name}/partitions/0/offsets?at=latest`);
    expect(earliest.status).toBe(200);
    expect(earliest.body).toMatchObject({ offset: 0 });
    expect(latest.body).toMatchObject({ offset: 3 });
    expect((await api.get(`/v1/topics/${topic.name}/partitions/1/offsets?at=latest`)).body).toMatchObject({ offset: 0 });
  });

  it("by timestamp: the first offset whose CreateTime is >= ts, or null after the last record", async () => {
    const topic = await newTopic(1);
    const base = 1_700_000_000_000;
    // Six batches of three records; batch b record j has timestamp base + b*1000 + j*100, offset 3b+j.
    const timestamps: number[] = [];
    for (let b = 0; b < 6; b++) {
      const batch = [0, 1, 2].map((j) => base + b * 1000 + j * 100);
      timestamps.push(...batch);
      await produceTo(topic.name, 0, batch.map((timestamp, j) => rec(`b${b}r${j}`, { timestamp })));
    }
    const at = async (ts: number) => (await api.get(`/v1/topics/${topic.name}/partitions/0/offsets?at=${ts}`)).body;

    expect(await at(base - 86_400_000)).toMatchObject({ offset: 0, timestamp: base }); // before all
    expect(await at(0)).toMatchObject({ offset: 0, timestamp: base });
    expect(await at(base + 2100)).toMatchObject({ offset: 7, timestamp: base + 2100 }); // exactly, mid-batch
    expect(await at(base + 2150)).toMatchObject({ offset: 8, timestamp: base + 2200 }); // between records of a batch
    expect(await at(base + 2500)).toMatchObject({ offset: 9, timestamp: base + 3000 }); // between batches
    expect(await at(base + 5200)).toMatchObject({ offset: 17, timestamp: base + 5200 }); // the last record
    expect(await at(base + 5201)).toMatchObject({ offset: null, timestamp: null }); // after all

    // Every record, exactly and just after (core API, concurrently, so this stays fast).
    const exact = await Promise.all(timestamps.map((ts) => harness.broker.listOffsets(topic.name, 0, { kind: "timestamp", timestamp: ts })));
    const after = await Promise.all(timestamps.map((ts) => harness.broker.listOffsets(topic.name, 0, { kind: "timestamp", timestamp: ts + 1 })));
    expect(exact.map((r) => [r.offset, r.timestamp])).toEqual(timestamps.map((ts, offset) => [offset, ts]));
    expect(after.map((r) => r.offset)).toEqual(timestamps.map((_, offset) => (offset + 1 < timestamps.length ? offset + 1 : null)));
  });

  it("LogAppendTime topics ignore client timestamps: records carry the broker's append time", async () => {
    const clock = new TestClock(1_750_000_000_000);
    const timed = createTestBroker(tables, { clock });
    const topic = await newTopic(1, { timestampType: "LogAppendTime" }, timed.broker);
    const first = clock.time;
    await produceTo(topic.name, 0, [rec("a", { timestamp: 1_000 }), rec("b", { timestamp: 9_999_999_999_999 })], undefined, timed.broker);
    clock.advance(5_000);
    await produceTo(topic.name, 0, [rec("c", { timestamp: 2_000 }), rec("d")], undefined, timed.broker);

    const fetched = await fetchOne(topic.name, 0, 0, {}, timed.broker);
    expect(fetched.records.map((r) => [r.offset, r.timestamp])).toEqual([
      [0, first],
      [1, first],
      [2, first + 5_000],
      [3, first + 5_000],
    ]);
    // And the timestamp index follows the append times, not the client's.
    expect(await timed.broker.listOffsets(topic.name, 0, { kind: "timestamp", timestamp: 1_000 })).toMatchObject({ offset: 0, timestamp: first });
    expect(await timed.broker.listOffsets(topic.name, 0, { kind: "timestamp", timestamp: first + 1 })).toMatchObject({ offset: 2, timestamp: first + 5_000 });
    expect(await timed.broker.listOffsets(topic.name, 0, { kind: "timestamp", timestamp: first + 5_001 })).toMatchObject({ offset: null });

    // A CreateTime topic on the same broker keeps them.
    const createTime = await newTopic(1, {}, timed.broker);
    await produceTo(createTime.name, 0, [rec("a", { timestamp: 1_000 }), rec("b")], undefined, timed.broker);
    expect((await fetchOne(createTime.name, 0, 0, {}, timed.broker)).records.map((r) => r.timestamp)).toEqual([1_000, clock.time]);
  });
});

/**
 * Resolves once a long poll is waiting: a fetch re-checks partition heads with BatchGetItem only
 * after its first read found nothing, so seeing that request proves it waits before we produce.
 */
function longPollWaiting(): Promise<void> {
  return new Promise<void>((resolve) =>
    harness.faults.add((command) => {
      if (/BatchGet/.test(command)) resolve();
      return undefined;
    }),
  );
}
