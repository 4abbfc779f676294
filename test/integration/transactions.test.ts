import { randomBytes } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import type { TransactionRecord } from "../../shared/core/transactions.js";
import type { TableNames } from "../../shared/storage/tables.js";
import { createTestBroker, createTestTables, serveApp, TestClock, timeoutError, topicName, type TestBroker } from "../support/broker.js";
import { jsonClient } from "../support/http.js";
import { uniqueName } from "../support/dynamodb.js";

let tables: TableNames;
let harness: TestBroker;

beforeAll(async () => {
  tables = await createTestTables("txn");
  harness = createTestBroker(tables);
});

const record = (topic: string, partition: number, value: string): TransactionRecord => ({ topic, partition, key: null, value: Buffer.from(value), headers: [] });

async function newTopic(partitions = 2): Promise<string> {
  const name = topicName("txn");
  await harness.broker.createTopic({ name, partitions });
  return name;
}

/** Every value in the partition, in offset order, plus the high watermark. */
async function contents(topic: string, partition: number, broker = harness) {
  const [result] = await broker.broker.fetch({ partitions: [{ topic, partition, offset: 0 }], maxRecords: 10_000 });
  if (!result || "error" in result) throw new Error(`fetch failed: ${JSON.stringify(result)}`);
  return { values: result.records.map((r) => Buffer.from(r.value!).toString()), highWatermark: result.highWatermark };
}

async function committed(group: string, topic: string): Promise<number[]> {
  return (await harness.broker.committedOffsets(group, topic)).map((p) => p.offset);
}

function cancellation(code: "TransactionConflict" | "ThrottlingError"): Error {
  return Object.assign(new Error(`Injected: transaction cancelled [${code}]`), {
    name: "TransactionCanceledException",
    CancellationReasons: Array.from({ length: 10 }, () => ({ Code: code })),
  });
}

describe("transactional id", () => {
  it("starts at epoch 0 and every init bumps the epoch of the same producer id", async () => {
    const id = uniqueName("tid");
    const first = await harness.broker.initProducer({ transactionalId: id });
    const second = await harness.broker.initProducer({ transactionalId: id });
    expect(first.epoch).toBe(0);
    expect(second).toEqual({ producerId: first.producerId, epoch: 1 });
  });

  it("converges when instances initialize concurrently: distinct epochs, one producer id", async () => {
    const id = uniqueName("tid");
    const inits = await Promise.all(Array.from({ length: 5 }, () => harness.broker.initProducer({ transactionalId: id })));
    expect(new Set(inits.map((i) => i.producerId)).size).toBe(1);
    expect(inits.map((i) => i.epoch).sort()).toEqual([0, 1, 2, 3, 4]);
  });
});

describe("commit", () => {
  it("makes records of several partitions and topics visible and commits offsets, all at once", async () => {
    const [input, output, audit] = [await newTopic(), await newTopic(), await newTopic(1)];
    const group = uniqueName("g");
    const result = await harness.broker.commitTransaction({
      records: [record(output, 0, "a"), record(output, 1, "b"), record(output, 0, "c"), record(audit, 0, "log")],
      offsets: { group, offsets: [{ topic: input, partition: 0, offset: 7 }, { topic: input, partition: 1, offset: 3, metadata: "m" }] },
    });
    expect(result.duplicate).toBe(false);
    expect(result.partitions).toEqual(
      expect.arrayContaining([
        { topic: output, partition: 0, baseOffset: 0, lastOffset: 1 },
        { topic: output, partition: 1, baseOffset: 0, lastOffset: 0 },
        { topic: audit, partition: 0, baseOffset: 0, lastOffset: 0 },
      ]),
    );
    expect((await contents(output, 0)).values).toEqual(["a", "c"]);
    expect((await contents(output, 1)).values).toEqual(["b"]);
    expect((await contents(audit, 0)).values).toEqual(["log"]);
    expect(await committed(group, input)).toEqual([7, 3]);
  });

  it("is one TransactWriteItems whether transactional or plain atomic", async () => {
    const output = await newTopic(3);
    const transactionalId = uniqueName("tid");
    const p = await harness.broker.initProducer({ transactionalId });
    harness.writes.reset();
    await harness.broker.commitTransaction({ transactionalId, producerId: p.producerId, producerEpoch: p.epoch, transactionSequence: 0, records: [0, 1, 2].map((i) => record(output, i, `v${i}`)) });
    expect(harness.writes.byCommand.get("TransactWriteItemsCommand")).toBe(1);
    expect(harness.writes.byCommand.get("PutItemCommand")).toBeUndefined();
    harness.writes.reset();
    await harness.broker.commitTransaction({ records: [0, 1, 2].map((i) => record(output, i, `w${i}`)) });
    expect(harness.writes.byCommand.get("TransactWriteItemsCommand")).toBe(1);
  });

  it("fences a zombie: after re-init the old epoch's commit is refused, writes nothing and leaves no gap", async () => {
    const [input, output] = [await newTopic(1), await newTopic(1)];
    const transactionalId = uniqueName("tid");
    const group = uniqueName("g");
    const zombie = await harness.broker.initProducer({ transactionalId });
    await harness.broker.commitTransaction({ transactionalId, producerId: zombie.producerId, producerEpoch: zombie.epoch, transactionSequence: 0, records: [record(output, 0, "z0")], offsets: { group, offsets: [{ topic: input, partition: 0, offset: 1 }] } });
    const successor = await harness.broker.initProducer({ transactionalId });

    // A commit of the zombie's, delayed in the network, arrives after the new instance started.
    const late = harness.broker.commitTransaction({ transactionalId, producerId: zombie.producerId, producerEpoch: zombie.epoch, transactionSequence: 1, records: [record(output, 0, "zombie")], offsets: { group, offsets: [{ topic: input, partition: 0, offset: 99 }] } });
    await expect(late).rejects.toMatchObject({ code: "PRODUCER_FENCED", retriable: false, outcome: "definite", details: { currentEpoch: successor.epoch } });
    expect(await committed(group, input)).toEqual([1]);

    // The new instance's first transaction is untouched by the zombie's attempt.
    const fresh = await harness.broker.commitTransaction({ transactionalId, producerId: successor.producerId, producerEpoch: successor.epoch, transactionSequence: 0, records: [record(output, 0, "s0")], offsets: { group, offsets: [{ topic: input, partition: 0, offset: 2 }] } });
    expect(fresh.duplicate).toBe(false);
    const out = await contents(output, 0);
    expect(out.values).toEqual(["z0", "s0"]);
    expect(out.highWatermark).toBe(2); // the fenced zombie was refused before it reserved any offset
    expect(await committed(group, input)).toEqual([2]);
  });

  it("answers a retry after a lost response with the original offsets and writes nothing more", async () => {
    const output = await newTopic(2);
    const transactionalId = uniqueName("tid");
    const p = await harness.broker.initProducer({ transactionalId });
    const commit = () => harness.broker.commitTransaction({ transactionalId, producerId: p.producerId, producerEpoch: p.epoch, transactionSequence: 0, records: [record(output, 0, "once"), record(output, 1, "once")] });

    harness.faults.once(/TransactWriteItems/, { kind: "drop-response", error: timeoutError() });
    const first = await commit(); // the broker finds its own batch at its base offset: committed
    const retry = await commit(); // the client never saw `first` and sends it again
    expect(retry.duplicate).toBe(true);
    expect(retry.partitions).toEqual(first.partitions);
    expect((await contents(output, 0)).values).toEqual(["once"]);
    expect((await contents(output, 1)).values).toEqual(["once"]);
    // The retry was answered before reserving anything: the next write follows densely.
    const after = await harness.broker.commitTransaction({ transactionalId, producerId: p.producerId, producerEpoch: p.epoch, transactionSequence: 1, records: [record(output, 0, "next")] });
    expect((await contents(output, 0)).values).toEqual(["once", "next"]);
    expect(after.partitions[0]!.baseOffset).toBe(1);
  });

  it.each(["TransactionConflict", "ThrottlingError"] as const)("survives injected %s cancellations: nothing visible, offsets unchanged, the retry lands once", async (code) => {
    const [input, output] = [await newTopic(1), await newTopic(2)];
    const transactionalId = uniqueName("tid");
    const group = uniqueName("g");
    const p = await harness.broker.initProducer({ transactionalId });
    const commit = () =>
      harness.broker.commitTransaction({ transactionalId, producerId: p.producerId, producerEpoch: p.epoch, transactionSequence: 0, records: [record(output, 0, "x"), record(output, 1, "y")], offsets: { group, offsets: [{ topic: input, partition: 0, offset: 5 }] } });
    // More cancellations than the broker's own retries absorb.
    harness.faults.once(/TransactWriteItems/, { kind: "fail-before", error: cancellation(code) }, 100);
    const refused = await commit().then(() => undefined, (error: unknown) => error);
    harness.faults.clear();
    expect(refused).toMatchObject({ code: code === "ThrottlingError" ? "STORAGE_THROTTLED" : "CONCURRENT_TRANSACTIONS", retriable: true, outcome: "definite" });
    expect(await contents(output, 0)).toEqual({ values: [], highWatermark: expect.any(Number) });
    expect((await contents(output, 1)).values).toEqual([]);
    expect(await committed(group, input)).toEqual([-1]);

    const retried = await commit();
    expect(retried.duplicate).toBe(false);
    expect((await contents(output, 0)).values).toEqual(["x"]);
    expect((await contents(output, 1)).values).toEqual(["y"]);
    expect(await committed(group, input)).toEqual([5]);
  });

  it("absorbs a single transaction conflict with its own retry: exactly one copy", async () => {
    const output = await newTopic(2);
    harness.faults.once(/TransactWriteItems/, { kind: "fail-before", error: cancellation("TransactionConflict") });
    const result = await harness.broker.commitTransaction({ records: [record(output, 0, "a"), record(output, 1, "b")] });
    expect(result.partitions.map((p) => p.baseOffset)).toEqual([0, 0]);
    expect((await contents(output, 0)).values).toEqual(["a"]);
    expect((await contents(output, 1)).values).toEqual(["b"]);
  });

  it("refuses sequence gaps and stale sequences", async () => {
    const output = await newTopic(1);
    const transactionalId = uniqueName("tid");
    const p = await harness.broker.initProducer({ transactionalId });
    const commit = (sequence: number, value: string) => harness.broker.commitTransaction({ transactionalId, producerId: p.producerId, producerEpoch: p.epoch, transactionSequence: sequence, records: [record(output, 0, value)] });
    await expect(commit(1, "gap")).rejects.toMatchObject({ code: "OUT_OF_ORDER_SEQUENCE_NUMBER", details: { expectedSequence: 0 } });
    await commit(0, "t0");
    await commit(1, "t1");
    await expect(commit(0, "stale")).rejects.toMatchObject({ code: "DUPLICATE_SEQUENCE_NUMBER" });
    expect((await contents(output, 0)).values).toEqual(["t0", "t1"]);
    // A transactional id never initialized has no producer id issued for it: p's id belongs to another.
    await expect(harness.broker.commitTransaction({ transactionalId: uniqueName("never"), producerId: p.producerId, producerEpoch: 0, transactionSequence: 0, records: [record(output, 0, "x")] })).rejects.toMatchObject({ code: "INVALID_PRODUCER_ID_MAPPING" });
    await expect(harness.broker.commitTransaction({ transactionalId, producerId: p.producerId, producerEpoch: p.epoch + 5, transactionSequence: 2, records: [record(output, 0, "x")] })).rejects.toMatchObject({ code: "INVALID_PRODUCER_EPOCH" });
  });
});

describe("group fencing (KIP-447)", () => {
  it("commits offsets only while the named member is current; a stale or expired member's whole transaction is refused", async () => {
    const clock = new TestClock();
    const lambda = createTestBroker(tables, { clock });
    const [input, output] = [await newTopic(2), await newTopic(1)];
    const group = uniqueName("g");
    const transactionalId = uniqueName("tid");
    const p = await lambda.broker.initProducer({ transactionalId });
    const member = await lambda.broker.heartbeat(group, { memberEpoch: 0, topics: [input], sessionTimeoutMs: 10_000 });
    let sequence = 0;
    const commit = (fence: { memberId?: string; memberEpoch?: number }, value: string, offset: number) =>
      lambda.broker.commitTransaction({
        transactionalId,
        producerId: p.producerId,
        producerEpoch: p.epoch,
        transactionSequence: sequence,
        records: [record(output, 0, value)],
        offsets: { group, ...fence, offsets: [{ topic: input, partition: 0, offset }] },
      });

    await commit({ memberId: member.memberId, memberEpoch: member.memberEpoch }, "current", 1);
    sequence++;
    await expect(commit({ memberId: member.memberId, memberEpoch: member.memberEpoch - 1 }, "stale", 2)).rejects.toMatchObject({ code: "STALE_MEMBER_EPOCH" });
    await expect(commit({}, "memberless", 3)).rejects.toMatchObject({ code: "NON_EMPTY_GROUP" });
    clock.advance(10_001); // the member's session expires: its late transaction is a zombie's
    await expect(commit({ memberId: member.memberId, memberEpoch: member.memberEpoch }, "expired", 4)).rejects.toMatchObject({ code: "UNKNOWN_MEMBER_ID" });

    expect((await contents(output, 0, lambda)).values).toEqual(["current"]);
    expect((await lambda.broker.committedOffsets(group, input)).map((o) => o.offset)).toEqual([1, -1]);
  });
});

describe("limits", () => {
  it("a transaction over 100 DynamoDB actions is staged (docs/transactions.md) and commits, with one commit TransactWriteItems", async () => {
    const output = await newTopic(120);
    harness.writes.reset();
    const records = Array.from({ length: 120 }, (_, i) => record(output, i, "x"));
    const result = await harness.broker.commitTransaction({ records });
    expect(result.partitions).toHaveLength(120);
    expect(harness.writes.byCommand.get("TransactWriteItemsCommand")).toBe(1);
    expect((await contents(output, 119)).values).toEqual(["x"]);
  });

  it("refuses, before writing anything, offsets that do not fit one commit", async () => {
    const output = await newTopic(2);
    const input = await newTopic(100);
    harness.writes.reset();
    const offsets = Array.from({ length: 100 }, (_, p) => ({ topic: input, partition: p, offset: 1 }));
    await expect(harness.broker.commitTransaction({ records: [record(output, 0, "x")], offsets: { group: uniqueName("g"), offsets } })).rejects.toMatchObject({
      code: "TRANSACTION_TOO_LARGE",
      details: { limit: "actions", maxActions: 100 },
    });
    expect(harness.writes.total).toBe(0);
  });

  it("a transaction over 4 MB is staged and commits", { timeout: 120_000 }, async () => {
    const output = await newTopic(12);
    // Incompressible values: the stored size is the raw size.
    const values = Array.from({ length: 12 }, () => randomBytes(350_000));
    const records = values.map((value, i) => ({ topic: output, partition: i, key: null, value, headers: [] }));
    const result = await harness.broker.commitTransaction({ records });
    expect(result.partitions).toHaveLength(12);
    const [fetched] = await harness.broker.fetch({ partitions: [{ topic: output, partition: 11, offset: 0 }], maxRecords: 1 });
    expect(fetched && "records" in fetched ? Buffer.from(fetched.records[0]!.value!).equals(values[11]!) : false).toBe(true);
  });
});

describe("over HTTP", () => {
  it("initializes a transactional producer and commits through POST /v1/transactions", async () => {
    const served = await serveApp(harness.app);
    try {
      const api = jsonClient(served.url);
      const output = await newTopic(2);
      const transactionalId = uniqueName("tid");
      const init = await api.post("/v1/producers", { transactionalId });
      expect(init.body).toEqual({ producerId: expect.any(Number), epoch: 0, transactionalId });
      const body = { transactionalId, producerId: init.body.producerId, producerEpoch: 0, transactionSequence: 0, encoding: "utf8", records: [{ topic: output, key: "k", value: "v" }] };
      const commit = await api.post("/v1/transactions", body);
      expect(commit.status).toBe(200);
      expect(commit.body).toMatchObject({ committed: true, duplicate: false, partitions: [{ topic: output, baseOffset: 0, lastOffset: 0 }] });
      const again = await api.post("/v1/transactions", body);
      expect(again.body).toMatchObject({ committed: true, duplicate: true, partitions: commit.body.partitions });
      await api.post("/v1/producers", { transactionalId });
      const fenced = await api.post("/v1/transactions", { ...body, transactionSequence: 1 });
      expect(fenced.status).toBe(409);
      expect(fenced.body.error).toMatchObject({ code: "PRODUCER_FENCED", retriable: false });
    } finally {
      await served.close();
    }
  });
});
