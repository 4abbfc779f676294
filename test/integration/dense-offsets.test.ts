/**
 * Offsets stay dense and nothing is written twice when the AWS SDK retries on its own (issue 11,
 * items 2, 3 and 7). The faults here sit INSIDE the SDK's retry loop: DynamoDB applies the request,
 * the response is lost, and the SDK sends the very same request again — the case a middleware above
 * the retry loop cannot show, and the one AWS produces when a connection drops after the write.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { FaultRequest } from "../../local/faults/dynamodb-faults.js";
import type { Broker } from "../../shared/core/broker.js";
import type { LogEntry, PartitionRef, Storage } from "../../shared/core/ports.js";
import type { PartitionProduceResult, ProduceRecord } from "../../shared/core/produce.js";
import { createDynamoStorage } from "../../shared/storage/dynamo-storage.js";
import type { TableNames } from "../../shared/storage/tables.js";
import { createTestBroker, createTestTables, topicName, type TestBroker } from "../support/broker.js";
import { uniqueName } from "../support/dynamodb.js";

type Acked = Extract<PartitionProduceResult, { baseOffset: number }>;

let tables: TableNames;
let harness: TestBroker;
let storage: Storage;

/**
 * Lose the response of the next request matching `commands`/`where`, after DynamoDB applied it,
 * inside the SDK's retry loop (so the SDK itself sends it again). Returns how many times it fired.
 */
function loseNextResponse(name: string, commands: RegExp, where?: (request: FaultRequest) => boolean): () => number {
  harness.chaos.addRule({ name, commands, where, placement: "inside-retries", action: { kind: "drop-response" }, times: 1 });
  return () => harness.chaos.decisions.filter((d) => d.rule === name).length;
}

beforeAll(async () => {
  tables = await createTestTables("dense");
  harness = createTestBroker(tables);
  storage = createDynamoStorage(createTestBroker(tables).client, tables);
});

const text = (value: string): ProduceRecord => ({ key: null, value: Buffer.from(value), headers: [] });
const isReservation = (request: FaultRequest) => String(request.input["UpdateExpression"]).startsWith("ADD #next");
/** The idempotent producer's sequence claim (shared/storage/producer-state.ts). */
const isClaim = (request: FaultRequest) => String(request.input["UpdateExpression"]).startsWith("SET e = :e");
const isBatchPut = (request: FaultRequest) => JSON.stringify((request.input["Item"] as { k?: unknown } | undefined)?.k) === JSON.stringify({ S: "B" });

async function newTopic(): Promise<{ topic: string; ref: PartitionRef }> {
  const topic = topicName("dense");
  const created = await harness.broker.createTopic({ name: topic, partitions: 1 });
  return { topic, ref: { topicId: created.topicId, partition: 0 } };
}

function acked(result: PartitionProduceResult | undefined): Acked {
  if (!result || "error" in result) throw new Error(`expected an acknowledgement, got ${JSON.stringify(result)}`);
  return result;
}

async function produce(topic: string, values: readonly string[], broker: Broker = harness.broker): Promise<Acked> {
  return acked((await broker.produce({ topic, partitions: [{ partition: 0, records: values.map(text) }] })).partitions[0]);
}

async function produceIdempotent(topic: string, producer: { producerId: number; epoch: number }, baseSequence: number, values: readonly string[]): Promise<Acked> {
  return acked((await harness.broker.produce({ topic, producer, partitions: [{ partition: 0, baseSequence, records: values.map(text) }] })).partitions[0]);
}

async function logEntries(ref: PartitionRef): Promise<[LogEntry["kind"], number, number][]> {
  const { entries } = await storage.log.entriesFrom(ref, 0, 1_000);
  return entries.map((e) => [e.kind, e.baseOffset, e.count]);
}

/** Every record's [offset, value] and the high watermark, read at once (no clock moves: no hole filling). */
async function readAll(topic: string): Promise<{ records: [number, string][]; highWatermark: number }> {
  const [result] = await harness.broker.fetch({ partitions: [{ topic, partition: 0, offset: 0 }], maxRecords: 10_000 });
  if (!result || "error" in result) throw new Error(`fetch failed: ${JSON.stringify(result)}`);
  return { records: result.records.map((r) => [r.offset, Buffer.from(r.value!).toString()]), highWatermark: result.highWatermark };
}

describe("lost responses inside the SDK's retry loop", () => {
  it("a plain produce's PutItem applied twice by the SDK is stored once (the retry finds its own batch)", async () => {
    const { topic, ref } = await newTopic();
    await produce(topic, ["first"]);
    // Inside the retry loop the input is already marshalled: { k: { S: "B" } } is a batch item.
    const fired = loseNextResponse(uniqueName("put"), /^PutItemCommand$/, (r) => JSON.stringify((r.input["Item"] as Record<string, unknown>)["k"]) === '{"S":"B"}');
    expect(await produce(topic, ["only-once"])).toEqual({ partition: 0, baseOffset: 1, lastOffset: 1, recordCount: 1, duplicate: false });
    expect(fired()).toBe(1); // applied, response lost: the success came from the SDK's second attempt
    expect(await logEntries(ref)).toEqual([
      ["batch", 0, 1],
      ["batch", 1, 1],
    ]);
    expect(await readAll(topic)).toEqual({ records: [[0, "first"], [1, "only-once"]], highWatermark: 2 });
  });

  it("a reservation applied twice by the SDK takes one range: no hole for readers to wait on", async () => {
    const { topic, ref } = await newTopic();
    await produce(topic, ["first"]);
    const fired = loseNextResponse(uniqueName("reserve"), /^UpdateItemCommand$/, isReservation);
    expect(await produce(topic, ["a", "b"])).toMatchObject({ baseOffset: 1, lastOffset: 2 });
    expect(fired()).toBe(1);
    expect(await produce(topic, ["c"])).toMatchObject({ baseOffset: 3 });
    expect((await storage.log.readHead(ref)).nextOffset).toBe(4);
    expect(await readAll(topic)).toEqual({ records: [[0, "first"], [1, "a"], [2, "b"], [3, "c"]], highWatermark: 4 });
    // The retried reservation's bytes were added once, like its offsets.
    const { entries } = await storage.log.entriesFrom(ref, 0, 100);
    expect((await storage.log.readHead(ref)).bytesWritten).toBe(entries.reduce((sum, e) => sum + (e.kind === "batch" ? e.blob.length : 0), 0));
  });

  it("an idempotent claim applied twice by the SDK: the retry finds its own claim at its own offsets and goes on", async () => {
    const { topic, ref } = await newTopic();
    const producer = await harness.broker.initProducer();
    await produceIdempotent(topic, producer, 0, ["a"]);
    const fired = loseNextResponse(uniqueName("claim"), /^UpdateItemCommand$/, isClaim);
    expect(await produceIdempotent(topic, producer, 1, ["x", "y"])).toMatchObject({ baseOffset: 1, lastOffset: 2, duplicate: false });
    expect(fired()).toBe(1);
    expect(await produceIdempotent(topic, producer, 3, ["z"])).toMatchObject({ baseOffset: 3, duplicate: false });
    expect(await produceIdempotent(topic, producer, 1, ["x", "y"])).toMatchObject({ baseOffset: 1, duplicate: true });
    expect(await logEntries(ref)).toEqual([
      ["batch", 0, 1],
      ["batch", 1, 2],
      ["batch", 3, 1],
    ]);
  });

  it("an idempotent batch put applied twice by the SDK is stored once (the retry meets its own batch)", async () => {
    const { topic, ref } = await newTopic();
    const producer = await harness.broker.initProducer();
    const fired = loseNextResponse(uniqueName("append"), /^PutItemCommand$/, isBatchPut);
    expect(await produceIdempotent(topic, producer, 0, ["x", "y"])).toMatchObject({ baseOffset: 0, lastOffset: 1, duplicate: false });
    expect(fired()).toBe(1);
    expect(await produceIdempotent(topic, producer, 2, ["z"])).toMatchObject({ baseOffset: 2, duplicate: false });
    expect(await logEntries(ref)).toEqual([
      ["batch", 0, 2],
      ["batch", 2, 1],
    ]);
  });
});

describe("refused and duplicate requests do not consume offsets", () => {
  it("four duplicate sends of a 3-record batch: the next batch follows at offset 3", async () => {
    const { topic, ref } = await newTopic();
    const producer = await harness.broker.initProducer();
    const original = await produceIdempotent(topic, producer, 0, ["d0", "d1", "d2"]);
    for (let i = 0; i < 4; i++) expect(await produceIdempotent(topic, producer, 0, ["d0", "d1", "d2"])).toEqual({ ...original, duplicate: true });
    expect(await produceIdempotent(topic, producer, 3, ["next"])).toMatchObject({ baseOffset: 3, duplicate: false });
    expect(await logEntries(ref)).toEqual([
      ["batch", 0, 3],
      ["batch", 3, 1],
    ]);
  });

  it("a reservation is given back only while it is the latest; otherwise it is voided, never reused", async () => {
    const { ref } = await newTopic();
    const now = Date.now();
    const first = (await storage.log.reserve(ref, 3, now))!;
    const second = (await storage.log.reserve(ref, 2, now))!;
    expect([first, second]).toEqual([0, 3]);
    expect(await storage.log.releaseReservation(ref, first, 3)).toBe(false); // someone reserved after it
    expect(await storage.log.releaseReservation(ref, second, 2)).toBe(true);
    expect((await storage.log.readHead(ref)).nextOffset).toBe(3);
    expect(await storage.log.reserve(ref, 1, now)).toBe(3); // the released offsets are handed out again
  });

  it("a refused append that raced a later reservation voids its range; the later writer is read at once", async () => {
    const { topic, ref } = await newTopic();
    const producer = await harness.broker.initProducer();
    await produceIdempotent(topic, producer, 0, ["ok"]);
    // Between the refused request's reservation and its (failing) append, another writer (another
    // broker instance, on its own client) reserves and writes: a forced interleaving, no timing.
    const other = createTestBroker(tables);
    let raced: Promise<Acked> | undefined;
    harness.chaos.beforeCommand(/^UpdateItemCommand$/, async () => {
      raced = produce(topic, ["racer"], other.broker);
      await raced;
    }, { where: isClaim });
    const gap = await harness.broker.produce({ topic, producer, partitions: [{ partition: 0, baseSequence: 5, records: [text("gap")] }] });
    expect(gap.partitions[0]).toMatchObject({ error: { code: "OUT_OF_ORDER_SEQUENCE_NUMBER" } });
    expect((await raced!).baseOffset).toBe(2); // the refused request held offset 1
    // The refused range could not be given back (a later reservation existed), so it was voided:
    // no reader waits on it, and offset 1 is never handed out again.
    expect(await logEntries(ref)).toEqual([
      ["batch", 0, 1],
      ["void", 1, 1],
      ["batch", 2, 1],
    ]);
    expect(await readAll(topic)).toEqual({ records: [[0, "ok"], [2, "racer"]], highWatermark: 3 });
  });
});

describe("atomic offset-only transactions (no transactional id)", () => {
  it("six concurrent commits to six groups all succeed (their idempotency tokens differ)", async () => {
    const { topic } = await newTopic();
    const groups = Array.from({ length: 6 }, () => uniqueName("g"));
    await Promise.all(groups.map((group, i) => harness.broker.commitTransaction({ records: [], offsets: { group, offsets: [{ topic, partition: 0, offset: 0 }] } }).then(() => i)));
    for (const group of groups) expect((await harness.broker.committedOffsets(group, topic)).map((o) => o.offset)).toEqual([0]);
  });

  it("the same offsets committed again after another commit are written again", async () => {
    const { topic } = await newTopic();
    await produce(topic, ["a", "b", "c", "d", "e", "f", "g", "h"]);
    const group = uniqueName("g");
    const commit = (offset: number) => harness.broker.commitTransaction({ records: [], offsets: { group, offsets: [{ topic, partition: 0, offset }] } });
    await commit(5);
    await commit(7);
    await commit(5); // identical to the first request: must not be answered from an old token
    expect((await harness.broker.committedOffsets(group, topic)).map((o) => o.offset)).toEqual([5]);
  });
});
