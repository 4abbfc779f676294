/**
 * Producer ids are the broker's to issue (POST /v1/producers) and bound to whoever initialized
 * them: an id never issued, an epoch never issued, an id of another principal, or a transactional
 * id's producer id used outside that transactional id is refused with a clear 4xx and writes
 * nothing — so nobody can make the broker answer a real producer's batch as a "duplicate" of
 * records it never stored.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestBroker, createTestTables, serveApp, topicName, type Served, type TestBroker } from "../support/broker.js";
import { jsonClient, type JsonClient } from "../support/http.js";
import { uniqueName } from "../support/dynamodb.js";

let open: { harness: TestBroker; served: Served; api: JsonClient };

beforeAll(async () => {
  const harness = createTestBroker(await createTestTables("pids"));
  const served = await serveApp(harness.app);
  open = { harness, served, api: jsonClient(served.url) };
});
afterAll(async () => open?.served.close());

const idempotentBody = (producerId: number, producerEpoch: number, baseSequence: number, value: string) => ({
  encoding: "utf8",
  producerId,
  producerEpoch,
  partitions: [{ partition: 0, baseSequence, records: [{ value }] }],
});

async function newTopic(api: JsonClient): Promise<string> {
  const topic = topicName("pids");
  expect((await api.post("/v1/topics", { name: topic, partitions: 1 })).status).toBe(201);
  return topic;
}

async function values(api: JsonClient, topic: string): Promise<string[]> {
  const fetched = await api.get(`/v1/topics/${topic}/partitions/0/records?offset=0&encoding=utf8`);
  expect(fetched.status).toBe(200);
  return fetched.body.records.map((r: { value: string }) => r.value);
}

describe("idempotent producer ids (security off)", () => {
  it("regression: a producer id the broker has not issued yet cannot pre-empt its owner's first batch", async () => {
    const { api, harness } = open;
    const topic = await newTopic(api);
    const first = await api.post("/v1/producers", {});
    expect(first.status).toBe(200);
    const next = first.body.producerId + 1; // ids are sequential: the next one is easy to guess

    harness.writes.reset();
    const borrowed = await api.post(`/v1/topics/${topic}/records`, idempotentBody(next, 0, 0, "intruder"));
    expect(borrowed.status).toBe(409);
    expect(borrowed.body.error).toMatchObject({ code: "UNKNOWN_PRODUCER_ID", producerId: next, retriable: false, outcome: "definite" });
    expect(harness.writes.total).toBe(0);

    const owner = await api.post("/v1/producers", {});
    expect(owner.body).toEqual({ producerId: next, epoch: 0 });
    const produced = await api.post(`/v1/topics/${topic}/records`, idempotentBody(next, 0, 0, "owner"));
    expect(produced.status).toBe(200);
    expect(produced.body.partitions[0]).toMatchObject({ baseOffset: 0, duplicate: false });
    expect(await values(api, topic)).toEqual(["owner"]);
  });

  it("a producer id never issued at all → 409 UNKNOWN_PRODUCER_ID, no write", async () => {
    const { api, harness } = open;
    const topic = await newTopic(api);
    harness.writes.reset();
    const response = await api.post(`/v1/topics/${topic}/records`, idempotentBody(987_654_321, 0, 0, "x"));
    expect(response.status).toBe(409);
    expect(response.body.error).toMatchObject({ code: "UNKNOWN_PRODUCER_ID", producerId: 987_654_321 });
    expect(response.body.error.message).toContain("POST /v1/producers");
    expect(harness.writes.total).toBe(0);
  });

  it("an epoch never issued → 400 INVALID_PRODUCER_EPOCH, no write; the issued epoch still works", async () => {
    const { api, harness } = open;
    const topic = await newTopic(api);
    const { producerId } = (await api.post("/v1/producers", {})).body;
    expect((await api.post(`/v1/topics/${topic}/records`, idempotentBody(producerId, 0, 0, "e0"))).status).toBe(200);
    harness.writes.reset();
    const response = await api.post(`/v1/topics/${topic}/records`, idempotentBody(producerId, 1, 0, "e1"));
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: "INVALID_PRODUCER_EPOCH", producerId, producerEpoch: 1, issuedEpoch: 0 });
    expect(harness.writes.total).toBe(0);
    expect((await api.post(`/v1/topics/${topic}/records`, idempotentBody(producerId, 0, 1, "e0b"))).status).toBe(200);
    expect(await values(api, topic)).toEqual(["e0", "e0b"]);
  });

  it("a transactional id's producer id: refused in a plain produce and under another transactional id, no write", async () => {
    const { api, harness } = open;
    const topic = await newTopic(api);
    const [a, b] = [uniqueName("tx-a"), uniqueName("tx-b")];
    const txA = (await api.post("/v1/producers", { transactionalId: a })).body;
    const txB = (await api.post("/v1/producers", { transactionalId: b })).body;
    const idempotent = (await api.post("/v1/producers", {})).body;
    const commit = (transactionalId: string, producerId: number, producerEpoch: number) =>
      api.post("/v1/transactions", { transactionalId, producerId, producerEpoch, transactionSequence: 0, encoding: "utf8", records: [{ topic, partition: 0, value: "t" }] });

    harness.writes.reset();
    const plain = await api.post(`/v1/topics/${topic}/records`, idempotentBody(txA.producerId, 0, 0, "plain"));
    expect(plain.status).toBe(409);
    expect(plain.body.error).toMatchObject({ code: "INVALID_PRODUCER_ID_MAPPING", producerId: txA.producerId });
    const other = await commit(b, txA.producerId, 0);
    expect(other.status).toBe(409);
    expect(other.body.error).toMatchObject({ code: "INVALID_PRODUCER_ID_MAPPING", producerId: txA.producerId, transactionalId: b });
    const idempotentAsTransactional = await commit(a, idempotent.producerId, 0);
    expect(idempotentAsTransactional.status).toBe(409);
    expect(idempotentAsTransactional.body.error).toMatchObject({ code: "INVALID_PRODUCER_ID_MAPPING" });
    const unissuedEpoch = await commit(a, txA.producerId, 1);
    expect(unissuedEpoch.status).toBe(400);
    expect(unissuedEpoch.body.error).toMatchObject({ code: "INVALID_PRODUCER_EPOCH", producerEpoch: 1 });
    const neverIssued = await commit(a, 987_654_322, 0);
    expect(neverIssued.status).toBe(409);
    expect(neverIssued.body.error).toMatchObject({ code: "UNKNOWN_PRODUCER_ID" });
    expect(harness.writes.total).toBe(0);

    // Each owner's own commit goes through, and is the only thing in the log.
    expect((await commit(b, txB.producerId, txB.epoch)).status).toBe(200);
    expect((await commit(a, txA.producerId, txA.epoch)).status).toBe(200);
    expect(await values(api, topic)).toEqual(["t", "t"]);
  });

  it("re-initializing a transactional id raises the epoch the broker accepts, and no further", async () => {
    const { api, harness } = open;
    const topic = await newTopic(api);
    const id = uniqueName("tx-bump");
    const first = (await api.post("/v1/producers", { transactionalId: id })).body;
    const commit = (producerEpoch: number, value: string) =>
      api.post("/v1/transactions", { transactionalId: id, producerId: first.producerId, producerEpoch, transactionSequence: 0, encoding: "utf8", records: [{ topic, partition: 0, value }] });
    expect((await commit(first.epoch, "e0")).status).toBe(200); // caches epoch 0 as the highest issued
    const second = (await api.post("/v1/producers", { transactionalId: id })).body;
    expect(second).toMatchObject({ producerId: first.producerId, epoch: first.epoch + 1 });
    harness.writes.reset();
    expect((await commit(second.epoch + 1, "never")).body.error).toMatchObject({ code: "INVALID_PRODUCER_EPOCH" });
    expect(harness.writes.total).toBe(0);
    expect((await commit(second.epoch, "e1")).status).toBe(200);
    expect((await commit(first.epoch, "zombie")).body.error).toMatchObject({ code: "PRODUCER_FENCED" });
    expect(await values(api, topic)).toEqual(["e0", "e1"]);
  });
});

describe("producer ids are bound to the principal that initialized them (security on)", () => {
  let secured: { harness: TestBroker; served: Served };
  const tokens: Record<"admin" | "alice" | "bob", string> = { admin: "", alice: "", bob: "" };

  beforeAll(async () => {
    const harness = createTestBroker(await createTestTables("pids-sec"), { security: { enabled: true, superUsers: ["User:admin"] } });
    secured = { harness, served: await serveApp(harness.app) };
    for (const who of ["admin", "alice", "bob"] as const) tokens[who] = (await harness.security.createApiKey(`User:${who}`)).token;
  });
  afterAll(async () => secured?.served.close());

  async function as(who: keyof typeof tokens, method: string, path: string, body?: unknown) {
    const headers: Record<string, string> = { authorization: `Bearer ${tokens[who]}` };
    if (body !== undefined) headers["content-type"] = "application/json";
    const response = await fetch(secured.served.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  }

  /** Alice and Bob may both write the topic and use the transactional id: only producer-id binding tells them apart. */
  async function sharedResources(): Promise<{ topic: string; transactionalId: string }> {
    const topic = topicName("pids-sec");
    const transactionalId = uniqueName("pids-sec-tx");
    expect((await as("admin", "POST", "/v1/topics", { name: topic, partitions: 1 })).status).toBe(201);
    for (const principal of ["User:alice", "User:bob"]) {
      for (const rule of [
        { resourceType: "Topic", resourceName: topic, operation: "All" },
        { resourceType: "TransactionalId", resourceName: transactionalId, operation: "Write" },
      ]) {
        expect((await as("admin", "POST", "/v1/acls", { principal, ...rule })).status).toBe(201);
      }
    }
    return { topic, transactionalId };
  }

  async function valuesAs(topic: string): Promise<string[]> {
    const fetched = await as("admin", "GET", `/v1/topics/${topic}/partitions/0/records?offset=0&encoding=utf8`);
    return fetched.body.records.map((r: { value: string }) => r.value);
  }

  it("Bob cannot produce with Alice's idempotent producer id: 403, no write, and Alice's batch is stored", async () => {
    const { topic } = await sharedResources();
    const alice = await as("alice", "POST", "/v1/producers", {});
    expect(alice.status).toBe(200);
    secured.harness.writes.reset();
    const borrowed = await as("bob", "POST", `/v1/topics/${topic}/records`, idempotentBody(alice.body.producerId, 0, 0, "bob"));
    expect(borrowed.status).toBe(403);
    expect(borrowed.body.error).toMatchObject({ code: "PRODUCER_ID_AUTHORIZATION_FAILED", producerId: alice.body.producerId, retriable: false, outcome: "definite" });
    expect(borrowed.body.error.message).not.toContain("alice");
    expect(secured.harness.writes.total).toBe(0);

    const own = await as("alice", "POST", `/v1/topics/${topic}/records`, idempotentBody(alice.body.producerId, 0, 0, "alice"));
    expect(own.status).toBe(200);
    expect(own.body.partitions[0]).toMatchObject({ baseOffset: 0, duplicate: false });
    // Refused again once the id is known to this warm instance (the cached binding), still no write.
    secured.harness.writes.reset();
    expect((await as("bob", "POST", `/v1/topics/${topic}/records`, idempotentBody(alice.body.producerId, 0, 1, "bob"))).status).toBe(403);
    expect(secured.harness.writes.total).toBe(0);
    expect(await valuesAs(topic)).toEqual(["alice"]);
  });

  it("Bob cannot commit with Alice's transactional producer id; his own init of the id gets a fresh producer id and fences Alice", async () => {
    const { topic, transactionalId } = await sharedResources();
    const commit = (who: "alice" | "bob", producer: { producerId: number; epoch: number }, value: string) =>
      as(who, "POST", "/v1/transactions", { transactionalId, producerId: producer.producerId, producerEpoch: producer.epoch, transactionSequence: 0, encoding: "utf8", records: [{ topic, partition: 0, value }] });
    const alice = (await as("alice", "POST", "/v1/producers", { transactionalId })).body;

    secured.harness.writes.reset();
    const borrowed = await commit("bob", alice, "bob");
    expect(borrowed.status).toBe(403);
    expect(borrowed.body.error).toMatchObject({ code: "PRODUCER_ID_AUTHORIZATION_FAILED", producerId: alice.producerId });
    expect(secured.harness.writes.total).toBe(0);
    expect((await commit("alice", alice, "alice")).status).toBe(200);

    const bob = (await as("bob", "POST", "/v1/producers", { transactionalId })).body;
    expect(bob.producerId).not.toBe(alice.producerId);
    expect(bob.epoch).toBe(0);
    expect((await commit("alice", alice, "zombie")).body.error).toMatchObject({ code: "PRODUCER_FENCED" });
    expect((await commit("bob", bob, "bob")).status).toBe(200);
    expect(await valuesAs(topic)).toEqual(["alice", "bob"]);
  });
});
