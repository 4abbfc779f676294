/**
 * The Upstash dialect's forms documented for curl (docs/upstash.md): a message in the path, a topic
 * in the path, a consume by GET, and webhooks. Called as curl calls them (`-d` sends a form media
 * type), with Basic auth; every answer is JSON.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uniqueName } from "../support/dynamodb.js";
import { startUpstash, type UpstashFixture } from "../support/upstash.js";

let up: UpstashFixture;

beforeAll(async () => {
  up = await startUpstash("upc");
});
afterAll(async () => up?.served.close());

/** What `curl -u user:pass [-d body] [-H …] URL` sends. */
async function curl(path: string, options: { data?: string; headers?: Record<string, string>; authorization?: string | null } = {}) {
  const headers: Record<string, string> = { ...options.headers };
  if (options.authorization !== null) headers["authorization"] = options.authorization ?? up.basic;
  if (options.data !== undefined) headers["content-type"] ??= "application/x-www-form-urlencoded";
  const response = await fetch(up.served.url + path, { method: options.data === undefined ? "GET" : "POST", headers, body: options.data });
  return { status: response.status, type: response.headers.get("content-type"), body: (await response.json()) as unknown };
}

const metadata = (topic: string, partition: number, offset: number) => ({ topic, partition, offset, timestamp: expect.any(Number) });

describe("produce by path", () => {
  it("GET /produce/{topic}/{message}[?key=] answers one metadata object; the value is the decoded segment", async () => {
    const topic = await up.newTopic("upc-get", 1);
    const before = Date.now();
    const plain = await curl(`/produce/${topic}/hello_kafka`);
    expect(plain.status).toBe(200);
    expect(plain.type).toContain("application/json");
    expect(plain.body).toEqual(metadata(topic, 0, 0));
    expect((plain.body as { timestamp: number }).timestamp).toBeGreaterThanOrEqual(before);
    expect((await curl(`/produce/${topic}/Istanbul?key=city`)).body).toEqual(metadata(topic, 0, 1));
    expect((await curl(`/produce/${topic}/hello%20w%C3%B6rld`)).body).toEqual(metadata(topic, 0, 2));
    expect((await up.records(topic, 0)).map((r) => [r.key, r.value])).toEqual([
      ["", "hello_kafka"],
      ["city", "Istanbul"],
      ["", "hello wörld"],
    ]);
  });

  it("POST /produce/{topic} takes a JSON message (any media type) or an array, and answers in kind", async () => {
    const topic = await up.newTopic("upc-post", 2);
    const one = await curl(`/produce/${topic}`, { data: JSON.stringify({ partition: 1, key: "city", value: "Istanbul", headers: [{ key: "expire", value: "1637745834756" }] }) });
    expect(one.status).toBe(200);
    expect(one.body).toEqual(metadata(topic, 1, 0));
    const many = await curl(`/produce/${topic}`, { data: JSON.stringify([{ value: "a", partition: 0 }, { value: "b", partition: 1, timestamp: 1_637_745_834 }]) });
    expect(many.body).toEqual([metadata(topic, 0, 0), { topic, partition: 1, offset: 1, timestamp: 1_637_745_834_000 }]);
    expect(await up.records(topic, 1)).toEqual([
      { offset: 0, key: "city", value: "Istanbul", headers: [{ key: "expire", value: "1637745834756" }] },
      { offset: 1, key: "", value: "b", headers: [] },
    ]);
  });

  it("bad input is a 4xx JSON {error, status} and writes nothing", async () => {
    const topic = await up.newTopic("upc-bad", 1);
    up.harness.writes.reset();
    const refusals = [
      await curl(`/produce/${topic}`, { data: JSON.stringify({ topic, value: "x" }) }), // the path names the topic
      await curl(`/produce/${topic}`, { data: "value=x" }),
      await curl(`/produce/${topic}`, { data: "[]" }),
      await curl(`/produce/no-such-${topic}/x`),
      await curl(`/webhook`, { data: "event" }),
      await curl(`/webhook?topic=${topic}`, { data: "event", headers: { "dynalog-idempotency-key": "k".repeat(256) } }),
      await curl(`/consume/g/i/${topic}?timeout=soon`),
    ];
    for (const r of refusals) {
      expect(r.status, JSON.stringify(r.body)).toBeGreaterThanOrEqual(400);
      expect(r.status).toBeLessThan(500);
      expect(r.body).toMatchObject({ error: expect.any(String), status: r.status });
    }
    expect(up.harness.writes.total).toBe(0);
  });

  it("every form requires the credentials", async () => {
    const topic = await up.newTopic("upc-auth", 1);
    for (const path of [`/produce/${topic}/x`, `/consume/g/i/${topic}`]) {
      expect(await curl(path, { authorization: null })).toMatchObject({ status: 401, body: { status: 401, code: "AUTHENTICATION_FAILED" } });
    }
    for (const path of [`/produce/${topic}`, `/webhook?topic=${topic}`]) {
      expect(await curl(path, { data: '{"value":"x"}', authorization: null })).toMatchObject({ status: 401, body: { status: 401 } });
    }
    expect(await up.records(topic, 0)).toEqual([]);
  });
});

describe("GET /consume/{group}/{instance}/{topic}", () => {
  it("consumes as the instance (same settings headers), then from its position; the instance is listed", async () => {
    const topic = await up.newTopic("upc-consume", 1);
    const group = uniqueName("upc-g");
    await curl(`/produce/${topic}/first`);
    await curl(`/produce/${topic}/second`);
    const consumed = await curl(`/consume/${group}/worker-1/${topic}?timeout=100`, { headers: { "Kafka-Auto-Offset-Reset": "earliest" } });
    expect(consumed.status).toBe(200);
    expect(consumed.body).toEqual([
      { topic, partition: 0, offset: 0, timestamp: expect.any(Number), key: "", value: "first", headers: [] },
      { topic, partition: 0, offset: 1, timestamp: expect.any(Number), key: "", value: "second", headers: [] },
    ]);
    expect((await curl(`/consume/${group}/worker-1/${topic}`)).body).toEqual([]);
    const listed = ((await curl("/consumers")).body as { name: string; instances: unknown[] }[]).find((g) => g.name === group);
    expect(listed?.instances).toEqual([{ name: "worker-1", topics: [{ topic, partitions: [0] }] }]);
  });
});

describe("POST /webhook?topic=", () => {
  it("stores the body as the value and the sender's own headers as record headers; answers one metadata object", async () => {
    const topic = await up.newTopic("upc-hook", 1);
    const hook = await curl(`/webhook?topic=${topic}`, { data: "some event data", headers: { "event-timestamp": "1642628041", "event-origin": "my-app" } });
    expect(hook.status).toBe(200);
    expect(hook.body).toEqual(metadata(topic, 0, 0));
    const [stored] = await up.records(topic, 0);
    expect(stored!.value).toBe("some event data");
    // Transport headers (authorization, content-type, user-agent, accept…) are not the event's.
    expect(stored!.headers.sort((a, b) => a.key.localeCompare(b.key))).toEqual([
      { key: "event-origin", value: "my-app" },
      { key: "event-timestamp", value: "1642628041" },
    ]);
  });

  it("a sender's redelivery carrying Dynalog-Idempotency-Key is written once", async () => {
    const topic = await up.newTopic("upc-hook-dedup", 2);
    const delivery = uniqueName("delivery");
    const send = () => curl(`/webhook?topic=${topic}`, { data: '{"paid":true}', headers: { "Dynalog-Idempotency-Key": delivery, "content-type": "application/json" } });
    const first = await send();
    const again = await send();
    expect(first.status).toBe(200);
    expect(again.body).toEqual(first.body);
    const partition = (first.body as { partition: number }).partition;
    expect((await up.records(topic, partition)).map((r) => r.value)).toEqual(['{"paid":true}']);
  });
});
