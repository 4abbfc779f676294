/**
 * GET /v1/topics/:topic/partitions/:partition/records/:offset/trace end to end: a transactional
 * copy over HTTP, traced from its input record to the output and back; bad input is a clear 4xx;
 * with security on, Describe on the topic is needed and the groups, transactions and topics the
 * caller may not describe are left out.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApi } from "../../shared/http/app.js";
import { createTestBroker, createTestTables, serveApp, topicName, type Served, type TestBroker } from "../support/broker.js";
import { uniqueName } from "../support/dynamodb.js";
import { jsonClient, type JsonClient } from "../support/http.js";

let open: { harness: TestBroker; served: Served; api: JsonClient };
let secured: { harness: TestBroker; served: Served; url: string; tokens: Record<"admin" | "alice", string> };

beforeAll(async () => {
  const tables = await createTestTables("trace-e2e");
  const harness = createTestBroker(tables);
  const served = await serveApp(harness.app);
  open = { harness, served, api: jsonClient(served.url) };
  const secure = createTestBroker(tables, { security: { enabled: true, superUsers: ["User:admin"] } });
  const securedServed = await serveApp(createApi(secure.broker, { security: secure.security }));
  secured = {
    harness: secure,
    served: securedServed,
    url: securedServed.url,
    tokens: { admin: (await secure.security.createApiKey("User:admin")).token, alice: (await secure.security.createApiKey("User:alice")).token },
  };
});
afterAll(async () => {
  await open?.served.close();
  await secured?.served.close();
});

/** Input (1 partition, 3 records) copied by one transaction of `group` into output partition 0. */
async function copy(api: JsonClient, prefix = "trace") {
  const input = topicName(`${prefix}-in`);
  const output = topicName(`${prefix}-out`);
  const group = uniqueName(`${prefix}-g`);
  const transactionalId = uniqueName(`${prefix}-tx`);
  for (const name of [input, output]) expect((await api.post("/v1/topics", { name, partitions: 1 })).status).toBe(201);
  expect((await api.post(`/v1/topics/${input}/records`, { encoding: "utf8", records: ["a", "b", "c"].map((value) => ({ value, partition: 0 })) })).status).toBe(200);
  const producer = (await api.post("/v1/producers", { transactionalId })).body;
  const committed = await api.post("/v1/transactions", {
    transactionalId,
    producerId: producer.producerId,
    producerEpoch: producer.epoch,
    transactionSequence: 0,
    encoding: "utf8",
    records: ["A", "B", "C"].map((value) => ({ topic: output, partition: 0, value })),
    offsets: { group, offsets: [{ topic: input, partition: 0, offset: 3 }] },
  });
  expect(committed.status).toBe(200);
  return { input, output, group, transactionalId, producer };
}

describe("GET …/records/:offset/trace", { timeout: 120_000 }, () => {
  it("traces an input record to the transaction that copied it, and the output back to its inputs", async () => {
    const { api } = open;
    const { input, output, group, transactionalId, producer } = await copy(api);

    const forward = await api.get(`/v1/topics/${input}/partitions/0/records/1/trace`);
    expect(forward.status).toBe(200);
    expect(forward.body).toMatchObject({ topic: input, partition: 0, offset: 1, transactional: false, producerId: null, producedBy: null });
    expect(forward.body.groups).toEqual([{ group, committedOffset: 3, committedAt: expect.any(String) }]);
    expect(forward.body.consumedBy).toEqual([
      {
        transactionalId,
        producerId: producer.producerId,
        producerEpoch: producer.epoch,
        transactionSequence: 0,
        committedAt: expect.any(String),
        group,
        inputs: [{ topic: input, partition: 0, committedOffset: 3 }],
        outputs: [{ topic: output, partition: 0, baseOffset: 0, count: 3 }],
      },
    ]);

    const back = await api.get(`/v1/topics/${output}/partitions/0/records/2/trace`);
    expect(back.status).toBe(200);
    expect(back.body).toMatchObject({ transactional: true, producerId: producer.producerId, groups: [], consumedBy: [] });
    expect(back.body.producedBy).toMatchObject({ transactionalId, group, inputs: [{ topic: input, partition: 0, committedOffset: 3 }] });
  });

  it("fetch with ?metadata=true says per record whether a transaction wrote it, and which producer id", async () => {
    const { api } = open;
    const { input, output, producer } = await copy(api, "trace-meta");
    const outputs = await api.get(`/v1/topics/${output}/partitions/0/records?offset=0&encoding=utf8&metadata=true`);
    expect(outputs.status).toBe(200);
    expect(outputs.body.records.map((r: { value: string; producerId: number | null; transactional: boolean }) => [r.value, r.producerId, r.transactional])).toEqual([
      ["A", producer.producerId, true],
      ["B", producer.producerId, true],
      ["C", producer.producerId, true],
    ]);
    const inputs = await api.get(`/v1/topics/${input}/partitions/0/records?offset=0&metadata=true`);
    expect(inputs.body.records[0]).toMatchObject({ producerId: null, transactional: false });
    // An idempotent producer's id is recorded on its batch too (not transactional).
    const idempotent = (await api.post("/v1/producers", {})).body;
    const produced = await api.post(`/v1/topics/${input}/records`, {
      encoding: "utf8",
      producerId: idempotent.producerId,
      producerEpoch: idempotent.epoch,
      partitions: [{ partition: 0, baseSequence: 0, records: [{ value: "d" }] }],
    });
    expect(produced.status).toBe(200);
    const at = produced.body.partitions[0].baseOffset;
    const fetched = await api.get(`/v1/topics/${input}/partitions/0/records?offset=${at}&metadata=true`);
    expect(fetched.body.records[0]).toMatchObject({ offset: at, producerId: idempotent.producerId, transactional: false });
    const traced = await api.get(`/v1/topics/${input}/partitions/0/records/${at}/trace`);
    expect(traced.body).toMatchObject({ producerId: idempotent.producerId, transactional: false, producedBy: null });
    const several = await api.post("/v1/fetch", { metadata: true, partitions: [{ topic: output, partition: 0, offset: 2 }] });
    expect(several.body.partitions[0].records[0]).toMatchObject({ offset: 2, producerId: producer.producerId, transactional: true });
    const plain = await api.get(`/v1/topics/${output}/partitions/0/records?offset=0`);
    expect(Object.keys(plain.body.records[0]).sort()).toEqual(["headers", "key", "offset", "timestamp", "value"]);
    const bad = await api.get(`/v1/topics/${output}/partitions/0/records?offset=0&metadata=yes`);
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("INVALID_REQUEST");
  });

  it("refuses bad input with a clear 4xx and writes nothing", async () => {
    const { api, harness } = open;
    const topic = topicName("trace-bad");
    expect((await api.post("/v1/topics", { name: topic, partitions: 1 })).status).toBe(201);
    expect((await api.post(`/v1/topics/${topic}/records`, { encoding: "utf8", records: [{ value: "x" }] })).status).toBe(200);
    harness.writes.reset();
    const cases: [string, number, string][] = [
      [`/v1/topics/${topic}/partitions/0/records/abc/trace`, 400, "INVALID_REQUEST"],
      [`/v1/topics/${topic}/partitions/x/records/0/trace`, 400, "INVALID_REQUEST"],
      [`/v1/topics/${topic}/partitions/0/records/1.5/trace`, 400, "INVALID_REQUEST"],
      [`/v1/topics/${topic}/partitions/0/records/-1/trace`, 400, "INVALID_REQUEST"],
      [`/v1/topics/${topic}/partitions/0/records/7/trace`, 416, "OFFSET_OUT_OF_RANGE"],
      [`/v1/topics/${topic}/partitions/9/records/0/trace`, 404, "UNKNOWN_TOPIC_OR_PARTITION"],
      [`/v1/topics/${topicName("trace-none")}/partitions/0/records/0/trace`, 404, "UNKNOWN_TOPIC_OR_PARTITION"],
    ];
    for (const [path, status, code] of cases) {
      const response = await api.get(path);
      expect({ path, status: response.status, code: response.body?.error?.code }).toEqual({ path, status, code });
    }
    expect(harness.writes.total).toBe(0);
  });

  it("needs Describe on the topic, and hides groups and topics the caller may not describe", async () => {
    const call = async (path: string, token: string, method = "GET", body?: unknown) => {
      const response = await fetch(secured.url + path, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as any };
    };
    const adminApi = {
      get: (path: string) => call(path, secured.tokens.admin),
      post: (path: string, body?: unknown) => call(path, secured.tokens.admin, "POST", body),
      postRaw: () => Promise.reject(new Error("unused")),
      delete: (path: string) => call(path, secured.tokens.admin, "DELETE"),
    } as unknown as JsonClient;
    const { input, output } = await copy(adminApi, "trace-sec");
    const path = `/v1/topics/${input}/partitions/0/records/0/trace`;

    const denied = await call(path, secured.tokens.alice);
    expect(denied.status).toBe(403);
    expect(denied.body.error).toMatchObject({ code: "TOPIC_AUTHORIZATION_FAILED", retriable: false });

    // Describe on the input only: the record's trace, but not the copier's group nor the output topic.
    expect((await call("/v1/acls", secured.tokens.admin, "POST", { principal: "User:alice", resourceType: "Topic", resourceName: input, operation: "Describe" })).status).toBe(201);
    const partial = await call(path, secured.tokens.alice);
    expect(partial.status).toBe(200);
    expect(partial.body).toMatchObject({ topic: input, offset: 0, groups: [], consumedBy: [] });

    const full = await call(path, secured.tokens.admin);
    expect(full.body.consumedBy[0].outputs).toEqual([{ topic: output, partition: 0, baseOffset: 0, count: 3 }]);
  });
});
