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
});
