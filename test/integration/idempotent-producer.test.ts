/**
 * The idempotent producer against DynamoDB Local, through the broker core: retries (after a lost
 * response, or plain resends) return the original offsets and write nothing; concurrent copies of
 * one request append once; sequence gaps, epochs never issued and unknown producers are refused without
 * leaving a gap readers wait on; many producers on one partition lose and duplicate nothing.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { Broker } from "../../shared/core/broker.js";
import type { FetchedRecord } from "../../shared/core/log-reader.js";
import type { LogEntry, PartitionRef, Storage } from "../../shared/core/ports.js";
import type { PartitionProduceResult, ProduceRecord } from "../../shared/core/produce.js";
import { DynalogError } from "../../shared/errors.js";
import type { TableNames } from "../../shared/storage/tables.js";
import { createDynamoStorage } from "../../shared/storage/dynamo-storage.js";
import { createTestBroker, createTestTables, TestClock, timeoutError, topicName, type TestBroker } from "../support/broker.js";

let tables: TableNames;
let harness: TestBroker;
let storage: Storage;

beforeAll(async () => {
  tables = await createTestTables("idem");
  // A clock that never moves: no gap can ever look old, so every "readers move on" below is
  // owed to the writer voiding its own reservation, not to hole filling.
  harness = createTestBroker(tables, { clock: new TestClock() });
  storage = createDynamoStorage(harness.client, tables);
});

type Acked = Extract<PartitionProduceResult, { baseOffset: number }>;

const text = (value: string): ProduceRecord => ({ key: null, value: Buffer.from(value), headers: [] });
const records = (prefix: string, count: number): ProduceRecord[] => Array.from({ length: count }, (_, i) => text(`${prefix}-${i}`));
const valueOf = (r: FetchedRecord): string => Buffer.from(r.value ?? new Uint8Array()).toString();

async function newTopic(broker: Broker = harness.broker): Promise<{ topic: string; ref: PartitionRef }> {
  const topic = topicName("idem");
  const created = await broker.createTopic({ name: topic, partitions: 1 });
  return { topic, ref: { topicId: created.topicId, partition: 0 } };
}

async function produceIdempotent(
  topic: string,
  producer: { producerId: number; epoch: number },
  baseSequence: number,
  batch: readonly ProduceRecord[],
  broker: Broker = harness.broker,
): Promise<PartitionProduceResult> {
  const result = await broker.produce({ topic, producer, partitions: [{ partition: 0, baseSequence, records: batch }] });
  expect(result.partitions).toHaveLength(1);
  return result.partitions[0]!;
}

function acked(result: PartitionProduceResult): Acked {
  if ("error" in result) throw new Error(`expected success, got ${result.error.code}: ${result.error.message}`);
  return result;
}

function refused(result: PartitionProduceResult): DynalogError {
  if (!("error" in result)) throw new Error(`expected a refusal, got ${JSON.stringify(result)}`);
  expect(result.error).toBeInstanceOf(DynalogError);
  return result.error;
}

/** Every record from `from` up to the high watermark, following nextOffset. */
async function fetchAll(topic: string, from = 0, broker: Broker = harness.broker): Promise<{ records: FetchedRecord[]; highWatermark: number }> {
  const all: FetchedRecord[] = [];
  let offset = from;
  for (let page = 0; page < 1000; page++) {
    const [result] = await broker.fetch({ partitions: [{ topic, partition: 0, offset }], maxRecords: 10_000 });
    if (!result || "error" in result) throw result?.error ?? new Error("no fetch result");
    all.push(...result.records);
    if (result.records.length === 0 || result.nextOffset >= result.highWatermark) return { records: all, highWatermark: result.highWatermark };
    offset = result.nextOffset;
  }
  throw new Error("fetchAll did not finish");
}

async function logEntries(ref: PartitionRef): Promise<LogEntry[]> {
  const { entries, more } = await storage.log.entriesFrom(ref, 0, 1000);
  expect(more).toBe(false);
  return entries;
}

function expectStrictlyIncreasing(offsets: readonly number[]): void {
  for (let i = 1; i < offsets.length; i++) expect(offsets[i]!).toBeGreaterThan(offsets[i - 1]!);
}

describe("retries return the original offsets and write nothing", () => {
  it("a lost response to the append: the broker still answers success, and a retry is a duplicate", async () => {
    const { topic, ref } = await newTopic();
    const producer = await harness.broker.initProducer();
    acked(await produceIdempotent(topic, producer, 0, records("before", 2))); // offsets 0-1

    harness.faults.once(/PutItem/, { kind: "drop-response", error: timeoutError() });
    const transactionsBefore = harness.writes.byCommand.get("TransactWriteItemsCommand") ?? 0;
    const first = await produceIdempotent(topic, producer, 2, records("lost", 3));
    // The batch put reached DynamoDB, only its response was lost. No transaction (docs/append.md).
    expect((harness.writes.byCommand.get("TransactWriteItemsCommand") ?? 0) - transactionsBefore).toBe(0);
    // The broker recovers by finding its own batch at its base offset: success, not an error.
    expect(first).toEqual({ partition: 0, baseOffset: 2, lastOffset: 4, recordCount: 3, duplicate: false });

    // The client never saw an answer in the worst case, so it retries with the same sequence.
    const retry = acked(await produceIdempotent(topic, producer, 2, records("lost", 3)));
    expect(retry).toEqual({ partition: 0, baseOffset: 2, lastOffset: 4, recordCount: 3, duplicate: true });

    const { records: fetched, highWatermark } = await fetchAll(topic);
    expect(fetched.map((r) => [r.offset, valueOf(r)])).toEqual([
      [0, "before-0"],
      [1, "before-1"],
      [2, "lost-0"],
      [3, "lost-1"],
      [4, "lost-2"],
    ]);
    // The duplicate gave its reservation back: offsets stay dense, no void, nothing to skip.
    expect(highWatermark).toBe(5);
    expect((await logEntries(ref)).map((e) => [e.kind, e.baseOffset, e.count])).toEqual([
      ["batch", 0, 2],
      ["batch", 2, 3],
    ]);
  });

  it("a lost response to the very first batch (sequence 0) is recovered the same way", async () => {
    const { topic } = await newTopic();
    const producer = await harness.broker.initProducer();
    harness.faults.once(/PutItem/, { kind: "drop-response", error: timeoutError() });
    expect(acked(await produceIdempotent(topic, producer, 0, records("a", 2)))).toMatchObject({ baseOffset: 0, lastOffset: 1, duplicate: false });
    expect(acked(await produceIdempotent(topic, producer, 0, records("a", 2)))).toMatchObject({ baseOffset: 0, lastOffset: 1, duplicate: true });
    expect((await fetchAll(topic)).records.map(valueOf)).toEqual(["a-0", "a-1"]);
  });

  it("a timeout before the append was sent: retried on a new reservation, nothing doubled, no stuck gap", async () => {
    const { topic, ref } = await newTopic();
    await harness.broker.produce({ topic, partitions: [{ partition: 0, records: records("plain", 1) }] }); // offset 0
    const producer = await harness.broker.initProducer();
    harness.faults.once(/PutItem/, { kind: "fail-before", error: timeoutError() });
    const result = acked(await produceIdempotent(topic, producer, 0, records("t", 2)));
    // The first reservation (1-2) could not be known to be unwritten until the broker voided it.
    expect(result).toMatchObject({ baseOffset: 3, lastOffset: 4, duplicate: false });
    expect((await logEntries(ref)).map((e) => [e.kind, e.baseOffset, e.count])).toEqual([
      ["batch", 0, 1],
      ["void", 1, 2],
      ["batch", 3, 2],
    ]);
    const { records: fetched, highWatermark } = await fetchAll(topic);
    expect(fetched.map((r) => [r.offset, valueOf(r)])).toEqual([
      [0, "plain-0"],
      [3, "t-0"],
      [4, "t-1"],
    ]);
    expect(highWatermark).toBe(5);
    expect(acked(await produceIdempotent(topic, producer, 0, records("t", 2)))).toMatchObject({ baseOffset: 3, duplicate: true });
  });

  it("any of the last 5 batches can be resent; the 6th-oldest gets DUPLICATE_SEQUENCE_NUMBER", async () => {
    const { topic } = await newTopic();
    const producer = await harness.broker.initProducer();
    const sizes = [1, 2, 3, 1, 2, 3];
    const sent: { baseSequence: number; batch: ProduceRecord[]; acked: Acked }[] = [];
    let sequence = 0;
    for (const [i, size] of sizes.entries()) {
      const batch = records(`b${i}`, size);
      sent.push({ baseSequence: sequence, batch, acked: acked(await produceIdempotent(topic, producer, sequence, batch)) });
      sequence += size;
      if (i === 4) {
        // With exactly 5 batches written, every one of them is still remembered.
        for (const s of sent) {
          const retry = acked(await produceIdempotent(topic, producer, s.baseSequence, s.batch));
          expect(retry).toEqual({ ...s.acked, duplicate: true });
        }
      }
    }
    const fetchedBefore = await fetchAll(topic);

    for (const s of sent.slice(1)) {
      const retry = acked(await produceIdempotent(topic, producer, s.baseSequence, s.batch));
      expect(retry).toEqual({ ...s.acked, duplicate: true });
    }
    const oldest = refused(await produceIdempotent(topic, producer, 0, sent[0]!.batch));
    expect(oldest.code).toBe("DUPLICATE_SEQUENCE_NUMBER");
    expect(oldest.outcome).toBe("definite");
    expect(oldest.details).toMatchObject({ expectedSequence: 12 });

    const fetched = await fetchAll(topic);
    const expected = sent.flatMap((s) => s.batch.map((r, i) => [s.acked.baseOffset + i, Buffer.from(r.value!).toString()]));
    expect(fetched.records.map((r) => [r.offset, valueOf(r)])).toEqual(expected);
    expect(fetched.records.map(valueOf)).toEqual(fetchedBefore.records.map(valueOf));
    // Every refused or duplicate attempt gave its reservation back: the offsets stayed dense.
    expect(fetched.highWatermark).toBe(fetchedBefore.highWatermark);
    expect(fetched.highWatermark).toBe(12);

    // The producer continues where it was.
    expect(acked(await produceIdempotent(topic, producer, sequence, records("next", 1)))).toMatchObject({ duplicate: false, baseOffset: fetched.highWatermark });
  });
});

describe("the same produce sent concurrently 5 times", () => {
  it("appends once; the other four answers are duplicates with the same offsets (first batch)", async () => {
    const { topic, ref } = await newTopic();
    // Another producer's record first, so the partition does not start with a void (see retention tests).
    await produceIdempotent(topic, await harness.broker.initProducer(), 0, records("other", 1));
    const producer = await harness.broker.initProducer();
    const batch = records("same", 3);
    const results = (await Promise.all(Array.from({ length: 5 }, () => produceIdempotent(topic, producer, 0, batch)))).map(acked);
    const originals = results.filter((r) => !r.duplicate);
    expect(originals).toHaveLength(1);
    const original = originals[0]!;
    for (const r of results) expect(r).toEqual({ ...original, duplicate: r.duplicate });

    const { records: fetched, highWatermark } = await fetchAll(topic);
    expect(fetched.map((r) => [r.offset, valueOf(r)])).toEqual([
      [0, "other-0"],
      ...batch.map((r, i) => [original.baseOffset + i, Buffer.from(r.value!).toString()]),
    ]);
    const entries = await logEntries(ref);
    expect(entries.filter((e) => e.kind === "batch")).toHaveLength(2);
    // Each loser gave its reservation back when no later one existed, else voided it: nothing is
    // left for readers to wait on, and only raced reservations cost offsets.
    const voids = entries.filter((e) => e.kind === "void");
    expect(voids.length).toBeLessThanOrEqual(4);
    for (const v of voids) expect(v.count).toBe(3);
    expect(highWatermark).toBe(1 + 3 + 3 * voids.length);
  });

  it("appends once when five broker instances receive the same later batch at once", async () => {
    const brokers = Array.from({ length: 5 }, () => createTestBroker(tables, { clock: new TestClock() }).broker);
    const { topic } = await newTopic();
    const producer = await harness.broker.initProducer();
    const first = acked(await produceIdempotent(topic, producer, 0, records("first", 2)));
    const batch = records("later", 4);
    const results = (await Promise.all(brokers.map((b) => produceIdempotent(topic, producer, 2, batch, b)))).map(acked);
    expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
    const original = results.find((r) => !r.duplicate)!;
    expect(original.baseOffset).toBeGreaterThan(first.lastOffset);
    for (const r of results) expect([r.baseOffset, r.lastOffset, r.recordCount]).toEqual([original.baseOffset, original.lastOffset, 4]);

    const { records: fetched } = await fetchAll(topic, 0, brokers[3]);
    expect(fetched.map(valueOf)).toEqual(["first-0", "first-1", "later-0", "later-1", "later-2", "later-3"]);
    expect(fetched.slice(2).map((r) => r.offset)).toEqual([0, 1, 2, 3].map((i) => original.baseOffset + i));
  });
});

describe("refusals write no records and leave no gap", () => {
  /** The refused request gave its reservation back: the next batch lands right after the earlier records. */
  async function expectDenseThenReadable(topic: string, ref: PartitionRef, before: FetchedRecord[], proceed: () => Promise<PartitionProduceResult>) {
    const next = acked(await proceed());
    const lastBefore = before.length > 0 ? before[before.length - 1]!.offset : -1;
    expect(next.baseOffset).toBe(lastBefore + 1);
    expect(await storage.log.entryAt(ref, lastBefore + 1)).toMatchObject({ kind: "batch", baseOffset: lastBefore + 1, count: next.recordCount });
    const after = await fetchAll(topic);
    expect(after.records.slice(0, before.length)).toEqual(before);
    expect(after.records.slice(before.length).map((r) => r.offset)).toEqual(Array.from({ length: next.recordCount }, (_, i) => next.baseOffset + i));
    expect(after.highWatermark).toBe(next.lastOffset + 1);
  }

  it("a sequence gap → OUT_OF_ORDER_SEQUENCE_NUMBER", async () => {
    const { topic, ref } = await newTopic();
    const producer = await harness.broker.initProducer();
    acked(await produceIdempotent(topic, producer, 0, records("ok", 3)));
    const before = (await fetchAll(topic)).records;
    const error = refused(await produceIdempotent(topic, producer, 5, records("gap", 2)));
    expect(error.code).toBe("OUT_OF_ORDER_SEQUENCE_NUMBER");
    expect(error.details).toMatchObject({ expectedSequence: 3, baseSequence: 5, producerId: producer.producerId });
    expect(error.retriable).toBe(false);
    expect(error.outcome).toBe("definite");
    expect((await fetchAll(topic)).records).toEqual(before);
    await expectDenseThenReadable(topic, ref, before, () => produceIdempotent(topic, producer, 3, records("ok2", 2)));
  });

  it("an epoch the broker never issued → INVALID_PRODUCER_EPOCH before any reservation: no write, no gap", async () => {
    // An idempotent producer's epoch is always 0 (only re-initializing a transactional id raises
    // one), so epoch fencing on partition state is a second line of defence, unit-tested in
    // test/unit/sequence.test.ts.
    const { topic } = await newTopic();
    const producer = await harness.broker.initProducer();
    acked(await produceIdempotent(topic, producer, 0, records("e0", 2)));
    harness.writes.reset();
    for (const baseSequence of [0, 2]) {
      await expect(produceIdempotent(topic, { ...producer, epoch: 1 }, baseSequence, records("e1", 1))).rejects.toMatchObject({
        code: "INVALID_PRODUCER_EPOCH",
        details: { producerId: producer.producerId, producerEpoch: 1, issuedEpoch: 0 },
      });
    }
    expect(harness.writes.total).toBe(0);
    const next = acked(await produceIdempotent(topic, producer, 2, records("e0b", 1)));
    expect(next.baseOffset).toBe(2); // no reservation was taken, so no void either
    expect((await fetchAll(topic)).records.map(valueOf)).toEqual(["e0-0", "e0-1", "e0b-0"]);
  });

  it("a new producer id whose first batch is not at sequence 0 → UNKNOWN_PRODUCER_ID", async () => {
    const { topic, ref } = await newTopic();
    const other = await harness.broker.initProducer();
    acked(await produceIdempotent(topic, other, 0, records("other", 1)));
    const before = (await fetchAll(topic)).records;
    const producer = await harness.broker.initProducer();
    const error = refused(await produceIdempotent(topic, producer, 7, records("late", 2)));
    expect(error.code).toBe("UNKNOWN_PRODUCER_ID");
    expect(error.details).toMatchObject({ producerId: producer.producerId, baseSequence: 7 });
    expect((await fetchAll(topic)).records).toEqual(before);
    await expectDenseThenReadable(topic, ref, before, () => produceIdempotent(topic, producer, 0, records("fresh", 2)));
  });
});

describe("16 concurrent idempotent producers on one partition", () => {
  it("no client-visible error; every acknowledged record fetched exactly once, in order per producer", async () => {
    const PRODUCERS = 16;
    const BATCHES = 8;
    const SIZE = 3;
    // Four broker instances (Lambdas) share the tables; each producer talks to one of them.
    // Warm instances cache topic metadata, as Lambdas do (the harness default of 0 re-reads it).
    const instances = Array.from({ length: 4 }, () => createTestBroker(tables, { config: { topicCacheTtlMs: 60_000 } }).broker);
    const { topic } = await newTopic();
    const producers = await Promise.all(Array.from({ length: PRODUCERS }, () => harness.broker.initProducer()));

    const acks = new Map<string, number>(); // value → acknowledged offset
    await Promise.all(
      producers.map(async (producer, p) => {
        const broker = instances[p % instances.length]!;
        for (let b = 0; b < BATCHES; b++) {
          const batch = Array.from({ length: SIZE }, (_, i) => text(`p${p}-s${b * SIZE + i}`));
          const result = await produceIdempotent(topic, producer, b * SIZE, batch, broker);
          const ok = acked(result); // throws on any client-visible error
          expect(ok.duplicate).toBe(false);
          expect(ok.recordCount).toBe(SIZE);
          batch.forEach((r, i) => acks.set(Buffer.from(r.value!).toString(), ok.baseOffset + i));
        }
      }),
    );
    expect(acks.size).toBe(PRODUCERS * BATCHES * SIZE);

    const { records: fetched, highWatermark } = await fetchAll(topic);
    const offsets = fetched.map((r) => r.offset);
    expectStrictlyIncreasing(offsets);
    expect(new Set(offsets).size).toBe(offsets.length);
    const values = fetched.map(valueOf);
    expect(new Set(values).size).toBe(values.length);
    expect(fetched).toHaveLength(acks.size);
    for (const r of fetched) expect(acks.get(valueOf(r))).toBe(r.offset);
    expect(highWatermark).toBe(offsets[offsets.length - 1]! + 1);

    // Per producer, sequences appear in order of offset.
    for (let p = 0; p < PRODUCERS; p++) {
      const sequences = fetched.map(valueOf).filter((v) => v.startsWith(`p${p}-`)).map((v) => Number(v.split("-s")[1]));
      expect(sequences).toEqual(Array.from({ length: BATCHES * SIZE }, (_, i) => i));
    }
  });
});
