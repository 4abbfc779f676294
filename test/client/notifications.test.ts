/**
 * The SDK consumer waits for new records on the notification channel instead of long-polling
 * (client/notification-channel.ts): once subscribed, it fetches without waiting, and after an empty
 * fetch nothing is in flight until the broker's notification for a new record wakes it. The
 * broker is the local one (auth on); the socket is in process (test/support/loopback-websocket.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalBroker, type LocalBroker } from "../../local/local-broker.js";
import { testEndpoint, uniqueName } from "../support/dynamodb.js";
import { loopbackWebSockets } from "../../local/loopback-websocket.js";
import { client, deferred } from "./support.js";
import { fetchWatcher } from "./fetch-watcher.js";

let broker: LocalBroker;

beforeAll(async () => {
  broker = await startLocalBroker({ dynamodbEndpoint: testEndpoint(), tablePrefix: uniqueName("cnotify"), auth: true, subscriptions: false, console: false, compactionIntervalMs: 0 });
}, 120_000);
afterAll(async () => broker?.stop());

describe("consumer with notifications", { timeout: 120_000 }, () => {
  it("receives a record produced after an idle period through a notification, not a long poll", async () => {
    const topic = uniqueName("cn");
    const watcher = fetchWatcher();
    const dynalog = client(broker.url, { auth: { type: "bearer", token: broker.adminToken! }, fetch: watcher.fetch });
    const admin = dynalog.admin();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
    const loop = loopbackWebSockets(broker.notifications);
    // Long polls would be long (20 s) and the fallback re-fetch never comes during the test: only a notification can deliver.
    const consumer = dynalog.consumer({ maxWaitTimeInMs: 20_000, notifications: { url: "ws://loopback", WebSocket: loop.WebSocket, fallbackIntervalMs: 600_000 } });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    const received = deferred<string>();
    await consumer.run({ eachMessage: async ({ message }) => received.resolve(message.value?.toString() ?? "") });

    // Subscribed and fetched once without waiting: the consumer is idle on the channel.
    await watcher.idle;
    const socket = loop.sockets[0]!;
    expect(socket.protocols).toEqual(["dynalog.notifications.v1", broker.adminToken]);
    expect(socket.received).toContainEqual({ type: "subscribed", id: expect.any(String), partitions: [{ topic, partition: 0 }] });
    const fetchesBeforeProduce = watcher.waits.length;
    expect(watcher.inFlight()).toBe(0);

    const producer = dynalog.producer();
    await producer.connect();
    await producer.send({ topic, messages: [{ value: "after the quiet" }] });
    expect(await received.promise).toBe("after the quiet");

    expect(socket.received.filter((m) => m["type"] === "records")).toEqual([{ type: "records", topic, partition: 0, offset: 0 }]);
    // Every fetch since the channel was ready asked for no wait at all.
    expect(watcher.waits.slice(fetchesBeforeProduce - 1)).toEqual(watcher.waits.slice(fetchesBeforeProduce - 1).map(() => 0));
    await consumer.disconnect();
    await producer.disconnect();
    expect(socket.readyState).toBe(3);
  });

  it("long-polls when the runtime has no WebSocket", async () => {
    const topic = uniqueName("cnlp");
    const watcher = fetchWatcher();
    const dynalog = client(broker.url, { auth: { type: "bearer", token: broker.adminToken! }, fetch: watcher.fetch });
    await dynalog.admin().createTopics({ topics: [{ topic, numPartitions: 1 }] });
    const hadWebSocket = "WebSocket" in globalThis;
    const saved = (globalThis as { WebSocket?: unknown }).WebSocket;
    delete (globalThis as { WebSocket?: unknown }).WebSocket;
    try {
      const consumer = dynalog.consumer({ maxWaitTimeInMs: 200, notifications: { url: "ws://nowhere" } });
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      const received = deferred<string>();
      await consumer.run({ eachMessage: async ({ message }) => received.resolve(message.value?.toString() ?? "") });
      const producer = dynalog.producer();
      await producer.send({ topic, messages: [{ value: "polled" }] });
      expect(await received.promise).toBe("polled");
      expect(watcher.waits.every((w) => w === 200)).toBe(true);
      await consumer.disconnect();
      await producer.disconnect();
    } finally {
      if (hadWebSocket) (globalThis as { WebSocket?: unknown }).WebSocket = saved;
    }
  });
});
