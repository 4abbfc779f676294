/** The SDK consumer fetches in the binary format by default (docs/api.md "Binary fetch"), and in JSON on request. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KafkaMessage } from "../../client/index.js";
import { topicName } from "../support/broker.js";
import { client, deferred, startBroker, type ClientTestEnv } from "./support.js";

let env: ClientTestEnv;
beforeAll(async () => {
  env = await startBroker("sdk-binfetch");
});
afterAll(async () => env?.close());

/** Consumes `count` messages of `topic` from the beginning; records the fetch requests' Accept headers and answers' types. */
async function consumeAll(topic: string, count: number, fetchFormat?: "binary" | "json") {
  const exchanges: { accept: string; type: string | null }[] = [];
  const dynalog = client(env.url, {
    fetch: async (input, init) => {
      const response = await fetch(input, init);
      if (new URL(input).pathname === "/v1/fetch") exchanges.push({ accept: String((init.headers as Record<string, string>)["accept"]), type: response.headers.get("content-type") });
      return response;
    },
  });
  const consumer = dynalog.consumer({ maxWaitTimeInMs: 200, maxRecordsPerPartition: 7, ...(fetchFormat ? { fetchFormat } : {}) });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const seen: { partition: number; message: KafkaMessage }[] = [];
  const done = deferred();
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      seen.push({ partition, message });
      if (seen.length === count) done.resolve();
    },
  });
  await done.promise;
  await consumer.disconnect();
  return { seen, exchanges };
}

const shape = ({ partition, message: m }: { partition: number; message: KafkaMessage }) => ({
  partition,
  offset: m.offset,
  timestamp: m.timestamp,
  size: m.size,
  key: m.key?.toString("hex") ?? null,
  value: m.value?.toString("hex") ?? null,
  headers: Object.fromEntries(Object.entries(m.headers).map(([k, v]) => [k, Array.isArray(v) ? v.map((x) => x?.toString("hex") ?? null) : (v?.toString("hex") ?? null)])),
});

describe("SDK consumer, binary fetch", { timeout: 120_000 }, () => {
  for (const compression of ["gzip", "brotli"] as const) {
    it(`reads a ${compression} topic in the binary format by default, exactly as in JSON`, async () => {
      const dynalog = client(env.url);
      const topic = topicName(`sdk-bin-${compression}`);
      await dynalog.admin().createTopics({ topics: [{ topic, numPartitions: 2, configEntries: [{ name: "compression.type", value: compression }] }] });
      const producer = dynalog.producer();
      await producer.connect();
      const messages = Array.from({ length: 20 }, (_, i) => ({
        key: i % 3 === 0 ? null : `key-${i % 4}`,
        value: i % 5 === 4 ? null : i % 2 ? Buffer.from([i, 0, 255]) : `value ${i} `.repeat(30),
        headers: i % 2 ? { trace: `t${i}`, multi: ["a", "b"] } : {},
        timestamp: 1_700_000_000_000 + i,
      }));
      for (let i = 0; i < messages.length; i += 5) await producer.send({ topic, messages: messages.slice(i, i + 5) });
      await producer.disconnect();

      const binary = await consumeAll(topic, messages.length);
      expect(binary.exchanges.length).toBeGreaterThan(0);
      expect(binary.exchanges.every((e) => e.accept.startsWith("application/vnd.dynalog.batches"))).toBe(true);
      expect(binary.exchanges.every((e) => e.type === "application/vnd.dynalog.batches")).toBe(true);
      const json = await consumeAll(topic, messages.length, "json");
      expect(json.exchanges.every((e) => e.type?.startsWith("application/json"))).toBe(true);

      const sorted = (list: typeof binary.seen) => list.map(shape).sort((a, b) => a.partition - b.partition || a.offset - b.offset);
      expect(sorted(binary.seen)).toEqual(sorted(json.seen));
      // Each partition's offsets come once each, in order, from 0.
      for (const partition of [0, 1]) {
        const offsets = binary.seen.filter((s) => s.partition === partition).map((s) => s.message.offset);
        expect(offsets).toEqual(offsets.map((_, i) => i));
      }
      expect(binary.seen.find((s) => s.message.timestamp === 1_700_000_000_001)?.message.headers["multi"]?.toString()).toBe("a,b");
    });
  }
});
