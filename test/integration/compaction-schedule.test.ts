/**
 * What makes scheduled compaction cheap (docs/compaction.md, "Running it"), against DynamoDB Local:
 * a partition unchanged since a complete pass is skipped after one counter read; a scheduled run
 * waits for Kafka's dirty ratio; a tombstone's horizon or an incomplete pass wakes a partition; and
 * the scheduled function's handler stops starting passes near its deadline.
 */
import { DynamoDBDocumentClient, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MIN_CLEANABLE_DIRTY_RATIO } from "../../shared/core/compactor.js";
import type { TopicRecord } from "../../shared/core/ports.js";
import { COMPACTION_PASS_RESERVE_MS, scheduledCompaction } from "../../shared/runtime/compactor.js";
import type { TableNames } from "../../shared/storage/tables.js";
import { createTestBroker, createTestTables, TestClock, topicName, type TestBroker } from "../support/broker.js";

const DELETE_RETENTION_MS = 60_000;

let tables: TableNames;
let clock: TestClock;
let harness: TestBroker;
/** Every command sent, as "Command:table", since the last reset. */
let sent: string[] = [];

beforeAll(async () => {
  tables = await createTestTables("cmpsched");
  clock = new TestClock();
  harness = createTestBroker(tables, { clock });
  harness.client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { TableName?: string };
      sent.push(`${String(context.commandName)}:${input.TableName ?? ""}`);
      return next(args);
    },
    { step: "initialize", name: "compactionScheduleCommandLog" },
  );
});
afterAll(() => harness?.client.destroy());

const bytes = (text: string) => new Uint8Array(Buffer.from(text));

async function compactedTopic(): Promise<TopicRecord> {
  return harness.broker.createTopic({ name: topicName("cmps"), partitions: 1, cleanupPolicy: "compact", deleteRetentionMs: DELETE_RETENTION_MS });
}

async function produce(topic: string, records: readonly { key: string; value: string | null }[]): Promise<void> {
  const result = await harness.broker.produce({
    topic,
    partitions: [{ partition: 0, records: records.map((r) => ({ key: bytes(r.key), value: r.value === null ? null : bytes(r.value), headers: [] })) }],
  });
  if ("error" in result.partitions[0]!) throw result.partitions[0].error;
}

async function compact(topic: string, minDirtyRatio?: number) {
  sent = [];
  const result = await harness.broker.compactTopic(topic, undefined, minDirtyRatio === undefined ? {} : { minDirtyRatio });
  return result.partitions[0]!;
}

const logReads = () => sent.filter((s) => s.endsWith(`:${tables.log}`));
const writes = () => sent.filter((s) => /^(Put|Update|Delete|TransactWrite|BatchWrite)/.test(s));

describe("skipping partitions a pass could not change", () => {
  it("a partition unchanged since a complete pass is skipped without reading the log or writing; a new record wakes it", async () => {
    const topic = await compactedTopic();
    await produce(topic.name, [{ key: "a", value: "1" }, { key: "b", value: "1" }, { key: "a", value: "2" }]);
    const first = await compact(topic.name);
    expect(first).toMatchObject({ skipped: null, removedRecords: 1, cleanedUpTo: 3 });

    clock.advance(1_000);
    const second = await compact(topic.name);
    expect(second).toMatchObject({ skipped: "unchanged", cleanedUpTo: 3, lastRunAt: first.lastRunAt, scannedRecords: 0 });
    expect(logReads()).toEqual([]);
    expect(writes()).toEqual([]);

    await produce(topic.name, [{ key: "b", value: "2" }]);
    expect(await compact(topic.name)).toMatchObject({ skipped: null, removedRecords: 1, cleanedUpTo: 4 });
  });

  it("a scheduled pass waits until the records since the last complete pass reach the dirty ratio; an explicit pass does not", async () => {
    const topic = await compactedTopic();
    await produce(topic.name, Array.from({ length: 4 }, (_, i) => ({ key: `k${i}`, value: "1" })));
    expect(await compact(topic.name, MIN_CLEANABLE_DIRTY_RATIO)).toMatchObject({ skipped: null, cleanedUpTo: 4 });

    // 3 new against 4 kept: 3/7 < 0.5.
    await produce(topic.name, [{ key: "k0", value: "2" }, { key: "k1", value: "2" }, { key: "k2", value: "2" }]);
    expect(await compact(topic.name, MIN_CLEANABLE_DIRTY_RATIO)).toMatchObject({ skipped: "dirty-ratio", cleanedUpTo: 4, scannedRecords: 0 });
    // Finding the high watermark may raise the counter's hint (a reader's write); nothing else is written.
    expect(writes().filter((w) => !w.startsWith("UpdateItemCommand:") || !w.endsWith(tables.partitions))).toEqual([]);
    // 4 new against 4 kept: 4/8 reaches it.
    await produce(topic.name, [{ key: "k3", value: "2" }]);
    expect(await compact(topic.name, MIN_CLEANABLE_DIRTY_RATIO)).toMatchObject({ skipped: null, removedRecords: 4, cleanedUpTo: 8 });

    await produce(topic.name, [{ key: "k0", value: "3" }]);
    expect(await compact(topic.name, MIN_CLEANABLE_DIRTY_RATIO)).toMatchObject({ skipped: "dirty-ratio" });
    expect(await compact(topic.name)).toMatchObject({ skipped: null, removedRecords: 1, cleanedUpTo: 9 });
  });

  it("a kept tombstone's delete horizon wakes an otherwise unchanged partition exactly when it passes", async () => {
    const topic = await compactedTopic();
    await produce(topic.name, [{ key: "a", value: "1" }, { key: "b", value: "1" }]);
    await produce(topic.name, [{ key: "a", value: null }]);
    expect(await compact(topic.name)).toMatchObject({ skipped: null, removedRecords: 1, removedTombstones: 0 });

    clock.advance(DELETE_RETENTION_MS - 1);
    expect(await compact(topic.name, MIN_CLEANABLE_DIRTY_RATIO)).toMatchObject({ skipped: "unchanged" });
    clock.advance(1);
    expect(await compact(topic.name, MIN_CLEANABLE_DIRTY_RATIO)).toMatchObject({ skipped: null, removedTombstones: 1 });
    // No tombstone left to wait for: unchanged again.
    clock.advance(10 * DELETE_RETENTION_MS);
    expect(await compact(topic.name, MIN_CLEANABLE_DIRTY_RATIO)).toMatchObject({ skipped: "unchanged" });
  });

  it("a pass that found a batch changed under it is incomplete: the next pass runs although nothing was appended", async () => {
    const topic = await compactedTopic();
    await produce(topic.name, [{ key: "a", value: "1" }, { key: "b", value: "1" }]);
    await produce(topic.name, [{ key: "a", value: "2" }]);
    const documents = DynamoDBDocumentClient.from(harness.client);
    // The first batch changes between the pass's read and its rewrite (as a concurrent pass's rewrite would).
    const bump = new UpdateCommand({ TableName: tables.log, Key: { p: `${topic.topicId}#0`, o: 0 }, UpdateExpression: "SET cv = :other", ExpressionAttributeValues: { ":other": 7 } });
    harness.chaos.beforeCommand(/^UpdateItemCommand$/, async () => void (await documents.send(bump)), {
      where: (request) => String(request.input["UpdateExpression"] ?? "").includes("cv = :next"),
    });
    expect(await compact(topic.name)).toMatchObject({ skipped: null, skippedBatches: 1 });
    expect(await compact(topic.name)).toMatchObject({ skipped: null, skippedBatches: 0 });
    expect(await compact(topic.name)).toMatchObject({ skipped: "unchanged" });
  });
});

describe("the scheduled compactor's handler", () => {
  const logger = { info: () => undefined, error: () => undefined };

  it("runs a pass over every compacted topic, then skips them while unchanged, and starts none with less than its reserve left", async () => {
    // Tables of its own: the run covers every compacted topic in them.
    const own = createTestBroker(await createTestTables("cmpsched-run"), { clock });
    const topics = await Promise.all([1, 2].map(() => own.broker.createTopic({ name: topicName("cmps-run"), partitions: 2, cleanupPolicy: "compact" })));
    await own.broker.createTopic({ name: topicName("cmps-plain"), partitions: 1 });
    for (const topic of topics) {
      const records = [{ key: bytes("a"), value: bytes("1"), headers: [] }, { key: bytes("a"), value: bytes("2"), headers: [] }];
      await own.broker.produce({ topic: topic.name, partitions: [{ partition: 0, records }, { partition: 1, records }] });
    }
    const run = scheduledCompaction({ compactAllTopics: (options) => own.broker.compactAllTopics(options), clock: clock.now, logger });
    const plenty = { getRemainingTimeInMillis: () => 5 * 60_000 };

    const first = await run({}, plenty);
    expect(first).toEqual({ topics: 2, partitions: 4, unchangedPartitions: 0, notDirtyEnoughPartitions: 0, removedRecords: 4, removedTombstones: 0, rewrittenBatches: 4, failedTopics: [], notStartedTopics: [] });

    const second = await run({}, plenty);
    expect(second).toEqual({ topics: 2, partitions: 4, unchangedPartitions: 4, notDirtyEnoughPartitions: 0, removedRecords: 0, removedTombstones: 0, rewrittenBatches: 0, failedTopics: [], notStartedTopics: [] });

    const late = await run({}, { getRemainingTimeInMillis: () => COMPACTION_PASS_RESERVE_MS });
    expect(late).toMatchObject({ topics: 0, partitions: 0 });
    expect([...late.notStartedTopics].sort()).toEqual(topics.map((t) => t.name).sort());
    own.client.destroy();
  });
});
