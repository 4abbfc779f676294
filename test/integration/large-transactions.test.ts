/**
 * Transactions larger than one TransactWriteItems (docs/transactions.md): batch items staged under
 * an attempt id, one small commit TransactWriteItems with the commit record; readers stop at
 * undecided staged items and abort abandoned ones after the hole timeout (a TestClock here).
 */
import { randomBytes } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import type { Broker } from "../../shared/core/broker.js";
import { mapWithConcurrency } from "../../shared/core/topics.js";
import type { TransactionRecord } from "../../shared/core/transactions.js";
import type { TableNames } from "../../shared/storage/tables.js";
import { createTestBroker, createTestTables, serveApp, TestClock, timeoutError, topicName, type TestBroker } from "../support/broker.js";
import { uniqueName } from "../support/dynamodb.js";
import { jsonClient } from "../support/http.js";

const HOLE_TIMEOUT_MS = 10_000;
/** More partitions than one TransactWriteItems can hold batch items for. */
const WIDE = 120;

let tables: TableNames;

beforeAll(async () => {
  tables = await createTestTables("ltx");
});

/** A writer instance and a reader instance over the same tables and the same manual clock. */
function instances(): { clock: TestClock; writer: TestBroker; reader: TestBroker } {
  const clock = new TestClock();
  const config = { holeTimeoutMs: HOLE_TIMEOUT_MS };
  return { clock, writer: createTestBroker(tables, { clock, config }), reader: createTestBroker(tables, { clock, config }) };
}

const record = (topic: string, partition: number, value: string): TransactionRecord => ({ topic, partition, key: null, value: Buffer.from(value), headers: [] });
const wideRecords = (topic: string, tag: string) => Array.from({ length: WIDE }, (_, p) => record(topic, p, `${tag}-${p}`));

async function newTopic(broker: Broker, partitions: number): Promise<string> {
  const name = topicName("ltx");
  await broker.createTopic({ name, partitions });
  return name;
}

/** Values of one partition from offset 0, the next offset and the high watermark, as a consumer sees them. */
async function read(broker: Broker, topic: string, partition: number) {
  const [result] = await broker.fetch({ partitions: [{ topic, partition, offset: 0 }], maxRecords: 10_000 });
  if (!result || "error" in result) throw new Error(`fetch failed: ${JSON.stringify(result)}`);
  return { values: result.records.map((r) => Buffer.from(r.value!).toString()), nextOffset: result.nextOffset, highWatermark: result.highWatermark };
}

/** Every partition's values, in partition order. */
async function readAll(broker: Broker, topic: string, partitions = WIDE): Promise<string[][]> {
  return mapWithConcurrency(Array.from({ length: partitions }, (_, p) => p), 8, async (p) => (await read(broker, topic, p)).values);
}

/** "The Lambda died here": the first request matching `at` and every later one fail before being sent, or (after: true) every request after it. */
function dieAt(lambda: TestBroker, at: RegExp, options: { after?: boolean } = {}): void {
  let dead = false;
  lambda.chaos.beforeCommand(
    /.*/,
    (request) => {
      if (dead) throw new Error("injected: the instance died");
      if (at.test(request.command)) {
        dead = true;
        if (!options.after) throw new Error("injected: the instance died");
      }
    },
    { times: Number.POSITIVE_INFINITY },
  );
}

async function transactionalProducer(broker: Broker) {
  const transactionalId = uniqueName("ltx-tid");
  const { producerId, epoch } = await broker.initProducer({ transactionalId });
  return { transactionalId, producerId, producerEpoch: epoch, transactionSequence: 0 };
}

describe("a transaction larger than one TransactWriteItems", () => {
  it("commits atomically with ONE commit TransactWriteItems, with its offsets", { timeout: 120_000 }, async () => {
    const { writer, reader } = instances();
    const output = await newTopic(writer.broker, WIDE);
    const input = await newTopic(writer.broker, 2);
    const group = uniqueName("ltx-g");
    const producer = await transactionalProducer(writer.broker);
    writer.writes.reset();
    const result = await writer.broker.commitTransaction({ ...producer, records: wideRecords(output, "v"), offsets: { group, offsets: [{ topic: input, partition: 0, offset: 5 }, { topic: input, partition: 1, offset: 9 }] } });
    expect(result.duplicate).toBe(false);
    expect(result.partitions).toHaveLength(WIDE);
    expect(writer.writes.byCommand.get("TransactWriteItemsCommand")).toBe(1);
    expect(await readAll(reader.broker, output)).toEqual(Array.from({ length: WIDE }, (_, p) => [`v-${p}`]));
    expect((await reader.broker.committedOffsets(group, input)).map((o) => o.offset)).toEqual([5, 9]);
    // The batch items stay staged; their attempt's commit record is what makes them count.
    const topic = await writer.storage.topics.get(output);
    const entry = await writer.storage.log.entryAt({ topicId: topic!.topicId, partition: 7 }, 0);
    expect(entry).toMatchObject({ kind: "batch", count: 1, staged: { attempt: expect.any(String) } });
    const attempt = entry?.kind === "batch" ? entry.staged?.attempt : undefined;
    expect(await writer.storage.staged.readDecision(attempt!)).toBe("committed");
    // Staged batches count in the partition's bytes written like any other (their reservation added them).
    const described = await reader.broker.describeTopic(output);
    expect(described.partitions[7]).toMatchObject({ bytesWritten: entry?.kind === "batch" ? entry.blob.length : -1, retainedBytesEstimate: entry?.kind === "batch" ? entry.blob.length : -1 });
  });

  it("shows a concurrent reader nothing at or past the staged range until the commit, then everything in order", { timeout: 120_000 }, async () => {
    const { writer, reader } = instances();
    const output = await newTopic(writer.broker, WIDE);
    await reader.broker.produce({ topic: output, records: [{ partition: 0, key: null, value: Buffer.from("before"), headers: [] }] });
    let during: { values: string[]; nextOffset: number; highWatermark: number } | undefined;
    let otherDuring: string[][] = [];
    const hook = writer.chaos.beforeCommand(/TransactWriteItems/, async () => {
      // Staged, not committed: a plain append lands after the staged range.
      await reader.broker.produce({ topic: output, records: [{ partition: 0, key: null, value: Buffer.from("after"), headers: [] }] });
      during = await read(reader.broker, output, 0);
      otherDuring = await readAll(reader.broker, output, 5);
    });
    await writer.broker.commitTransaction({ records: wideRecords(output, "t") });
    await hook.fired;
    expect(during).toEqual({ values: ["before"], nextOffset: 1, highWatermark: 1 });
    expect(otherDuring).toEqual([["before"], [], [], [], []]);
    expect((await read(reader.broker, output, 0)).values).toEqual(["before", "t-0", "after"]);
    expect((await readAll(reader.broker, output)).slice(1)).toEqual(Array.from({ length: WIDE - 1 }, (_, p) => [`t-${p + 1}`]));
  });

  it("killed after staging, before the commit: readers wait, abort it after the hole timeout, and never deliver any of it; the retry proceeds", { timeout: 120_000 }, async () => {
    const { clock, writer, reader } = instances();
    const output = await newTopic(writer.broker, WIDE);
    const producer = await transactionalProducer(writer.broker);
    const dying = createTestBroker(tables, { clock, config: { holeTimeoutMs: HOLE_TIMEOUT_MS } });
    dieAt(dying, /TransactWriteItems/);
    await expect(dying.broker.commitTransaction({ ...producer, records: wideRecords(output, "dead") })).rejects.toThrow();
    await reader.broker.produce({ topic: output, records: [{ partition: 0, key: null, value: Buffer.from("other"), headers: [] }] });
    expect(await read(reader.broker, output, 0)).toMatchObject({ values: [], nextOffset: 0 });
    // The client retries the same transaction on another instance: a new attempt, after the dead one.
    const retry = await writer.broker.commitTransaction({ ...producer, records: wideRecords(output, "live") });
    expect(retry.duplicate).toBe(false);
    expect(await read(reader.broker, output, 0)).toMatchObject({ values: [], nextOffset: 0 });
    clock.advance(HOLE_TIMEOUT_MS + 1);
    expect((await read(reader.broker, output, 0)).values).toEqual(["other", "live-0"]);
    const all = await readAll(reader.broker, output);
    expect(all.flat().filter((v) => v.startsWith("dead"))).toEqual([]);
    expect(all.slice(1)).toEqual(Array.from({ length: WIDE - 1 }, (_, p) => [`live-${p + 1}`]));
    // The reader wrote the dead attempt's abort: no commit can land for it any more.
    const topic = await writer.storage.topics.get(output);
    const dead = await writer.storage.log.entryAt({ topicId: topic!.topicId, partition: 3 }, 0);
    const attempt = dead?.kind === "batch" ? dead.staged?.attempt : undefined;
    expect(attempt).toEqual(expect.any(String));
    expect(await writer.storage.staged.readDecision(attempt!)).toBe("aborted");
  });

  it("killed right after the commit TransactWriteItems, before answering: delivered exactly once, and the retry is answered from the first result", { timeout: 120_000 }, async () => {
    const { clock, writer, reader } = instances();
    const output = await newTopic(writer.broker, WIDE);
    const producer = await transactionalProducer(writer.broker);
    const dying = createTestBroker(tables, { clock, config: { holeTimeoutMs: HOLE_TIMEOUT_MS } });
    // Every request after the commit fails: the commit needs none (its result is what the client never saw).
    dieAt(dying, /TransactWriteItems/, { after: true });
    const first = await dying.broker.commitTransaction({ ...producer, records: wideRecords(output, "c") });
    const topic = await writer.storage.topics.get(output);
    expect(await writer.storage.log.entryAt({ topicId: topic!.topicId, partition: 4 }, 0)).toMatchObject({ staged: { attempt: expect.any(String) } });
    const again = await writer.broker.commitTransaction({ ...producer, records: wideRecords(output, "c") });
    expect(again).toMatchObject({ duplicate: true, partitions: first.partitions });
    expect(await readAll(reader.broker, output)).toEqual(Array.from({ length: WIDE }, (_, p) => [`c-${p}`]));
    // Long after, still once (the decision is what counts, not the clock).
    clock.advance(HOLE_TIMEOUT_MS + 1);
    expect(await readAll(reader.broker, output)).toEqual(Array.from({ length: WIDE }, (_, p) => [`c-${p}`]));
    // Readers write no batch items: it stays staged, decided by its commit record.
    const entry = await writer.storage.log.entryAt({ topicId: topic!.topicId, partition: 4 }, 0);
    const attempt = entry?.kind === "batch" ? entry.staged?.attempt : undefined;
    expect(await writer.storage.staged.readDecision(attempt!)).toBe("committed");
  });

  it("5,000 records over 20 partitions (5 MB) with offsets for 20 partitions, killed after staging half: never seen; the next attempt with the same id proceeds", { timeout: 180_000 }, async () => {
    const { clock, writer, reader } = instances();
    const output = await newTopic(writer.broker, 20);
    const input = await newTopic(writer.broker, 20);
    const group = uniqueName("ltx-g");
    const producer = await transactionalProducer(writer.broker);
    // 1 KB incompressible values: 250 KB per partition, 5 MB in all — more than one TransactWriteItems holds.
    const records = Array.from({ length: 5_000 }, (_, i) => ({ topic: output, partition: i % 20, key: null, value: Buffer.concat([Buffer.from(`r${i}:`), randomBytes(1_000)]), headers: [] }));
    const offsets = { group, offsets: Array.from({ length: 20 }, (_, partition) => ({ topic: input, partition, offset: 1 })) };
    const dying = createTestBroker(tables, { clock, config: { holeTimeoutMs: HOLE_TIMEOUT_MS } });
    let staged = 0;
    dying.chaos.beforeCommand(
      /PutItem/,
      () => {
        if (++staged > 10) throw new Error("injected: the instance died after staging half");
      },
      { times: Number.POSITIVE_INFINITY, where: (r) => r.input["TableName"] === tables.log },
    );
    await expect(dying.broker.commitTransaction({ ...producer, records, offsets })).rejects.toThrow();
    expect((await readAll(reader.broker, output, 20)).flat()).toEqual([]);
    expect((await reader.broker.committedOffsets(group, input)).filter((o) => o.offset >= 0)).toEqual([]);
    const result = await writer.broker.commitTransaction({ ...producer, records, offsets });
    expect(result.duplicate).toBe(false);
    expect((await readAll(reader.broker, output, 20)).flat()).toEqual([]); // the dead attempt's staging comes first
    clock.advance(HOLE_TIMEOUT_MS + 1);
    const seen = await readAll(reader.broker, output, 20);
    expect(seen.map((values) => values.length)).toEqual(Array.from({ length: 20 }, () => 250));
    expect(seen.flat().map((v) => Number(v.slice(1, v.indexOf(":")))).sort((a, b) => a - b)).toEqual(Array.from({ length: 5_000 }, (_, i) => i));
    expect((await reader.broker.committedOffsets(group, input)).map((o) => o.offset)).toEqual(Array.from({ length: 20 }, () => 1));
  });

  it("a lost response on the commit TransactWriteItems: the committer finds its commit record; a client retry answers the first result; output exactly once", { timeout: 120_000 }, async () => {
    const { writer, reader } = instances();
    const output = await newTopic(writer.broker, WIDE);
    const producer = await transactionalProducer(writer.broker);
    writer.faults.once(/TransactWriteItems/, { kind: "drop-response", error: timeoutError() });
    const first = await writer.broker.commitTransaction({ ...producer, records: wideRecords(output, "l") });
    expect(first.duplicate).toBe(false);
    const again = await reader.broker.commitTransaction({ ...producer, records: wideRecords(output, "l") });
    expect(again).toMatchObject({ duplicate: true, partitions: first.partitions });
    expect(await readAll(reader.broker, output)).toEqual(Array.from({ length: WIDE }, (_, p) => [`l-${p}`]));
  });

  it("a zombie (fenced epoch) cannot commit: refused before staging, or fenced at the commit and its staging aborted", { timeout: 120_000 }, async () => {
    const { writer, reader } = instances();
    const output = await newTopic(writer.broker, WIDE);
    const zombie = await transactionalProducer(writer.broker);
    // Fenced while it stages: the commit's transactional-id condition fails.
    const hook = writer.chaos.beforeCommand(/TransactWriteItems/, async () => {
      await reader.broker.initProducer({ transactionalId: zombie.transactionalId });
    });
    await expect(writer.broker.commitTransaction({ ...zombie, records: wideRecords(output, "z") })).rejects.toMatchObject({ code: "PRODUCER_FENCED" });
    await hook.fired;
    // Its own abort is written at once: nothing to wait for.
    expect(await read(reader.broker, output, 0)).toMatchObject({ values: [], nextOffset: 1, highWatermark: 1 });
    // Fenced before it starts: nothing written at all.
    writer.writes.reset();
    await expect(writer.broker.commitTransaction({ ...zombie, transactionSequence: 0, records: wideRecords(output, "z2") })).rejects.toMatchObject({ code: "PRODUCER_FENCED" });
    expect(writer.writes.total).toBe(0);
    expect((await readAll(reader.broker, output)).flat()).toEqual([]);
  });

  it("refuses offsets beyond what one commit holds, before writing anything", async () => {
    const { writer } = instances();
    const output = await newTopic(writer.broker, WIDE);
    const input = await newTopic(writer.broker, 100);
    writer.writes.reset();
    const offsets = Array.from({ length: 100 }, (_, p) => ({ topic: input, partition: p, offset: 1 }));
    await expect(writer.broker.commitTransaction({ records: wideRecords(output, "x"), offsets: { group: uniqueName("ltx-g"), offsets } })).rejects.toMatchObject({
      code: "TRANSACTION_TOO_LARGE",
      details: { limit: "actions", actions: 102, maxActions: 100 },
    });
    expect(writer.writes.total).toBe(0);
  });

  it("the compactor neither removes nor counts undecided staged data", { timeout: 120_000 }, async () => {
    const { writer, reader } = instances();
    const wide = await newTopic(writer.broker, WIDE);
    const compacted = topicName("ltx-cmp");
    await writer.broker.createTopic({ name: compacted, partitions: 1, cleanupPolicy: "compact", minCompactionLagMs: 0 });
    const keyed = (value: string) => ({ topic: compacted, partition: 0, key: Buffer.from("k"), value: Buffer.from(value), headers: [] });
    await writer.broker.produce({ topic: compacted, records: [{ partition: 0, key: Buffer.from("k"), value: Buffer.from("v1"), headers: [] }] });
    let during: Awaited<ReturnType<Broker["compactTopic"]>> | undefined;
    const hook = writer.chaos.beforeCommand(/TransactWriteItems/, async () => {
      during = await reader.broker.compactTopic(compacted);
    });
    await writer.broker.commitTransaction({ records: [...wideRecords(wide, "w"), keyed("v2")] });
    await hook.fired;
    expect(during!.partitions[0]).toMatchObject({ scannedRecords: 1, removedRecords: 0, cleanedUpTo: 1 });
    expect((await read(reader.broker, compacted, 0)).values).toEqual(["v1", "v2"]);
    const after = await reader.broker.compactTopic(compacted);
    expect(after.partitions[0]).toMatchObject({ removedRecords: 1 });
    expect((await read(reader.broker, compacted, 0)).values).toEqual(["v2"]);
  });
});

describe("over HTTP", () => {
  it("POST /v1/transactions commits a transaction over more partitions than one TransactWriteItems holds", { timeout: 120_000 }, async () => {
    const { writer, reader } = instances();
    const served = await serveApp(writer.app);
    try {
      const api = jsonClient(served.url);
      const output = await newTopic(writer.broker, WIDE);
      const transactionalId = uniqueName("ltx-http");
      const init = await api.post("/v1/producers", { transactionalId });
      const records = Array.from({ length: WIDE }, (_, p) => ({ topic: output, partition: p, value: `h-${p}` }));
      const body = { transactionalId, producerId: init.body.producerId, producerEpoch: 0, transactionSequence: 0, encoding: "utf8", records };
      const commit = await api.post("/v1/transactions", body);
      expect(commit.status).toBe(200);
      expect(commit.body).toMatchObject({ committed: true, duplicate: false });
      expect(commit.body.partitions).toHaveLength(WIDE);
      const again = await api.post("/v1/transactions", body);
      expect(again.body).toMatchObject({ committed: true, duplicate: true });
      const fetched = await api.post("/v1/fetch", { encoding: "utf8", partitions: [{ topic: output, partition: 99, offset: 0 }] });
      expect(fetched.status).toBe(200);
      expect(JSON.stringify(fetched.body)).toContain("h-99");
      expect(await readAll(reader.broker, output)).toEqual(Array.from({ length: WIDE }, (_, p) => [`h-${p}`]));
    } finally {
      await served.close();
    }
  });
});
