/** The notification connection store on DynamoDB Local (shared/storage/connection-store.ts). */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { localDynamoDbClientConfig } from "../../local/dynamodb-local.js";
import type { ConnectionStore } from "../../shared/core/notifications.js";
import { createDynamoConnectionStore } from "../../shared/storage/connection-store.js";
import { createTestTables } from "../support/broker.js";
import { testEndpoint, uniqueName } from "../support/dynamodb.js";

let client: DynamoDBClient;
let store: ConnectionStore;
let now = 1_800_000_000_000;

beforeAll(async () => {
  const tables = await createTestTables("conn");
  client = new DynamoDBClient(localDynamoDbClientConfig(testEndpoint()));
  store = createDynamoConnectionStore(DynamoDBDocumentClient.from(client), tables, () => now);
});
afterAll(() => client?.destroy());

const sub = (connectionId: string, topicId: string, partition: number) => ({ topic: `name-${topicId}`, topicId, partition, connectionId });

describe("connection store", () => {
  it("keeps a connection's principal until it expires", async () => {
    const id = uniqueName("c");
    expect(await store.getConnection(id)).toBeUndefined();
    await store.putConnection(id, "User:alice", 60);
    expect(await store.getConnection(id)).toEqual({ principal: "User:alice" });
    now += 61_000; // TTL deletes lazily: an expired item must read as absent
    expect(await store.getConnection(id)).toBeUndefined();
  });

  it("lists a partition's subscribers, per topic incarnation and partition", async () => {
    const [a, b] = [uniqueName("a"), uniqueName("b")];
    const [t1, t2] = [uniqueName("t"), uniqueName("t")];
    await store.putConnection(a, "User:a", 600);
    await store.putConnection(b, "User:b", 600);
    await store.addSubscriptions(a, [sub(a, t1, 0), sub(a, t1, 1)], 600);
    await store.addSubscriptions(b, [sub(b, t1, 0), sub(b, t2, 0)], 600);
    expect((await store.subscribers(t1, 0)).map((s) => s.connectionId).sort()).toEqual([a, b].sort());
    expect(await store.subscribers(t1, 1)).toEqual([sub(a, t1, 1)]);
    expect(await store.subscribers(t2, 0)).toEqual([sub(b, t2, 0)]);
    expect(await store.subscribers(t2, 1)).toEqual([]);
  });

  it("removes a connection with every subscription it holds, and only those (idempotently)", async () => {
    const [a, b] = [uniqueName("a"), uniqueName("b")];
    const t = uniqueName("t");
    await store.putConnection(a, "User:a", 600);
    await store.putConnection(b, "User:b", 600);
    // More than one BatchWriteItem's worth (25) of items to delete.
    await store.addSubscriptions(a, Array.from({ length: 30 }, (_, p) => sub(a, t, p)), 600);
    await store.addSubscriptions(b, [sub(b, t, 0)], 600);
    await store.removeConnection(a);
    expect(await store.getConnection(a)).toBeUndefined();
    expect(await store.subscribers(t, 0)).toEqual([sub(b, t, 0)]);
    expect(await store.subscribers(t, 29)).toEqual([]);
    await store.removeConnection(a);
    expect(await store.getConnection(b)).toEqual({ principal: "User:b" });
  });
});
