/**
 * The push-subscription dispatcher (issue 15) on DynamoDB Local, driven by `drain()` (no sleeps as
 * synchronisation): a webhook served by this test and a local function module receive every record
 * in offset order per partition with offsets committed; a poison record reaches the dead-letter
 * topic after maxRetries while the rest flows; a webhook answering 500 recovers; partial batch
 * responses; pause/resume; delete; and the signature check docs/subscriptions.md documents.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Invoker, SubscriptionEvent } from "../../shared/core/dispatch-event.js";
import { Dispatcher } from "../../shared/core/dispatch.js";
import { DLQ_HEADERS, LeaseLostError } from "../../shared/core/dispatch-partition.js";
import type { CreateSubscriptionInput } from "../../shared/core/subscription-model.js";
import { createInvoker } from "../../shared/runtime/invokers.js";
import { createTestBroker, createTestTables, topicName, type TestBroker } from "../support/broker.js";
import { uniqueName } from "../support/dynamodb.js";
import { startWebhookTarget, type WebhookTarget } from "../support/webhook-target.js";

const PARTITIONS = 3;
const PER_PARTITION = 2_000;

let harness: TestBroker;
let target: WebhookTarget;
let baseUrl: string;
let responders: WebhookTarget["responders"];
let deliveries: WebhookTarget["deliveries"];
let dispatcher: Dispatcher;
const dispatchErrors: unknown[] = [];

beforeAll(async () => {
  harness = createTestBroker(await createTestTables("subdisp"), { config: { subscriptionAllowHttp: true, subscriptionLocalModules: true } });
  target = await startWebhookTarget(() => ({ status: 200 }));
  ({ baseUrl, responders, deliveries } = target);
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

/** `count` records per partition, values "<partition>:<i>" (from `from`), in requests of 1,000. */
async function produce(topic: string, count: number, from = 0, partitions = PARTITIONS): Promise<void> {
  for (let start = from; start < from + count; start += 1_000) {
    const n = Math.min(1_000, from + count - start);
    await harness.broker.produce({
      topic,
      compression: "none",
      partitions: Array.from({ length: partitions }, (_, partition) => ({
        partition,
        records: Array.from({ length: n }, (_, i) => ({ key: null, value: new TextEncoder().encode(`${partition}:${start + i}`), headers: [{ key: "h", value: new TextEncoder().encode("v") }] })),
      })),
    });
  }
}

async function subscribe(input: Omit<CreateSubscriptionInput, "name">): Promise<{ name: string; secret: string; group: string }> {
  const created = await harness.broker.createSubscription({ name: uniqueName("sd"), startingPosition: "earliest", ...input });
  return { name: created.name, secret: created.secret, group: created.group };
}

const valueOf = (r: { value?: string }) => Buffer.from(r.value ?? "", "base64").toString("utf8");

/** Offsets the target accepted per partition, in the order it accepted them. */
function accepted(path: string): Map<number, number[]> {
  const byPartition = new Map<number, number[]>();
  for (const d of deliveries.filter((x) => x.path === path && x.status >= 200 && x.status < 300)) {
    for (const records of Object.values(d.event.records)) for (const r of records) byPartition.set(r.partition, [...(byPartition.get(r.partition) ?? []), r.offset]);
  }
  return byPartition;
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

async function committed(group: string, topic: string): Promise<number[]> {
  return (await harness.broker.committedOffsets(group, topic)).map((c) => c.offset);
}

/** The check docs/subscriptions.md tells receivers to make, verbatim in spirit: HMAC over "<t>.<body>", constant-time compare, 5-minute window. */
function verifySignature(secret: string, header: string | undefined, body: string, nowSeconds = Math.floor(Date.now() / 1000)): boolean {
  const parts = Object.fromEntries((header ?? "").split(",").map((kv) => kv.split("=", 2) as [string, string]));
  const t = Number(parts["t"]);
  if (!Number.isInteger(t) || Math.abs(nowSeconds - t) > 300 || !parts["v1"]) return false;
  const expected = createHmac("sha256", secret).update(`${t}.${body}`).digest();
  const given = Buffer.from(parts["v1"], "hex");
  return given.length === expected.length && timingSafeEqual(given, expected);
}

describe("dispatching to a webhook", () => {
  it(
    `delivers ${PARTITIONS} partitions × ${PER_PARTITION} records in offset order, commits, counts, and signs every request`,
    async () => {
      const topic = await createTopic("sd-hook");
      await produce(topic, PER_PARTITION);
      const path = `/${uniqueName("hook")}`;
      const sub = await subscribe({ topic, webhook: baseUrl + path, batchSize: 500 });
      await dispatcher.drain({ timeoutMs: 110_000 });

      const got = accepted(path);
      for (let p = 0; p < PARTITIONS; p++) expect(got.get(p), `partition ${p}`).toEqual(range(0, PER_PARTITION));
      expect(await committed(sub.group, topic)).toEqual(Array(PARTITIONS).fill(PER_PARTITION));
      const mine = deliveries.filter((d) => d.path === path);
      // One partition per event, MSK's shape, and a signature the documented check accepts.
      const first = mine[0]!;
      const [key, records] = Object.entries(first.event.records)[0]!;
      expect(first.event.eventSource).toBe("dynalog");
      expect(key).toBe(`${topic}-${records[0]!.partition}`);
      expect(records[0]).toMatchObject({ topic, timestampType: "CREATE_TIME", headers: [{ h: [118] }] });
      expect(records[0]!.key).toBeUndefined();
      expect(valueOf(records[0]!)).toBe(`${records[0]!.partition}:${records[0]!.offset}`);
      for (const d of mine) expect(verifySignature(sub.secret, d.headers["x-dynalog-signature"] as string, d.raw)).toBe(true);
      expect(verifySignature(sub.secret, first.headers["x-dynalog-signature"] as string, first.raw.replace("dynalog", "dynaloG"))).toBe(false);
      expect(verifySignature("dlsub_wrong", first.headers["x-dynalog-signature"] as string, first.raw)).toBe(false);
      expect(first.headers["x-dynalog-subscription"]).toBe(sub.name);

      const described = await harness.broker.describeSubscription(sub.name);
      expect(described.totalLag).toBe(0);
      expect(described.partitions.map((p) => [p.delivered, p.failed, p.deadLettered])).toEqual(Array(PARTITIONS).fill([PER_PARTITION, 0, 0]));
      expect(dispatchErrors).toEqual([]);
    },
    120_000,
  );

  it(
    "sends a poison record to the dead-letter topic after maxRetries while the other records flow",
    async () => {
      const topic = await createTopic("sd-poison");
      const dlq = await createTopic("sd-poison-dlq", 1);
      await produce(topic, 100);
      const path = `/${uniqueName("poison")}`;
      const poison = "1:37";
      responders.set(path, (event) => (Object.values(event.records)[0]!.some((r) => valueOf(r) === poison) ? { status: 500, body: { error: "cannot digest 1:37" } } : { status: 200 }));
      const sub = await subscribe({ topic, webhook: baseUrl + path, batchSize: 40, maxRetries: 2, deadLetterTopic: dlq });
      await dispatcher.drain({ timeoutMs: 110_000 });

      const got = accepted(path);
      expect(got.get(0)).toEqual(range(0, 100));
      expect(got.get(2)).toEqual(range(0, 100));
      expect(got.get(1)).toEqual(range(0, 100).filter((o) => o !== 37));
      // Bisected down to the record, then tried alone maxRetries + 1 times in all.
      const alone = deliveries.filter((d) => d.path === path && Object.values(d.event.records)[0]!.length === 1 && valueOf(Object.values(d.event.records)[0]![0]!) === poison);
      expect(alone).toHaveLength(3);
      expect(await committed(sub.group, topic)).toEqual([100, 100, 100]);

      const [dead] = await harness.broker.fetch({ partitions: [{ topic: dlq, partition: 0, offset: 0 }] });
      if (!dead || "error" in dead) throw new Error("fetch failed");
      expect(dead.records).toHaveLength(1);
      const header = (name: string) => new TextDecoder().decode(dead.records[0]!.headers.find((h) => h.key === name)!.value!);
      expect(new TextDecoder().decode(dead.records[0]!.value!)).toBe(poison);
      expect([header(DLQ_HEADERS.topic), header(DLQ_HEADERS.partition), header(DLQ_HEADERS.offset), header(DLQ_HEADERS.subscription)]).toEqual([topic, "1", "37", sub.name]);
      expect(header(DLQ_HEADERS.error)).toContain("HTTP 500");
      expect(header("h")).toBe("v");

      const p1 = (await harness.broker.describeSubscription(sub.name)).partitions[1]!;
      expect(p1).toMatchObject({ delivered: 99, deadLettered: 1, lag: 0 });
      expect(p1.failed).toBeGreaterThanOrEqual(3);
      expect(p1.lastError).toMatchObject({ offset: 37 });
      expect(p1.lastError!.message).toContain("cannot digest");
    },
    120_000,
  );

  it(
    "retries a webhook answering 500 until it recovers, losing and reordering nothing",
    async () => {
      const topic = await createTopic("sd-flaky", 1);
      await produce(topic, 300, 0, 1);
      const path = `/${uniqueName("flaky")}`;
      let failuresLeft = 4;
      responders.set(path, () => (failuresLeft-- > 0 ? { status: 500 } : { status: 200 }));
      const sub = await subscribe({ topic, webhook: baseUrl + path, batchSize: 100, maxRetries: 100 });
      await dispatcher.drain({ timeoutMs: 110_000 });
      expect(accepted(path).get(0)).toEqual(range(0, 300));
      expect(deliveries.filter((d) => d.path === path && d.status === 500)).toHaveLength(4);
      expect(await committed(sub.group, topic)).toEqual([300]);
      expect((await harness.broker.describeSubscription(sub.name)).partitions[0]).toMatchObject({ delivered: 300, failed: 4, deadLettered: 0, retry: null });
    },
    120_000,
  );

  it(
    "dead-letters records a webhook never answers (timeout) or that cannot be reached, with the reason",
    async () => {
      const topic = await createTopic("sd-down", 1);
      const dlq = await createTopic("sd-down-dlq", 1);
      await produce(topic, 2, 0, 1);
      // Answers after the subscription's timeout (1 s): the dispatcher must not wait for it.
      const hanging = createServer((_request, response) => void setTimeout(() => response.end(), 5_000).unref());
      await new Promise<void>((resolve) => hanging.listen(0, "127.0.0.1", resolve));
      const hangUrl = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}/`;
      const closed = createServer();
      await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
      const closedUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/`;
      await new Promise<void>((resolve) => closed.close(() => resolve())); // nothing listens there now
      try {
        const slow = await subscribe({ topic, webhook: hangUrl, timeoutMs: 1_000, maxRetries: 0, deadLetterTopic: dlq });
        const down = await subscribe({ topic, webhook: closedUrl, maxRetries: 1, deadLetterTopic: dlq });
        await dispatcher.drain({ timeoutMs: 110_000 });
        for (const sub of [slow, down]) expect(await committed(sub.group, topic)).toEqual([2]);
        const [dead] = await harness.broker.fetch({ partitions: [{ topic: dlq, partition: 0, offset: 0 }] });
        if (!dead || "error" in dead) throw new Error("fetch failed");
        const reasons = dead.records.map((r) => new TextDecoder().decode(r.headers.find((h) => h.key === DLQ_HEADERS.error)!.value!));
        expect(reasons).toHaveLength(4);
        expect(reasons.filter((r) => r.includes("did not answer within 1000 ms"))).toHaveLength(2);
        expect(reasons.filter((r) => r.includes("unreachable"))).toHaveLength(2);
        expect((await harness.broker.describeSubscription(down.name)).partitions[0]).toMatchObject({ delivered: 0, deadLettered: 2 });
      } finally {
        hanging.closeAllConnections();
        await new Promise<void>((resolve) => hanging.close(() => resolve()));
      }
    },
    120_000,
  );

  it(
    "honors a partial batch response: commits up to the first failure and retries from it",
    async () => {
      const topic = await createTopic("sd-partial", 1);
      await produce(topic, 50, 0, 1);
      const path = `/${uniqueName("partial")}`;
      let reported = false;
      responders.set(path, (event) => {
        const records = Object.values(event.records)[0]!;
        if (!reported && records.some((r) => r.offset === 20)) {
          reported = true;
          return { status: 200, body: { batchItemFailures: [{ itemIdentifier: `${topic}-0@30` }, { itemIdentifier: `${topic}-0@20` }] } };
        }
        return { status: 200 };
      });
      const sub = await subscribe({ topic, webhook: baseUrl + path, batchSize: 50 });
      await dispatcher.drain({ timeoutMs: 110_000 });
      const events = deliveries.filter((d) => d.path === path).map((d) => Object.values(d.event.records)[0]!.map((r) => r.offset));
      expect(events[0]).toEqual(range(0, 50));
      expect(events.slice(1).flat()).toEqual(range(20, 50)); // redelivered from the first failure, in order
      expect(await committed(sub.group, topic)).toEqual([50]);
    },
    120_000,
  );

  it(
    "delivers nothing while paused, resumes where it stopped, and stops for good when deleted",
    async () => {
      const topic = await createTopic("sd-pause", 1);
      const path = `/${uniqueName("pause")}`;
      const sub = await subscribe({ topic, webhook: baseUrl + path });
      await produce(topic, 30, 0, 1);
      await dispatcher.drain({ timeoutMs: 110_000 });
      expect(accepted(path).get(0)).toEqual(range(0, 30));

      await harness.broker.pauseSubscription(sub.name);
      await produce(topic, 20, 30, 1);
      await dispatcher.drain({ timeoutMs: 110_000 });
      expect(accepted(path).get(0)).toEqual(range(0, 30));
      expect((await harness.broker.describeSubscription(sub.name)).totalLag).toBe(20);

      await harness.broker.resumeSubscription(sub.name);
      await dispatcher.drain({ timeoutMs: 110_000 });
      expect(accepted(path).get(0)).toEqual(range(0, 50));

      await harness.broker.deleteSubscription(sub.name);
      await produce(topic, 10, 50, 1);
      const round = await dispatcher.drain({ timeoutMs: 110_000 });
      expect(round.invocations).toBe(0);
      expect(accepted(path).get(0)).toEqual(range(0, 50));
    },
    120_000,
  );
});

describe("leases", () => {
  it(
    "let a second dispatcher take over a stalled one's partition once its lease expired; the stalled one cannot move the offset back",
    async () => {
      const topic = await createTopic("sd-takeover", 1);
      await produce(topic, 50, 0, 1);
      const path = `/${uniqueName("takeover")}`;
      const sub = await subscribe({ topic, webhook: baseUrl + path, batchSize: 20 });
      let skew = 0;
      const clock = () => Date.now() + skew;
      let entered!: () => void;
      const inInvoke = new Promise<void>((resolve) => (entered = resolve));
      let unstall!: () => void;
      const stalled = new Promise<void>((resolve) => (unstall = resolve));
      // Dispatcher A hangs inside its first invocation (a stalled process), holding the lease.
      const stalling: Invoker = {
        async invoke() {
          entered();
          await stalled;
          return { ok: true, response: undefined };
        },
      };
      const errorsOfA: unknown[] = [];
      const a = new Dispatcher({ broker: harness.broker, invoker: stalling, clock, owner: "dispatcher-A", onError: (error) => errorsOfA.push(error) });
      const b = new Dispatcher({ broker: harness.broker, invoker: createInvoker(), clock, owner: "dispatcher-B", retryBaseMs: 1, retryMaxMs: 5 });
      const runOfA = a.runOnce();
      await inInvoke;
      expect((await b.runOnce()).invocations).toBe(0); // leased by A

      skew = 10 * 60_000; // A's lease (two timeouts + 30 s) is long over
      await b.drain({ timeoutMs: 110_000 });
      expect(accepted(path).get(0)).toEqual(range(0, 50));
      expect(await committed(sub.group, topic)).toEqual([50]);

      unstall();
      await runOfA;
      expect(errorsOfA.some((e) => e instanceof LeaseLostError)).toBe(true);
      expect(await committed(sub.group, topic)).toEqual([50]);
    },
    120_000,
  );
});

describe("dispatching to a local function module", () => {
  it(
    `invokes handler(event) for ${PARTITIONS} partitions × 500 records in offset order`,
    async () => {
      const dir = mkdtempSync(path.join(tmpdir(), "dynalog-sub-"));
      const file = path.join(dir, "handler.mjs");
      // The module records into a global the test reads (it runs in this process, as `npm start` runs it).
      writeFileSync(
        file,
        `export async function handler(event) {
  const seen = (globalThis.__dynalogSubTest ??= []);
  for (const [key, records] of Object.entries(event.records)) for (const r of records) seen.push([key, r.partition, r.offset, Buffer.from(r.value, "base64").toString()]);
  return { batchItemFailures: [] };
}
`,
      );
      const topic = await createTopic("sd-module");
      await produce(topic, 500);
      const sub = await subscribe({ topic, function: file, batchSize: 100 });
      await dispatcher.drain({ timeoutMs: 110_000 });
      const seen = ((globalThis as { __dynalogSubTest?: [string, number, number, string][] }).__dynalogSubTest ?? []).filter(([key]) => key.startsWith(`${topic}-`));
      for (let p = 0; p < PARTITIONS; p++) {
        const mine = seen.filter(([, partition]) => partition === p);
        expect(mine.map(([, , offset]) => offset)).toEqual(range(0, 500));
        expect(mine.every(([, , offset, value]) => value === `${p}:${offset}`)).toBe(true);
      }
      expect(await committed(sub.group, topic)).toEqual([500, 500, 500]);
    },
    120_000,
  );

  it(
    "treats a throwing handler as a failure and retries it",
    async () => {
      const dir = mkdtempSync(path.join(tmpdir(), "dynalog-sub-"));
      const file = path.join(dir, "flaky.mjs");
      writeFileSync(file, `let calls = 0;\nexport const handler = async () => { if (++calls <= 2) throw new Error("not yet " + calls); };\n`);
      const topic = await createTopic("sd-module-flaky", 1);
      await produce(topic, 5, 0, 1);
      const sub = await subscribe({ topic, function: file, maxRetries: 10 });
      await dispatcher.drain({ timeoutMs: 110_000 });
      expect(await committed(sub.group, topic)).toEqual([5]);
      const state = (await harness.broker.describeSubscription(sub.name)).partitions[0]!;
      expect(state.delivered).toBe(5);
      expect(state.failed).toBeGreaterThanOrEqual(2);
      expect(state.lastError!.message).toContain("not yet");
    },
    120_000,
  );
});
