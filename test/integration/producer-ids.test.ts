/**
 * Producer ids as issued records, through the broker core on DynamoDB Local: the principal is a
 * plain argument of the core; a warm instance reads an id's record once (strongly consistent) and
 * re-reads only for an epoch above the one it remembers; a transactional id initialized by another
 * principal moves to a fresh producer id, so bindings never change.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { ProduceRecord } from "../../shared/core/produce.js";
import type { TableNames } from "../../shared/storage/tables.js";
import { createTestBroker, createTestTables, topicName, type TestBroker } from "../support/broker.js";
import { uniqueName } from "../support/dynamodb.js";

let tables: TableNames;

beforeAll(async () => {
  tables = await createTestTables("pid-core");
});

const text = (value: string): ProduceRecord => ({ key: null, value: Buffer.from(value), headers: [] });

/** A broker instance (a warm Lambda) that counts its reads of producer-id records. */
function instance(): TestBroker & { readonly issueReads: { count: number; consistent: boolean[] } } {
  const harness = createTestBroker(tables);
  const issueReads = { count: 0, consistent: [] as boolean[] };
  harness.faults.add((command, input) => {
    // The document client's input, not yet marshalled.
    const key = input["Key"] as { pk?: unknown } | undefined;
    if (command === "GetItemCommand" && input["TableName"] === tables.producers && String(key?.pk).startsWith("pid#")) {
      issueReads.count++;
      issueReads.consistent.push(input["ConsistentRead"] === true);
    }
    return undefined;
  });
  return { ...harness, issueReads };
}

async function newTopic(harness: TestBroker): Promise<string> {
  const topic = topicName("pid-core");
  await harness.broker.createTopic({ name: topic, partitions: 1 });
  return topic;
}

async function values(harness: TestBroker, topic: string): Promise<string[]> {
  const [result] = await harness.broker.fetch({ partitions: [{ topic, partition: 0, offset: 0 }] });
  if (!result || "error" in result) throw new Error("fetch failed");
  return result.records.map((r) => Buffer.from(r.value ?? new Uint8Array()).toString());
}

describe("the core binds producer ids to the principal passed to it", () => {
  it("refuses another principal's idempotent producer id before writing; the owner's batch is stored", async () => {
    const a = instance();
    const topic = await newTopic(a);
    const alice = await a.broker.initProducer({ principal: "User:alice" });
    const produce = (principal: string | undefined, value: string) =>
      a.broker.produce({ topic, producer: alice, principal, partitions: [{ partition: 0, baseSequence: 0, records: [text(value)] }] });
    a.writes.reset();
    await expect(produce("User:mallory", "mallory")).rejects.toMatchObject({ code: "PRODUCER_ID_AUTHORIZATION_FAILED", status: 403 });
    await expect(produce(undefined, "anonymous")).rejects.toMatchObject({ code: "PRODUCER_ID_AUTHORIZATION_FAILED" });
    expect(a.writes.total).toBe(0);
    const result = await produce("User:alice", "alice");
    expect(result.partitions[0]).toMatchObject({ baseOffset: 0, duplicate: false });
    expect(await values(a, topic)).toEqual(["alice"]);
  });

  it("another principal's init of a transactional id gets a fresh producer id; the old one stays bound to its owner", async () => {
    const a = instance();
    const topic = await newTopic(a);
    const transactionalId = uniqueName("pid-core-tx");
    const commit = (principal: string, producer: { producerId: number; epoch: number }, value: string) =>
      a.broker.commitTransaction({ transactionalId, producerId: producer.producerId, producerEpoch: producer.epoch, transactionSequence: 0, principal, records: [{ topic, partition: 0, ...text(value) }] });
    const alice = await a.broker.initProducer({ transactionalId, principal: "User:alice" });
    const aliceAgain = await a.broker.initProducer({ transactionalId, principal: "User:alice" });
    expect(aliceAgain).toEqual({ producerId: alice.producerId, epoch: alice.epoch + 1 });
    const bob = await a.broker.initProducer({ transactionalId, principal: "User:bob" });
    expect(bob.producerId).not.toBe(alice.producerId);
    expect(bob.epoch).toBe(0);

    a.writes.reset();
    await expect(commit("User:bob", aliceAgain, "bob with alice's id")).rejects.toMatchObject({ code: "PRODUCER_ID_AUTHORIZATION_FAILED" });
    await expect(commit("User:alice", bob, "alice with bob's id")).rejects.toMatchObject({ code: "PRODUCER_ID_AUTHORIZATION_FAILED" });
    expect(a.writes.total).toBe(0);
    await expect(commit("User:alice", aliceAgain, "zombie")).rejects.toMatchObject({ code: "PRODUCER_FENCED" });
    await commit("User:bob", bob, "bob");
    expect(await values(a, topic)).toEqual(["bob"]);
  });
});

describe("a warm instance verifies a producer id once", () => {
  it("reads the record strongly consistently on first use, then not again for the same epoch", async () => {
    const [a, b] = [instance(), instance()];
    const topic = await newTopic(a);
    const producer = await a.broker.initProducer();
    for (let sequence = 0; sequence < 3; sequence++) {
      await a.broker.produce({ topic, producer, partitions: [{ partition: 0, baseSequence: sequence, records: [text(`a${sequence}`)] }] });
    }
    expect(a.issueReads.count).toBe(0); // the instance that issued the id knows it
    // Another instance proves it for itself, once.
    for (let sequence = 3; sequence < 5; sequence++) {
      await b.broker.produce({ topic, producer, partitions: [{ partition: 0, baseSequence: sequence, records: [text(`b${sequence}`)] }] });
    }
    expect(b.issueReads).toEqual({ count: 1, consistent: [true] });
    expect(await values(a, topic)).toEqual(["a0", "a1", "a2", "b3", "b4"]);
  });

  it("re-reads when a request's epoch passes the remembered one (raised on another instance)", async () => {
    const [a, b] = [instance(), instance()];
    const topic = await newTopic(a);
    const transactionalId = uniqueName("pid-core-bump");
    const commit = (producer: { producerId: number; epoch: number }, value: string) =>
      a.broker.commitTransaction({ transactionalId, producerId: producer.producerId, producerEpoch: producer.epoch, transactionSequence: 0, records: [{ topic, partition: 0, ...text(value) }] });
    const first = await b.broker.initProducer({ transactionalId });
    await commit(first, "e0");
    expect(a.issueReads.count).toBe(1);
    const second = await b.broker.initProducer({ transactionalId });
    expect(second).toEqual({ producerId: first.producerId, epoch: 1 });
    await commit(second, "e1");
    expect(a.issueReads).toEqual({ count: 2, consistent: [true, true] });
    await expect(commit(first, "zombie")).rejects.toMatchObject({ code: "PRODUCER_FENCED" });
    expect(a.issueReads.count).toBe(2); // a lower epoch than remembered is no reason to read
    a.writes.reset();
    await expect(commit({ producerId: first.producerId, epoch: 2 }, "never")).rejects.toMatchObject({ code: "INVALID_PRODUCER_EPOCH" });
    expect(a.issueReads.count).toBe(3);
    expect(a.writes.total).toBe(0);
    expect(await values(a, topic)).toEqual(["e0", "e1"]);
  });
});
