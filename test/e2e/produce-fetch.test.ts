import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestBroker, createTestTables, serveApp, topicName, type Served, type TestBroker } from "../support/broker.js";
import { b64, jsonClient, unb64, type JsonClient } from "../support/http.js";

let served: Served;
let api: JsonClient;
let harness: TestBroker;

beforeAll(async () => {
  harness = createTestBroker(await createTestTables("e2e"));
  served = await serveApp(harness.app);
  api = jsonClient(served.url);
});
afterAll(async () => served?.close());

describe("produce → fetch over HTTP", () => {
  it("round-trips keys, binary values, headers and timestamps with dense offsets", async () => {
    const topic = topicName();
    expect((await api.post("/v1/topics", { name: topic, partitions: 3 })).status).toBe(201);
    const binary = Uint8Array.from([0, 255, 1, 254, 0x80, 0x7f]);
    const produced = await api.post(`/v1/topics/${topic}/records`, {
      records: [
        { key: b64("k1"), value: b64(binary), headers: [{ key: "trace", value: b64("abc") }, { key: "trace", value: null }], timestamp: 1_700_000_000_000, partition: 1 },
        { key: null, value: b64("second"), partition: 1 },
        { value: null, partition: 1 },
      ],
    });
    expect(produced.status).toBe(200);
    expect(produced.body.partitions).toEqual([{ partition: 1, baseOffset: 0, lastOffset: 2, recordCount: 3, duplicate: false }]);

    const fetched = await api.get(`/v1/topics/${topic}/partitions/1/records?offset=0`);
    expect(fetched.status).toBe(200);
    const records = fetched.body.records;
    expect(records.map((r: any) => r.offset)).toEqual([0, 1, 2]);
    expect(unb64(records[0].value)).toEqual(Buffer.from(binary));
    expect(unb64(records[0].key).toString()).toBe("k1");
    expect(records[0].headers).toEqual([{ key: "trace", value: b64("abc") }, { key: "trace", value: null }]);
    expect(records[0].timestamp).toBe(1_700_000_000_000);
    expect(records[1].key).toBeNull();
    expect(records[2].value).toBeNull();
    expect(fetched.body).toMatchObject({ nextOffset: 3, highWatermark: 3, logStartOffset: 0 });

    const more = await api.post(`/v1/topics/${topic}/records`, { encoding: "utf8", partitions: [{ partition: 1, records: [{ value: "héllo" }] }] });
    expect(more.body.partitions[0]).toMatchObject({ baseOffset: 3, lastOffset: 3 });
    const text = await api.get(`/v1/topics/${topic}/partitions/1/records?offset=3&encoding=utf8`);
    expect(text.body.records).toEqual([expect.objectContaining({ offset: 3, value: "héllo" })]);
  });
});
