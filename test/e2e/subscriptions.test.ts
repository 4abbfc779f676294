/**
 * Push subscriptions as a resource over real HTTP (issue 15): create (secret answered once, the
 * starting position pinned as the group's offsets), list, describe, pause, resume, delete — and
 * bad input refused with a clear error and zero DynamoDB writes.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApi } from "../../shared/http/app.js";
import { createTestBroker, createTestTables, serveApp, topicName, type Served, type TestBroker } from "../support/broker.js";
import { uniqueName } from "../support/dynamodb.js";
import { jsonClient, type JsonClient } from "../support/http.js";

const ALLOWED_ARN = "arn:aws:lambda:us-east-1:123456789012:function:allowed-handler";
let served: Served;
let api: JsonClient;
let harness: TestBroker;
let topic: string;
let deadLetters: string;

beforeAll(async () => {
  // As deployed: https only, no local modules, one function on the allow-list.
  harness = createTestBroker(await createTestTables("subs"), { config: { subscriptionFunctionAllowList: [ALLOWED_ARN] } });
  served = await serveApp(createApi(harness.broker, { security: harness.security }));
  api = jsonClient(served.url);
  topic = topicName("subs");
  deadLetters = topicName("subs-dlq");
  for (const [name, partitions] of [[topic, 2], [deadLetters, 1]] as const) expect((await api.post("/v1/topics", { name, partitions })).status).toBe(201);
  const produced = await api.post(`/v1/topics/${topic}/records`, { encoding: "utf8", partitions: [{ partition: 0, records: [{ value: "a" }, { value: "b" }, { value: "c" }] }] });
  expect(produced.status).toBe(200);
}, 120_000);
afterAll(async () => served?.close());

const webhook = "https://hooks.example.com/dynalog?x=1";

describe("the subscription resource", () => {
  it("creates with defaults, answers the secret once, and pins 'latest' as the group's committed offsets", async () => {
    const name = uniqueName("sub");
    const created = await api.post("/v1/subscriptions", { name, topic, webhook, deadLetterTopic: deadLetters, maxRetries: 5 });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ name, topic, group: `sub-${name}`, target: { type: "webhook", url: webhook }, batchSize: 100, startingPosition: "latest", maxRetries: 5, deadLetterTopic: deadLetters, delivery: "at-least-once", state: "active" });
    expect(created.body.secret).toMatch(/^dlsub_[A-Za-z0-9_-]{43}$/);

    const listed = await api.get("/v1/subscriptions");
    const mine = listed.body.subscriptions.find((s: { name: string }) => s.name === name);
    expect(mine).toMatchObject({ name, topic });
    expect(mine.secret).toBeUndefined();

    const described = await api.get(`/v1/subscriptions/${name}`);
    expect(described.status).toBe(200);
    expect(described.body.secret).toBeUndefined();
    expect(described.body.partitions.map((p: { partition: number; committedOffset: number; lag: number; delivered: number }) => [p.partition, p.committedOffset, p.lag, p.delivered])).toEqual([
      [0, 3, 0, 0],
      [1, 0, 0, 0],
    ]);
    const committed = await api.get(`/v1/groups/sub-${name}/offsets?topic=${topic}`);
    expect(committed.body.partitions.map((p: { offset: number }) => p.offset)).toEqual([3, 0]);
  });

  it("starts at 'earliest' when asked, with lag showing what is to deliver", async () => {
    const name = uniqueName("sub-early");
    expect((await api.post("/v1/subscriptions", { name, topic, function: ALLOWED_ARN, startingPosition: "earliest", group: `${name}-g` })).status).toBe(201);
    const described = await api.get(`/v1/subscriptions/${name}`);
    expect(described.body).toMatchObject({ group: `${name}-g`, target: { type: "function", arn: ALLOWED_ARN }, startingPosition: "earliest", totalLag: 3 });
    expect(described.body.partitions[0]).toMatchObject({ committedOffset: 0, highWatermark: 3, lag: 3 });
  });

  it("accepts delivery exactly-once (with a dead-letter topic) and describes it", async () => {
    const name = uniqueName("sub-eos");
    const created = await api.post("/v1/subscriptions", { name, topic, webhook, delivery: "exactly-once", deadLetterTopic: deadLetters });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.delivery).toBe("exactly-once");
    expect((await api.get(`/v1/subscriptions/${name}`)).body).toMatchObject({ delivery: "exactly-once", deadLetterTopic: deadLetters });
  });

  it("pauses, resumes and deletes; a deleted subscription is gone", async () => {
    const name = uniqueName("sub-life");
    expect((await api.post("/v1/subscriptions", { name, topic, webhook })).status).toBe(201);
    expect((await api.post(`/v1/subscriptions/${name}/pause`)).body.state).toBe("paused");
    expect((await api.get(`/v1/subscriptions/${name}`)).body.state).toBe("paused");
    expect((await api.post(`/v1/subscriptions/${name}/resume`)).body.state).toBe("active");
    expect((await api.delete(`/v1/subscriptions/${name}`)).body).toEqual({ deleted: name, group: `sub-${name}` });
    for (const call of [() => api.get(`/v1/subscriptions/${name}`), () => api.post(`/v1/subscriptions/${name}/pause`), () => api.delete(`/v1/subscriptions/${name}`)]) {
      const response = await call();
      expect(response.status).toBe(404);
      expect(response.body.error.code).toBe("SUBSCRIPTION_NOT_FOUND");
    }
  });

  it("rotates the secret: a new one answered once, the old one signing until the grace period ends", async () => {
    const name = uniqueName("sub-rot");
    const created = await api.post("/v1/subscriptions", { name, topic, webhook });
    const before = Date.now();
    const rotated = await api.post(`/v1/subscriptions/${name}/rotate-secret`, { gracePeriodMs: 3_600_000 });
    expect(rotated.status, JSON.stringify(rotated.body)).toBe(200);
    expect(rotated.body.secret).toMatch(/^dlsub_[A-Za-z0-9_-]{43}$/);
    expect(rotated.body.secret).not.toBe(created.body.secret);
    const expires = Date.parse(rotated.body.previousSecretExpiresAt);
    expect(expires).toBeGreaterThanOrEqual(before + 3_600_000);
    expect(expires).toBeLessThan(before + 3_660_000);
    const stored = await harness.broker.getSubscription(name);
    expect(stored.secret).toBe(rotated.body.secret);
    expect(stored.previousSecret).toEqual({ secret: created.body.secret, until: expires });
    // The default grace period is 24 h; 0 drops the old secret at once. Never shown by describe or list.
    const again = await api.post(`/v1/subscriptions/${name}/rotate-secret`, {});
    expect(Date.parse(again.body.previousSecretExpiresAt) - Date.now()).toBeGreaterThan(86_000_000);
    const none = await api.post(`/v1/subscriptions/${name}/rotate-secret`, { gracePeriodMs: 0 });
    expect(none.body.previousSecretExpiresAt).toBeNull();
    expect(JSON.stringify((await api.get(`/v1/subscriptions/${name}`)).body)).not.toContain("dlsub_");
    expect(JSON.stringify((await api.get("/v1/subscriptions")).body)).not.toContain("dlsub_");
  });

  it("refuses a bad grace period or an unknown subscription, writing nothing", async () => {
    const name = uniqueName("sub-rot-bad");
    expect((await api.post("/v1/subscriptions", { name, topic, webhook })).status).toBe(201);
    harness.writes.reset();
    for (const body of [{ gracePeriodMs: -1 }, { gracePeriodMs: 8 * 86_400_000 }, { gracePeriodMs: 1.5 }, { grace: 1 }]) {
      const refused = await api.post(`/v1/subscriptions/${name}/rotate-secret`, body);
      expect(refused.status, JSON.stringify(body)).toBe(400);
    }
    expect((await api.post(`/v1/subscriptions/${uniqueName("nope")}/rotate-secret`, {})).body.error.code).toBe("SUBSCRIPTION_NOT_FOUND");
    expect(harness.writes.total).toBe(0);
  });

  it("refuses a second subscription with the same name, writing nothing", async () => {
    const name = uniqueName("sub-dup");
    expect((await api.post("/v1/subscriptions", { name, topic, webhook })).status).toBe(201);
    harness.writes.reset();
    const again = await api.post("/v1/subscriptions", { name, topic, webhook: "https://other.example.com/" });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe("SUBSCRIPTION_ALREADY_EXISTS");
    expect(harness.writes.total).toBe(0);
  });
});

describe("bad input is refused with a clear error and zero writes", () => {
  const cases: [string, () => Record<string, unknown>, number, string][] = [
    ["an unknown topic", () => ({ topic: topicName("nope"), webhook }), 404, "UNKNOWN_TOPIC_OR_PARTITION"],
    ["an unknown dead-letter topic", () => ({ topic, webhook, deadLetterTopic: topicName("nope") }), 404, "UNKNOWN_TOPIC_OR_PARTITION"],
    ["the topic as its own dead-letter topic", () => ({ topic, webhook, deadLetterTopic: topic }), 400, "INVALID_SUBSCRIPTION"],
    ["a webhook that is not a URL", () => ({ topic, webhook: "not a url" }), 400, "INVALID_SUBSCRIPTION"],
    ["a webhook of another scheme", () => ({ topic, webhook: "ftp://example.com/x" }), 400, "INVALID_SUBSCRIPTION"],
    ["plain http where the broker allows only https", () => ({ topic, webhook: "http://example.com/x" }), 400, "SUBSCRIPTION_TARGET_NOT_ALLOWED"],
    ["credentials in the webhook URL", () => ({ topic, webhook: "https://u:p@example.com/x" }), 400, "INVALID_SUBSCRIPTION"],
    ["a function not on the allow-list", () => ({ topic, function: "arn:aws:lambda:us-east-1:123456789012:function:other" }), 400, "SUBSCRIPTION_TARGET_NOT_ALLOWED"],
    ["a function that is no ARN", () => ({ topic, function: "my-function" }), 400, "INVALID_SUBSCRIPTION"],
    ["a local module where modules are not enabled", () => ({ topic, function: "/tmp/handler.mjs" }), 400, "SUBSCRIPTION_TARGET_NOT_ALLOWED"],
    ["both a webhook and a function", () => ({ topic, webhook, function: ALLOWED_ARN }), 400, "INVALID_SUBSCRIPTION"],
    ["no target", () => ({ topic }), 400, "INVALID_SUBSCRIPTION"],
    ["batchSize 0", () => ({ topic, webhook, batchSize: 0 }), 400, "INVALID_SUBSCRIPTION"],
    ["batchSize 10001", () => ({ topic, webhook, batchSize: 10_001 }), 400, "INVALID_SUBSCRIPTION"],
    ["negative maxRetries", () => ({ topic, webhook, maxRetries: -1 }), 400, "INVALID_SUBSCRIPTION"],
    ["a batching window over 300 s", () => ({ topic, webhook, maxBatchingWindowMs: 300_001 }), 400, "INVALID_SUBSCRIPTION"],
    ["an unknown delivery mode", () => ({ topic, webhook, delivery: "at-most-once" }), 400, "INVALID_REQUEST"],
    ["an unknown starting position", () => ({ topic, webhook, startingPosition: "middle" }), 400, "INVALID_REQUEST"],
    ["an unknown field", () => ({ topic, webhook, retries: 3 }), 400, "INVALID_REQUEST"],
  ];

  it.each(cases)("%s", async (_label, body, status, code) => {
    harness.writes.reset();
    const name = uniqueName("sub-bad");
    const response = await api.post("/v1/subscriptions", { name, ...body() });
    expect(response.status, JSON.stringify(response.body)).toBe(status);
    expect(response.body.error.code).toBe(code);
    expect(response.body.error.message.length).toBeGreaterThan(10);
    expect(harness.writes.total).toBe(0);
    expect((await api.get(`/v1/subscriptions/${name}`)).status).toBe(404);
  });

  it("refuses a group that has live members (the dispatcher could never commit), writing nothing", async () => {
    const group = uniqueName("sub-busy-g");
    const joined = await api.post(`/v1/groups/${group}/heartbeat`, { memberEpoch: 0, topics: [topic] });
    expect(joined.status, JSON.stringify(joined.body)).toBe(200);
    harness.writes.reset();
    const response = await api.post("/v1/subscriptions", { name: uniqueName("sub-busy"), topic, webhook, group });
    expect(response.status).toBe(409);
    expect(response.body.error.code).toBe("NON_EMPTY_GROUP");
    expect(harness.writes.total).toBe(0);
  });

  it("refuses a bad name", async () => {
    harness.writes.reset();
    const response = await api.post("/v1/subscriptions", { name: "no spaces", topic, webhook });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe("INVALID_SUBSCRIPTION");
    expect(harness.writes.total).toBe(0);
  });
});
