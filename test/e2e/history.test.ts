/**
 * GET /v1/topics/:topic/history, GET /v1/groups/:group/history and GET /v1/history/topics over
 * HTTP: samples taken before the request, bad `minutes` → 400, unknown names → 404, and with
 * security on the rights of describing the topic or group (a group's lag on topics the caller may
 * not describe left out; the topics' list history holds only the topics the caller may describe).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApi } from "../../shared/http/app.js";
import { createTestBroker, createTestTables, serveApp, TestClock, topicName, type Served, type TestBroker } from "../support/broker.js";
import { uniqueName } from "../support/dynamodb.js";
import { jsonClient, type JsonClient } from "../support/http.js";

const MINUTE = 60_000;
let harness: TestBroker;
let served: Served;
let api: JsonClient;
let secured: { served: Served; tokens: Record<"admin" | "alice", string>; harness: TestBroker };

beforeAll(async () => {
  const tables = await createTestTables("history-e2e");
  const clock = new TestClock(Math.floor(Date.now() / MINUTE) * MINUTE);
  harness = createTestBroker(tables, { clock });
  served = await serveApp(harness.app);
  api = jsonClient(served.url);
  const secure = createTestBroker(tables, { clock, security: { enabled: true, superUsers: ["User:admin"] } });
  secured = {
    harness: secure,
    served: await serveApp(createApi(secure.broker, { security: secure.security })),
    tokens: { admin: (await secure.security.createApiKey("User:admin")).token, alice: (await secure.security.createApiKey("User:alice")).token },
  };
});
afterAll(async () => {
  await served?.close();
  await secured?.served.close();
});

async function withSamples(prefix: string) {
  const topic = topicName(prefix);
  const group = uniqueName(`${prefix}-g`);
  expect((await api.post("/v1/topics", { name: topic, partitions: 1 })).status).toBe(201);
  expect((await api.post(`/v1/topics/${topic}/records`, { encoding: "utf8", records: ["a", "b", "c"].map((value) => ({ value })) })).status).toBe(200);
  expect((await api.post(`/v1/groups/${group}/offsets`, { offsets: [{ topic, partition: 0, offset: 1 }] })).status).toBe(200);
  await harness.broker.sampleHistory(harness.clock.now() - 3 * MINUTE);
  expect((await api.post(`/v1/topics/${topic}/records`, { encoding: "utf8", records: [{ value: "d" }] })).status).toBe(200);
  await harness.broker.sampleHistory(harness.clock.now() - 2 * MINUTE);
  return { topic, group };
}

describe("history routes", { timeout: 120_000 }, () => {
  it("answer the samples taken before the request, times as ISO strings", async () => {
    const { topic, group } = await withSamples("hist-http");
    const topicHistory = await api.get(`/v1/topics/${topic}/history?minutes=10`);
    expect(topicHistory.status).toBe(200);
    expect(topicHistory.body.topic).toBe(topic);
    expect(topicHistory.body.samples.map((s: { at: string }) => Date.parse(s.at))).toEqual([harness.clock.now() - 3 * MINUTE, harness.clock.now() - 2 * MINUTE]);
    expect(topicHistory.body.samples.map((s: { highWatermark: number }) => s.highWatermark)).toEqual([3, 4]);
    expect(topicHistory.body.samples[1].partitions).toEqual([{ partition: 0, highWatermark: 4, bytesWritten: expect.any(Number) }]);
    const groupHistory = await api.get(`/v1/groups/${group}/history`);
    expect(groupHistory.status).toBe(200);
    expect(groupHistory.body.samples.map((s: { totalLag: number }) => s.totalLag)).toEqual([2, 3]);
    expect(groupHistory.body.samples[1].topics).toEqual([{ topic, lag: 3, partitions: [{ partition: 0, committedOffset: 1, highWatermark: 4, lag: 3 }] }]);
    // The default window is an hour; a minute back holds none of them.
    expect((await api.get(`/v1/topics/${topic}/history?minutes=1`)).body.samples).toEqual([]);
  });

  it("refuse a bad minutes with 400 and unknown names with 404", async () => {
    const { topic, group } = await withSamples("hist-bad");
    for (const minutes of ["0", "1441", "-5", "abc", "1.5", ""]) {
      for (const path of [`/v1/topics/${topic}/history?minutes=${minutes}`, `/v1/groups/${group}/history?minutes=${minutes}`]) {
        const response = await api.get(path);
        expect(response.status, path).toBe(400);
        expect(response.body.error).toMatchObject({ code: "INVALID_REQUEST", retriable: false });
      }
    }
    const unknownTopic = await api.get(`/v1/topics/${topicName("hist-none")}/history`);
    expect(unknownTopic.status).toBe(404);
    expect(unknownTopic.body.error.code).toBe("UNKNOWN_TOPIC_OR_PARTITION");
    const unknownGroup = await api.get(`/v1/groups/${uniqueName("hist-none-g")}/history`);
    expect(unknownGroup.status).toBe(404);
    expect(unknownGroup.body.error.code).toBe("GROUP_ID_NOT_FOUND");
    expect((await api.get(`/v1/topics/bad%20name/history`)).status).toBe(400);
  });

  it("need Describe on the topic or group; a group's lag on hidden topics is left out", async () => {
    const { topic, group } = await withSamples("hist-acl");
    const hidden = topicName("hist-acl-hidden");
    expect((await api.post("/v1/topics", { name: hidden, partitions: 1 })).status).toBe(201);
    expect((await api.post(`/v1/topics/${hidden}/records`, { encoding: "utf8", records: [{ value: "x" }, { value: "y" }] })).status).toBe(200);
    expect((await api.post(`/v1/groups/${group}/offsets`, { offsets: [{ topic: hidden, partition: 0, offset: 0 }] })).status).toBe(200);
    await harness.broker.sampleHistory(harness.clock.now() - MINUTE);
    const as = (token: string) => async (path: string) => {
      const response = await fetch(secured.served.url + path, { headers: { authorization: `Bearer ${token}` } });
      return { status: response.status, body: (await response.json()) as any };
    };
    const alice = as(secured.tokens.alice);
    const admin = as(secured.tokens.admin);
    expect((await alice(`/v1/topics/${topic}/history`)).status).toBe(403);
    expect((await alice(`/v1/groups/${group}/history`)).status).toBe(403);
    const allow = async (resourceType: string, resourceName: string) => {
      const response = await fetch(`${secured.served.url}/v1/acls`, {
        method: "POST",
        headers: { authorization: `Bearer ${secured.tokens.admin}`, "content-type": "application/json" },
        body: JSON.stringify({ principal: "User:alice", resourceType, resourceName, operation: "Describe" }),
      });
      expect(response.status).toBe(201);
    };
    await allow("Topic", topic);
    await allow("Group", group);
    expect((await alice(`/v1/topics/${topic}/history`)).status).toBe(200);
    expect((await alice(`/v1/topics/${hidden}/history`)).status).toBe(403);
    const seen = await alice(`/v1/groups/${group}/history`);
    expect(seen.status).toBe(200);
    const last = seen.body.samples.at(-1);
    expect(last.topics.map((t: { topic: string }) => t.topic)).toEqual([topic]);
    expect(last.totalLag).toBe(3);
    const full = (await admin(`/v1/groups/${group}/history`)).body.samples.at(-1);
    expect(full.totalLag).toBe(5);
    expect(full.topics.map((t: { topic: string }) => t.topic).sort()).toEqual([topic, hidden].sort());
  });

  it("GET /v1/history/topics: every topic's totals the caller may describe; a bad minutes → 400", async () => {
    const { topic } = await withSamples("hist-list");
    const other = topicName("hist-list-other");
    expect((await api.post("/v1/topics", { name: other, partitions: 1 })).status).toBe(201);
    const listed = await api.get("/v1/history/topics?minutes=10");
    expect(listed.status).toBe(200);
    expect(listed.body.stride).toBe(1);
    expect(Date.parse(listed.body.to) - Date.parse(listed.body.from)).toBe(10 * MINUTE);
    const mine = listed.body.topics.find((t: { topic: string }) => t.topic === topic);
    expect(mine.samples).toEqual([
      { at: new Date(harness.clock.now() - 3 * MINUTE).toISOString(), highWatermark: 3, bytesWritten: expect.any(Number) },
      { at: new Date(harness.clock.now() - 2 * MINUTE).toISOString(), highWatermark: 4, bytesWritten: expect.any(Number) },
    ]);
    // Created after the samples: listed with none.
    expect(listed.body.topics.find((t: { topic: string }) => t.topic === other).samples).toEqual([]);
    // The default window is an hour.
    expect((await api.get("/v1/history/topics")).body.topics.find((t: { topic: string }) => t.topic === topic).samples).toHaveLength(2);
    for (const minutes of ["0", "1441", "abc", ""]) {
      const response = await api.get(`/v1/history/topics?minutes=${minutes}`);
      expect(response.status, minutes).toBe(400);
      expect(response.body.error).toMatchObject({ code: "INVALID_REQUEST", retriable: false });
    }

    const get = async (token: string) => {
      const response = await fetch(`${secured.served.url}/v1/history/topics?minutes=10`, { headers: { authorization: `Bearer ${token}` } });
      return { status: response.status, body: (await response.json()) as { topics: { topic: string; samples: unknown[] }[] } };
    };
    const bob = await secured.harness.security.createApiKey("User:bob");
    expect(await get(bob.token)).toMatchObject({ status: 200, body: { topics: [] } });
    const allowed = await fetch(`${secured.served.url}/v1/acls`, {
      method: "POST",
      headers: { authorization: `Bearer ${secured.tokens.admin}`, "content-type": "application/json" },
      body: JSON.stringify({ principal: "User:bob", resourceType: "Topic", resourceName: topic, operation: "Describe" }),
    });
    expect(allowed.status).toBe(201);
    const seen = await get(bob.token);
    expect(seen.body.topics.map((t) => t.topic)).toEqual([topic]);
    expect(seen.body.topics[0]!.samples).toHaveLength(2);
    expect((await get(secured.tokens.admin)).body.topics.map((t) => t.topic)).toEqual(expect.arrayContaining([topic, other]));
  });
});
