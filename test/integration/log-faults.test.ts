/**
 * Faults in the partition log (DESIGN.md §1) against DynamoDB Local: writers that die after
 * reserving offsets, late writers whose slots were voided, lost responses and throttling. Readers
 * must never pass an unfilled gap, must move on once the hole timeout (on a TestClock) has passed,
 * and no offset may ever hold two batches.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { Broker } from "../../shared/core/broker.js";
import type { PartitionFetchResult } from "../../shared/core/fetch.js";
import type { FetchedRecord } from "../../shared/core/log-reader.js";
import type { EncodedBatch, LogEntry, PartitionRef, Storage } from "../../shared/core/ports.js";
import type { PartitionProduceResult, ProduceRecord } from "../../shared/core/produce.js";
import { DynalogError } from "../../shared/errors.js";
import { encodeRecordBatch } from "../../shared/record-batch.js";
import { createDynamoStorage } from "../../shared/storage/dynamo-storage.js";
import type { TableNames } from "../../shared/storage/tables.js";
import { createTestBroker, createTestTables, TestClock, timeoutError, topicName, type TestBroker } from "../support/broker.js";
import { DEFAULT_HOLE_TIMEOUT, FUNCTION_SETTINGS, HOLE_TIMEOUT_HEADROOM_MS, minimumHoleTimeoutMs } from "../../infra/functions.js";

const HOLE_TIMEOUT_MS = 5_000;

let tables: TableNames;
let clock: TestClock;
let harness: TestBroker;
/** A second broker instance (another Lambda) on the same tables and clock. */
let other: TestBroker;
/** The storage port on its own client: plays the writer that reserves and then dies. */
let storage: Storage;

beforeAll(async () => {
  tables = await createTestTables("logfaults");
  clock = new TestClock();
  harness = createTestBroker(tables, { clock, config: { holeTimeoutMs: HOLE_TIMEOUT_MS } });
  other = createTestBroker(tables, { clock, config: { holeTimeoutMs: HOLE_TIMEOUT_MS } });
  storage = createDynamoStorage(other.client, tables);
});

type Acked = Extract<PartitionProduceResult, { baseOffset: number }>;
type Read = Extract<PartitionFetchResult, { records: readonly FetchedRecord[] }>;

const text = (value: string): ProduceRecord => ({ key: null, value: Buffer.from(value), headers: [] });
const valueOf = (r: FetchedRecord): string => Buffer.from(r.value ?? new Uint8Array()).toString();

async function newTopic(): Promise<{ topic: string; ref: PartitionRef }> {
  const topic = topicName("faults");
  const created = await harness.broker.createTopic({ name: topic, partitions: 1 });
  return { topic, ref: { topicId: created.topicId, partition: 0 } };
}

async function produceRaw(topic: string, values: readonly string[], broker: Broker = harness.broker): Promise<PartitionProduceResult> {
  const result = await broker.produce({ topic, partitions: [{ partition: 0, records: values.map(text) }] });
  expect(result.partitions).toHaveLength(1);
  return result.partitions[0]!;
}

async function produce(topic: string, values: readonly string[], broker: Broker = harness.broker): Promise<Acked> {
  const result = await produceRaw(topic, values, broker);
  if ("error" in result) throw result.error;
  return result;
}

async function fetchAt(topic: string, offset: number, broker: Broker = harness.broker): Promise<PartitionFetchResult> {
  const [result] = await broker.fetch({ partitions: [{ topic, partition: 0, offset }], maxRecords: 10_000 });
  return result!;
}

async function fetchOk(topic: string, offset: number, broker: Broker = harness.broker): Promise<Read> {
  const result = await fetchAt(topic, offset, broker);
  if ("error" in result) throw result.error;
  return result;
}

async function fetchOutOfRange(topic: string, offset: number, broker: Broker = harness.broker): Promise<DynalogError> {
  const result = await fetchAt(topic, offset, broker);
  if (!("error" in result)) throw new Error(`expected OFFSET_OUT_OF_RANGE at ${offset}, got records ${result.records.map((r) => r.offset)}`);
  expect(result.error.code).toBe("OFFSET_OUT_OF_RANGE");
  return result.error;
}

/** Every record from `from` up to the high watermark. */
async function fetchAll(topic: string, from = 0, broker: Broker = harness.broker): Promise<{ records: FetchedRecord[]; highWatermark: number }> {
  const all: FetchedRecord[] = [];
  let offset = from;
  for (let page = 0; page < 1000; page++) {
    const result = await fetchOk(topic, offset, broker);
    all.push(...result.records);
    if (result.records.length === 0 || result.nextOffset >= result.highWatermark) return { records: all, highWatermark: result.highWatermark };
    offset = result.nextOffset;
  }
  throw new Error("fetchAll did not finish");
}

async function highWatermark(topic: string, broker: Broker = harness.broker): Promise<number> {
  return (await broker.describeTopic(topic)).partitions[0]!.highWatermark;
}

async function entries(ref: PartitionRef): Promise<[LogEntry["kind"], number, number][]> {
  const page = await storage.log.entriesFrom(ref, 0, 1000);
  expect(page.more).toBe(false);
  return page.entries.map((e) => [e.kind, e.baseOffset, e.count]);
}

function batchAt(baseOffset: number, values: readonly string[]): EncodedBatch {
  const timestamp = clock.now();
  const blob = encodeRecordBatch(values.map((v) => ({ timestamp, key: null, value: Buffer.from(v), headers: [] })));
  return { baseOffset, count: values.length, codec: "none", blob, maxTimestamp: timestamp };
}

function expectNoOverlap(records: readonly FetchedRecord[]): void {
  const offsets = records.map((r) => r.offset);
  for (let i = 1; i < offsets.length; i++) expect(offsets[i]!).toBeGreaterThan(offsets[i - 1]!);
  expect(new Set(offsets).size).toBe(offsets.length);
}

describe("a writer that dies after reserving", () => {
  it("a gap in the middle: readers stop at it until the hole timeout, then it is voided and they move on", async () => {
    const { topic, ref } = await newTopic();
    await produce(topic, ["a", "b"]); // 0-1
    const dead = (await storage.log.reserve(ref, 3, clock.now()))!; // 2-4, never written
    expect(dead).toBe(2);
    expect(await produce(topic, ["c", "d"], other.broker)).toMatchObject({ baseOffset: 5, lastOffset: 6 });

    // Readers stop at the gap: no record after it, the watermark below it, on any instance.
    for (const broker of [harness.broker, other.broker]) {
      const read = await fetchOk(topic, 0, broker);
      expect(read.records.map(valueOf)).toEqual(["a", "b"]);
      expect(read).toMatchObject({ nextOffset: 2, highWatermark: 2 });
      expect(await fetchOk(topic, 2, broker)).toMatchObject({ records: [], nextOffset: 2, highWatermark: 2 });
      expect((await fetchOutOfRange(topic, 5, broker)).details).toMatchObject({ highWatermark: 2 });
      expect(await highWatermark(topic, broker)).toBe(2);
      expect(await broker.listOffsets(topic, 0, { kind: "latest" })).toMatchObject({ offset: 2 });
    }

    // One millisecond short of the hole timeout: still waiting, nothing filled.
    clock.advance(HOLE_TIMEOUT_MS - 1);
    expect(await fetchOk(topic, 2)).toMatchObject({ records: [], highWatermark: 2 });
    expect(await entries(ref)).toEqual([
      ["batch", 0, 2],
      ["batch", 5, 2],
    ]);

    clock.advance(1);
    const moved = await fetchOk(topic, 2);
    expect(moved.records.map((r) => [r.offset, valueOf(r)])).toEqual([
      [5, "c"],
      [6, "d"],
    ]);
    expect(moved).toMatchObject({ nextOffset: 7, highWatermark: 7 });
    // Filled one void per offset (DESIGN.md §1.4).
    expect(await entries(ref)).toEqual([
      ["batch", 0, 2],
      ["void", 2, 1],
      ["void", 3, 1],
      ["void", 4, 1],
      ["batch", 5, 2],
    ]);
    expect((await fetchAll(topic, 0, other.broker)).records.map((r) => [r.offset, valueOf(r)])).toEqual([
      [0, "a"],
      [1, "b"],
      [5, "c"],
      [6, "d"],
    ]);
    expect(await highWatermark(topic, other.broker)).toBe(7);
    // The partition goes on after the filled gap.
    expect(await produce(topic, ["e"])).toMatchObject({ baseOffset: 7 });
    expect((await fetchOk(topic, 7)).records.map(valueOf)).toEqual(["e"]);
  });

  it("a gap's age is that of the entry after it: a batch written later keeps the gap young", async () => {
    const { topic, ref } = await newTopic();
    await produce(topic, ["a"]); // 0
    (await storage.log.reserve(ref, 2, clock.now()))!; // 1-2, never written
    clock.advance(HOLE_TIMEOUT_MS - 1000);
    await produce(topic, ["b"]); // 3, appended 4 s after the reservation
    clock.advance(1000); // the reservation is now 5 s old, the batch after it 1 s
    expect(await fetchOk(topic, 0)).toMatchObject({ highWatermark: 1 });
    clock.advance(HOLE_TIMEOUT_MS - 1000);
    expect((await fetchAll(topic)).records.map(valueOf)).toEqual(["a", "b"]);
    expect(await highWatermark(topic)).toBe(4);
  });

  it("a tail gap (nothing after it): readers wait, then the hole timeout voids it up to the counter", async () => {
    const { topic, ref } = await newTopic();
    await produce(topic, ["a", "b"]); // 0-1
    (await storage.log.reserve(ref, 3, clock.now()))!; // 2-4, never written

    expect(await fetchOk(topic, 0)).toMatchObject({ nextOffset: 2, highWatermark: 2 });
    expect(await highWatermark(topic, other.broker)).toBe(2);
    expect((await fetchOutOfRange(topic, 5)).details).toMatchObject({ highWatermark: 2 });
    clock.advance(HOLE_TIMEOUT_MS - 1);
    expect(await highWatermark(topic)).toBe(2);
    expect(await entries(ref)).toEqual([["batch", 0, 2]]);

    clock.advance(1);
    expect(await fetchOk(topic, 2)).toMatchObject({ records: [], nextOffset: 5, highWatermark: 5 });
    expect(await entries(ref)).toEqual([
      ["batch", 0, 2],
      ["void", 2, 1],
      ["void", 3, 1],
      ["void", 4, 1],
    ]);
    expect(await produce(topic, ["c"], other.broker)).toMatchObject({ baseOffset: 5 });
    const all = await fetchAll(topic);
    expect(all.records.map((r) => [r.offset, valueOf(r)])).toEqual([
      [0, "a"],
      [1, "b"],
      [5, "c"],
    ]);
    expect(all.highWatermark).toBe(6);
  });

  it("a gap larger than one read's fill budget is filled over several reads, never skipped", async () => {
    const thrifty = createTestBroker(tables, { clock, config: { holeTimeoutMs: HOLE_TIMEOUT_MS, maxVoidFillPerRead: 4 } }).broker;
    const { topic, ref } = await newTopic();
    (await storage.log.reserve(ref, 10, clock.now()))!; // 0-9, never written
    await produce(topic, ["after"]); // 10
    clock.advance(HOLE_TIMEOUT_MS);
    expect(await fetchOk(topic, 0, thrifty)).toMatchObject({ records: [], highWatermark: 4 });
    expect(await fetchOk(topic, 4, thrifty)).toMatchObject({ records: [], highWatermark: 8 });
    const last = await fetchOk(topic, 8, thrifty);
    expect(last.records.map((r) => [r.offset, valueOf(r)])).toEqual([[10, "after"]]);
    expect(last.highWatermark).toBe(11);
    expect((await entries(ref)).filter(([kind]) => kind === "void").map(([, offset, count]) => [offset, count])).toEqual(
      Array.from({ length: 10 }, (_, i) => [i, 1]),
    );
  });
});

describe("void fills when IAM refuses them inside a transaction", () => {
  // The readers' void grant is restricted with dynamodb:Attributes, which AWS documents for
  // PutItem but not for Puts inside TransactWriteItems (infra/permissions.ts).
  it("switches to single conditional puts in increasing order: the gap is filled, one void per offset, and the batch inside the dead range is kept", async () => {
    const denied = createTestBroker(tables, { clock, config: { holeTimeoutMs: HOLE_TIMEOUT_MS } });
    const voidTransactions: string[] = [];
    const singleVoidPuts: number[] = [];
    denied.faults.add((command, input) => {
      const items = (input["TransactItems"] ?? []) as { Put?: { Item?: Record<string, unknown> } }[];
      if (/TransactWriteItems/.test(command) && items.some((a) => a.Put?.Item?.["k"] === "V")) {
        voidTransactions.push(command);
        return { kind: "fail-before", error: Object.assign(new Error("not authorized to perform: dynamodb:PutItem"), { name: "AccessDeniedException" }) };
      }
      const item = input["Item"] as Record<string, unknown> | undefined;
      if (/PutItem/.test(command) && item?.["k"] === "V") singleVoidPuts.push(Number(item["o"]));
      return undefined;
    });
    const { topic, ref } = await newTopic();
    await produce(topic, ["a"]); // 0
    expect(await storage.log.reserve(ref, 3, clock.now())).toBe(1); // 1-3, never written
    await produce(topic, ["b"]); // 4
    expect(await storage.log.reserve(ref, 4, clock.now())).toBe(5); // 5-8: a writer that died, except that
    expect(await storage.log.append({ ref, batches: [batchAt(7, ["late"])], appendTime: clock.now(), attempt: 0 })).toMatchObject({ status: "appended" }); // …one batch at 7
    await produce(topic, ["c"]); // 9
    clock.advance(HOLE_TIMEOUT_MS);

    const all = await fetchAll(topic, 0, denied.broker);
    expect(all.records.map((r) => [r.offset, valueOf(r)])).toEqual([[0, "a"], [4, "b"], [7, "late"], [9, "c"]]);
    expect(all.highWatermark).toBe(10);
    expect(voidTransactions).toHaveLength(1); // refused once, then single puts for good
    expect(singleVoidPuts).toEqual([1, 2, 3, 5, 6, 8]);
    expect(await entries(ref)).toEqual([
      ["batch", 0, 1],
      ["void", 1, 1],
      ["void", 2, 1],
      ["void", 3, 1],
      ["batch", 4, 1],
      ["void", 5, 1],
      ["void", 6, 1],
      ["batch", 7, 1],
      ["void", 8, 1],
      ["batch", 9, 1],
    ]);
  });
});

describe("the deployed hole timeout", () => {
  // What the CDK stack sets: derived from the writers' function timeout, not a round 60 s.
  const deployedMs = DEFAULT_HOLE_TIMEOUT.toMilliseconds();
  // A writer that reserved before the next entry was written can write until this long after it.
  const lastWriteMs = minimumHoleTimeoutMs(Math.max(FUNCTION_SETTINGS.produce.timeout.toMilliseconds(), FUNCTION_SETTINGS.transactions.timeout.toMilliseconds()));

  it("stalls readers behind a crashed writer's gap only for function timeout + request timeout + clock margin", async () => {
    expect(deployedMs).toBeGreaterThan(lastWriteMs);
    expect(deployedMs).toBeLessThanOrEqual(lastWriteMs + HOLE_TIMEOUT_HEADROOM_MS);
    const deployed = createTestBroker(tables, { clock, config: { holeTimeoutMs: deployedMs } }).broker;

    const { topic, ref } = await newTopic();
    (await storage.log.reserve(ref, 2, clock.now()))!; // 0-1: the writer crashes here
    await produce(topic, ["after"]); // 2, written at `written`
    const written = clock.now();

    // A writer that reserved at the same time but is slow, not dead: it can still land its
    // batch at the last moment its function (plus one DynamoDB request) can live. Nobody voids it.
    const slow = await newTopic();
    const slowBase = (await storage.log.reserve(slow.ref, 1, clock.now()))!;
    await produce(slow.topic, ["after-slow"]);
    clock.advance(lastWriteMs);
    expect(await fetchOk(slow.topic, 0, deployed)).toMatchObject({ records: [], highWatermark: 0 });
    expect(await storage.log.append({ ref: slow.ref, batches: [batchAt(slowBase, ["slow"])], appendTime: clock.now(), attempt: 0 })).toEqual({ status: "appended" });
    expect((await fetchAll(slow.topic, 0, deployed)).records.map(valueOf)).toEqual(["slow", "after-slow"]);

    // The crashed writer's gap: still waited on 1 ms before the hole timeout…
    clock.advance(written + deployedMs - 1 - clock.now());
    expect(await fetchOk(topic, 0, deployed)).toMatchObject({ records: [], highWatermark: 0 });
    expect(await entries(ref)).toEqual([["batch", 2, 1]]);
    // …and filled at it: the stall is the hole timeout after the next entry's write.
    clock.advance(1);
    const moved = await fetchOk(topic, 0, deployed);
    expect(moved.records.map((r) => [r.offset, valueOf(r)])).toEqual([[2, "after"]]);
    expect(moved.highWatermark).toBe(3);
  });

  it("a crashed writer's tail gap is filled the hole timeout after the latest reservation", async () => {
    const deployed = createTestBroker(tables, { clock, config: { holeTimeoutMs: deployedMs } }).broker;
    const { topic, ref } = await newTopic();
    await produce(topic, ["a"]); // 0
    (await storage.log.reserve(ref, 2, clock.now()))!; // 1-2: the writer crashes here
    clock.advance(deployedMs - 1);
    expect(await fetchOk(topic, 1, deployed)).toMatchObject({ records: [], highWatermark: 1 });
    clock.advance(1);
    expect(await fetchOk(topic, 1, deployed)).toMatchObject({ records: [], nextOffset: 3, highWatermark: 3 });
  });
});

describe("a gap holding two dead reservations", () => {
  it("is filled after the timeout; both late writers then fail cleanly and no offsets overlap", async () => {
    const { topic, ref } = await newTopic();
    await produce(topic, ["first"]); // 0
    const deadA = (await storage.log.reserve(ref, 2, clock.now()))!; // 1-2
    const deadB = (await storage.log.reserve(ref, 3, clock.now()))!; // 3-5
    expect([deadA, deadB]).toEqual([1, 3]);
    // B is an idempotent writer: it claimed its sequences at 3 before dying (docs/append.md).
    const producerB = await harness.broker.initProducer();
    expect(await storage.producers.claimSequence(ref, { ...producerB, baseSequence: 0, lastSequence: 2 }, deadB)).toEqual({ status: "claimed", previous: undefined });
    expect(await produce(topic, ["after-0", "after-1"])).toMatchObject({ baseOffset: 6, lastOffset: 7 });

    expect(await fetchOk(topic, 0)).toMatchObject({ highWatermark: 1, nextOffset: 1 });
    clock.advance(HOLE_TIMEOUT_MS);
    const read = await fetchAll(topic);
    expect(read.records.map((r) => [r.offset, valueOf(r)])).toEqual([
      [0, "first"],
      [6, "after-0"],
      [7, "after-1"],
    ]);
    expect(read.highWatermark).toBe(8);
    // Every offset of the gap has its own void: B's base offset (3), inside the gap, is taken too.
    expect(await entries(ref)).toEqual([
      ["batch", 0, 1],
      ["void", 1, 1],
      ["void", 2, 1],
      ["void", 3, 1],
      ["void", 4, 1],
      ["void", 5, 1],
      ["batch", 6, 2],
    ]);

    // The late writers wake up and put their batches (A a plain producer, B an idempotent one
    // whose claim stands): both find their slot taken.
    const lateA = await storage.log.append({ ref, batches: [batchAt(deadA, ["late-a0", "late-a1"])], appendTime: clock.now(), attempt: 0 });
    expect(lateA).toEqual({ status: "slot-taken" });
    const lateB = await storage.log.append({ ref, batches: [batchAt(deadB, ["late-b0", "late-b1", "late-b2"])], appendTime: clock.now(), attempt: 0 });
    expect(lateB).toEqual({ status: "slot-taken" });
    // Nothing of theirs was written: the voids still stand. B's claim names a void slot, so B's retry
    // below is settled as "never landed" (not a duplicate) and appended anew.
    expect(await storage.log.entryAt(ref, deadA)).toMatchObject({ kind: "void", count: 1 });
    expect(await storage.log.entryAt(ref, deadB)).toMatchObject({ kind: "void", count: 1 });

    const after = await fetchAll(topic, 0, other.broker);
    expect(after.records.map(valueOf)).toEqual(["first", "after-0", "after-1"]);
    expectNoOverlap(after.records);
    expect(after.highWatermark).toBe(8);

    // Their clients retry through the broker: new offsets, each record once.
    expect(await produce(topic, ["late-a0", "late-a1"])).toMatchObject({ baseOffset: 8, lastOffset: 9, duplicate: false });
    const retryB = await harness.broker.produce({
      topic,
      producer: producerB,
      partitions: [{ partition: 0, baseSequence: 0, records: ["late-b0", "late-b1", "late-b2"].map(text) }],
    });
    expect(retryB.partitions[0]).toMatchObject({ baseOffset: 10, lastOffset: 12, duplicate: false });
    const final = await fetchAll(topic);
    expect(final.records.map((r) => [r.offset, valueOf(r)])).toEqual([
      [0, "first"],
      [6, "after-0"],
      [7, "after-1"],
      [8, "late-a0"],
      [9, "late-a1"],
      [10, "late-b0"],
      [11, "late-b1"],
      [12, "late-b2"],
    ]);
    expectNoOverlap(final.records);
  });

  it("a slow writer that is alive writes before the timeout; only the dead one is voided", async () => {
    const { topic, ref } = await newTopic();
    await produce(topic, ["first"]); // 0
    const slow = (await storage.log.reserve(ref, 2, clock.now()))!; // 1-2
    const dead = (await storage.log.reserve(ref, 2, clock.now()))!; // 3-4
    await produce(topic, ["after"]); // 5
    expect(await fetchOk(topic, 0)).toMatchObject({ highWatermark: 1 });

    // The slow writer lands inside the timeout: readers see it at once and stop at the dead one.
    clock.advance(HOLE_TIMEOUT_MS - 1);
    expect(await storage.log.append({ ref, batches: [batchAt(slow, ["slow-0", "slow-1"])], appendTime: clock.now(), attempt: 0 })).toEqual({ status: "appended" });
    const partial = await fetchOk(topic, 0);
    expect(partial.records.map((r) => [r.offset, valueOf(r)])).toEqual([
      [0, "first"],
      [1, "slow-0"],
      [2, "slow-1"],
    ]);
    expect(partial.highWatermark).toBe(3);

    clock.advance(1);
    const all = await fetchAll(topic);
    expect(all.records.map((r) => [r.offset, valueOf(r)])).toEqual([
      [0, "first"],
      [1, "slow-0"],
      [2, "slow-1"],
      [5, "after"],
    ]);
    expect(all.highWatermark).toBe(6);
    expect(await storage.log.append({ ref, batches: [batchAt(dead, ["dead-0", "dead-1"])], appendTime: clock.now(), attempt: 0 })).toEqual({ status: "slot-taken" });
    expect(await entries(ref)).toEqual([
      ["batch", 0, 1],
      ["batch", 1, 2],
      ["void", 3, 1],
      ["void", 4, 1],
      ["batch", 5, 1],
    ]);
  });

  it("the broker's own writer, when its reservation was voided under it, retries on a new one", async () => {
    const { topic, ref } = await newTopic();
    await produce(topic, ["first"]); // 0
    // Void the offsets the next reservation will get, as a reader does to a writer slower than the
    // hole timeout.
    expect(await storage.log.fillWithVoids(ref, 1, 3, clock.now())).toEqual({ filledUpTo: 3, blocked: false });
    const result = await produce(topic, ["x", "y"]);
    expect(result).toMatchObject({ baseOffset: 3, lastOffset: 4, duplicate: false });
    const all = await fetchAll(topic);
    expect(all.records.map((r) => [r.offset, valueOf(r)])).toEqual([
      [0, "first"],
      [3, "x"],
      [4, "y"],
    ]);
    expect(all.highWatermark).toBe(5);
  });
});

function throttled(): Error {
  const error = new Error("Injected: the level of configured provisioned throughput for the table was exceeded");
  error.name = "ProvisionedThroughputExceededException";
  return error;
}

describe("throttling and lost responses", () => {
  // The injection sits above the SDK's retry middleware, so these are the errors the broker sees
  // after the SDK gave up. The broker does not retry a throttled append itself: the outcome is
  // definite (nothing written), it gives its reservation back and answers STORAGE_THROTTLED (retriable).
  it("a throttled plain produce fails with STORAGE_THROTTLED, writes nothing and leaves no gap", async () => {
    const { topic, ref } = await newTopic();
    await produce(topic, ["first"]); // 0
    harness.faults.once(/TransactWriteItems|PutItem/, { kind: "fail-before", error: throttled() });
    const failed = await produceRaw(topic, ["t0", "t1"]);
    if (!("error" in failed)) throw new Error(`expected STORAGE_THROTTLED, got ${JSON.stringify(failed)}`);
    expect(failed.error.code).toBe("STORAGE_THROTTLED");
    expect(failed.error.retriable).toBe(true);
    expect(failed.error.outcome).toBe("definite");
    expect(failed.error.status).toBe(503);
    // The reservation was given back: no void, no gap, the offsets stay dense.
    expect(await entries(ref)).toEqual([["batch", 0, 1]]);

    // The client retries; its records land right after the first.
    expect(await produce(topic, ["t0", "t1"])).toMatchObject({ baseOffset: 1, lastOffset: 2 });
    const all = await fetchAll(topic);
    expect(all.records.map((r) => [r.offset, valueOf(r)])).toEqual([
      [0, "first"],
      [1, "t0"],
      [2, "t1"],
    ]);
    expect(all.highWatermark).toBe(3);
  });

  it("a throttled idempotent produce fails with STORAGE_THROTTLED; its retry is written once, not a duplicate", async () => {
    const { topic, ref } = await newTopic();
    await produce(topic, ["first"]); // 0
    const producer = await harness.broker.initProducer();
    const send = () => harness.broker.produce({ topic, producer, partitions: [{ partition: 0, baseSequence: 0, records: ["i0", "i1"].map(text) }] });
    harness.faults.once(/PutItem/, { kind: "fail-before", error: throttled() });
    const failed = (await send()).partitions[0]!;
    expect("error" in failed && failed.error.code).toBe("STORAGE_THROTTLED");
    // The claim named offsets 1-2, so they were voided, never given back (docs/append.md); the
    // retry settles the claim (void: never landed), rewinds it and appends anew.
    expect((await send()).partitions[0]).toEqual({ partition: 0, baseOffset: 3, lastOffset: 4, recordCount: 2, duplicate: false });
    expect((await send()).partitions[0]).toMatchObject({ baseOffset: 3, duplicate: true });
    const all = await fetchAll(topic);
    expect(all.records.map((r) => [r.offset, valueOf(r)])).toEqual([
      [0, "first"],
      [3, "i0"],
      [4, "i1"],
    ]);
    expect(all.highWatermark).toBe(5); // the duplicate gave its reservation back
    expect(await entries(ref)).toEqual([
      ["batch", 0, 1],
      ["void", 1, 2],
      ["batch", 3, 2],
    ]);
  });

  it("throttled three times (the release and the void too): the reservation is a dead writer's gap, filled after the hole timeout", async () => {
    const { topic, ref } = await newTopic();
    await produce(topic, ["first"]); // 0
    harness.faults.once(/PutItem/, { kind: "fail-before", error: throttled() }, 2);
    harness.faults.add((command, input) =>
      command === "UpdateItemCommand" && String(input["UpdateExpression"]).startsWith("SET #next = :base") ? { kind: "fail-before", error: throttled() } : undefined,
    );
    const failed = await produceRaw(topic, ["lost"]);
    expect("error" in failed && failed.error.code).toBe("STORAGE_THROTTLED");
    expect(await entries(ref)).toEqual([["batch", 0, 1]]);
    harness.faults.clear();
    expect(await produce(topic, ["second"])).toMatchObject({ baseOffset: 2 });
    expect(await highWatermark(topic)).toBe(1);
    clock.advance(HOLE_TIMEOUT_MS);
    const all = await fetchAll(topic);
    expect(all.records.map((r) => [r.offset, valueOf(r)])).toEqual([
      [0, "first"],
      [2, "second"],
    ]);
    expect(all.highWatermark).toBe(3);
  });

  it("a lost response to a plain produce's PutItem: the broker finds its batch and answers success, once", async () => {
    const { topic, ref } = await newTopic();
    await produce(topic, ["first"]); // 0
    harness.faults.once(/PutItem/, { kind: "drop-response", error: timeoutError() });
    const result = await produce(topic, ["p0", "p1"]);
    expect(result).toEqual({ partition: 0, baseOffset: 1, lastOffset: 2, recordCount: 2, duplicate: false });
    expect(await entries(ref)).toEqual([
      ["batch", 0, 1],
      ["batch", 1, 2],
    ]);
    expect((await fetchAll(topic)).records.map((r) => [r.offset, valueOf(r)])).toEqual([
      [0, "first"],
      [1, "p0"],
      [2, "p1"],
    ]);
  });

  it("a timeout before a plain produce's PutItem was sent: voided and retried inside the broker", async () => {
    const { topic, ref } = await newTopic();
    await produce(topic, ["first"]); // 0
    harness.faults.once(/PutItem/, { kind: "fail-before", error: timeoutError() });
    expect(await produce(topic, ["q"])).toMatchObject({ baseOffset: 2, lastOffset: 2, duplicate: false });
    expect(await entries(ref)).toEqual([
      ["batch", 0, 1],
      ["void", 1, 1],
      ["batch", 2, 1],
    ]);
    const all = await fetchAll(topic);
    expect(all.records.map(valueOf)).toEqual(["first", "q"]);
    expect(all.highWatermark).toBe(3);
  });
});
