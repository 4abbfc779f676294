import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalBroker, type LocalBroker } from "../../local/local-broker.js";
import { testEndpoint, uniqueName } from "../support/dynamodb.js";
import { jsonClient, type JsonClient } from "../support/http.js";
import { encodedStringBytes, FETCH_MAX_BYTES, LAMBDA_MAX_REQUEST_PAYLOAD_BYTES, LAMBDA_MAX_RESPONSE_PAYLOAD_BYTES, MAX_REQUEST_BODY_BYTES } from "../../shared/limits.js";

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

// Lambda's 6 MB caps apply to the JSON it carries: the event with the body escaped inside it, and
// the handler's result with the response body escaped inside it (shared/limits.ts).
describe("Lambda payload caps, measured as Lambda measures them", () => {
  /** A utf8 value of `plain` letters and `quotes` double quotes: each quote is 2 body bytes and 4 event bytes. */
  const quoteHeavy = (plain: number, quotes: number) => "a".repeat(plain) + '"'.repeat(quotes);

  it("refuses with 413 (not a gateway error), before any write, a produce under the raw limit whose event would pass 6 MB", async () => {
    const topic = uniqueName("gw-big");
    expect((await api.post("/v1/topics", { name: topic, partitions: 2 })).status).toBe(201);
    // 16 records of 268,500 bytes: valid per record and per partition; quote-heavy once escaped.
    const records = Array.from({ length: 16 }, (_, i) => ({ partition: i % 2, value: quoteHeavy(231_000, 37_500) }));
    const body = JSON.stringify({ encoding: "utf8", records });
    const raw = Buffer.byteLength(body);
    const encoded = encodedStringBytes(body);
    expect(raw).toBeLessThan(MAX_REQUEST_BODY_BYTES);
    expect(raw).toBeGreaterThan(4_800_000);
    expect(encoded).toBeGreaterThan(6_000_000);
    expect(encoded).toBeLessThan(LAMBDA_MAX_REQUEST_PAYLOAD_BYTES - 20_000); // so the event reaches the function

    const refused = await api.postRaw(`/v1/topics/${topic}/records`, body);
    expect(refused.status).toBe(413);
    expect(refused.body.error).toMatchObject({ code: "REQUEST_TOO_LARGE", size: raw, encodedSize: encoded, limit: MAX_REQUEST_BODY_BYTES });
    for (const partition of [0, 1]) {
      const latest = await api.get(`/v1/topics/${topic}/partitions/${partition}/offsets?at=latest`);
      expect(latest.body.offset).toBe(0);
    }
  });

  it("answers an event over Lambda's cap with the gateway's own error, as API Gateway does (the function never runs)", async () => {
    const body = JSON.stringify({ encoding: "utf8", records: [{ value: '"'.repeat(1_700_000) }] });
    expect(Buffer.byteLength(body)).toBeLessThan(MAX_REQUEST_BODY_BYTES);
    const response = await api.postRaw(`/v1/topics/${uniqueName("gw-none")}/records`, body);
    expect(response.status).toBe(500);
    expect(response.body).toEqual({ message: "Internal Server Error" });
    expect(response.headers.get("x-dynalog-local-gateway-error")).toMatch(/event/);
  });

  it("counts fetch's maxBytes on the encoded answer: quote-heavy records stay under Lambda's response cap, and every record is reached", async () => {
    const topic = uniqueName("gw-quotes");
    expect((await api.post("/v1/topics", { name: topic, partitions: 1 })).status).toBe(201);
    const value = '"'.repeat(300_000); // 300 KB raw, 600 KB in the HTTP answer, 1.2 MB in the Lambda result
    for (let request = 0; request < 3; request++) {
      const produced = await api.post(`/v1/topics/${topic}/records`, { encoding: "utf8", records: Array.from({ length: 4 }, () => ({ partition: 0, value })) });
      expect(produced.status).toBe(200);
    }
    let offset = 0;
    let answers = 0;
    while (offset < 12) {
      const response = await fetch(`${broker.url}/v1/topics/${topic}/partitions/0/records?offset=${offset}&encoding=utf8&maxBytes=${FETCH_MAX_BYTES}`);
      const text = await response.text();
      expect(response.status).toBe(200);
      // The Lambda result carries this body as a JSON string.
      expect(encodedStringBytes(text)).toBeLessThan(LAMBDA_MAX_RESPONSE_PAYLOAD_BYTES);
      const answer = JSON.parse(text) as { records: { offset: number; value: string }[]; nextOffset: number };
      expect(answer.records.length).toBeGreaterThan(0);
      expect(answer.records.every((r, i) => r.offset === offset + i && r.value === value)).toBe(true);
      offset = answer.nextOffset;
      answers++;
    }
    expect(answers).toBeGreaterThan(3); // 3 MiB of budget holds 2 such records, not the 10 raw bytes would allow
  });
});
