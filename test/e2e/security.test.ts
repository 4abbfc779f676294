/**
 * Security end to end: every route refuses the unauthenticated (401) and the unauthorized (403,
 * Kafka's codes) without a single DynamoDB write, and works for an allowed principal; ACL prefix,
 * wildcard and deny semantics; quotas with recovery; the API key lifecycle; IAM principals.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApi } from "../../shared/http/app.js";
import { ROUTES, type RouteId } from "../../shared/http/routes.js";
import type { TableNames } from "../../shared/storage/tables.js";
import { createTestBroker, createTestTables, serveApp, TestClock, topicName, type Served, type TestBroker } from "../support/broker.js";
import { uniqueName } from "../support/dynamodb.js";

let tables: TableNames;
let harness: TestBroker;
let served: Served;
const tokens: Record<"admin" | "alice" | "bob", string> = { admin: "", alice: "", bob: "" };

beforeAll(async () => {
  tables = await createTestTables("sec");
  harness = createTestBroker(tables, { security: { enabled: true, superUsers: ["User:admin"] } });
  served = await serveApp(createApi(harness.broker, { security: harness.security }));
  for (const who of ["admin", "alice", "bob"] as const) tokens[who] = (await harness.security.createApiKey(`User:${who}`)).token;
});
afterAll(async () => served?.close());

async function call(method: string, path: string, options: { token?: string; body?: unknown; authorization?: string; url?: string } = {}) {
  const headers: Record<string, string> = {};
  if (options.body !== undefined) headers["content-type"] = "application/json";
  if (options.authorization !== undefined) headers["authorization"] = options.authorization;
  else if (options.token !== undefined) headers["authorization"] = `Bearer ${options.token}`;
  const response = await fetch((options.url ?? served.url) + path, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers };
}

async function allow(principal: string, resourceType: string, resourceName: string, operation: string, extra: Record<string, string> = {}) {
  const response = await call("POST", "/v1/acls", { token: tokens.admin, body: { principal, resourceType, resourceName, operation, ...extra } });
  expect(response.status).toBe(201);
  return response.body.id as string;
}

/** The native error object, or the Upstash dialect's flattened one. */
function errorOf(body: { error: unknown }): unknown {
  return typeof body.error === "string" ? body : body.error;
}

interface RouteCase {
  readonly method: string;
  readonly path: string;
  readonly body?: unknown;
  /** The refusal for a principal with no rules; "listed" = 200 with nothing visible. */
  readonly denied: string;
}

function routeCases(topic: string, doomed: string, group: string, subscription: string): Record<RouteId, RouteCase> {
  const record = { value: "aGk=" };
  return {
    createTopic: { method: "POST", path: "/v1/topics", body: { name: uniqueName("sec-new"), partitions: 1 }, denied: "TOPIC_AUTHORIZATION_FAILED" },
    listTopics: { method: "GET", path: "/v1/topics", denied: "listed" },
    describeTopic: { method: "GET", path: `/v1/topics/${topic}`, denied: "TOPIC_AUTHORIZATION_FAILED" },
    deleteTopic: { method: "DELETE", path: `/v1/topics/${doomed}`, denied: "TOPIC_AUTHORIZATION_FAILED" },
    describeTopicConfigs: { method: "GET", path: `/v1/topics/${topic}/configs`, denied: "TOPIC_AUTHORIZATION_FAILED" },
    alterTopicConfigs: { method: "POST", path: `/v1/topics/${topic}/configs`, body: { compression: "none" }, denied: "TOPIC_AUTHORIZATION_FAILED" },
    createPartitions: { method: "POST", path: `/v1/topics/${topic}/partitions`, body: { count: 2 }, denied: "TOPIC_AUTHORIZATION_FAILED" },
    deleteRecords: { method: "POST", path: `/v1/topics/${topic}/delete-records`, body: { partitions: [{ partition: 0, offset: 0 }] }, denied: "TOPIC_AUTHORIZATION_FAILED" },
    compactTopic: { method: "POST", path: `/v1/topics/${topic}/compact`, body: { partitions: [0] }, denied: "TOPIC_AUTHORIZATION_FAILED" },
    // Another group than the one the other cases use: the super-user's call really deletes it.
    deleteGroup: { method: "DELETE", path: `/v1/groups/${group}-other`, denied: "GROUP_AUTHORIZATION_FAILED" },
    initProducer: { method: "POST", path: "/v1/producers", body: { transactionalId: `${topic}-tx` }, denied: "TRANSACTIONAL_ID_AUTHORIZATION_FAILED" },
    produce: { method: "POST", path: `/v1/topics/${topic}/records`, body: { records: [record] }, denied: "TOPIC_AUTHORIZATION_FAILED" },
    commitTransaction: { method: "POST", path: "/v1/transactions", body: { records: [{ topic, partition: 0, ...record }] }, denied: "TOPIC_AUTHORIZATION_FAILED" },
    fetch: { method: "POST", path: "/v1/fetch", body: { partitions: [{ topic, partition: 0, offset: 0 }] }, denied: "TOPIC_AUTHORIZATION_FAILED" },
    fetchPartition: { method: "GET", path: `/v1/topics/${topic}/partitions/0/records?offset=0`, denied: "TOPIC_AUTHORIZATION_FAILED" },
    listOffsets: { method: "GET", path: `/v1/topics/${topic}/partitions/0/offsets?at=latest`, denied: "TOPIC_AUTHORIZATION_FAILED" },
    commitOffsets: { method: "POST", path: `/v1/groups/${group}/offsets`, body: { offsets: [{ topic, partition: 0, offset: 0 }] }, denied: "GROUP_AUTHORIZATION_FAILED" },
    committedOffsets: { method: "GET", path: `/v1/groups/${group}/offsets?topic=${topic}`, denied: "GROUP_AUTHORIZATION_FAILED" },
    groupHeartbeat: { method: "POST", path: `/v1/groups/${group}-hb/heartbeat`, body: { memberEpoch: 0, topics: [topic] }, denied: "GROUP_AUTHORIZATION_FAILED" },
    removeGroupMember: { method: "DELETE", path: `/v1/groups/${group}-hb/members/nobody`, denied: "GROUP_AUTHORIZATION_FAILED" },
    listGroups: { method: "GET", path: "/v1/groups", denied: "listed" },
    describeGroup: { method: "GET", path: `/v1/groups/${group}`, denied: "GROUP_AUTHORIZATION_FAILED" },
    traceRecord: { method: "GET", path: `/v1/topics/${topic}/partitions/0/records/0/trace`, denied: "TOPIC_AUTHORIZATION_FAILED" },
    // History (docs/console.md, "History"): the rights of describing the topic or group.
    topicHistory: { method: "GET", path: `/v1/topics/${topic}/history?minutes=5`, denied: "TOPIC_AUTHORIZATION_FAILED" },
    groupHistory: { method: "GET", path: `/v1/groups/${group}/history`, denied: "GROUP_AUTHORIZATION_FAILED" },
    topicsHistory: { method: "GET", path: "/v1/history/topics?minutes=5", denied: "listed" },
    createAcl: { method: "POST", path: "/v1/acls", body: { principal: "User:x", resourceType: "Topic", resourceName: "x", operation: "Read" }, denied: "CLUSTER_AUTHORIZATION_FAILED" },
    listAcls: { method: "GET", path: "/v1/acls", denied: "CLUSTER_AUTHORIZATION_FAILED" },
    deleteAcl: { method: "DELETE", path: "/v1/acls/00000000-0000-0000-0000-000000000000", denied: "CLUSTER_AUTHORIZATION_FAILED" },
    createApiKey: { method: "POST", path: "/v1/api-keys", body: { principal: "User:x" }, denied: "CLUSTER_AUTHORIZATION_FAILED" },
    listApiKeys: { method: "GET", path: "/v1/api-keys", denied: "CLUSTER_AUTHORIZATION_FAILED" },
    revokeApiKey: { method: "DELETE", path: "/v1/api-keys/aaaaaaaaaaaaaaaa", denied: "CLUSTER_AUTHORIZATION_FAILED" },
    // The Upstash dialect (docs/upstash.md): same protection, errors flattened ({error: message, status, code, …}).
    upstashProduce: { method: "POST", path: "/produce", body: { topic, value: "hi" }, denied: "TOPIC_AUTHORIZATION_FAILED" },
    upstashFetch: { method: "POST", path: "/fetch", body: { topic, partition: 0, offset: 0 }, denied: "TOPIC_AUTHORIZATION_FAILED" },
    upstashOffsets: { method: "POST", path: "/offsets/latest", body: [{ topic, partition: 0 }], denied: "TOPIC_AUTHORIZATION_FAILED" },
    upstashTopics: { method: "GET", path: "/topics", denied: "listed" },
    upstashConsumers: { method: "GET", path: "/consumers", denied: "listed" },
    upstashConsume: { method: "POST", path: `/consume/${group}-up/i1`, body: { topic }, denied: "GROUP_AUTHORIZATION_FAILED" },
    upstashCommit: { method: "POST", path: `/commit/${group}-up/i1`, denied: "GROUP_AUTHORIZATION_FAILED" },
    upstashCommitted: { method: "POST", path: `/committed/${group}-up/i1`, body: [{ topic, partition: 0 }], denied: "GROUP_AUTHORIZATION_FAILED" },
    upstashDeleteConsumer: { method: "POST", path: `/delete-consumer/${group}-up/i1`, denied: "GROUP_AUTHORIZATION_FAILED" },
    upstashProduceMessage: { method: "GET", path: `/produce/${topic}/hi`, denied: "TOPIC_AUTHORIZATION_FAILED" },
    upstashProduceTopic: { method: "POST", path: `/produce/${topic}`, body: { value: "hi" }, denied: "TOPIC_AUTHORIZATION_FAILED" },
    upstashWebhook: { method: "POST", path: `/webhook?topic=${topic}`, body: { event: "hi" }, denied: "TOPIC_AUTHORIZATION_FAILED" },
    upstashConsumeTopic: { method: "GET", path: `/consume/${group}-up/i2/${topic}`, denied: "GROUP_AUTHORIZATION_FAILED" },
    // Push subscriptions (docs/subscriptions.md): changing one needs Cluster Alter.
    createSubscription: { method: "POST", path: "/v1/subscriptions", body: { name: uniqueName("sec-sub"), topic, webhook: "https://example.invalid/hook" }, denied: "CLUSTER_AUTHORIZATION_FAILED" },
    listSubscriptions: { method: "GET", path: "/v1/subscriptions", denied: "listed" },
    describeSubscription: { method: "GET", path: `/v1/subscriptions/${subscription}`, denied: "TOPIC_AUTHORIZATION_FAILED" },
    pauseSubscription: { method: "POST", path: `/v1/subscriptions/${subscription}/pause`, denied: "CLUSTER_AUTHORIZATION_FAILED" },
    resumeSubscription: { method: "POST", path: `/v1/subscriptions/${subscription}/resume`, denied: "CLUSTER_AUTHORIZATION_FAILED" },
    deleteSubscription: { method: "DELETE", path: `/v1/subscriptions/${subscription}-doomed`, denied: "CLUSTER_AUTHORIZATION_FAILED" },
    rotateSubscriptionSecret: { method: "POST", path: `/v1/subscriptions/${subscription}/rotate-secret`, body: { gracePeriodMs: 60_000 }, denied: "CLUSTER_AUTHORIZATION_FAILED" },
  };
}

describe("every route", () => {
  let cases: Record<RouteId, RouteCase>;
  beforeAll(async () => {
    const topic = topicName("sec");
    const doomed = topicName("sec-doomed");
    const group = uniqueName("sec-g");
    for (const name of [topic, doomed]) expect((await call("POST", "/v1/topics", { token: tokens.admin, body: { name, partitions: 1 } })).status).toBe(201);
    expect((await call("POST", `/v1/groups/${group}/offsets`, { token: tokens.admin, body: { offsets: [{ topic, partition: 0, offset: 0 }] } })).status).toBe(200);
    const subscription = uniqueName("sec-sub");
    for (const name of [subscription, `${subscription}-doomed`]) {
      expect((await call("POST", "/v1/subscriptions", { token: tokens.admin, body: { name, topic, webhook: "https://example.invalid/hook" } })).status).toBe(201);
    }
    cases = routeCases(topic, doomed, group, subscription);
  });

  it("has a case here (a new route must say how it is protected)", () => {
    expect(Object.keys(cases).sort()).toEqual(ROUTES.map((r) => r.id).sort());
  });

  it.each(ROUTES.map((r) => r.id))("%s: no credential → 401, a bad one → 401, no write", async (id) => {
    const { method, path, body } = cases[id];
    harness.writes.reset();
    for (const authorization of [undefined, "Bearer dlk_nope", `Bearer ${tokens.bob.slice(0, -2)}xx`, "Basic " + Buffer.from("aaaaaaaaaaaaaaaa:wrong").toString("base64")]) {
      const response = await call(method, path, { body, authorization });
      expect(response.status, String(authorization)).toBe(401);
      expect(errorOf(response.body)).toMatchObject({ code: "AUTHENTICATION_FAILED", retriable: false });
      expect(response.headers.get("www-authenticate")).toContain("Bearer");
    }
    expect(harness.writes.total).toBe(0);
  });

  it.each(ROUTES.map((r) => r.id))("%s: a principal without rules → 403 with Kafka's code, no write", async (id) => {
    const { method, path, body, denied } = cases[id];
    harness.writes.reset();
    const response = await call(method, path, { token: tokens.bob, body });
    if (denied === "listed") {
      expect(response.status).toBe(200);
      // The Upstash dialect answers the bare list (an array, or a map of topics).
      if (id.startsWith("upstash")) expect(Object.keys(response.body)).toEqual([]);
      else expect(Object.values(response.body)[0]).toEqual([]);
    } else {
      expect(response.status).toBe(403);
      expect(errorOf(response.body)).toMatchObject({ code: denied, retriable: false, outcome: "definite" });
    }
    expect(harness.writes.total).toBe(0);
  });

  it.each(ROUTES.map((r) => r.id))("%s: the super-user is served", async (id) => {
    const { method, path, body } = cases[id];
    const response = await call(method, path, { token: tokens.admin, body });
    expect([401, 403]).not.toContain(response.status);
    expect(response.status).toBeLessThan(500);
  });
});

describe("ACL semantics", () => {
  it("keeps principal A out of B's topics, groups and transactional ids; prefix rules work", async () => {
    const mine = topicName("alice-own");
    const theirs = topicName("bob-own");
    for (const name of [mine, theirs]) await call("POST", "/v1/topics", { token: tokens.admin, body: { name, partitions: 1 } });
    await allow("User:alice", "Topic", "alice-", "All", { patternType: "PREFIXED" });
    await allow("User:alice", "Group", "alice-", "Read", { patternType: "PREFIXED" });
    await allow("User:alice", "TransactionalId", "alice-", "Write", { patternType: "PREFIXED" });

    expect((await call("POST", `/v1/topics/${mine}/records`, { token: tokens.alice, body: { records: [{ value: "aGk=" }] } })).status).toBe(200);
    expect((await call("GET", `/v1/topics/${mine}/partitions/0/records?offset=0`, { token: tokens.alice })).status).toBe(200);
    expect((await call("POST", "/v1/producers", { token: tokens.alice, body: { transactionalId: "alice-copier" } })).status).toBe(200);
    expect((await call("POST", `/v1/groups/alice-group/offsets`, { token: tokens.alice, body: { offsets: [{ topic: mine, partition: 0, offset: 1 }] } })).status).toBe(200);

    harness.writes.reset();
    const refusals = [
      await call("POST", `/v1/topics/${theirs}/records`, { token: tokens.alice, body: { records: [{ value: "aGk=" }] } }),
      await call("GET", `/v1/topics/${theirs}/partitions/0/records?offset=0`, { token: tokens.alice }),
      await call("POST", "/v1/producers", { token: tokens.alice, body: { transactionalId: "bob-copier" } }),
      await call("POST", `/v1/groups/bob-group/offsets`, { token: tokens.alice, body: { offsets: [{ topic: mine, partition: 0, offset: 1 }] } }),
      // A transaction touching one forbidden topic is refused whole.
      await call("POST", "/v1/transactions", { token: tokens.alice, body: { records: [{ topic: mine, value: "aGk=" }, { topic: theirs, value: "aGk=" }] } }),
    ];
    expect(refusals.map((r) => r.body.error.code)).toEqual([
      "TOPIC_AUTHORIZATION_FAILED",
      "TOPIC_AUTHORIZATION_FAILED",
      "TRANSACTIONAL_ID_AUTHORIZATION_FAILED",
      "GROUP_AUTHORIZATION_FAILED",
      "TOPIC_AUTHORIZATION_FAILED",
    ]);
    expect(harness.writes.total).toBe(0);

    // An idempotent producer id: for whoever may write some topic (Kafka's IdempotentWrite rule).
    expect((await call("POST", "/v1/producers", { token: tokens.alice, body: {} })).status).toBe(200);
    const noWrite = await call("POST", "/v1/producers", { token: tokens.bob, body: {} });
    expect(noWrite.status).toBe(403);
    expect(noWrite.body.error.code).toBe("CLUSTER_AUTHORIZATION_FAILED");

    const listed = await call("GET", "/v1/topics", { token: tokens.alice });
    expect(listed.body.topics.map((t: { name: string }) => t.name)).toContain(mine);
    expect(listed.body.topics.map((t: { name: string }) => t.name)).not.toContain(theirs);
  });

  it("does not reveal whether a topic exists to a principal who may not describe it", async () => {
    const missing = await call("GET", `/v1/topics/${uniqueName("no-such")}`, { token: tokens.bob });
    const existing = await call("GET", `/v1/topics/${topicName("bob-own-x")}`, { token: tokens.bob });
    expect(missing.status).toBe(403);
    expect(existing.status).toBe(403);
    expect(missing.body.error.code).toBe(existing.body.error.code);
    // With Describe, the truth: 404.
    await allow("User:bob", "Topic", "bob-visible-", "Describe", { patternType: "PREFIXED" });
    expect((await call("GET", `/v1/topics/bob-visible-${uniqueName("x")}`, { token: tokens.bob })).body.error.code).toBe("UNKNOWN_TOPIC_OR_PARTITION");
  });

  it("lets deny win over allow, and implies Describe from Read", async () => {
    const open = topicName("deny-open");
    const secret = topicName("deny-secret");
    for (const name of [open, secret]) await call("POST", "/v1/topics", { token: tokens.admin, body: { name, partitions: 1 } });
    const principal = "User:dora";
    const dora = (await call("POST", "/v1/api-keys", { token: tokens.admin, body: { principal } })).body.token as string;
    await allow(principal, "Topic", "*", "Read");
    await allow(principal, "Topic", secret, "Read", { permission: "Deny" });
    expect((await call("GET", `/v1/topics/${open}/partitions/0/records?offset=0`, { token: dora })).status).toBe(200);
    expect((await call("GET", `/v1/topics/${open}`, { token: dora })).status).toBe(200); // Describe implied by Read
    expect((await call("GET", `/v1/topics/${secret}/partitions/0/records?offset=0`, { token: dora })).body.error.code).toBe("TOPIC_AUTHORIZATION_FAILED");
    expect((await call("POST", `/v1/topics/${open}/records`, { token: dora, body: { records: [{ value: "aGk=" }] } })).status).toBe(403); // Read is not Write
  });
});

describe("API keys", () => {
  it("are created, used (Bearer and Basic), listed without secrets, and stop working once revoked", async () => {
    const created = await call("POST", "/v1/api-keys", { token: tokens.admin, body: { principal: "User:carol", description: "ci" } });
    expect(created.status).toBe(201);
    const { keyId, token, secret } = created.body;
    await allow("User:carol", "Cluster", "dynalog", "Describe");
    expect((await call("GET", "/v1/acls", { token })).status).toBe(200);
    expect((await call("GET", "/v1/acls", { authorization: `Basic ${Buffer.from(`${keyId}:${secret}`).toString("base64")}` })).status).toBe(200);

    const listed = await call("GET", "/v1/api-keys", { token: tokens.admin });
    const entry = listed.body.apiKeys.find((k: { keyId: string }) => k.keyId === keyId);
    expect(entry).toMatchObject({ principal: "User:carol", description: "ci", revokedAt: null });
    expect(JSON.stringify(listed.body)).not.toContain(secret);

    expect((await call("DELETE", `/v1/api-keys/${keyId}`, { token: tokens.admin })).status).toBe(200);
    const refused = await call("GET", "/v1/acls", { token });
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe("AUTHENTICATION_FAILED");
    expect((await call("DELETE", `/v1/api-keys/${keyId}x`, { token: tokens.admin })).status).toBe(404);
  });
});

describe("quotas", () => {
  it("throttle a principal over its request rate with 429 and Retry-After, write nothing then, and recover after the window", async () => {
    const clock = new TestClock(Math.floor(Date.now() / 1000) * 1000);
    const limited = createTestBroker(tables, { clock, security: { enabled: true, superUsers: ["User:admin"], quotas: { requestsPerSecond: 3, bytesPerSecond: null, windowMs: 1000, flushIntervalMs: 0, producerIdsPerHour: 2 } } });
    const server = await serveApp(limited.app);
    try {
      const admin = (await limited.security.createApiKey("User:admin")).token;
      for (let i = 0; i < 3; i++) expect((await call("GET", "/v1/topics", { token: admin, url: server.url })).status).toBe(200);
      limited.writes.reset();
      const throttled = await call("GET", "/v1/topics", { token: admin, url: server.url });
      expect(throttled.status).toBe(429);
      expect(throttled.body.error).toMatchObject({ code: "THROTTLING_QUOTA_EXCEEDED", retriable: true, quota: "requestsPerSecond", limit: 3 });
      expect(Number(throttled.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      expect(limited.writes.total).toBe(0);
      clock.advance(1000);
      expect((await call("GET", "/v1/topics", { token: admin, url: server.url })).status).toBe(200);

      // Producer ids: two per hour for this principal, then 429 until the hour is over.
      expect((await call("POST", "/v1/producers", { token: admin, body: {}, url: server.url })).status).toBe(200);
      clock.advance(1000);
      expect((await call("POST", "/v1/producers", { token: admin, body: {}, url: server.url })).status).toBe(200);
      clock.advance(1000);
      const tooMany = await call("POST", "/v1/producers", { token: admin, body: {}, url: server.url });
      expect(tooMany.status).toBe(429);
      expect(tooMany.body.error).toMatchObject({ quota: "producerIdsPerHour", limit: 2 });
      clock.advance(3_600_000);
      expect((await call("POST", "/v1/producers", { token: admin, body: {}, url: server.url })).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});

describe("byte-rate quota", () => {
  it("counts what fetches return, not only what requests send", async () => {
    const clock = new TestClock(Math.floor(Date.now() / 1000) * 1000);
    const limited = createTestBroker(tables, { clock, security: { enabled: true, superUsers: ["User:admin"], quotas: { requestsPerSecond: null, bytesPerSecond: 10_000, windowMs: 1000, flushIntervalMs: 0, producerIdsPerHour: null } } });
    const server = await serveApp(limited.app);
    try {
      const admin = (await limited.security.createApiKey("User:admin")).token;
      const name = topicName("bytes");
      await limited.broker.createTopic({ name, partitions: 1 });
      await limited.broker.produce({ topic: name, records: [{ key: null, value: Buffer.alloc(6_000, 97), headers: [], partition: 0 }] });
      clock.advance(1000);
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) statuses.push((await call("GET", `/v1/topics/${name}/partitions/0/records?offset=0`, { token: admin, url: server.url })).status);
      expect(statuses).toEqual([200, 200, 429]); // 2 × ~8 KB of base64 pass 10 KB per second
    } finally {
      await server.close();
    }
  });
});

describe("IAM principals", () => {
  it("maps a SigV4-verified role session to its role, which ACLs name", async () => {
    const lambda = createTestBroker(tables, { security: { enabled: true } });
    const app = createApi(lambda.broker, { security: lambda.security, iamIdentity: () => "arn:aws:sts::123456789012:assumed-role/Reader/i-0abc" });
    const server = await serveApp(app);
    try {
      const name = topicName("iam");
      await harness.broker.createTopic({ name, partitions: 1 });
      expect((await call("GET", `/v1/topics/${name}`, { url: server.url })).body.error.code).toBe("TOPIC_AUTHORIZATION_FAILED");
      await allow("IAM:arn:aws:iam::123456789012:role/Reader", "Topic", name, "Describe");
      expect((await call("GET", `/v1/topics/${name}`, { url: server.url })).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});
