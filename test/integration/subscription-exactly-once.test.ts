/**
 * Exactly-once push subscriptions (docs/subscriptions.md, "Exactly-once") on DynamoDB Local, driven
 * by runOnce/drain: the target transforms each input record into an output record, and the output
 * topic holds each result exactly once, in order per partition — through webhook failures after the
 * work was done, a timed-out invocation whose late answer arrives after the retry, a zombie
 * dispatcher whose lease was taken over mid-invocation (fenced at commit), bad answers (a failure,
 * nothing written) and dead letters (written in the same transaction as the offset).
 */
import type { ServerResponse } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Invoker, SubscriptionEvent, SubscriptionEventRecord } from "../../shared/core/dispatch-event.js";
import { Dispatcher } from "../../shared/core/dispatch.js";
import { DLQ_HEADERS, LeaseLostError } from "../../shared/core/dispatch-partition.js";
import type { CreateSubscriptionInput } from "../../shared/core/subscription-model.js";
import { createInvoker } from "../../shared/runtime/invokers.js";
import { createTestBroker, createTestTables, topicName, type TestBroker } from "../support/broker.js";
import { uniqueName } from "../support/dynamodb.js";
import { startWebhookTarget, type WebhookTarget } from "../support/webhook-target.js";

const PARTITIONS = 3;

let harness: TestBroker;
let target: WebhookTarget;
let baseUrl: string;
let responders: WebhookTarget["responders"];
let dispatcher: Dispatcher;
const dispatchErrors: unknown[] = [];

beforeAll(async () => {
  harness = createTestBroker(await createTestTables("subeos"), { config: { subscriptionAllowHttp: true, subscriptionLocalModules: true } });
  target = await startWebhookTarget(() => ({ status: 404 }));
  ({ baseUrl, responders } = target);
  dispatcher = new Dispatcher({ broker: harness.broker, invoker: createInvoker(), retryBaseMs: 1, retryMaxMs: 5, onError: (error) => dispatchErrors.push(error) });
}, 120_000);
afterAll(async () => {
  await target?.close();
});

async function createTopic(label: string, partitions = PARTITIONS): Promise<string> {
  const name = topicName(label);
  await harness.broker.createTopic({ name, partitions });
  return name;
}

/** `count` records per partition, values "<partition>:<i>". */
async function produce(topic: string, count: number, partitions = PARTITIONS): Promise<void> {
  await harness.broker.produce({
    topic,
    compression: "none",
    partitions: Array.from({ length: partitions }, (_, partition) => ({
      partition,
      records: Array.from({ length: count }, (_, i) => ({ key: null, value: new TextEncoder().encode(`${partition}:${i}`), headers: [] })),
    })),
  });
}

async function subscribe(input: Omit<CreateSubscriptionInput, "name">): Promise<{ name: string; group: string }> {
  const created = await harness.broker.createSubscription({ name: uniqueName("eos"), startingPosition: "earliest", delivery: "exactly-once", ...input });
  return { name: created.name, group: created.group };
}

const inputRecords = (event: SubscriptionEvent): SubscriptionEventRecord[] => Object.values(event.records).flat();
const text = (base64: string | undefined) => Buffer.from(base64 ?? "", "base64").toString("utf8");

/** The transform every target here runs: input "<p>:<i>" → output "out <p>:<i>" on the same partition (plain text, and the idempotency key as a header). */
function transform(event: SubscriptionEvent, output: string): { records: unknown[] } {
  return {
    records: inputRecords(event).map((r) => ({ topic: output, partition: r.partition, encoding: "utf8", value: `out ${text(r.value)}`, headers: [{ "source-key": r.idempotencyKey ?? "missing" }] })),
  };
}

/** Every record of a topic partition, as text values (and the source-key header). */
async function readAll(topic: string, partition: number): Promise<{ value: string; sourceKey: string }[]> {
  const out: { value: string; sourceKey: string }[] = [];
  for (let offset = 0; ; ) {
    const [result] = await harness.broker.fetch({ partitions: [{ topic, partition, offset }], maxRecords: 1_000 });
    if (!result || "error" in result) throw new Error(`fetch failed: ${JSON.stringify(result)}`);
    if (result.records.length === 0) return out;
    for (const r of result.records) {
      const header = r.headers.find((h) => h.key === "source-key");
      out.push({ value: new TextDecoder().decode(r.value ?? new Uint8Array()), sourceKey: header?.value ? new TextDecoder().decode(header.value) : "" });
    }
    offset = result.records[result.records.length - 1]!.offset + 1;
  }
}

async function expectExactlyOnce(output: string, count: number, partitions = PARTITIONS): Promise<void> {
  for (let p = 0; p < partitions; p++) {
    const values = (await readAll(output, p)).map((r) => r.value);
    expect(values).toEqual(Array.from({ length: count }, (_, i) => `out ${p}:${i}`));
  }
}

async function committed(group: string, topic: string): Promise<number[]> {
  return (await harness.broker.committedOffsets(group, topic)).map((c) => c.offset);
}

describe("exactly-once subscriptions", () => {
  it(
    `write one result per input, in order, for ${PARTITIONS} partitions × 300 records, with offsets committed in the same transactions`,
    async () => {
      const input = await createTopic("eos-in");
      const output = await createTopic("eos-out");
      await produce(input, 300);
      const path = `/${uniqueName("normal")}`;
      responders.set(path, (event) => ({ status: 200, body: transform(event, output) }));
      const sub = await subscribe({ topic: input, webhook: baseUrl + path, batchSize: 40 });
      await dispatcher.drain({ timeoutMs: 110_000 });
      await expectExactlyOnce(output, 300);
      expect(await committed(sub.group, input)).toEqual([300, 300, 300]);
      const topicId = (await harness.broker.getSubscription(sub.name)).topicId;
      expect((await readAll(output, 1))[7]!.sourceKey).toBe(`${sub.name}:${topicId}:1:7`);
      const described = await harness.broker.describeSubscription(sub.name);
      expect(described.partitions.map((p) => p.delivered)).toEqual([300, 300, 300]);
    },
    120_000,
  );

  it(
    "discard the results of an invocation that failed after doing its work (a 500 carrying records): still exactly once",
    async () => {
      const input = await createTopic("eos-500-in");
      const output = await createTopic("eos-500-out");
      await produce(input, 120);
      const path = `/${uniqueName("fail-after-work")}`;
      let calls = 0;
      // Every third invocation computes its output and then fails: the answer is a 500 with the records in it.
      responders.set(path, (event) => ({ status: ++calls % 3 === 1 ? 500 : 200, body: transform(event, output) }));
      const sub = await subscribe({ topic: input, webhook: baseUrl + path, batchSize: 25, maxRetries: 100 });
      await dispatcher.drain({ timeoutMs: 110_000 });
      expect(calls).toBeGreaterThan(15); // the failures really happened (and were retried)
      await expectExactlyOnce(output, 120);
      expect(await committed(sub.group, input)).toEqual([120, 120, 120]);
      expect((await harness.broker.describeSubscription(sub.name)).partitions.some((p) => p.failed > 0)).toBe(true);
    },
    120_000,
  );

  it(
    "ignore a timed-out invocation's late answer that arrives after the retry: exactly once",
    async () => {
      const input = await createTopic("eos-late-in", 1);
      const output = await createTopic("eos-late-out", 1);
      await produce(input, 30, 1);
      const path = `/${uniqueName("late")}`;
      let held: { res: ServerResponse; body: unknown } | undefined;
      let calls = 0;
      responders.set(path, (event, { response: res }) => {
        calls++;
        if (calls === 1) {
          held = { res, body: transform(event, output) }; // never answered in time: the invoker gives up after timeoutMs
          return undefined;
        }
        if (held) {
          // The retry has arrived: now the first invocation's (complete, valid) answer comes in, late.
          held.res.writeHead(200, { "content-type": "application/json" });
          held.res.end(JSON.stringify(held.body));
          held = undefined;
        }
        return { status: 200, body: transform(event, output) };
      });
      const sub = await subscribe({ topic: input, webhook: baseUrl + path, batchSize: 10, timeoutMs: 1_000, maxRetries: 100 });
      await dispatcher.drain({ timeoutMs: 110_000 });
      expect(calls).toBeGreaterThan(3);
      await expectExactlyOnce(output, 30, 1);
      expect(await committed(sub.group, input)).toEqual([30]);
      expect((await harness.broker.describeSubscription(sub.name)).partitions[0]!.lastError?.message).toContain("did not answer within 1000 ms");
    },
    120_000,
  );

  it(
    "fence a zombie dispatcher whose lease was taken over mid-invocation: its commit is refused, the output holds each result once",
    async () => {
      const input = await createTopic("eos-zombie-in", 1);
      const output = await createTopic("eos-zombie-out", 1);
      await produce(input, 50, 1);
      const sub = await subscribe({ topic: input, function: "/unused/by/the/test/invokers.mjs", batchSize: 20 });
      let skew = 0;
      const clock = () => Date.now() + skew;
      let entered!: () => void;
      const inInvoke = new Promise<void>((resolve) => (entered = resolve));
      let unstall!: () => void;
      const stalled = new Promise<void>((resolve) => (unstall = resolve));
      let zombieCalls = 0;
      // Dispatcher A computes the output of its batch, then hangs (a stalled process) holding the lease.
      const zombie: Invoker = {
        async invoke(_subscription, event) {
          zombieCalls++;
          const answer = transform(event, output);
          entered();
          await stalled;
          return { ok: true, response: answer };
        },
      };
      const healthy: Invoker = { invoke: async (_subscription, event) => ({ ok: true, response: transform(event, output) }) };
      const errorsOfA: unknown[] = [];
      const a = new Dispatcher({ broker: harness.broker, invoker: zombie, clock, owner: uniqueName("dispatcher-A"), onError: (error) => errorsOfA.push(error) });
      const b = new Dispatcher({ broker: harness.broker, invoker: healthy, clock, owner: uniqueName("dispatcher-B"), retryBaseMs: 1, retryMaxMs: 5 });
      const runOfA = a.runOnce();
      await inInvoke;
      expect((await b.runOnce()).invocations).toBe(0); // leased by A

      skew = 10 * 60_000; // A's lease is long over: B takes the partition (and bumps the epoch)
      await b.drain({ timeoutMs: 110_000 });
      expect(await committed(sub.group, input)).toEqual([50]);

      unstall(); // A wakes up with the same batch's output and tries to commit it
      await runOfA;
      expect(zombieCalls).toBe(1);
      const fenced = errorsOfA.find((e): e is LeaseLostError => e instanceof LeaseLostError);
      expect(fenced?.message).toContain("PRODUCER_FENCED");
      await expectExactlyOnce(output, 50, 1);
      expect(await committed(sub.group, input)).toEqual([50]);
      await harness.broker.deleteSubscription(sub.name); // its module path is not real; no later drain may pick it up
    },
    120_000,
  );

  it(
    "treat a bad answer as a failed invocation: a clear last error, nothing written, offsets unmoved",
    async () => {
      const input = await createTopic("eos-bad-in", 1);
      const output = await createTopic("eos-bad-out", 1);
      await produce(input, 4, 1);
      const path = `/${uniqueName("bad")}`;
      let calls = 0;
      // The first record would be fine; the second is not base64 and says nothing about its encoding.
      responders.set(path, (event) => {
        calls++;
        return { status: 200, body: { records: inputRecords(event).flatMap((r) => [{ topic: output, value: r.value }, { topic: output, value: "not base64!" }]) } };
      });
      const sub = await subscribe({ topic: input, webhook: baseUrl + path, batchSize: 4, maxRetries: 5 });
      try {
        const own = new Dispatcher({ broker: harness.broker, invoker: createInvoker(), retryBaseMs: 1, retryMaxMs: 1 });
        await own.runOnce();
        expect(calls).toBe(3); // the batch, then bisected down to its first record
        const state = (await harness.broker.describeSubscription(sub.name)).partitions[0]!;
        expect(state.lastError?.message).toContain("records.1.value is not base64");
        expect(state.lastError?.offset).toBe(0);
        expect(state.delivered).toBe(0);
        expect(state.failed).toBe(3);
        expect(await readAll(output, 0)).toEqual([]);
        expect(await committed(sub.group, input)).toEqual([0]); // the starting position, committed at create
      } finally {
        await harness.broker.deleteSubscription(sub.name); // it would retry forever and keep other tests' drains busy
      }
    },
    120_000,
  );

  it(
    "dead-letter a poison record in the same transaction as its offset; the rest flows exactly once",
    async () => {
      const input = await createTopic("eos-dlq-in", 1);
      const output = await createTopic("eos-dlq-out", 1);
      const dlq = await createTopic("eos-dlq-dead", 1);
      await produce(input, 10, 1);
      const path = `/${uniqueName("poison")}`;
      responders.set(path, (event) => (inputRecords(event).some((r) => text(r.value) === "0:4") ? { status: 500 } : { status: 200, body: transform(event, output) }));
      const sub = await subscribe({ topic: input, webhook: baseUrl + path, batchSize: 5, maxRetries: 1, deadLetterTopic: dlq });
      await dispatcher.drain({ timeoutMs: 110_000 });
      expect((await readAll(output, 0)).map((r) => r.value)).toEqual([0, 1, 2, 3, 5, 6, 7, 8, 9].map((i) => `out 0:${i}`));
      const [dead] = await harness.broker.fetch({ partitions: [{ topic: dlq, partition: 0, offset: 0 }], maxRecords: 10 });
      const letters = dead && !("error" in dead) ? dead.records : [];
      expect(letters.map((r) => new TextDecoder().decode(r.value!))).toEqual(["0:4"]);
      expect(new TextDecoder().decode(letters[0]!.headers.find((h) => h.key === DLQ_HEADERS.offset)!.value!)).toBe("4");
      expect(await committed(sub.group, input)).toEqual([10]);
      expect((await harness.broker.describeSubscription(sub.name)).partitions[0]!.deadLettered).toBe(1);
    },
    120_000,
  );
});
