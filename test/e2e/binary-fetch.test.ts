/**
 * The binary fetch format over HTTP (docs/api.md "Binary fetch"): the same records as JSON fetch,
 * every field, several partitions, the byte and record limits, codec fallback and bad input.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeFetchFrame, type DecodedPartition } from "../../client/fetch-frame.js";
import { createTestBroker, createTestTables, serveApp, topicName, type Served, type TestBroker } from "../support/broker.js";
import { b64, jsonClient, unb64, type JsonClient } from "../support/http.js";

const MEDIA = "application/vnd.dynalog.batches";
let served: Served;
let api: JsonClient;
let harness: TestBroker;

beforeAll(async () => {
  harness = createTestBroker(await createTestTables("e2e-binfetch"));
  served = await serveApp(harness.app);
  api = jsonClient(served.url);
});
afterAll(async () => served?.close());

async function binary(path: string, init: { accept?: string; body?: unknown } = {}): Promise<{ status: number; type: string | null; parts: DecodedPartition[]; json?: any }> {
  const response = await fetch(`${served.url}${path}`, {
    method: init.body === undefined ? "GET" : "POST",
    headers: { accept: init.accept ?? `${MEDIA}; codecs=none+gzip`, ...(init.body === undefined ? {} : { "content-type": "application/json" }) },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const type = response.headers.get("content-type");
  if (!type?.startsWith(MEDIA)) return { status: response.status, type, parts: [], json: await response.json() };
  return { status: response.status, type, parts: await decodeFetchFrame(new Uint8Array(await response.arrayBuffer())) };
}

const messagesOf = (part: DecodedPartition | undefined) => {
  if (!part || "error" in part) throw new Error(`no records: ${JSON.stringify(part)}`);
  return part.messages;
};

/** JSON fetch's records in a comparable shape. */
const fromJson = (r: any) => ({ offset: r.offset, timestamp: r.timestamp, key: r.key === null ? null : unb64(r.key).toString("hex"), value: r.value === null ? null : unb64(r.value).toString("hex"), headers: r.headers.map((h: any) => [h.key, h.value === null ? null : unb64(h.value).toString("hex")]) });
const fromBinary = (m: ReturnType<typeof messagesOf>[number]) => ({
  offset: m.offset,
  timestamp: m.timestamp,
  key: m.key === null ? null : Buffer.from(m.key).toString("hex"),
  value: m.value === null ? null : Buffer.from(m.value).toString("hex"),
  headers: Object.entries(m.headers).flatMap(([key, v]) => (Array.isArray(v) ? v : [v]).map((value) => [key, value === null ? null : Buffer.from(value).toString("hex")])),
});

async function produce(topic: string, partition: number, records: unknown[]): Promise<void> {
  const produced = await api.post(`/v1/topics/${topic}/records`, { partitions: [{ partition, records }] });
  expect(produced.status).toBe(200);
}

describe("binary fetch over HTTP", { timeout: 120_000 }, () => {
  it("returns the same records as JSON fetch: keys, null values, binary bytes, headers, timestamps", async () => {
    const topic = topicName("bin");
    expect((await api.post("/v1/topics", { name: topic, partitions: 1, compression: "gzip" })).status).toBe(201);
    await produce(topic, 0, [
      { key: b64("k1"), value: b64(Uint8Array.from([0, 255, 1, 254])), headers: [{ key: "trace", value: b64("abc") }, { key: "trace", value: null }], timestamp: 1_700_000_000_000 },
      { key: null, value: b64("second") },
      { value: null, key: b64("tombstone") },
    ]);
    await produce(topic, 0, [{ key: b64(""), value: b64("x".repeat(5000)), headers: [{ key: "ü", value: b64("") }] }]);

    const json = await api.get(`/v1/topics/${topic}/partitions/0/records?offset=1`);
    const bin = await binary(`/v1/topics/${topic}/partitions/0/records?offset=1`);
    expect(bin.status).toBe(200);
    expect(bin.type).toBe(MEDIA);
    expect(messagesOf(bin.parts[0]).map(fromBinary)).toEqual(json.body.records.map(fromJson));
    expect(messagesOf(bin.parts[0]).map((m) => m.offset)).toEqual([1, 2, 3]); // offset 0 of the first batch trimmed
    expect(bin.parts[0]).toMatchObject({ nextOffset: json.body.nextOffset, highWatermark: 4, logStartOffset: 0 });
    // Without the Accept header the answer stays JSON (curl users).
    const plain = await fetch(`${served.url}/v1/topics/${topic}/partitions/0/records?offset=0`);
    expect(plain.headers.get("content-type")).toMatch(/^application\/json/);
  });

  it("reads several partitions in one POST /v1/fetch, with per-partition errors in the frame", async () => {
    const topic = topicName("bin-multi");
    expect((await api.post("/v1/topics", { name: topic, partitions: 3 })).status).toBe(201);
    for (const partition of [0, 1, 2]) await produce(topic, partition, Array.from({ length: 5 }, (_, i) => ({ value: b64(`p${partition}-${i}`) })));
    const body = { maxWaitMs: 0, partitions: [0, 1, 2].map((partition) => ({ topic, partition, offset: partition })).concat([{ topic, partition: 9, offset: 0 }]) };
    const json = await api.post("/v1/fetch", { ...body, encoding: "base64" });
    const bin = await binary("/v1/fetch", { body });
    expect(bin.parts).toHaveLength(4);
    for (const partition of [0, 1, 2]) {
      expect(messagesOf(bin.parts[partition]).map(fromBinary)).toEqual(json.body.partitions[partition].records.map(fromJson));
      expect(messagesOf(bin.parts[partition])[0]!.offset).toBe(partition);
    }
    expect(bin.parts[3]).toEqual({ topic, partition: 9, error: expect.objectContaining({ code: "UNKNOWN_TOPIC_OR_PARTITION" }) });
  });

  it("keeps maxRecords exactly and maxBytes at whole batches, and a consumer following nextOffset reads every record once", async () => {
    const topic = topicName("bin-limits");
    expect((await api.post("/v1/topics", { name: topic, partitions: 1, compression: "none" })).status).toBe(201);
    for (let b = 0; b < 6; b++) await produce(topic, 0, Array.from({ length: 10 }, (_, i) => ({ value: b64(`${b}-${i}-${"v".repeat(200)}`) })));
    const limited = await binary(`/v1/topics/${topic}/partitions/0/records?offset=3&maxRecords=12`);
    expect(messagesOf(limited.parts[0]).map((m) => m.offset)).toEqual(Array.from({ length: 12 }, (_, i) => 3 + i));
    expect(limited.parts[0]).toMatchObject({ nextOffset: 15 });

    // A batch is ~2.2 KB, ~2.9 KB as maxBytes counts it (its frame, base64 in a Lambda result):
    // 6500 takes two whole batches; 1 byte still takes one (progress).
    const small = await binary(`/v1/topics/${topic}/partitions/0/records?offset=10&maxBytes=6500`);
    expect(messagesOf(small.parts[0]).map((m) => m.offset)).toEqual(Array.from({ length: 20 }, (_, i) => 10 + i));
    const tiny = await binary(`/v1/topics/${topic}/partitions/0/records?offset=25&maxBytes=1`);
    expect(messagesOf(tiny.parts[0]).map((m) => m.offset)).toEqual([25, 26, 27, 28, 29]);
    expect(tiny.parts[0]).toMatchObject({ nextOffset: 30 });

    const seen: number[] = [];
    for (let offset = 0; offset < 60; ) {
      const page = await binary(`/v1/topics/${topic}/partitions/0/records?offset=${offset}&maxBytes=3000&maxRecords=7`);
      const part = page.parts[0]!;
      if ("error" in part) throw new Error(JSON.stringify(part.error));
      seen.push(...part.messages.map((m) => m.offset));
      expect(part.nextOffset).toBeGreaterThan(offset);
      offset = part.nextOffset;
    }
    expect(seen).toEqual(Array.from({ length: 60 }, (_, i) => i));
  });

  it("decompresses batches in a codec the client does not accept, and leaves the others compressed", async () => {
    const topic = topicName("bin-brotli");
    expect((await api.post("/v1/topics", { name: topic, partitions: 1, compression: "brotli" })).status).toBe(201);
    const text = "hello brotli ".repeat(200);
    await produce(topic, 0, [{ value: b64(text) }, { value: b64("again") }]);
    const response = await fetch(`${served.url}/v1/topics/${topic}/partitions/0/records?offset=0`, { headers: { accept: `${MEDIA}; codecs=none+gzip` } });
    const frame = new Uint8Array(await response.arrayBuffer());
    const { parseFetchFrame } = await import("../../client/fetch-frame.js");
    const [part] = parseFetchFrame(frame);
    expect(part && "batches" in part && part.batches.map((b) => b.codec)).toEqual(["none"]);
    const decoded = await decodeFetchFrame(frame);
    expect(messagesOf(decoded[0]).map((m) => m.value?.toString())).toEqual([text, "again"]);
    const stored = parseFetchFrame(new Uint8Array(await (await fetch(`${served.url}/v1/topics/${topic}/partitions/0/records?offset=0`, { headers: { accept: MEDIA } })).arrayBuffer()));
    expect(stored[0] && "batches" in stored[0] && stored[0].batches.map((b) => b.codec)).toEqual(["brotli"]);
  });

  it("answers errors as JSON: an out-of-range offset, bad limits and a partition the frame cannot name", async () => {
    const topic = topicName("bin-errors");
    expect((await api.post("/v1/topics", { name: topic, partitions: 1 })).status).toBe(201);
    const range = await binary(`/v1/topics/${topic}/partitions/0/records?offset=5`);
    expect(range.status).toBe((await api.get(`/v1/topics/${topic}/partitions/0/records?offset=5`)).status);
    expect(range.status).toBeGreaterThanOrEqual(400);
    expect(range.json.error.code).toBe("OFFSET_OUT_OF_RANGE");
    const bad = await binary(`/v1/topics/${topic}/partitions/0/records?offset=0&maxBytes=0`);
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe("INVALID_REQUEST");
    const negative = await binary("/v1/fetch", { body: { partitions: [{ topic, partition: -1, offset: 0 }] } });
    expect(negative.status).toBe(400);
    expect(negative.json.error.message).toMatch(/partition must be an integer from 0/);
  });
});
