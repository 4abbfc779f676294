/**
 * Raw-DynamoDB baselines, run in the same process against the same DynamoDB Local as the broker,
 * so the broker's figures read as a ratio: what the broker keeps of what DynamoDB alone can do.
 *
 * Produce: per batch, the client encodes the records as the broker does (shared/record-batch.ts,
 * topic codec), and sends ONE TransactWriteItems of the partition counter's `ADD next :n` and the
 * batch item's conditional Put (shared/storage's own batchPutRequest, so the item is byte for
 * byte the broker's layout). No HTTP, no producer-state item, no reserve round trip: a transaction
 * cannot read the counter it adds to, so the item's sort key is a client-chosen unique number
 * rather than the reserved offset. That is the closest honest equivalent of "one write per batch".
 * The broker, for comparison, sends an UpdateItem (reserve) and then a TransactWriteItems (batch
 * Put + producer-state Update) and answers over HTTP.
 *
 * Fetch: the same batch items the broker wrote, read with eventually consistent Query pages of
 * about 500 records (the broker's default cap), each blob decompressed and decoded.
 */
import { GetCommand, PutCommand, QueryCommand, TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import { compressBlob, decompressBlob, type CompressionCodec } from "../shared/compression.js";
import { decodeRecordBatch } from "../shared/record-batch-decode.js";
import { encodeRecordBatch, type BatchRecord } from "../shared/record-batch.js";
import { batchPutRequest } from "../shared/storage/append-store.js";
import { partitionKey } from "../shared/storage/log-keys.js";
import type { BenchWorld } from "./setup.js";
import type { EventPool } from "./workload.js";

export interface RawRunResult {
  readonly messages: number;
  readonly requests: number;
  readonly elapsedMs: number;
  readonly latencies: number[];
  readonly errors: number;
}

let rawCounter = 0;

export async function rawProduce(world: BenchWorld, pool: EventPool, options: { producers: number; batchSize: number; durationMs: number; codec?: CompressionCodec; poolOffset?: number }): Promise<RawRunResult> {
  const codec = options.codec ?? "gzip";
  const ref = { topicId: `raw-${Date.now().toString(36)}-${++rawCounter}`, partition: 0 };
  const p = partitionKey(ref);
  await world.raw.send(new PutCommand({ TableName: world.tables.partitions, Item: { p, next: 0, ra: 0, hw: 0, ls: 0 } }));
  const latencies: number[] = [];
  let messages = 0;
  let requests = 0;
  let errors = 0;
  const started = performance.now();
  const deadline = started + options.durationMs;
  const spread = Math.floor(pool.size / options.producers);
  await Promise.all(
    Array.from({ length: options.producers }, async (_, index) => {
      let cursor = (options.poolOffset ?? 0) + index * spread;
      let sequence = 0;
      while (performance.now() < deadline) {
        const t0 = performance.now();
        const now = Date.now();
        const records: BatchRecord[] = [];
        for (let i = 0; i < options.batchSize; i++) {
          records.push({ timestamp: now, key: null, value: Buffer.from(pool.events[(cursor + i) % pool.size]!, "utf8"), headers: [] });
        }
        const blob = compressBlob(codec, encodeRecordBatch(records));
        // A unique sort key per producer and sequence (see the header).
        const baseOffset = index * 1e12 + sequence;
        const put = batchPutRequest(world.tables, ref, { baseOffset, count: records.length, codec, blob, maxTimestamp: now }, now, undefined);
        try {
          await world.raw.send(
            new TransactWriteCommand({
              TransactItems: [
                { Update: { TableName: world.tables.partitions, Key: { p }, UpdateExpression: "ADD #next :n SET ra = :now", ExpressionAttributeNames: { "#next": "next" }, ExpressionAttributeValues: { ":n": records.length, ":now": now } } },
                { Put: put as never },
              ],
            }),
          );
          messages += records.length;
          requests++;
          sequence += records.length;
          cursor += records.length;
        } catch {
          errors++; // a TransactionConflict on the hot counter; the next loop retries with the same records
        }
        latencies.push(performance.now() - t0);
      }
    }),
  );
  return { messages, requests, elapsedMs: performance.now() - started, latencies, errors };
}

/** The partition key of partition 0 of a topic the broker created (its id from the topics table). */
export async function brokerPartitionKey(world: BenchWorld, topic: string): Promise<string> {
  const result = await world.raw.send(new GetCommand({ TableName: world.tables.topics, Key: { name: topic }, ConsistentRead: true }));
  const id = result.Item?.["id"];
  if (typeof id !== "string") throw new Error(`topic ${topic} not found in ${world.tables.topics}`);
  return partitionKey({ topicId: id, partition: 0 });
}

/** Reads partition `p` from offset 0 to `end` with raw Query + decompress + decode. */
export async function rawFetch(world: BenchWorld, p: string, end: number, batchSize: number, recordsPerFetch = 500): Promise<RawRunResult> {
  const latencies: number[] = [];
  const limit = Math.max(1, Math.ceil(recordsPerFetch / batchSize));
  let offset = 0;
  let messages = 0;
  let requests = 0;
  const started = performance.now();
  while (offset < end) {
    const t0 = performance.now();
    const result = await world.raw.send(new QueryCommand({ TableName: world.tables.log, KeyConditionExpression: "p = :p AND o >= :o", ExpressionAttributeValues: { ":p": p, ":o": offset }, Limit: limit }));
    const items = result.Items ?? [];
    if (items.length === 0) throw new Error(`raw fetch: no items at offset ${offset} of ${end}`);
    for (const item of items) {
      if (item["k"] === "B") {
        const codec = (item["z"] ?? "none") as CompressionCodec;
        const decoded = decodeRecordBatch(decompressBlob(codec, item["d"] as Uint8Array, 64 * 1024 * 1024));
        for (const record of decoded) if (record.value) messages++;
      }
      offset = Number(item["o"]) + Number(item["c"]);
    }
    requests++;
    latencies.push(performance.now() - t0);
  }
  return { messages, requests, elapsedMs: performance.now() - started, latencies, errors: 0 };
}
