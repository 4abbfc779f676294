/**
 * IAM coverage (test/infra/iam-coverage/harness.ts says how it is proved) of the scheduled
 * compactor: a pass that rewrites batches, fills a dead writer's gap and meets a stale read, then
 * a pass with nothing to do; its calls held against COMPACTOR_ACCESS both ways.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COMPACTOR_ACCESS } from "../../infra/permissions.js";
import { scheduledCompaction } from "../../shared/runtime/compactor.js";
import { createDynamoStorage } from "../../shared/storage/dynamo-storage.js";
import { topicName } from "../support/broker.js";
import { createIamFixture, hideFromLogQuery, HOLE_TIMEOUT_MS, ungranted, unusedGrants, type Call, type IamFixture } from "./iam-coverage/harness.js";

let fx: IamFixture;

afterAll(async () => {
  await fx?.close();
});

describe("IAM grant of the scheduled compactor", () => {
  const compactorCalls: Call[] = [];

  beforeAll(async () => {
    fx = await createIamFixture("iam-compactor");
    const { clock } = fx;
    const setup = fx.setupClient();
    const storage = createDynamoStorage(setup, fx.tables);
    const writer = fx.broker(setup);
    const topic = await writer.createTopic({ name: topicName("iam-compacted"), partitions: 1, cleanupPolicy: "compact" });
    const record = (key: string, value: string | null) => ({ key: new TextEncoder().encode(key), value: value === null ? null : new TextEncoder().encode(value), headers: [] });
    const produce = (records: ReturnType<typeof record>[]) => writer.produce({ topic: topic.name, partitions: [{ partition: 0, records }] });
    await produce([record("a", "1"), record("b", "1")]);
    await produce([record("a", "2"), record("b", null)]);
    // A dead writer's gap below a later batch, past the hole timeout: the pass fills it with a void,
    // and (its Query missing the later batch, as an eventually consistent read can) reads the entry
    // its void collided with.
    const ref = { topicId: topic.topicId, partition: 0 };
    await storage.log.reserve(ref, 1, clock.now());
    await produce([record("c", "1")]);
    clock.advance(HOLE_TIMEOUT_MS + 1);
    hideFromLogQuery.set("compactor", { p: `${topic.topicId}#0`, o: 5 });

    const broker = fx.broker(fx.recordingClient("compactor", compactorCalls));
    const run = scheduledCompaction({ compactAllTopics: (options) => broker.compactAllTopics(options), clock: clock.now, logger: { info: () => undefined, error: () => undefined } });
    const context = { getRemainingTimeInMillis: () => 5 * 60_000 };
    expect(await run({}, context)).toMatchObject({ failedTopics: [], removedRecords: 2 });
    // Again: unchanged partitions cost a head read each.
    const again = await run({}, context);
    expect(again).toMatchObject({ failedTopics: [], unchangedPartitions: again.partitions });
  });

  it("every DynamoDB call it made is granted", () => {
    expect(compactorCalls.length).toBeGreaterThan(0);
    expect(ungranted(COMPACTOR_ACCESS, compactorCalls)).toEqual([]);
  });

  it("every grant was used", () => {
    expect(unusedGrants(COMPACTOR_ACCESS, compactorCalls)).toEqual([]);
  });
});
