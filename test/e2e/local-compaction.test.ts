/**
 * The local broker's in-process compactor (local/periodic-compaction.ts) and the compact route
 * through the deployed admin handler behind the local gateway.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalBroker, type LocalBroker } from "../../local/local-broker.js";
import { testEndpoint, uniqueName } from "../support/dynamodb.js";
import { jsonClient, type JsonClient } from "../support/http.js";

let broker: LocalBroker;
let api: JsonClient;

beforeAll(async () => {
  // A long interval: the test triggers the passes itself (runOnce), so nothing depends on timing.
  broker = await startLocalBroker({ dynamodbEndpoint: testEndpoint(), tablePrefix: uniqueName("lcmp"), port: 0, compactionIntervalMs: 3_600_000 });
  api = jsonClient(broker.url);
}, 120_000);
afterAll(async () => broker?.stop());

async function latestValues(topic: string): Promise<string[]> {
  const fetched = await api.get(`/v1/topics/${topic}/partitions/0/records?offset=0&encoding=utf8`);
  expect(fetched.status, JSON.stringify(fetched.body)).toBe(200);
  return fetched.body.records.map((r: { key: string; value: string }) => `${r.key}=${r.value}`);
}

describe("local broker compaction", { timeout: 120_000 }, () => {
  it("compacts every compacted topic in process, and serves the compact route through the admin handler", async () => {
    const compacted = uniqueName("lcmp-topic");
    const plain = uniqueName("lcmp-plain");
    expect((await api.post("/v1/topics", { name: compacted, partitions: 1, cleanupPolicy: "compact" })).status).toBe(201);
    expect((await api.post("/v1/topics", { name: plain, partitions: 1 })).status).toBe(201);
    for (const topic of [compacted, plain]) {
      for (const value of ["1", "2"]) expect((await api.post(`/v1/topics/${topic}/records`, { encoding: "utf8", records: [{ key: "k", value }] })).status).toBe(200);
    }

    await broker.compaction!.runOnce();
    expect(await latestValues(compacted)).toEqual(["k=2"]);
    expect(await latestValues(plain)).toEqual(["k=1", "k=2"]);
    const described = await api.get(`/v1/topics/${compacted}`);
    expect(described.body.partitions[0]).toMatchObject({ highWatermark: 2, compaction: { cleanedUpTo: 2 } });

    expect((await api.post(`/v1/topics/${compacted}/records`, { encoding: "utf8", records: [{ key: "k", value: "3" }] })).status).toBe(200);
    const routed = await api.post(`/v1/topics/${compacted}/compact`, {});
    expect(routed.status, JSON.stringify(routed.body)).toBe(200);
    expect(routed.body.partitions[0]).toMatchObject({ cleanedUpTo: 3, removedRecords: 1 });
    expect(await latestValues(compacted)).toEqual(["k=3"]);
  });
});
