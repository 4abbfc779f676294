/**
 * The deployed dispatcher's handler (shared/runtime/dispatcher-lambda.ts) on DynamoDB Local: a
 * stream wake delivers exactly the partitions its inserts wrote to; a wake for a topic nobody
 * subscribes to does nothing; the schedule's sweep delivers everything; and the time budget — a
 * batch starts only while one invocation timeout plus the margin fits before the Lambda timeout —
 * stops a run early with its leases given back and its progress committed, for the next run to
 * continue. The clock is a test clock each invocation advances: nothing here waits.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { Invoker } from "../../shared/core/dispatch-event.js";
import { DEADLINE_MARGIN_MS } from "../../shared/core/dispatch-partition.js";
import { Dispatcher } from "../../shared/core/dispatch.js";
import { createBroker } from "../../shared/core/broker.js";
import { createDispatcherHandler } from "../../shared/runtime/dispatcher-lambda.js";
import { createWebhookGuard } from "../../shared/runtime/webhook-guard.js";
import { createTestBroker, createTestTables, TestClock, topicName, type TestBroker } from "../support/broker.js";
import { uniqueName } from "../support/dynamodb.js";

const TIMEOUT_MS = 1_000;
/** Each invocation takes this long on the test clock. */
const INVOCATION_MS = 1_000;

let harness: TestBroker;
const clock = new TestClock();
/** Offsets the target received, per "<subscription>/<partition>". */
const received = new Map<string, number[]>();

const invoker: Invoker = {
  async invoke(subscription, event) {
    clock.advance(INVOCATION_MS);
    for (const records of Object.values(event.records)) {
      for (const r of records) received.set(`${subscription.name}/${r.partition}`, [...(received.get(`${subscription.name}/${r.partition}`) ?? []), r.offset]);
    }
    return { ok: true, response: undefined };
  },
};

let handle: ReturnType<typeof createDispatcherHandler>;

beforeAll(async () => {
  harness = createTestBroker(await createTestTables("subdeployed"), { clock, config: { subscriptionAllowHttp: true } });
  handle = createDispatcherHandler(new Dispatcher({ broker: harness.broker, invoker, clock: clock.now, maxBatchesPerRun: 1_000 }), { clock: clock.now });
}, 120_000);

async function setUp(partitions: number, perPartition: number, batchSize: number) {
  const topic = topicName("deployed");
  await harness.broker.createTopic({ name: topic, partitions });
  const topicId = (await harness.broker.topicConfigs(topic)).topicId;
  for (let p = 0; p < partitions; p++) {
    await harness.broker.produce({ topic, compression: "none", partitions: [{ partition: p, records: Array.from({ length: perPartition }, (_, i) => ({ key: null, value: new TextEncoder().encode(`${p}:${i}`), headers: [] })) }] });
  }
  const name = uniqueName("dep");
  await harness.broker.createSubscription({ name, topic, webhook: "https://hooks.example.com/x", startingPosition: "earliest", batchSize, timeoutMs: TIMEOUT_MS });
  return { topic, topicId, name };
}

const insert = (topicId: string, partition: number, offset = 0) => ({ eventName: "INSERT", dynamodb: { Keys: { p: { S: `${topicId}#${partition}` }, o: { N: String(offset) } } } });
const plenty = { getRemainingTimeInMillis: () => 600_000 };

describe("the deployed dispatcher handler", () => {
  it("a stream wake delivers the partitions its inserts wrote to, and only those", async () => {
    const { topicId, name } = await setUp(3, 4, 2);
    const result = await handle({ Records: [insert(topicId, 1, 0), insert(topicId, 1, 2), { eventName: "MODIFY", dynamodb: { Keys: { p: { S: `${topicId}#2` } } } }] }, plenty);
    expect(result).toMatchObject({ wake: "stream", partitions: 1, delivered: 4, invocations: 2 });
    expect(received.get(`${name}/1`)).toEqual([0, 1, 2, 3]);
    expect(received.has(`${name}/0`)).toBe(false);
    expect(received.has(`${name}/2`)).toBe(false);
    // The sweep delivers the rest.
    const swept = await handle({ source: "aws.events" }, plenty);
    expect(swept.wake).toBe("sweep");
    expect(received.get(`${name}/0`)).toEqual([0, 1, 2, 3]);
    expect(received.get(`${name}/2`)).toEqual([0, 1, 2, 3]);
    const description = await harness.broker.describeSubscription(name);
    expect(description.partitions.map((p) => p.committedOffset)).toEqual([4, 4, 4]);
  });

  it("a wake for a topic without subscriptions, or keys that are not a log partition's, does nothing", async () => {
    const before = harness.writes.total;
    const result = await handle({ Records: [insert("no-such-topic-id", 0), { eventName: "INSERT", dynamodb: { Keys: { p: { S: "garbage" } } } }] }, plenty);
    expect(result).toMatchObject({ delivered: 0, invocations: 0 });
    expect(harness.writes.total).toBe(before);
  });

  it("stops taking batches when less than one invocation timeout is left, gives the lease back, and the next run continues", async () => {
    const { topicId, name } = await setUp(1, 6, 1);
    // Room for exactly three invocations: each needs TIMEOUT_MS + the margin ahead of the deadline.
    const tight = { getRemainingTimeInMillis: () => 2 * INVOCATION_MS + TIMEOUT_MS + DEADLINE_MARGIN_MS };
    const first = await handle({ Records: [insert(topicId, 0)] }, tight);
    expect(first).toMatchObject({ delivered: 3, invocations: 3 });
    let description = await harness.broker.describeSubscription(name);
    expect(description.partitions[0]).toMatchObject({ committedOffset: 3, delivered: 3, leaseUntil: 0 });
    // No time for even one invocation: nothing is started, nothing written.
    const before = harness.writes.total;
    expect(await handle({ Records: [insert(topicId, 0)] }, { getRemainingTimeInMillis: () => TIMEOUT_MS + DEADLINE_MARGIN_MS - 1 })).toMatchObject({ delivered: 0, invocations: 0 });
    expect(harness.writes.total).toBe(before);
    const rest = await handle({ Records: [insert(topicId, 0)] }, plenty);
    expect(rest).toMatchObject({ delivered: 3 });
    expect(received.get(`${name}/0`)).toEqual([0, 1, 2, 3, 4, 5]);
    description = await harness.broker.describeSubscription(name);
    expect(description.partitions[0]).toMatchObject({ committedOffset: 6, delivered: 6, leaseUntil: 0 });
  });

  it("with the webhook guard (deployed), create refuses a host that resolves to a private address, writing nothing", async () => {
    const topic = topicName("guarded");
    await harness.broker.createTopic({ name: topic, partitions: 1 });
    const resolve = async (host: string) => [{ address: host === "public.example.com" ? "93.184.216.34" : "169.254.169.254", family: 4 }];
    const guarded = createBroker({ storage: harness.storage, clock: clock.now, webhookCheck: createWebhookGuard({ resolve }).check });
    const before = harness.writes.total;
    const error = await guarded.createSubscription({ name: uniqueName("guarded"), topic, webhook: "https://metadata.example.com/latest" }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "SUBSCRIPTION_TARGET_NOT_ALLOWED", status: 400, details: { address: "169.254.169.254" } });
    expect(harness.writes.total).toBe(before);
    await expect(guarded.createSubscription({ name: uniqueName("guarded"), topic, webhook: "https://public.example.com/hook" })).resolves.toMatchObject({ state: "active" });
  });
});
