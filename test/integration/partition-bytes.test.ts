/**
 * Bytes per partition (issue 18): every reservation adds the record-blob bytes of the batches it is
 * for to the partition's counter, in the reservation's own UpdateItem; a reservation given back
 * (refused, duplicate) takes them off again. Describe topic reports the total and a retained estimate.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { PartitionRef } from "../../shared/core/ports.js";
import type { ProduceRecord } from "../../shared/core/produce.js";
import type { TransactionRecord } from "../../shared/core/transactions.js";
import { createTestBroker, createTestTables, topicName, type TestBroker } from "../support/broker.js";
import { uniqueName } from "../support/dynamodb.js";

let harness: TestBroker;

beforeAll(async () => {
  harness = createTestBroker(await createTestTables("bytes"));
});

const text = (value: string): ProduceRecord => ({ key: Buffer.from(`k-${value}`), value: Buffer.from(value.repeat(20)), headers: [{ key: "h", value: Buffer.from(value) }] });
const txRecord = (topic: string, value: string): TransactionRecord => ({ topic, partition: 0, ...text(value) });

/** Uncompressed, so a stored blob holds at least its records' bytes (brotli turns three 20-byte values into 54 bytes). */
async function newTopic(): Promise<{ topic: string; ref: PartitionRef }> {
  const topic = topicName("bytes");
  const created = await harness.broker.createTopic({ name: topic, partitions: 1, compression: "none" });
  return { topic, ref: { topicId: created.topicId, partition: 0 } };
}

/** The record blobs actually stored in the partition, summed: what the counter must equal. */
async function storedBlobBytes(ref: PartitionRef): Promise<number> {
  const { entries, more } = await harness.storage.log.entriesFrom(ref, 0, 1000);
  expect(more).toBe(false);
  return entries.reduce((sum, e) => sum + (e.kind === "batch" ? e.blob.length : 0), 0);
}

async function described(topic: string) {
  const { partitions } = await harness.broker.describeTopic(topic);
  return partitions[0]!;
}

describe("bytes written per partition", () => {
  it("accumulate the stored batch sizes across produce, idempotent produce, a transaction and a keyed write", { timeout: 120_000 }, async () => {
    const { topic, ref } = await newTopic();
    expect(await described(topic)).toMatchObject({ bytesWritten: 0, retainedBytesEstimate: 0 });

    await harness.broker.produce({ topic, partitions: [{ partition: 0, records: ["a", "b", "c"].map(text) }] });
    const afterPlain = await storedBlobBytes(ref);
    expect(afterPlain).toBeGreaterThan(3 * 20);
    expect((await harness.storage.log.readHead(ref)).bytesWritten).toBe(afterPlain);

    const producer = await harness.broker.initProducer();
    const idempotent = await harness.broker.produce({ topic, producer, partitions: [{ partition: 0, baseSequence: 0, records: ["d", "e"].map(text) }] });
    expect(idempotent.partitions[0]).toMatchObject({ baseOffset: 3, duplicate: false });
    const afterIdempotent = await storedBlobBytes(ref);
    expect(afterIdempotent).toBeGreaterThan(afterPlain);
    expect((await harness.storage.log.readHead(ref)).bytesWritten).toBe(afterIdempotent);

    const transactionalId = uniqueName("bytes-tid");
    const txProducer = await harness.broker.initProducer({ transactionalId });
    await harness.broker.commitTransaction({ transactionalId, producerId: txProducer.producerId, producerEpoch: txProducer.epoch, transactionSequence: 0, records: ["f", "g"].map((v) => txRecord(topic, v)) });
    const afterTransaction = await storedBlobBytes(ref);
    expect(afterTransaction).toBeGreaterThan(afterIdempotent);

    // A write named by an idempotency key (the Upstash dialect's path): counted once, its retry not at all.
    const idempotencyKey = uniqueName("bytes-key");
    const keyed = () => harness.broker.produce({ topic, idempotencyKey, partitions: [{ partition: 0, records: ["h"].map(text) }] });
    expect((await keyed()).partitions[0]).toMatchObject({ baseOffset: 7, duplicate: false });
    expect((await keyed()).partitions[0]).toMatchObject({ baseOffset: 7, duplicate: true });
    const afterKeyed = await storedBlobBytes(ref);
    expect(afterKeyed).toBeGreaterThan(afterTransaction);

    const partition = await described(topic);
    expect(partition).toMatchObject({ logStartOffset: 0, highWatermark: 8, bytesWritten: afterKeyed, retainedBytesEstimate: afterKeyed });
  });

  it("a refused or duplicate write adds nothing: its reservation gives the bytes back", { timeout: 120_000 }, async () => {
    const { topic, ref } = await newTopic();
    const producer = await harness.broker.initProducer();
    await harness.broker.produce({ topic, producer, partitions: [{ partition: 0, baseSequence: 0, records: ["a", "b"].map(text) }] });
    const before = await storedBlobBytes(ref);
    expect((await harness.storage.log.readHead(ref)).bytesWritten).toBe(before);

    // Refused after its offsets were reserved: the sequence is out of order.
    const outOfOrder = await harness.broker.produce({ topic, producer, partitions: [{ partition: 0, baseSequence: 7, records: ["x"].map(text) }] });
    expect(outOfOrder.partitions[0]).toMatchObject({ error: { code: "OUT_OF_ORDER_SEQUENCE_NUMBER" } });
    // A retry of the first batch: answered as a duplicate, nothing new stored.
    const duplicate = await harness.broker.produce({ topic, producer, partitions: [{ partition: 0, baseSequence: 0, records: ["a", "b"].map(text) }] });
    expect(duplicate.partitions[0]).toMatchObject({ baseOffset: 0, duplicate: true });
    // A transaction refused after reserving: its sequence is ahead of the stored one.
    const transactionalId = uniqueName("bytes-tid");
    const txProducer = await harness.broker.initProducer({ transactionalId });
    await expect(
      harness.broker.commitTransaction({ transactionalId, producerId: txProducer.producerId, producerEpoch: txProducer.epoch, transactionSequence: 3, records: [txRecord(topic, "y")] }),
    ).rejects.toMatchObject({ code: "OUT_OF_ORDER_SEQUENCE_NUMBER" });

    expect(await storedBlobBytes(ref)).toBe(before);
    expect(await described(topic)).toMatchObject({ highWatermark: 2, bytesWritten: before, retainedBytesEstimate: before });
  });

  it("the retained estimate scales with the offsets still in the log", { timeout: 120_000 }, async () => {
    const { topic } = await newTopic();
    await harness.broker.produce({ topic, partitions: [{ partition: 0, records: ["a", "b", "c", "d"].map(text) }] });
    const written = (await described(topic)).bytesWritten;
    await harness.broker.deleteRecords(topic, [{ partition: 0, offset: 3 }]);
    expect(await described(topic)).toMatchObject({ logStartOffset: 3, highWatermark: 4, bytesWritten: written, retainedBytesEstimate: Math.round(written / 4) });
  });
});
