/**
 * The Upstash dialect's idempotency-key header (docs/upstash.md): stock clients retry every failure
 * blindly, so a record carrying `Dynalog-Idempotency-Key` is written once per key, and every retry
 * answers the first write's place. Through the real @upstash/kafka client and curl-like calls.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IDEMPOTENCY_KEY_WINDOW_MS, MAX_IDEMPOTENCY_KEY_LENGTH } from "../../shared/limits.js";
import { TestClock, timeoutError } from "../support/broker.js";
import { uniqueName } from "../support/dynamodb.js";
import { startUpstash, type UpstashFixture } from "../support/upstash.js";

const HEADER = "Dynalog-Idempotency-Key";

let up: UpstashFixture;

beforeAll(async () => {
  up = await startUpstash("upd");
});
afterAll(async () => up?.served.close());

const keyed = (key: string, extra: Record<string, unknown> = {}) => ({ headers: [{ key: HEADER, value: key }], ...extra });

describe("a record carrying the idempotency key", () => {
  it("is written once however often it is sent; every answer is the first write's place", async () => {
    const topic = await up.newTopic("upd-retry", 2);
    const key = uniqueName("order");
    const producer = up.kafka.producer();
    const first = await producer.produce(topic, "paid", { partition: 1, ...keyed(key) });
    const retried = await producer.produce(topic, "paid", { partition: 1, ...keyed(key) });
    const viaCurl = await up.raw("POST", "/produce", { topic, value: "paid", partition: 1, ...keyed(key) });
    expect(first).toMatchObject({ topic, partition: 1, offset: 0 });
    // The original answer, timestamp included (the first write's append time, remembered with the key).
    expect(retried).toEqual(first);
    expect(viaCurl.body).toEqual([first]);
    // Stored once, header and all; a later record without the key takes the next offset (no hole).
    const later = await producer.produce(topic, "next", { partition: 1 });
    expect(later.offset).toBe(1);
    expect(await up.records(topic, 1)).toEqual([
      { offset: 0, key: "", value: "paid", headers: [{ key: HEADER, value: key }] },
      { offset: 1, key: "", value: "next", headers: [] },
    ]);
  });

  it("without key or partition lands where the first write did, so its retry is recognised", async () => {
    const topic = await up.newTopic("upd-place", 4);
    const key = uniqueName("placed");
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await up.kafka.producer().produce(topic, "v", keyed(key)));
    expect(new Set(answers.map((a) => `${a.partition}:${a.offset}`)).size).toBe(1);
    expect(await up.records(topic, answers[0]!.partition)).toHaveLength(1);
  });

  it("the first attempt fails after its write landed: the client's own retry answers the original offset", async () => {
    const topic = await up.newTopic("upd-lost", 1);
    const key = uniqueName("lost");
    await up.kafka.producer().produce(topic, "before", { partition: 0 });
    const { faults, tables } = up.harness;
    // The append's transaction is applied but its response lost; the writer's check of its own slot
    // (a void put) then fails too: the request errs (5xx) with the record stored at offset 1.
    faults.once(/^TransactWriteItems/, { kind: "drop-response", error: timeoutError() });
    let voidFailures = 1;
    faults.add((command, input) => {
      const item = input["Item"] as Record<string, unknown> | undefined;
      if (voidFailures > 0 && /^PutItem/.test(command) && input["TableName"] === tables.log && item?.["k"] === "V") {
        voidFailures--;
        return { kind: "fail-before", error: timeoutError() };
      }
      return undefined;
    });
    try {
      const answer = await up.kafka.producer().produce(topic, "once", { partition: 0, ...keyed(key) });
      expect(voidFailures).toBe(0); // the first attempt did fail
      expect(answer).toMatchObject({ topic, partition: 0, offset: 1 });
    } finally {
      faults.clear();
    }
    expect((await up.records(topic, 0)).map((r) => [r.offset, r.value])).toEqual([
      [0, "before"],
      [1, "once"],
    ]);
  }, 60_000);

  it("sent several times at once: one write, the same answer for all", async () => {
    const topic = await up.newTopic("upd-race", 1);
    const key = uniqueName("race");
    const answers = await Promise.all(Array.from({ length: 5 }, () => up.raw("POST", "/produce", { topic, value: "x", ...keyed(key) })));
    for (const a of answers) expect(a.status, JSON.stringify(a.body)).toBe(200);
    expect(new Set(answers.map((a) => JSON.stringify((a.body as unknown as { offset: number }[])[0]!.offset))).size).toBe(1);
    expect(await up.records(topic, 0)).toHaveLength(1);
    // The duplicates' reservations were given back or voided (never a record): fetch sees two.
    await up.kafka.producer().produce(topic, "after");
    expect((await up.records(topic, 0)).map((r) => r.value)).toEqual(["x", "after"]);
  }, 60_000);

  it("different keys, topics or principals are different writes", async () => {
    const topic = await up.newTopic("upd-distinct", 1);
    const other = await up.newTopic("upd-distinct-b", 1);
    const [a, b] = [uniqueName("ka"), uniqueName("kb")];
    const answers = await up.kafka.producer().produceMany([
      { topic, value: "a", ...keyed(a) },
      { topic, value: "b", ...keyed(b) },
      { topic: other, value: "a", ...keyed(a) },
      // The same key twice in one request: the second is the first's duplicate.
      { topic, value: "a", ...keyed(a) },
    ]);
    expect(answers.map((r) => [r.topic === topic ? "t" : "o", r.offset])).toEqual([
      ["t", 0],
      ["t", 1],
      ["o", 0],
      ["t", 0],
    ]);
    const byOther = await up.raw("POST", "/produce", { topic, value: "a", ...keyed(a) }, { authorization: up.otherBasic });
    expect(byOther.body).toEqual([expect.objectContaining({ offset: 2 })]);
    expect((await up.records(topic, 0)).map((r) => r.value)).toEqual(["a", "b", "a"]);
  });

  it("without the header, every send is a write (as before)", async () => {
    const topic = await up.newTopic("upd-plain", 1);
    const producer = up.kafka.producer();
    for (let i = 0; i < 2; i++) await producer.produce(topic, "same", { partition: 0, headers: [{ key: "Idempotency-Key", value: "app-own" }] });
    expect((await up.records(topic, 0)).map((r) => r.offset)).toEqual([0, 1]);
  });

  it("a bad key is a 400 JSON {error, status} and nothing is written", async () => {
    const topic = await up.newTopic("upd-bad", 1);
    up.harness.writes.reset();
    const bad = [
      [{ key: HEADER, value: "" }],
      [{ key: HEADER, value: "k".repeat(MAX_IDEMPOTENCY_KEY_LENGTH + 1) }],
      [
        { key: HEADER, value: "one" },
        { key: HEADER.toLowerCase(), value: "two" },
      ],
    ];
    for (const headers of bad) {
      // In a batch with a good record first: refused whole, before anything is written.
      const response = await up.raw("POST", "/produce", [{ topic, value: "fine" }, { topic, value: "x", headers }]);
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ status: 400, code: "INVALID_REQUEST", error: expect.stringContaining(HEADER) });
    }
    expect(up.harness.writes.total).toBe(0);
    expect(await up.records(topic, 0)).toEqual([]);
  });
});

describe("the dedup window", () => {
  it("a repeat within the window is a duplicate; after it, the key is free and the record is written again", async () => {
    const clock = new TestClock();
    const timed = await startUpstash("updw", { clock });
    try {
      const topic = await timed.newTopic("upd-window", 1);
      const key = uniqueName("window");
      const send = async () => ((await timed.raw("POST", "/produce", { topic, value: "v", ...keyed(key) })).body as unknown as { offset: number }[])[0]!.offset;
      expect(await send()).toBe(0);
      clock.advance(IDEMPOTENCY_KEY_WINDOW_MS - 60_000);
      expect(await send()).toBe(0);
      clock.advance(120_000);
      expect(await send()).toBe(1);
      // The new write starts a new window.
      expect(await send()).toBe(1);
      expect((await timed.records(topic, 0)).map((r) => r.offset)).toEqual([0, 1]);
    } finally {
      await timed.served.close();
    }
  }, 60_000);
});
