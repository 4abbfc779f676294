/**
 * IAM coverage (test/infra/iam-coverage/harness.ts says how it is proved) of the push-subscription
 * dispatcher: woken by the log table's stream and by its schedule, it delivers two subscriptions
 * (at-least-once with a dead letter, exactly-once with outputs) over a dead writer's gap and a stale
 * read; its calls held against DISPATCHER_ACCESS both ways.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DISPATCHER_ACCESS } from "../../infra/permissions.js";
import { Dispatcher } from "../../shared/core/dispatch.js";
import { createDispatcherHandler } from "../../shared/runtime/dispatcher-lambda.js";
import { createInvoker } from "../../shared/runtime/invokers.js";
import { createDynamoStorage } from "../../shared/storage/dynamo-storage.js";
import { createIamFixture, hideFromLogQuery, HOLE_TIMEOUT_MS, ungranted, unusedGrants, type Call, type IamFixture } from "./iam-coverage/harness.js";
import { createDeliveries, type Deliveries } from "./iam-coverage/scenario.js";

let fx: IamFixture;

afterAll(async () => {
  await fx?.close();
});

describe("IAM grant of the push-subscription dispatcher", () => {
  const dispatcherCalls: Call[] = [];
  let deliveries: Deliveries;
  let delivered = 0;

  beforeAll(async () => {
    fx = await createIamFixture("iam-dispatcher");
    const { call, clock } = fx;
    // The subscriptions, made through their own function (as the route scenario makes them).
    deliveries = await createDeliveries(fx);
    const broker = fx.broker(fx.recordingClient("dispatcher", dispatcherCalls));
    const handle = createDispatcherHandler(new Dispatcher({ broker, invoker: createInvoker(), clock: clock.now }), { clock: clock.now });
    const storage = createDynamoStorage(fx.setupClient(), fx.tables);
    const subscriptionTopic = deliveries.topic;
    const topicId = (await storage.topics.get(subscriptionTopic))!.topicId;
    // Records on both partitions (one the webhook refuses: dead-lettered), and a dead writer's gap
    // on partition 1 that the dispatcher's read fills; partition 0's last batch hidden from its Query.
    for (const [partition, value] of [[0, "YQ=="], [0, "cG9pc29u"], [0, "Yg=="], [1, "Yw=="]] as const) {
      expect((await call("produce", "POST", `/v1/topics/${subscriptionTopic}/records`, { records: [{ value, partition }] })).status).toBe(200);
    }
    await storage.log.reserve({ topicId, partition: 1 }, 1, clock.now());
    expect((await call("produce", "POST", `/v1/topics/${subscriptionTopic}/records`, { records: [{ value: "ZA==", partition: 1 }] })).status).toBe(200);
    clock.advance(HOLE_TIMEOUT_MS + 1);
    hideFromLogQuery.set("dispatcher", { p: `${topicId}#0`, o: 2 });
    const keys = (partition: number, offset: number) => ({ eventName: "INSERT", dynamodb: { Keys: { p: { S: `${topicId}#${partition}` }, o: { N: String(offset) } } } });
    const woken = await handle({ Records: [keys(0, 0), keys(0, 2), keys(1, 0)] }, { getRemainingTimeInMillis: () => 600_000 });
    const swept = await handle({ source: "aws.events" }, { getRemainingTimeInMillis: () => 600_000 });
    delivered = woken.delivered + swept.delivered;
  }, 60_000);

  it("delivered everything: both subscriptions, a dead letter, exactly-once outputs", async () => {
    // 5 records per subscription, the poison one dead-lettered by the at-least-once one.
    expect(delivered).toBe(9);
    const description = await fx.call("subscriptions", "GET", `/v1/subscriptions/${deliveries.name}`);
    expect((description.body["partitions"] as { deadLettered: number }[]).map((p) => p.deadLettered)).toEqual([1, 0]);
    for (const [name, count] of [[deliveries.deadLetters, 1], [deliveries.outputs, 5]] as const) {
      const topic = await fx.call("admin", "GET", `/v1/topics/${name}`);
      expect((topic.body["partitions"] as { highWatermark: number }[]).reduce((n, p) => n + p.highWatermark, 0)).toBe(count);
    }
    expect(hideFromLogQuery.has("dispatcher")).toBe(false);
  });

  it("every DynamoDB call it made is granted", () => {
    expect(dispatcherCalls.length).toBeGreaterThan(0);
    expect(ungranted(DISPATCHER_ACCESS, dispatcherCalls)).toEqual([]);
  });

  it("every grant was used", () => {
    expect(unusedGrants(DISPATCHER_ACCESS, dispatcherCalls)).toEqual([]);
  });
});
