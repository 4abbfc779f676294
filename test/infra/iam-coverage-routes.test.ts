/**
 * IAM coverage (test/infra/iam-coverage/harness.ts says how it is proved) of the route functions:
 * the scenario (iam-coverage/scenario.ts) exercises every route through the function that serves
 * it, then each function's calls are held against FUNCTION_ACCESS both ways. The history sampler is
 * tested here too: it samples every topic and group in its tables, and the scenario's are the
 * varied ones (voids, compacted batches, decided and undecided large transactions).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FUNCTION_ACCESS, HISTORY_ACCESS } from "../../infra/permissions.js";
import { FUNCTION_NAMES, ROUTES } from "../../shared/http/routes.js";
import { scheduledHistory } from "../../shared/runtime/history.js";
import { createDynamoStorage } from "../../shared/storage/dynamo-storage.js";
import { topicName } from "../support/broker.js";
import { uniqueName } from "../support/dynamodb.js";
import { createIamFixture, ungranted, unusedGrants, type Call, type IamFixture } from "./iam-coverage/harness.js";
import { exerciseEveryRoute } from "./iam-coverage/scenario.js";

let fx: IamFixture;

beforeAll(async () => {
  fx = await createIamFixture("iam");
  await exerciseEveryRoute(fx);
}, 180_000); // every route on DynamoDB Local, a large transaction included: slow on a loaded machine

afterAll(async () => {
  await fx?.close();
});

describe("IAM grants match what each function does", () => {
  it("the scenario exercises every route (extend it, and infra/permissions.ts, with each new route)", () => {
    expect(ROUTES.map((r) => r.id).filter((id) => !fx.exercised.has(id))).toEqual([]);
  });

  it.each(FUNCTION_NAMES)("%s: every DynamoDB call it made is granted", (fn) => {
    expect(ungranted(FUNCTION_ACCESS[fn], fx.calls.get(fn)!)).toEqual([]);
  });

  it.each(FUNCTION_NAMES)("%s: every grant was used", (fn) => {
    expect(unusedGrants(FUNCTION_ACCESS[fn], fx.calls.get(fn)!)).toEqual([]);
  });

  it("the attribute-restricted writes really are the narrow ones (voids and hints, reservations)", () => {
    const fetchWrites = fx.calls.get("fetch")!.filter((c) => c.action === "PutItem" || c.action === "UpdateItem");
    expect(fetchWrites.some((c) => c.table === "log" && c.attributes.includes("k"))).toBe(true);
    expect(fetchWrites.every((c) => !c.attributes.includes("d") && !c.attributes.includes("next"))).toBe(true);
    const reservations = fx.calls.get("produce")!.filter((c) => c.table === "partitions" && c.action === "UpdateItem");
    expect(reservations.length).toBeGreaterThan(0);
    // A reservation (ADD next and bytes written bw, SET ra and its token rt), or a reservation
    // given back (SET next, ADD bw).
    expect(reservations.every((c) => ["bw,next,p,ra,rt", "bw,next,p"].includes(c.attributes.join(",")))).toBe(true);
    expect(reservations.some((c) => c.attributes.join(",") === "bw,next,p,ra,rt")).toBe(true);
  });
});

describe("IAM grant of the history sampler", () => {
  const historyCalls: Call[] = [];

  beforeAll(async () => {
    const { clock } = fx;
    // Beside every topic and group the scenario made: a partition whose walk meets a large
    // transaction's undecided staged batch (its decision is read, not written) and a group.
    const setup = fx.setupClient();
    const storage = createDynamoStorage(setup, fx.tables);
    const writer = fx.broker(setup);
    const topic = await writer.createTopic({ name: topicName("iam-history"), partitions: 1 });
    const ref = { topicId: topic.topicId, partition: 0 };
    const record = { key: null, value: new TextEncoder().encode("h"), headers: [] };
    await writer.produce({ topic: topic.name, partitions: [{ partition: 0, records: [record] }] });
    const staged = (await storage.log.reserve(ref, 1, clock.now()))!;
    await storage.staged.stage(ref, { baseOffset: staged, count: 1, codec: "none", blob: new Uint8Array(0), maxTimestamp: 0 }, clock.now(), undefined, { attempt: uniqueName("iam-hist-attempt"), startedAt: clock.now() });
    await writer.commitOffsets(uniqueName("iam-hist-g"), [{ topic: topic.name, partition: 0, offset: 1 }]);

    const broker = fx.broker(fx.recordingClient("history", historyCalls));
    const run = scheduledHistory({ sampleHistory: (now) => broker.sampleHistory(now), clock: clock.now, logger: { info: () => undefined, error: () => undefined } });
    const first = await run({});
    expect(first.failed).toEqual([]);
    expect(first.topicsWritten).toBeGreaterThan(1);
    expect(first.groupsWritten).toBeGreaterThan(0);
    // The staged batch ended the walk; nothing was decided or voided.
    expect((await writer.topicHistory(topic.name, 5)).samples.map((s) => s.highWatermark)).toEqual([1]);
    // Again in the same bucket: every item exists, nothing is overwritten.
    const again = await run({});
    expect(again).toMatchObject({ topicsWritten: 0, groupsWritten: 0, topicsAlreadySampled: first.topicsWritten, groupsAlreadySampled: first.groupsWritten });
  });

  it("every DynamoDB call it made is granted (its puts under the history keys only)", () => {
    expect(historyCalls.length).toBeGreaterThan(0);
    expect(ungranted(HISTORY_ACCESS, historyCalls)).toEqual([]);
    const puts = historyCalls.filter((c) => c.action === "PutItem");
    expect(puts.length).toBeGreaterThan(0);
    expect(puts.every((c) => c.table === "producers" && /^h[tg]#/.test(c.leadingKey ?? ""))).toBe(true);
    // A put elsewhere in the table would be refused.
    expect(ungranted(HISTORY_ACCESS, [{ ...puts[0]!, leadingKey: "pid#1" }])).toHaveLength(1);
  });

  it("every grant was used, and it writes no log item", () => {
    expect(unusedGrants(HISTORY_ACCESS, historyCalls)).toEqual([]);
    expect(historyCalls.filter((c) => c.table === "log" && c.action !== "Query" && c.action !== "GetItem")).toEqual([]);
  });
});
