/**
 * Record notifications over a real WebSocket (the `ws` server the local broker attaches to its HTTP
 * server, and `ws`'s client): the upgrade refuses a missing or bad key, a subscribed socket hears
 * of a produce to its partition, and the SDK consumer, given the broker's notificationsUrl, gets a
 * record produced after it went idle, with no long poll in flight.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { NotificationOptions } from "../../client/notification-channel.js";
import { client, deferred } from "../client/support.js";
import { fetchWatcher } from "../client/fetch-watcher.js";
import { startLocalBroker, type LocalBroker } from "../../local/local-broker.js";
import { testEndpoint, uniqueName } from "../support/dynamodb.js";

const SUBPROTOCOL = "dynalog.notifications.v1";

let broker: LocalBroker;

beforeAll(async () => {
  broker = await startLocalBroker({ dynamodbEndpoint: testEndpoint(), tablePrefix: uniqueName("nsock"), port: 0, auth: true, compactionIntervalMs: 0 });
}, 120_000);
afterAll(async () => broker?.stop());

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(broker.url + path, {
    method,
    headers: { authorization: `Bearer ${broker.adminToken!}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** Opens a socket; resolves with it once open, or with the refusal's HTTP status. */
function open(protocols: string[]): Promise<{ socket: WebSocket; messages: Record<string, unknown>[] } | { refused: number }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(broker.notificationsUrl!, protocols);
    const messages: Record<string, unknown>[] = [];
    socket.on("message", (data) => messages.push(JSON.parse(String(data)) as Record<string, unknown>));
    socket.on("open", () => resolve({ socket, messages }));
    socket.on("unexpected-response", (_request, response) => resolve({ refused: response.statusCode ?? 0 }));
    socket.on("error", reject);
  });
}

/** Resolves when a message matching `match` has arrived (checked on every message). */
function next(socket: WebSocket, messages: Record<string, unknown>[], match: (m: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
  const seen = messages.find(match);
  if (seen) return Promise.resolve(seen);
  return new Promise((resolve) => {
    const listener = (data: WebSocket.RawData) => {
      const message = JSON.parse(String(data)) as Record<string, unknown>;
      if (!match(message)) return;
      socket.off("message", listener);
      resolve(message);
    };
    socket.on("message", listener);
  });
}

describe("notifications over a real WebSocket", { timeout: 120_000 }, () => {
  it("the broker advertises its WebSocket URL, refuses connections without a valid key, and notifies a subscribed socket of a produce", async () => {
    expect(broker.notificationsUrl).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\//);
    expect(await open([SUBPROTOCOL])).toMatchObject({ refused: 401 });
    expect(await open([SUBPROTOCOL, "dlk_not_a_key"])).toMatchObject({ refused: 401 });

    const topic = uniqueName("nsock-topic");
    expect((await api("POST", "/v1/topics", { name: topic, partitions: 2 })).status).toBe(201);
    const opened = await open([SUBPROTOCOL, broker.adminToken!]);
    if (!("socket" in opened)) throw new Error(`refused: ${opened.refused}`);
    const { socket, messages } = opened;
    expect(socket.protocol).toBe(SUBPROTOCOL);
    try {
      const subscribed = next(socket, messages, (m) => m["id"] === "s1");
      socket.send(JSON.stringify({ action: "subscribe", id: "s1", partitions: [{ topic, partition: 1 }] }));
      expect(await subscribed).toMatchObject({ type: "subscribed" });

      const notified = next(socket, messages, (m) => m["type"] === "records");
      const produced = await api("POST", `/v1/topics/${topic}/records`, { partitions: [{ partition: 1, records: [{ value: "aGk=" }] }] });
      expect(produced.status).toBe(200);
      expect(await notified).toEqual({ type: "records", topic, partition: 1, offset: 0 });
    } finally {
      socket.close();
    }
  });

  it("the SDK consumer waits on the broker's WebSocket, no long poll in flight, and gets a record produced while it was idle", async () => {
    const topic = uniqueName("nsock-sdk");
    const watcher = fetchWatcher();
    const dynalog = client(broker.url, { auth: { type: "bearer", token: broker.adminToken! }, fetch: watcher.fetch });
    await dynalog.admin().createTopics({ topics: [{ topic, numPartitions: 1 }] });
    // Long polls would be long and the fallback re-fetch never comes during the test: only a notification can deliver.
    const consumer = dynalog.consumer({
      maxWaitTimeInMs: 20_000,
      notifications: { url: broker.notificationsUrl!, WebSocket: WebSocket as unknown as NonNullable<NotificationOptions["WebSocket"]>, fallbackIntervalMs: 600_000 },
    });
    const received = deferred<string>();
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({ eachMessage: async ({ message }) => received.resolve(message.value?.toString() ?? "") });
      await watcher.idle; // subscribed and fetched once without waiting
      expect(watcher.inFlight()).toBe(0);
      const fetchesBefore = watcher.waits.length;
      expect((await api("POST", `/v1/topics/${topic}/records`, { encoding: "utf8", records: [{ value: "after idle" }] })).status).toBe(200);
      expect(await received.promise).toBe("after idle");
      expect(watcher.waits.slice(fetchesBefore - 1).every((w) => w === 0)).toBe(true);
    } finally {
      await consumer.disconnect();
    }
  });
});
