/**
 * The idempotent append's crash points (docs/append.md): the sequence claim is a plain write made
 * before the batch put, so a writer can die holding a claim whose batch never lands. Its client's
 * retry (on another instance) settles the claim from the log, racing readers' hole filling; the
 * producer's next batch is never acknowledged over the lost one.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { Broker } from "../../shared/core/broker.js";
import type { LogEntry, PartitionRef } from "../../shared/core/ports.js";
import type { PartitionProduceResult, ProduceRecord } from "../../shared/core/produce.js";
import type { TableNames } from "../../shared/storage/tables.js";
import { createTestBroker, createTestTables, TestClock, topicName, type TestBroker } from "../support/broker.js";

let tables: TableNames;
let clock: TestClock;
let harness: TestBroker;

const HOLE_TIMEOUT_MS = 5_000;

beforeAll(async () => {
  tables = await createTestTables("claims");
  clock = new TestClock();
  harness = createTestBroker(tables, { clock, config: { holeTimeoutMs: HOLE_TIMEOUT_MS } });
});

type Acked = Extract<PartitionProduceResult, { baseOffset: number }>;
const text = (value: string): ProduceRecord => ({ key: null, value: Buffer.from(value), headers: [] });
const records = (prefix: string, count: number): ProduceRecord[] => Array.from({ length: count }, (_, i) => text(`${prefix}-${i}`));

async function newTopic(): Promise<{ topic: string; ref: PartitionRef }> {
  const topic = topicName("claims");
  const created = await harness.broker.createTopic({ name: topic, partitions: 1 });
  return { topic, ref: { topicId: created.topicId, partition: 0 } };
}

async function produce(broker: Broker, topic: string, producer: { producerId: number; epoch: number }, baseSequence: number, batch: readonly ProduceRecord[]): Promise<PartitionProduceResult> {
  return (await broker.produce({ topic, producer, partitions: [{ partition: 0, baseSequence, records: batch }] })).partitions[0]!;
}

function acked(result: PartitionProduceResult): Acked {
  if ("error" in result) throw new Error(`expected success, got ${result.error.code}: ${result.error.message}`);
  return result;
}

/** A broker instance that dies right after its sequence claim reaches DynamoDB: its batch is never put. */
function instanceDyingAfterClaim(): { broker: Broker; claims: () => number } {
  const lambda = createTestBroker(tables, { clock, config: { holeTimeoutMs: HOLE_TIMEOUT_MS } });
  let claims = 0;
  lambda.chaos.beforeCommand(
    /Command$/,
    (request) => {
      if (claims > 0) throw new Error("the instance died");
      if (request.command === "UpdateItemCommand" && String(request.input["UpdateExpression"]).startsWith("SET e = :e")) claims++;
    },
    { times: Number.POSITIVE_INFINITY },
  );
  return { broker: lambda.broker, claims: () => claims };
}

async function entries(ref: PartitionRef): Promise<[LogEntry["kind"], number, number][]> {
  const { entries: all } = await harness.storage.log.entriesFrom(ref, 0, 1_000);
  return all.map((e) => [e.kind, e.baseOffset, e.count]);
}

async function fetchValues(topic: string): Promise<[number, string][]> {
  const [result] = await harness.broker.fetch({ partitions: [{ topic, partition: 0, offset: 0 }], maxRecords: 1_000 });
  if (!result || "error" in result) throw new Error("fetch failed");
  return result.records.map((r) => [r.offset, Buffer.from(r.value!).toString()]);
}

describe("a writer that dies between its sequence claim and its batch put", () => {
  it("the retry finds the claim's slot empty, voids it, rewinds the claim and appends once", async () => {
    const { topic, ref } = await newTopic();
    const producer = await harness.broker.initProducer();
    acked(await produce(harness.broker, topic, producer, 0, records("a", 1))); // 0
    const dying = instanceDyingAfterClaim();
    await dying.broker.produce({ topic, producer, partitions: [{ partition: 0, baseSequence: 1, records: records("b", 2) }] }).catch(() => undefined);
    expect(dying.claims()).toBe(1); // claimed 1-2, then died
    expect(await entries(ref)).toEqual([["batch", 0, 1]]);

    const retry = acked(await produce(harness.broker, topic, producer, 1, records("b", 2)));
    expect(retry).toMatchObject({ baseOffset: 3, lastOffset: 4, duplicate: false });
    expect(await entries(ref)).toEqual([
      ["batch", 0, 1],
      ["void", 1, 2],
      ["batch", 3, 2],
    ]);
    // The rewound claim is gone: another resend is a duplicate of the new offsets, the next batch follows.
    expect(acked(await produce(harness.broker, topic, producer, 1, records("b", 2)))).toMatchObject({ baseOffset: 3, duplicate: true });
    expect(acked(await produce(harness.broker, topic, producer, 3, records("c", 1)))).toMatchObject({ baseOffset: 5, duplicate: false });
    expect(await fetchValues(topic)).toEqual([
      [0, "a-0"],
      [3, "b-0"],
      [4, "b-1"],
      [5, "c-0"],
    ]);
  });

  it("the retry races a reader filling the dead claim's gap: the batch is read exactly once", async () => {
    const { topic, ref } = await newTopic();
    const producer = await harness.broker.initProducer();
    const dying = instanceDyingAfterClaim();
    await dying.broker.produce({ topic, producer, partitions: [{ partition: 0, baseSequence: 0, records: records("x", 3) }] }).catch(() => undefined);
    expect(dying.claims()).toBe(1);
    clock.advance(HOLE_TIMEOUT_MS + 1); // the dead reservation is now old enough for readers to void
    const reader = createTestBroker(tables, { clock, config: { holeTimeoutMs: HOLE_TIMEOUT_MS } });
    const [retry] = await Promise.all([
      produce(harness.broker, topic, producer, 0, records("x", 3)),
      reader.broker.fetch({ partitions: [{ topic, partition: 0, offset: 0 }], maxRecords: 100 }),
    ]);
    const ok = acked(retry);
    expect(ok.duplicate).toBe(false);
    expect(ok.baseOffset).toBe(3);
    const all = await entries(ref);
    expect(all.filter((e) => e[0] === "batch")).toEqual([["batch", 3, 3]]);
    expect(all.filter((e) => e[0] === "void").reduce((sum, e) => sum + e[2], 0)).toBe(3); // offsets 0-2, by whichever came first
    expect(await fetchValues(topic)).toEqual([
      [3, "x-0"],
      [4, "x-1"],
      [5, "x-2"],
    ]);
  });

  it("the producer's next batch is refused (OUT_OF_ORDER_SEQUENCE_NUMBER), never acknowledged over the lost one; then both append in order", async () => {
    const { topic, ref } = await newTopic();
    const producer = await harness.broker.initProducer();
    acked(await produce(harness.broker, topic, producer, 0, records("a", 1))); // 0
    const dying = instanceDyingAfterClaim();
    await dying.broker.produce({ topic, producer, partitions: [{ partition: 0, baseSequence: 1, records: records("lost", 2) }] }).catch(() => undefined);
    expect(dying.claims()).toBe(1); // claimed sequences 1-2 at offsets 1-2

    // A pipelined next batch on a fresh instance: it may not land while 1-2 are missing.
    const other = createTestBroker(tables, { clock, config: { holeTimeoutMs: HOLE_TIMEOUT_MS } });
    const next = await produce(other.broker, topic, producer, 3, records("next", 1));
    expect("error" in next && next.error.code).toBe("OUT_OF_ORDER_SEQUENCE_NUMBER");
    expect("error" in next && next.error.details).toMatchObject({ expectedSequence: 1 });
    expect((await entries(ref)).filter((e) => e[0] === "batch")).toEqual([["batch", 0, 1]]);

    // The client resends in order: both land, in sequence order.
    const lost = acked(await produce(harness.broker, topic, producer, 1, records("lost", 2)));
    const after = acked(await produce(harness.broker, topic, producer, 3, records("next", 1)));
    expect(lost.duplicate || after.duplicate).toBe(false);
    expect(after.baseOffset).toBeGreaterThan(lost.lastOffset);
    expect((await fetchValues(topic)).map(([, v]) => v)).toEqual(["a-0", "lost-0", "lost-1", "next-0"]);
  });
});

describe("idempotent appends are plain writes", () => {
  it("one reservation, one claim and one batch put per append: no TransactWriteItems", async () => {
    const { topic } = await newTopic();
    const producer = await harness.broker.initProducer();
    acked(await produce(harness.broker, topic, producer, 0, records("w", 1)));
    harness.writes.reset();
    acked(await produce(harness.broker, topic, producer, 1, records("w", 5)));
    expect(Object.fromEntries(harness.writes.byCommand)).toEqual({ UpdateItemCommand: 2, PutItemCommand: 1 });
  });
});
