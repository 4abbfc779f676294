import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalBroker, type LocalBroker } from "../../local/local-broker.js";
import { testEndpoint, uniqueName } from "../support/dynamodb.js";
import { jsonClient, type JsonClient } from "../support/http.js";

// The local server runs the deployed Lambda handlers (functions/*.ts) behind an API Gateway
// stand-in: this proves the path a request takes on AWS, event shape included.
let broker: LocalBroker;
let api: JsonClient;

beforeAll(async () => {
  broker = await startLocalBroker({ dynamodbEndpoint: testEndpoint(), tablePrefix: uniqueName("gw"), port: 0 });
  api = jsonClient(broker.url);
});
afterAll(async () => broker?.stop());

describe("local gateway invoking the Lambda handlers", () => {
  it("serves a produce → fetch round trip through every function", async () => {
    const topic = uniqueName("gw-topic");
    expect((await api.post("/v1/topics", { name: topic, partitions: 2 })).status).toBe(201);
    const { body: producer } = await api.post("/v1/producers", {});
    expect(producer).toEqual({ producerId: expect.any(Number), epoch: 0 });
    const produced = await api.post(`/v1/topics/${topic}/records`, {
      encoding: "utf8",
      producerId: producer.producerId,
      producerEpoch: 0,
      partitions: [{ partition: 1, baseSequence: 0, records: [{ key: "k", value: "v1" }, { key: "k", value: "v2" }] }],
    });
    expect(produced.status).toBe(200);
    expect(produced.body.partitions[0]).toMatchObject({ baseOffset: 0, lastOffset: 1 });

    const fetched = await api.get(`/v1/topics/${topic}/partitions/1/records?offset=0&encoding=utf8`);
    expect(fetched.body.records.map((r: { value: string }) => r.value)).toEqual(["v1", "v2"]);

    const commit = await api.post(`/v1/groups/g1/offsets`, { offsets: [{ topic, partition: 1, offset: 2 }] });
    expect(commit.status).toBe(200);
    const committed = await api.get(`/v1/groups/g1/offsets?topic=${topic}`);
    expect(committed.body.partitions.map((p: { offset: number }) => p.offset)).toEqual([-1, 2]);
  });

  it("answers unknown routes and wrong methods like the API does", async () => {
    const missing = await api.get("/v1/nope");
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("NOT_FOUND");
    const wrong = await api.delete("/v1/producers");
    expect(wrong.status).toBe(405);
    expect(wrong.body.error.code).toBe("METHOD_NOT_ALLOWED");
    expect(wrong.headers.get("allow")).toBe("POST");
  });

  it("answers bad input with a 4xx and a code, never a 5xx: malformed escapes, ids DynamoDB cannot key, media types", async () => {
    const cases: [method: string, path: string, init: RequestInit, status: number, code: string][] = [
      ["GET", "/v1/topics/%zz", {}, 400, "INVALID_REQUEST"],
      ["DELETE", "/v1/topics/%zz", {}, 400, "INVALID_REQUEST"],
      ["POST", "/v1/topics/%zz/records", { headers: { "content-type": "application/json" }, body: '{"records":[{"value":null}]}' }, 400, "INVALID_REQUEST"],
      ["GET", "/v1/topics/t/partitions/%zz/records?offset=0", {}, 400, "INVALID_REQUEST"],
      ["GET", "/v1/groups/%zz", {}, 400, "INVALID_REQUEST"],
      ["DELETE", "/v1/groups/g/members/%zz", {}, 400, "INVALID_REQUEST"],
      ["DELETE", "/v1/acls/%zz", {}, 400, "INVALID_REQUEST"],
      ["DELETE", "/v1/api-keys/%zz", {}, 400, "INVALID_REQUEST"],
      ["GET", "/v1/topics/%ED%A0%80", {}, 400, "INVALID_REQUEST"],
      // No route matches: the gateway answers by itself, as API Gateway does.
      ["GET", "/v1/%zz", {}, 404, "NOT_FOUND"],
      ["DELETE", `/v1/acls/${"a".repeat(2100)}`, {}, 404, "RESOURCE_NOT_FOUND"],
      ["DELETE", `/v1/api-keys/${"k".repeat(10_100)}`, {}, 404, "RESOURCE_NOT_FOUND"],
      ["POST", "/v1/topics", { headers: { "content-type": "text/plain" }, body: '{"name":"gw-never","partitions":1}' }, 415, "UNSUPPORTED_MEDIA_TYPE"],
      ["POST", "/v1/fetch", { body: new TextEncoder().encode('{"partitions":[]}') }, 415, "UNSUPPORTED_MEDIA_TYPE"],
      ["POST", "/v1/acls", { headers: { "content-type": "application/json" }, body: '{"principal":"User:a","principal":"User:b"}' }, 400, "INVALID_REQUEST"],
    ];
    for (const [method, path, init, status, code] of cases) {
      const response = await fetch(broker.url + path, { method, ...init });
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect({ path: path.slice(0, 60), status: response.status, code: body.error.code }).toEqual({ path: path.slice(0, 60), status, code });
      expect(body.error.message.length).toBeGreaterThan(0);
    }
    // Nothing was created by the refused requests.
    expect((await api.get("/v1/topics")).body.topics.map((t: { name: string }) => t.name)).not.toContain("gw-never");
  });
});
