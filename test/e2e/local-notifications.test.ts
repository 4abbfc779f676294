/**
 * Record notifications on the local broker (docs/api.md, "Notifications"), with authentication on:
 * connecting needs a valid API key, subscribing needs Read on the topic, a produce notifies the
 * connections subscribed to its partition and no others, and a connection that is gone is removed
 * when a notification finds it. The sockets are in process (test/support/loopback-websocket.ts):
 * the hub's protocol, authentication, storage and fan-out are the real ones.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalBroker, type LocalBroker } from "../../local/local-broker.js";
import { localDynamoDbClientConfig } from "../../local/dynamodb-local.js";
import { createDynamoConnectionStore } from "../../shared/storage/connection-store.js";
import { tableNames } from "../../shared/storage/tables.js";
import type { ConnectionStore } from "../../shared/core/notifications.js";
import { testEndpoint, uniqueName } from "../support/dynamodb.js";
import { loopbackWebSockets, type LoopbackSocket } from "../../local/loopback-websocket.js";

const SUBPROTOCOL = "dynalog.notifications.v1";

let broker: LocalBroker;
let store: ConnectionStore;
let dynamo: DynamoDBClient;
let sockets: ReturnType<typeof loopbackWebSockets>;
let topic: string;
let aliceToken: string;
/** A topic alice may read (and which does not exist). */
const secret = uniqueName("nsecret");

async function call(method: string, path: string, token: string, body?: unknown) {
  const response = await fetch(broker.url + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

async function connect(token: string | undefined): Promise<LoopbackSocket> {
  const socket = new sockets.WebSocket("ws://loopback", token ? [SUBPROTOCOL, token] : [SUBPROTOCOL]) as LoopbackSocket;
  await socket.accepted;
  return socket;
}

async function subscribe(socket: LoopbackSocket, id: string, partitions: { topic: string; partition: number }[]) {
  const reply = socket.next((m) => m["id"] === id);
  socket.send(JSON.stringify({ action: "subscribe", id, partitions }));
  return reply;
}

async function produce(partition: number): Promise<number> {
  const response = await call("POST", `/v1/topics/${topic}/records`, broker.adminToken!, { partitions: [{ partition, records: [{ value: "aGk=" }] }] });
  expect(response.status).toBe(200);
  return response.body.partitions[0].baseOffset as number;
}

const notificationsIn = (socket: LoopbackSocket) => socket.received.filter((m) => m["type"] === "records");

beforeAll(async () => {
  const prefix = uniqueName("lnotify");
  broker = await startLocalBroker({ dynamodbEndpoint: testEndpoint(), tablePrefix: prefix, auth: true, subscriptions: false, console: false, compactionIntervalMs: 0 });
  sockets = loopbackWebSockets(broker.notifications);
  dynamo = new DynamoDBClient(localDynamoDbClientConfig(testEndpoint()));
  store = createDynamoConnectionStore(DynamoDBDocumentClient.from(dynamo), tableNames(prefix));
  topic = uniqueName("ntopic");
  expect((await call("POST", "/v1/topics", broker.adminToken!, { name: topic, partitions: 2 })).status).toBe(201);
  const key = await call("POST", "/v1/api-keys", broker.adminToken!, { principal: "User:alice" });
  expect(key.status).toBe(201);
  aliceToken = key.body.token as string;
  // Before any subscription: the broker caches ACLs for a few seconds (DYNALOG_AUTH_CACHE_TTL_MS), as its handlers do.
  expect((await call("POST", "/v1/acls", broker.adminToken!, { principal: "User:alice", resourceType: "Topic", resourceName: secret, operation: "Read" })).status).toBe(201);
}, 120_000);

afterAll(async () => {
  dynamo?.destroy();
  await broker?.stop();
});

describe("local notifications", { timeout: 120_000 }, () => {
  it("refuses to connect without a valid API key", async () => {
    await expect(connect(undefined)).rejects.toMatchObject({ code: "AUTHENTICATION_FAILED" });
    await expect(connect("dlk_0000000000000000_" + "a".repeat(43))).rejects.toMatchObject({ code: "AUTHENTICATION_FAILED" });
  });

  it("subscribes only to topics the principal may read", async () => {
    const socket = await connect(aliceToken);
    const refused = await subscribe(socket, "r1", [{ topic, partition: 0 }]);
    expect(refused).toMatchObject({ type: "error", id: "r1", error: { code: "TOPIC_AUTHORIZATION_FAILED" } });
    // Read on another topic does not open this one.
    expect(await subscribe(socket, "r2", [{ topic, partition: 1 }])).toMatchObject({ type: "error", error: { code: "TOPIC_AUTHORIZATION_FAILED" } });
    // An unknown partition of a topic one may read is refused as unknown, not silently accepted.
    expect(await subscribe(socket, "r3", [{ topic: secret, partition: 0 }])).toMatchObject({ type: "error", error: { code: "UNKNOWN_TOPIC_OR_PARTITION" } });
    expect(await subscribe(socket, "bad", [{ topic, partition: -1 }])).toMatchObject({ type: "error", error: { code: "INVALID_REQUEST" } });
    socket.close();
  });

  it("notifies the connections subscribed to the produced partition, and no others", async () => {
    const first = await connect(broker.adminToken);
    const second = await connect(broker.adminToken);
    expect(await subscribe(first, "a", [{ topic, partition: 0 }])).toEqual({ type: "subscribed", id: "a", partitions: [{ topic, partition: 0 }] });
    expect(await subscribe(second, "b", [{ topic, partition: 1 }])).toMatchObject({ type: "subscribed" });
    const offset = await produce(0);
    await broker.notifications.settled();
    expect(notificationsIn(first)).toEqual([{ type: "records", topic, partition: 0, offset }]);
    expect(notificationsIn(second)).toEqual([]);
    first.close();
    second.close();
  });

  it("removes a closed connection and its subscriptions", async () => {
    const socket = await connect(broker.adminToken);
    const { connectionId } = await socket.accepted;
    await subscribe(socket, "c", [{ topic, partition: 1 }]);
    expect(await store.getConnection(connectionId)).toEqual({ principal: "User:admin" });
    socket.close();
    // $disconnect's removal is awaited by the hub's close; the next read sees it.
    await (await socket.accepted).closed();
    expect(await store.getConnection(connectionId)).toBeUndefined();
  });

  it("removes a connection that is gone when a notification finds it", async () => {
    const gone = await connect(broker.adminToken);
    const live = await connect(broker.adminToken);
    const goneId = (await gone.accepted).connectionId;
    await subscribe(gone, "g", [{ topic, partition: 1 }]);
    await subscribe(live, "l", [{ topic, partition: 1 }]);
    gone.drop();
    expect(await store.getConnection(goneId)).toBeDefined();
    const offset = await produce(1);
    await broker.notifications.settled();
    expect(await store.getConnection(goneId)).toBeUndefined();
    const topicId = (await call("GET", `/v1/topics/${topic}`, broker.adminToken!)).body.topicId as string | undefined;
    if (topicId) expect((await store.subscribers(topicId, 1)).map((s) => s.connectionId)).not.toContain(goneId);
    expect(notificationsIn(live)).toContainEqual({ type: "records", topic, partition: 1, offset });
    live.close();
  });
});
