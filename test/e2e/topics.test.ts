/**
 * Topic administration over real HTTP — create (defaults and echo), duplicate, list, describe,
 * delete, delete-then-recreate — and how the broker partitions records it is not told where to put:
 * by key with Kafka's murmur2 partitioner, and null keys sticky per request.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_RETENTION_MS, MAX_PARTITIONS, MAX_RECORD_BYTES, MAX_RETENTION_MS, MIN_RETENTION_MS } from "../../shared/limits.js";
import { partitionForKey } from "../../shared/partitioner.js";
import { createDynamoStorage } from "../../shared/storage/dynamo-storage.js";
import type { Storage } from "../../shared/core/ports.js";
import { createTestBroker, createTestTables, serveApp, topicName, type Served, type TestBroker } from "../support/broker.js";
import { b64, jsonClient, unb64, type JsonClient } from "../support/http.js";

let served: Served;
let api: JsonClient;
let harness: TestBroker;
/** Direct storage access, to prove a deleted topic's data is gone (through the ports, not item layouts). */
let storage: Storage;

beforeAll(async () => {
  harness = createTestBroker(await createTestTables("topics"));
  storage = createDynamoStorage(harness.client, harness.tables);
  served = await serveApp(harness.app);
  api = jsonClient(served.url);
});
afterAll(async () => served?.close());

const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

async function create(body: Record<string, unknown>) {
  const response = await api.post("/v1/topics", body);
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return response.body;
}

async function produceUtf8(topic: string, partition: number, values: string[]) {
  const response = await api.post(`/v1/topics/${topic}/records`, { encoding: "utf8", partitions: [{ partition, records: values.map((value) => ({ value })) }] });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body.partitions[0];
}

/** Bytes of the record blobs stored in a partition (through the storage port). */
async function storedBytes(topicId: string, partition: number): Promise<number> {
  const { entries } = await storage.log.entriesFrom({ topicId, partition }, 0, 100);
  return entries.reduce((sum, e) => sum + (e.kind === "batch" ? e.blob.length : 0), 0);
}

async function fetchValues(topic: string, partition: number, offset = 0): Promise<[number, string][]> {
  const response = await api.get(`/v1/topics/${topic}/partitions/${partition}/records?offset=${offset}&encoding=utf8`);
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body.records.map((r: any) => [r.offset, r.value]);
}

describe("create", () => {
  it("returns 201 with the defaults: 7 days retention, brotli, CreateTime", async () => {
    const name = topicName("defaults");
    const before = Date.now();
    const body = await create({ name, partitions: 4 });
    expect(body).toEqual({
      name,
      topicId: expect.stringMatching(UUID),
      partitionCount: 4,
      retentionMs: DEFAULT_RETENTION_MS,
      compression: "brotli",
      timestampType: "CreateTime",
      cleanupPolicy: "delete",
      deleteRetentionMs: 86_400_000,
      minCompactionLagMs: 0,
      maxMessageBytes: MAX_RECORD_BYTES,
      createdAt: expect.stringMatching(ISO_DATE),
    });
    expect(DEFAULT_RETENTION_MS).toBe(7 * 24 * 3_600_000);
    expect(Date.parse(body.createdAt)).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(body.createdAt)).toBeLessThanOrEqual(Date.now() + 1000);
  });

  it("echoes explicit settings, including retention null (forever)", async () => {
    const name = topicName("explicit");
    expect(await create({ name, partitions: 2, retentionMs: 3_600_000, compression: "none", timestampType: "LogAppendTime" })).toMatchObject({
      name,
      partitionCount: 2,
      retentionMs: 3_600_000,
      compression: "none",
      timestampType: "LogAppendTime",
    });
    const forever = topicName("forever");
    expect(await create({ name: forever, partitions: 1, retentionMs: null, compression: "brotli" })).toMatchObject({ retentionMs: null, compression: "brotli" });
    // The settings are stored, not just echoed.
    expect((await api.get(`/v1/topics/${name}`)).body).toMatchObject({ retentionMs: 3_600_000, compression: "none", timestampType: "LogAppendTime", partitionCount: 2 });
    expect((await api.get(`/v1/topics/${forever}`)).body).toMatchObject({ retentionMs: null, compression: "brotli" });
  });

  it("accepts the limits themselves: a 249-character name, 1000 partitions, retention of one minute and of ten years", async () => {
    const long = (topicName("edge") + "-" + "x".repeat(249)).slice(0, 249);
    expect(long).toHaveLength(249);
    expect(await create({ name: long, partitions: MAX_PARTITIONS, retentionMs: MIN_RETENTION_MS })).toMatchObject({ name: long, partitionCount: 1000, retentionMs: 60_000 });
    expect((await api.get(`/v1/topics/${long}/partitions/999/offsets?at=latest`)).body).toMatchObject({ offset: 0 });
    expect((await api.get(`/v1/topics/${long}/partitions/1000/offsets?at=latest`)).status).toBe(404);
    const dotted = topicName("Mixed.Case_and-dots");
    expect(await create({ name: dotted, partitions: 1, retentionMs: MAX_RETENTION_MS })).toMatchObject({ name: dotted, retentionMs: MAX_RETENTION_MS });
  });

  it("refuses a duplicate with 409 TOPIC_ALREADY_EXISTS and leaves the existing topic and its records untouched", async () => {
    const name = topicName("dup");
    const original = await create({ name, partitions: 2, retentionMs: 3_600_000 });
    await produceUtf8(name, 1, ["kept"]);
    for (const body of [{ name, partitions: 2, retentionMs: 3_600_000 }, { name, partitions: 5, compression: "none" }]) {
      const duplicate = await api.post("/v1/topics", body);
      expect(duplicate.status).toBe(409);
      expect(duplicate.body.error).toMatchObject({ code: "TOPIC_ALREADY_EXISTS", retriable: false, outcome: "definite", topic: name });
      expect(duplicate.body.error.message).toEqual(expect.any(String));
    }
    const described = await api.get(`/v1/topics/${name}`);
    expect(described.body).toMatchObject({ topicId: original.topicId, partitionCount: 2, retentionMs: 3_600_000, compression: original.compression, createdAt: original.createdAt });
    expect(await fetchValues(name, 1)).toEqual([[0, "kept"]]);
  });
});

describe("list and describe", () => {
  it("lists every created topic with its settings", async () => {
    const a = await create({ name: topicName("list-a"), partitions: 1 });
    const b = await create({ name: topicName("list-b"), partitions: 3, compression: "none" });
    const listed = await api.get("/v1/topics");
    expect(listed.status).toBe(200);
    const byName = new Map(listed.body.topics.map((t: any) => [t.name, t]));
    expect(byName.get(a.name)).toEqual(a);
    expect(byName.get(b.name)).toEqual(b);
  });

  it("describes per-partition log-start offset and high watermark as records arrive", async () => {
    const name = topicName("describe");
    const created = await create({ name, partitions: 3 });
    const empty = await api.get(`/v1/topics/${name}`);
    expect(empty.status).toBe(200);
    expect(empty.body).toEqual({
      ...created,
      partitions: [0, 1, 2].map((partition) => ({ partition, logStartOffset: 0, highWatermark: 0, bytesWritten: 0, retainedBytesEstimate: 0 })),
    });

    await produceUtf8(name, 0, ["a", "b", "c"]);
    await produceUtf8(name, 2, ["x", "y"]);
    await produceUtf8(name, 0, ["d"]);
    const after = await api.get(`/v1/topics/${name}`);
    // Sizes: the record blobs stored in each partition, all of them retained (log start 0).
    const [bytes0, bytes2] = [await storedBytes(created.topicId, 0), await storedBytes(created.topicId, 2)];
    expect(bytes0).toBeGreaterThan(bytes2);
    expect(bytes2).toBeGreaterThan(0);
    expect(after.body.partitions).toEqual([
      { partition: 0, logStartOffset: 0, highWatermark: 4, bytesWritten: bytes0, retainedBytesEstimate: bytes0 },
      { partition: 1, logStartOffset: 0, highWatermark: 0, bytesWritten: 0, retainedBytesEstimate: 0 },
      { partition: 2, logStartOffset: 0, highWatermark: 2, bytesWritten: bytes2, retainedBytesEstimate: bytes2 },
    ]);
    // The offsets endpoint agrees with describe.
    for (const [partition, latest] of [[0, 4], [1, 0], [2, 2]] as const) {
      expect((await api.get(`/v1/topics/${name}/partitions/${partition}/offsets?at=latest`)).body).toMatchObject({ offset: latest });
      expect((await api.get(`/v1/topics/${name}/partitions/${partition}/offsets?at=earliest`)).body).toMatchObject({ offset: 0 });
    }
  });
});

describe("delete", () => {
  it("removes the topic: describe, produce, fetch, list offsets, commit and a second delete answer 404; list omits it", async () => {
    const name = topicName("doomed");
    const created = await create({ name, partitions: 2 });
    await produceUtf8(name, 0, ["a", "b"]);
    await produceUtf8(name, 1, ["c"]);

    const deleted = await api.delete(`/v1/topics/${name}`);
    expect(deleted.status).toBe(200);
    expect(deleted.body).toEqual({ deleted: name, topicId: created.topicId });

    const refusals = [
      await api.get(`/v1/topics/${name}`),
      await api.post(`/v1/topics/${name}/records`, { encoding: "utf8", records: [{ value: "late" }] }),
      await api.get(`/v1/topics/${name}/partitions/0/records?offset=0`),
      await api.get(`/v1/topics/${name}/partitions/0/offsets?at=earliest`),
      await api.post("/v1/groups/doomed-group/offsets", { offsets: [{ topic: name, partition: 0, offset: 1 }] }),
      await api.delete(`/v1/topics/${name}`),
    ];
    for (const response of refusals) {
      expect(response.status).toBe(404);
      expect(response.body.error).toMatchObject({ code: "UNKNOWN_TOPIC_OR_PARTITION", retriable: false });
    }
    const fetched = await api.post("/v1/fetch", { partitions: [{ topic: name, partition: 0, offset: 0 }] });
    expect(fetched.body.partitions[0].error).toMatchObject({ code: "UNKNOWN_TOPIC_OR_PARTITION" });
    expect((await api.get("/v1/topics")).body.topics.map((t: any) => t.name)).not.toContain(name);

    // The data is gone from storage too: no log entries and no counter for the old partitions.
    for (const partition of [0, 1]) {
      const ref = { topicId: created.topicId, partition };
      expect((await storage.log.entriesFrom(ref, 0, 100)).entries).toEqual([]);
      expect(await storage.log.readHead(ref)).toMatchObject({ nextOffset: 0, highWatermarkHint: 0 });
    }
  });

  it("a deleted-then-recreated topic never serves the old records", async () => {
    const name = topicName("reborn");
    const first = await create({ name, partitions: 2 });
    await produceUtf8(name, 0, ["old-0", "old-1", "old-2", "old-3", "old-4"]);
    await produceUtf8(name, 1, ["old-p1"]);
    expect(await fetchValues(name, 0)).toHaveLength(5);
    // Consumer state of the old incarnation, too.
    expect((await api.post("/v1/groups/reborn-group/offsets", { offsets: [{ topic: name, partition: 0, offset: 5 }] })).status).toBe(200);
    const init = await api.post("/v1/producers", {});
    const { producerId } = init.body;
    const idempotent = (baseSequence: number, value: string) =>
      api.post(`/v1/topics/${name}/records`, { encoding: "utf8", producerId, producerEpoch: 0, partitions: [{ partition: 1, baseSequence, records: [{ value }] }] });
    expect((await idempotent(0, "old-idem")).status).toBe(200);

    expect((await api.delete(`/v1/topics/${name}`)).status).toBe(200);
    const second = await create({ name, partitions: 3 });
    expect(second.topicId).not.toBe(first.topicId);
    expect(second.partitionCount).toBe(3);

    // Nothing of the old log: high watermarks are 0 and the old offsets are out of range.
    const described = await api.get(`/v1/topics/${name}`);
    expect(described.body.partitions).toEqual([0, 1, 2].map((partition) => ({ partition, logStartOffset: 0, highWatermark: 0, bytesWritten: 0, retainedBytesEstimate: 0 })));
    const empty = await api.get(`/v1/topics/${name}/partitions/0/records?offset=0`);
    expect(empty.body).toMatchObject({ records: [], nextOffset: 0, highWatermark: 0, logStartOffset: 0 });
    const oldOffset = await api.get(`/v1/topics/${name}/partitions/0/records?offset=3`);
    expect(oldOffset.status).toBe(416);
    expect(oldOffset.body.error).toMatchObject({ code: "OFFSET_OUT_OF_RANGE", logStartOffset: 0, highWatermark: 0 });

    // New records start again at offset 0 and a fetch from 0 returns only them.
    expect(await produceUtf8(name, 0, ["new-0", "new-1"])).toMatchObject({ baseOffset: 0, lastOffset: 1 });
    expect(await fetchValues(name, 0)).toEqual([[0, "new-0"], [1, "new-1"]]);
    expect(await fetchValues(name, 1)).toEqual([]);
    expect((await api.get(`/v1/topics/${name}/partitions/0/offsets?at=0`)).body).toMatchObject({ offset: 0 });

    // The old group's commit does not carry over, and the old producer state is gone: the same
    // producer's sequence 0 is a fresh append at offset 0, not a duplicate of the old batch.
    const committed = await api.get(`/v1/groups/reborn-group/offsets?topic=${name}`);
    expect(committed.body.partitions.map((p: any) => p.offset)).toEqual([-1, -1, -1]);
    const fresh = await idempotent(0, "new-idem");
    expect(fresh.status).toBe(200);
    expect(fresh.body.partitions[0]).toMatchObject({ partition: 1, baseOffset: 0, duplicate: false });
    expect(await fetchValues(name, 1)).toEqual([[0, "new-idem"]]);
  });
});

describe("partitioning by the broker", () => {
  it("puts every record with the same key on the partition Kafka's murmur2 partitioner picks, in order", async () => {
    const partitions = 7;
    const name = topicName("keyed");
    await create({ name, partitions });
    const keys: Uint8Array[] = [
      Buffer.from("alpha"),
      Buffer.from("beta"),
      Buffer.from("gamma"),
      Buffer.from("user-42"),
      Buffer.from("ключ"),
      Uint8Array.from([0, 255, 128, 7]),
      Uint8Array.from([0xde, 0xad, 0xbe, 0xef, 0x01]),
      new Uint8Array(0), // an empty key is a key (hashed), not a null key
    ];
    const expected = keys.map((key) => partitionForKey(key, partitions));
    // The keys must not all collapse onto one partition, or the test proves little.
    expect(new Set(expected).size).toBeGreaterThanOrEqual(3);

    // Three requests, each interleaving every key, so order within a key can be checked.
    for (let round = 0; round < 3; round++) {
      const response = await api.post(`/v1/topics/${name}/records`, {
        records: keys.map((key, k) => ({ key: b64(key), value: b64(`k${k}-r${round}`) })),
      });
      expect(response.status).toBe(200);
      const reported = response.body.partitions.map((p: any) => p.partition).sort((a: number, b: number) => a - b);
      expect(reported).toEqual([...new Set(expected)].sort((a, b) => a - b));
    }

    const fetched = await api.post("/v1/fetch", { partitions: Array.from({ length: partitions }, (_, partition) => ({ topic: name, partition, offset: 0 })) });
    expect(fetched.status).toBe(200);
    const seen = new Map<string, { partition: number; values: string[] }>();
    for (const result of fetched.body.partitions) {
      for (const record of result.records) {
        expect(record.key).not.toBeNull();
        const keyHex = unb64(record.key).toString("hex");
        const entry = seen.get(keyHex) ?? { partition: result.partition as number, values: [] as string[] };
        expect(entry.partition, `key ${keyHex} found on two partitions`).toBe(result.partition);
        entry.values.push(unb64(record.value).toString());
        seen.set(keyHex, entry);
      }
    }
    expect(seen.size).toBe(keys.length);
    keys.forEach((key, k) => {
      const entry = seen.get(Buffer.from(key).toString("hex"));
      expect(entry, `key #${k}`).toBeDefined();
      expect(entry!.partition, `key #${k}`).toBe(expected[k]);
      expect(entry!.values).toEqual([0, 1, 2].map((round) => `k${k}-r${round}`));
    });
  });

  it("an explicit partition wins over the key", async () => {
    const name = topicName("explicit-partition");
    await create({ name, partitions: 5 });
    const key = Buffer.from("alpha");
    const byKey = partitionForKey(key, 5);
    const other = (byKey + 1) % 5;
    const response = await api.post(`/v1/topics/${name}/records`, { records: [{ key: b64(key), value: b64("pinned"), partition: other }] });
    expect(response.body.partitions).toEqual([{ partition: other, baseOffset: 0, lastOffset: 0, recordCount: 1, duplicate: false }]);
  });

  it("puts all null-key records of one request on one partition, and successive requests spread over the partitions", async () => {
    const partitions = 6;
    const name = topicName("nullkeys");
    await create({ name, partitions });
    const keyed = Buffer.from("beta");
    const keyedPartition = partitionForKey(keyed, partitions);
    const chosen: number[] = [];
    for (let request = 0; request < partitions; request++) {
      const records = Array.from({ length: 12 }, (_, i) =>
        i % 4 === 3 ? { key: b64(keyed), value: b64(`keyed-${request}-${i}`) } : { key: null, value: b64(`null-${request}-${i}`) },
      );
      const response = await api.post(`/v1/topics/${name}/records`, { records });
      expect(response.status).toBe(200);
      // The keyed records go by their key; the 9 null-key records all go to one partition.
      const results: { partition: number; recordCount: number }[] = response.body.partitions;
      if (results.length === 1) {
        expect(results[0]).toMatchObject({ partition: keyedPartition, recordCount: 12 });
        chosen.push(keyedPartition);
      } else {
        expect(results).toHaveLength(2);
        expect(results.find((p) => p.partition === keyedPartition)?.recordCount).toBe(3);
        const nullResult = results.find((p) => p.partition !== keyedPartition)!;
        expect(nullResult.recordCount).toBe(9);
        chosen.push(nullResult.partition);
      }
    }

    // Verify by reading: each request's null-key records sit together on the partition reported.
    const fetched = await api.post("/v1/fetch", { partitions: Array.from({ length: partitions }, (_, partition) => ({ topic: name, partition, offset: 0 })) });
    const where = new Map<string, number>();
    for (const result of fetched.body.partitions) {
      for (const record of result.records) where.set(unb64(record.value).toString(), result.partition);
    }
    expect(where.size).toBe(partitions * 12);
    for (let request = 0; request < partitions; request++) {
      const nullPartitions = new Set([0, 1, 2, 4, 5, 6, 8, 9, 10].map((i) => where.get(`null-${request}-${i}`)));
      expect([...nullPartitions]).toEqual([chosen[request]]);
      for (const i of [3, 7, 11]) expect(where.get(`keyed-${request}-${i}`)).toBe(keyedPartition);
    }
    // Round robin per request: consecutive requests from one instance land on every partition.
    expect(new Set(chosen).size).toBe(partitions);
  });
});
