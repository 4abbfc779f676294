/**
 * Tracing a message through a transactional copy (docs/console.md, "Tracing a message"): the commit
 * writes the transaction's record and input index in its own TransactWriteItems, and its batches
 * name it; from an input record the trace finds the copy's outputs, and from an output its inputs.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { MAX_TRANSACTION_ACTIONS } from "../../shared/core/transactions.js";
import type { TableNames } from "../../shared/storage/tables.js";
import { createTestBroker, createTestTables, topicName, type TestBroker } from "../support/broker.js";
import { uniqueName } from "../support/dynamodb.js";

let tables: TableNames;
let harness: TestBroker;
beforeAll(async () => {
  tables = await createTestTables("trace");
  harness = createTestBroker(tables);
});

const bytes = (s: string) => Buffer.from(s);

describe("trace a message", { timeout: 120_000 }, () => {
  it("follows a transactional copy from an input record to its output and back", async () => {
    const { broker } = harness;
    const input = topicName("trace-in");
    const output = topicName("trace-out");
    const group = uniqueName("trace-copier");
    const transactionalId = uniqueName("trace-tx");
    await broker.createTopic({ name: input, partitions: 1 });
    await broker.createTopic({ name: output, partitions: 2 });
    await broker.produce({ topic: input, records: [0, 1, 2, 3].map((i) => ({ key: null, value: bytes(`m${i}`), headers: [], partition: 0 })) });
    const producer = await broker.initProducer({ transactionalId });

    // Two transactions: the first copies offsets 0-1 (commits 2), the second 2-3 (commits 4).
    const copies = [];
    for (const [sequence, from] of [[0, 0], [1, 2]] as const) {
      copies.push(
        await broker.commitTransaction({
          transactionalId,
          producerId: producer.producerId,
          producerEpoch: producer.epoch,
          transactionSequence: sequence,
          records: [0, 1].map((i) => ({ topic: output, partition: 1, key: null, value: bytes(`copied m${from + i}`), headers: [] })),
          offsets: { group, offsets: [{ topic: input, partition: 0, offset: from + 2 }] },
        }),
      );
    }
    const secondOutput = copies[1]!.partitions[0]!;

    // Forward: input record 3 was consumed by the second transaction, which wrote secondOutput.
    const forward = await broker.traceRecord(input, 0, 3);
    expect(forward.transactional).toBe(false);
    expect(forward.producedBy).toBeNull();
    expect(forward.groups).toEqual([expect.objectContaining({ group, committedOffset: 4 })]);
    expect(forward.consumedBy).toHaveLength(1);
    expect(forward.consumedBy[0]).toMatchObject({
      transactionalId,
      producerId: producer.producerId,
      epoch: producer.epoch,
      sequence: 1,
      group,
      inputs: [{ topic: input, partition: 0, offset: 4 }],
      outputs: [{ topic: output, partition: 1, baseOffset: secondOutput.baseOffset, lastOffset: secondOutput.lastOffset }],
    });
    // Input record 1 was consumed by the first transaction (the first commit past it).
    expect((await broker.traceRecord(input, 0, 1)).consumedBy[0]).toMatchObject({ sequence: 0 });

    // Back: the output's batch names its transaction; its record lists the inputs.
    const back = await broker.traceRecord(output, 1, secondOutput.lastOffset);
    expect(back.transactional).toBe(true);
    expect(back.producerId).toBe(producer.producerId);
    expect(back.producedBy).toMatchObject({ transactionalId, sequence: 1, group, inputs: [{ topic: input, partition: 0, offset: 4 }] });
    expect(back.consumedBy).toEqual([]);
  });

  it("refuses an offset that holds no record, and a partition that does not exist", async () => {
    const { broker } = harness;
    const topic = topicName("trace-empty");
    await broker.createTopic({ name: topic, partitions: 1 });
    await broker.produce({ topic, records: [{ key: null, value: bytes("only"), headers: [], partition: 0 }] });
    await expect(broker.traceRecord(topic, 0, 1)).rejects.toMatchObject({ code: "OFFSET_OUT_OF_RANGE" });
    await expect(broker.traceRecord(topic, 0, -1)).rejects.toMatchObject({ code: "OFFSET_OUT_OF_RANGE" });
    await expect(broker.traceRecord(topic, 3, 0)).rejects.toMatchObject({ code: "UNKNOWN_TOPIC_OR_PARTITION" });
    const plain = await broker.traceRecord(topic, 0, 0);
    expect(plain).toMatchObject({ transactional: false, producerId: null, producedBy: null, consumedBy: [], groups: [] });
  });

  it("a transaction too wide for its trace items commits without them: tracing never shrinks what a transaction holds", async () => {
    const { broker } = harness;
    const input = topicName("trace-wide");
    const output = topicName("trace-wide-out");
    await broker.createTopic({ name: input, partitions: 60 });
    await broker.createTopic({ name: output, partitions: 1 });
    for (let partition = 0; partition < 60; partition++) await broker.produce({ topic: input, partitions: [{ partition, records: [{ key: null, value: bytes("in"), headers: [] }] }] });
    const transactionalId = uniqueName("trace-wide-tx");
    const producer = await broker.initProducer({ transactionalId });
    const group = uniqueName("trace-wide-g");
    // 1 transactional id + 1 batch + 60 offsets + 1 group check = 63 actions fit; with the
    // transaction's record and 60 input index items it would be 124, so those stay out.
    const committed = await broker.commitTransaction({
      transactionalId,
      producerId: producer.producerId,
      producerEpoch: producer.epoch,
      transactionSequence: 0,
      records: [{ topic: output, partition: 0, key: null, value: bytes("v"), headers: [] }],
      offsets: { group, offsets: Array.from({ length: 60 }, (_, partition) => ({ topic: input, partition, offset: 1 })) },
    });
    expect(committed.partitions).toEqual([expect.objectContaining({ topic: output, partition: 0, baseOffset: 0 })]);
    // The copy happened (offsets and output), and the trace says what it knows without the record.
    const forward = await broker.traceRecord(input, 7, 0);
    expect(forward.groups).toEqual([expect.objectContaining({ group, committedOffset: 1 })]);
    expect(forward.consumedBy).toEqual([]);
    const back = await broker.traceRecord(output, 0, 0);
    expect(back).toMatchObject({ transactional: true, producerId: producer.producerId, producedBy: null });
    expect(MAX_TRANSACTION_ACTIONS).toBe(100);
  });
});
