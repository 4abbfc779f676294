/**
 * Compacted topics against DynamoDB Local (docs/compaction.md): the latest record per key survives
 * with its offset, tombstones go only after deleteRetentionMs (hand-moved clock), consumers in the
 * middle of the log lose nothing they had not read, and compaction racing producers loses no
 * latest value.
 */
import { DeleteCommand, DynamoDBDocumentClient, GetCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PartitionFetchResult } from "../../shared/core/fetch.js";
import type { FetchedRecord } from "../../shared/core/log-reader.js";
import type { TopicRecord } from "../../shared/core/ports.js";
import type { TableNames } from "../../shared/storage/tables.js";
import { createTestBroker, createTestTables, TestClock, topicName, type TestBroker } from "../support/broker.js";

const HANG_GUARD_MS = 240_000;
const DELETE_RETENTION_MS = 60_000;

let tables: TableNames;
let clock: TestClock;
let harness: TestBroker;
let documents: DynamoDBDocumentClient;

beforeAll(async () => {
  tables = await createTestTables("compact");
  clock = new TestClock();
  harness = createTestBroker(tables, { clock });
  documents = DynamoDBDocumentClient.from(harness.client);
});
afterAll(() => harness?.client.destroy());

const bytes = (text: string) => new Uint8Array(Buffer.from(text));
const text = (value: Uint8Array | null) => (value === null ? null : Buffer.from(value).toString());

interface Written {
  readonly offset: number;
  readonly key: string;
  readonly value: string | null;
}

async function compactedTopic(options: { partitions?: number; cleanupPolicy?: "compact" | "compact,delete"; minCompactionLagMs?: number } = {}): Promise<TopicRecord> {
  return harness.broker.createTopic({
    name: topicName("cmp"),
    partitions: options.partitions ?? 1,
    cleanupPolicy: options.cleanupPolicy ?? "compact",
    deleteRetentionMs: DELETE_RETENTION_MS,
    compression: "gzip",
    ...(options.minCompactionLagMs !== undefined ? { minCompactionLagMs: options.minCompactionLagMs } : {}),
  });
}

/** Produce to partition 0; returns each record with the offset it got. */
async function produce(topic: string, records: readonly { key: string; value: string | null }[], broker = harness.broker): Promise<Written[]> {
  const result = await broker.produce({
    topic,
    partitions: [{ partition: 0, records: records.map((r) => ({ key: bytes(r.key), value: r.value === null ? null : bytes(r.value), headers: [] })) }],
  });
  const first = result.partitions[0]!;
  if ("error" in first) throw first.error;
  return records.map((r, i) => ({ offset: first.baseOffset + i, key: r.key, value: r.value }));
}

type OkResult = Extract<PartitionFetchResult, { records: readonly FetchedRecord[] }>;

/** Every record from `offset` to the high watermark, in pages of `maxRecords`. */
async function readFrom(topic: string, offset: number, maxRecords = 1_000): Promise<Written[]> {
  const out: Written[] = [];
  const end = (await harness.broker.listOffsets(topic, 0, { kind: "latest" })).offset!;
  let position = offset;
  while (position < end) {
    const [result] = await harness.broker.fetch({ partitions: [{ topic, partition: 0, offset: position }], maxRecords });
    if ("error" in result!) throw result.error;
    const ok = result as OkResult;
    for (const r of ok.records) out.push({ offset: r.offset, key: text(r.key)!, value: text(r.value) });
    // Never stalls: every answer either returns records or moves the position (over removed offsets).
    expect(ok.nextOffset).toBeGreaterThan(position);
    position = ok.nextOffset;
  }
  return out;
}

/** key → its latest record among `written`. */
function latestByKey(written: readonly Written[]): Map<string, Written> {
  const latest = new Map<string, Written>();
  for (const w of written) {
    const seen = latest.get(w.key);
    if (!seen || seen.offset < w.offset) latest.set(w.key, w);
  }
  return latest;
}

function expectAscending(records: readonly Written[]): void {
  for (let i = 1; i < records.length; i++) expect(records[i]!.offset).toBeGreaterThan(records[i - 1]!.offset);
}

async function compact(topic: string) {
  const result = await harness.broker.compactTopic(topic);
  return result.partitions[0]!;
}

describe("compaction of 10,000 records over 500 keys", () => {
  it(
    "keeps exactly the latest value of every live key, offsets unchanged; tombstones go after deleteRetentionMs",
    async () => {
      const topic = await compactedTopic();
      const written: Written[] = [];
      // 100 requests of 100 records: key k(i mod 500); the last round deletes keys 0-49.
      for (let request = 0; request < 100; request++) {
        const records = Array.from({ length: 100 }, (_, j) => {
          const i = request * 100 + j;
          const key = i % 500;
          return { key: `k${key}`, value: i >= 9_500 && key < 50 ? null : `v${i}` };
        });
        written.push(...(await produce(topic.name, records)));
      }
      const latest = latestByKey(written);
      const live = [...latest.values()].filter((w) => w.value !== null);
      expect(live).toHaveLength(450);

      const first = await compact(topic.name);
      expect(first).toMatchObject({ cleanedUpTo: 10_000, highWatermark: 10_000, logStartOffset: 0, scannedRecords: 10_000, removedRecords: 9_500, removedTombstones: 0, skippedBatches: 0 });

      // Tombstones stay for deleteRetentionMs after the pass that first kept them.
      const afterFirst = await readFrom(topic.name, 0);
      expectAscending(afterFirst);
      expect(afterFirst).toEqual([...latest.values()].sort((a, b) => a.offset - b.offset));
      expect(afterFirst.filter((r) => r.value === null)).toHaveLength(50);

      clock.advance(DELETE_RETENTION_MS - 1);
      expect(await compact(topic.name)).toMatchObject({ removedRecords: 0, removedTombstones: 0 });
      expect((await readFrom(topic.name, 0)).filter((r) => r.value === null)).toHaveLength(50);

      clock.advance(1);
      expect(await compact(topic.name)).toMatchObject({ removedRecords: 50, removedTombstones: 50 });
      const final = await readFrom(topic.name, 0);
      expectAscending(final);
      expect(final).toEqual(live.sort((a, b) => a.offset - b.offset));

      // Offsets and the partition's bounds are as they were; describe reports the cleanup state.
      const described = await harness.broker.describeTopic(topic.name);
      expect(described.partitions[0]).toMatchObject({ partition: 0, logStartOffset: 0, highWatermark: 10_000, compaction: { cleanedUpTo: 10_000, lastRunAt: clock.time } });
      // Small pages step over removed offsets the same way.
      expect(await readFrom(topic.name, 0, 7)).toEqual(final);
    },
    HANG_GUARD_MS,
  );
});

describe("consumers and producers during compaction", () => {
  it(
    "a consumer positioned mid-log loses nothing it had not read",
    async () => {
      const topic = await compactedTopic();
      const written: Written[] = [];
      for (let request = 0; request < 20; request++) {
        written.push(...(await produce(topic.name, Array.from({ length: 100 }, (_, j) => ({ key: `k${(request * 100 + j) % 100}`, value: `v${request * 100 + j}` })))));
      }
      // The consumer has read up to (not including) 1,234, with small fetches.
      const position = 1_234;
      const beforeCompaction = await readFrom(topic.name, 0, 50);
      expect(beforeCompaction).toEqual(written);
      await compact(topic.name);

      const rest = await readFrom(topic.name, position, 13);
      expectAscending(rest);
      expect(rest.every((r) => r.offset >= position)).toBe(true);
      // Everything it gets is what was written at that offset…
      const byOffset = new Map(written.map((w) => [w.offset, w]));
      for (const r of rest) expect(r).toEqual(byOffset.get(r.offset));
      // …and every key's latest record at or after its position is there.
      const expectedLatest = [...latestByKey(written).values()].filter((w) => w.offset >= position);
      expect(rest).toEqual(expect.arrayContaining(expectedLatest));
      expect(rest).toHaveLength(expectedLatest.length);
    },
    HANG_GUARD_MS,
  );

  it(
    "compaction racing producers and a transactional copier loses no latest value (a produce between the scan and the rewrites, then writers alongside passes)",
    async () => {
      const topic = await compactedTopic();
      const written: Written[] = [];
      const round = async (label: string, from: number) =>
        written.push(...(await produce(topic.name, Array.from({ length: 40 }, (_, j) => ({ key: `k${(from + j) % 60}`, value: `${label}-${from + j}` })))));
      for (let r = 0; r < 10; r++) await round("a", r * 40);

      // Deterministic interleaving: new values for the same keys land after the pass built its key
      // map and before its first rewrite. They are above its safe end: untouched, and they win.
      const hook = harness.chaos.beforeCommand(/^UpdateItemCommand$/, () => round("between", 1_000).then(() => undefined), {
        where: (request) => String(request.input["UpdateExpression"] ?? "").includes("cv = :next"),
      });
      const pass = await compact(topic.name);
      await hook.fired;
      expect(pass.cleanedUpTo).toBe(400);

      // Then passes, a producer and a transactional copier (records plus its input offsets, one
      // transaction each) at once.
      const source = await harness.broker.createTopic({ name: topicName("cmp-src"), partitions: 1 });
      const transactionalId = topicName("cmp-copier");
      const copier = await harness.broker.initProducer({ transactionalId });
      let producing = 2;
      const producers = (async () => {
        for (let r = 0; r < 8; r++) await round("b", 2_000 + r * 40);
        producing--;
      })();
      const copying = (async () => {
        for (let t = 0; t < 8; t++) {
          const records = Array.from({ length: 15 }, (_, j) => ({ key: `k${(t * 15 + j) % 60}`, value: `copy-${t}-${j}` }));
          const result = await harness.broker.commitTransaction({
            transactionalId,
            producerId: copier.producerId,
            producerEpoch: copier.epoch,
            transactionSequence: t,
            records: records.map((r) => ({ topic: topic.name, partition: 0, key: bytes(r.key), value: bytes(r.value), headers: [] })),
            offsets: { group: transactionalId, offsets: [{ topic: source.name, partition: 0, offset: t }] },
          });
          const placed = result.partitions[0]!;
          written.push(...records.map((r, i) => ({ offset: placed.baseOffset + i, ...r })));
        }
        producing--;
      })();
      const compactions = (async () => {
        let passes = 0;
        while (producing > 0 || passes === 0) {
          await compact(topic.name);
          passes++;
        }
        return passes;
      })();
      const [, , passes] = await Promise.all([producers, copying, compactions]);
      expect(passes).toBeGreaterThan(0);
      await compact(topic.name);

      const latest = latestByKey(written);
      const read = await readFrom(topic.name, 0);
      expectAscending(read);
      expect(read).toEqual([...latest.values()].sort((a, b) => a.offset - b.offset));
    },
    HANG_GUARD_MS,
  );
});

describe("rewrites never undo what happened meanwhile", () => {
  const rewriteOf = (baseOffset: number) => (request: { input: Readonly<Record<string, unknown>> }) =>
    String(request.input["UpdateExpression"] ?? "").includes("cv = :next") && (request.input["Key"] as { o?: unknown } | undefined)?.o === baseOffset;

  it("an item deleted (its TTL ran out) between the read and the rewrite stays deleted", async () => {
    const topic = await compactedTopic({ cleanupPolicy: "compact,delete" });
    await produce(topic.name, [{ key: "a", value: "1" }, { key: "b", value: "1" }]);
    await produce(topic.name, [{ key: "a", value: "2" }]);
    const key = { p: `${topic.topicId}#0`, o: 0 };
    harness.chaos.beforeCommand(/^UpdateItemCommand$/, async () => void (await documents.send(new DeleteCommand({ TableName: tables.log, Key: key }))), { where: rewriteOf(0) });
    expect(await compact(topic.name)).toMatchObject({ rewrittenBatches: 0, skippedBatches: 1 });
    expect((await documents.send(new GetCommand({ TableName: tables.log, Key: key, ConsistentRead: true }))).Item).toBeUndefined();
  });

  it("deleteRecords during a pass keeps its log start; two passes at once leave the same result as one", async () => {
    const topic = await compactedTopic();
    const written: Written[] = [];
    for (let r = 0; r < 5; r++) written.push(...(await produce(topic.name, Array.from({ length: 10 }, (_, j) => ({ key: `k${j % 4}`, value: `v${r}-${j}` })))));
    harness.chaos.beforeCommand(/^UpdateItemCommand$/, async () => void (await harness.broker.deleteRecords(topic.name, [{ partition: 0, offset: 12 }])), { where: rewriteOf(0) });
    const [one, two] = await Promise.all([compact(topic.name), compact(topic.name)]);
    expect(one.skippedBatches + two.skippedBatches + one.rewrittenBatches + two.rewrittenBatches).toBeGreaterThanOrEqual(5);
    expect((await harness.broker.describeTopic(topic.name)).partitions[0]).toMatchObject({ logStartOffset: 12, highWatermark: 50 });
    await compact(topic.name);
    expect(await readFrom(topic.name, 12)).toEqual([...latestByKey(written).values()].sort((a, b) => a.offset - b.offset));
  });
});

describe("tombstones and configs", () => {
  it(
    "a tombstone is kept until deleteRetentionMs after the pass that first kept it, then removed",
    async () => {
      const topic = await compactedTopic();
      await produce(topic.name, [{ key: "a", value: "1" }, { key: "b", value: "1" }]);
      const [tombstone] = await produce(topic.name, [{ key: "a", value: null }]);
      // Written long ago does not matter: the horizon counts from the first pass that kept it.
      clock.advance(10 * DELETE_RETENTION_MS);
      const passAt = clock.time;
      await compact(topic.name);
      expect(await readFrom(topic.name, 0)).toEqual([{ offset: 1, key: "b", value: "1" }, tombstone]);
      const item = await documents.send(new GetCommand({ TableName: tables.log, Key: { p: `${topic.topicId}#0`, o: 2 }, ConsistentRead: true }));
      expect(item.Item?.["dh"]).toBe(passAt + DELETE_RETENTION_MS);

      clock.advance(DELETE_RETENTION_MS - 1);
      await compact(topic.name);
      expect(await readFrom(topic.name, 0)).toEqual([{ offset: 1, key: "b", value: "1" }, tombstone]);

      clock.advance(1);
      expect(await compact(topic.name)).toMatchObject({ removedTombstones: 1 });
      expect(await readFrom(topic.name, 0)).toEqual([{ offset: 1, key: "b", value: "1" }]);
      // The emptied batch is a void over its range: the high watermark and later appends are unmoved.
      expect((await documents.send(new GetCommand({ TableName: tables.log, Key: { p: `${topic.topicId}#0`, o: 2 }, ConsistentRead: true }))).Item?.["k"]).toBe("V");
      expect(await produce(topic.name, [{ key: "a", value: "2" }])).toEqual([{ offset: 3, key: "a", value: "2" }]);
      expect(await readFrom(topic.name, 2)).toEqual([{ offset: 3, key: "a", value: "2" }]);
    },
    HANG_GUARD_MS,
  );

  it("records younger than minCompactionLagMs are not compacted, nor do they supersede older ones", async () => {
    const topic = await compactedTopic({ minCompactionLagMs: 120_000 });
    const old = await produce(topic.name, [{ key: "a", value: "1" }, { key: "a", value: "2" }]);
    clock.advance(120_000);
    const young = await produce(topic.name, [{ key: "a", value: "3" }, { key: "a", value: "4" }]);
    expect(await compact(topic.name)).toMatchObject({ cleanedUpTo: 2, removedRecords: 1 });
    expect(await readFrom(topic.name, 0)).toEqual([old[1], ...young]);
  });

  it("listOffsets by timestamp finds the survivors of a sparse batch", async () => {
    const topic = await compactedTopic();
    const t = clock.time;
    const result = await harness.broker.produce({
      topic: topic.name,
      partitions: [{ partition: 0, records: [["a", t], ["b", t + 10], ["a", t + 20], ["c", t + 30]].map(([key, timestamp]) => ({ key: bytes(String(key)), value: bytes("v"), headers: [], timestamp: Number(timestamp) })) }],
    });
    expect(result.partitions[0]).toMatchObject({ baseOffset: 0, lastOffset: 3 });
    await compact(topic.name);
    const at = async (timestamp: number) => harness.broker.listOffsets(topic.name, 0, { kind: "timestamp", timestamp });
    expect(await at(t)).toMatchObject({ offset: 1, timestamp: t + 10 });
    expect(await at(t + 11)).toMatchObject({ offset: 2, timestamp: t + 20 });
    expect(await at(t + 30)).toMatchObject({ offset: 3, timestamp: t + 30 });
    expect(await at(t + 31)).toMatchObject({ offset: null });
  });

  it("a compacted topic refuses records without a key (INVALID_RECORD), writing nothing", async () => {
    const topic = await compactedTopic();
    harness.writes.reset();
    const produced = harness.broker.produce({ topic: topic.name, partitions: [{ partition: 0, records: [{ key: bytes("k"), value: bytes("x"), headers: [] }, { key: null, value: bytes("x"), headers: [] }] }] });
    await expect(produced).rejects.toMatchObject({ code: "INVALID_RECORD", details: { record: 1, cleanupPolicy: "compact" } });
    // An atomic multi-partition write (a transaction without an id) is refused whole.
    const plain = await harness.broker.createTopic({ name: topicName("cmp-plain"), partitions: 1 });
    harness.writes.reset();
    const transaction = harness.broker.commitTransaction({
      records: [
        { topic: plain.name, partition: 0, key: null, value: bytes("fine here"), headers: [] },
        { topic: topic.name, partition: 0, key: null, value: bytes("not here"), headers: [] },
      ],
    });
    await expect(transaction).rejects.toMatchObject({ code: "INVALID_RECORD" });
    expect(harness.writes.total).toBe(0);
  });

  it("cleanupPolicy compact keeps records past retentionMs (no TTL); compact,delete applies retention", async () => {
    const compactOnly = await harness.broker.createTopic({ name: topicName("cmp-keep"), partitions: 1, cleanupPolicy: "compact", retentionMs: 60_000 });
    const both = await harness.broker.createTopic({ name: topicName("cmp-both"), partitions: 1, cleanupPolicy: "compact,delete", retentionMs: 60_000 });
    await produce(compactOnly.name, [{ key: "a", value: "1" }]);
    await produce(both.name, [{ key: "a", value: "1" }]);
    const itemOf = async (t: TopicRecord) => (await documents.send(new GetCommand({ TableName: tables.log, Key: { p: `${t.topicId}#0`, o: 0 }, ConsistentRead: true }))).Item!;
    expect((await itemOf(compactOnly))["x"]).toBeUndefined();
    expect((await itemOf(both))["x"]).toEqual(expect.any(Number));
    clock.advance(60_000);
    expect(await readFrom(compactOnly.name, 0)).toEqual([{ offset: 0, key: "a", value: "1" }]);
    expect((await harness.broker.describeTopic(both.name)).partitions[0]!.logStartOffset).toBe(1);
  });

  it("alterConfigs switches a topic to compaction; compacting a delete-policy topic is refused without a write", async () => {
    const topic = await harness.broker.createTopic({ name: topicName("cmp-alter"), partitions: 1 });
    harness.writes.reset();
    await expect(harness.broker.compactTopic(topic.name)).rejects.toMatchObject({ code: "INVALID_CONFIG" });
    await expect(harness.broker.alterTopicConfigs(topic.name, { deleteRetentionMs: -1 })).rejects.toMatchObject({ code: "INVALID_CONFIG" });
    expect(harness.writes.total).toBe(0);
    const altered = await harness.broker.alterTopicConfigs(topic.name, { cleanupPolicy: "compact,delete", deleteRetentionMs: 5_000, minCompactionLagMs: 1_000 });
    expect(altered).toMatchObject({ cleanupPolicy: "compact,delete", deleteRetentionMs: 5_000, minCompactionLagMs: 1_000 });
    expect(await harness.broker.topicConfigs(topic.name)).toMatchObject({ cleanupPolicy: "compact,delete", deleteRetentionMs: 5_000, minCompactionLagMs: 1_000 });
    expect(await harness.broker.compactTopic(topic.name)).toMatchObject({ partitions: [{ partition: 0, cleanedUpTo: 0 }] });
  });
});
