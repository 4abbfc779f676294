/**
 * KafkaJS's documented programs (examples/kafkajs/*.ts: written as KafkaJS's docs show them, only
 * the import and the connection config changed) run against a served broker, and what each one
 * does is checked: messages copied exactly once, pause/resume order, seek positions, admin
 * answers, events fired, partitions chosen, retries ridden out.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { partitionForKey } from "../../shared/partitioner.js";
import { topicName } from "../support/broker.js";
import { jsonClient } from "../support/http.js";
import { logLevel, type FetchFunction } from "../../client/index.js";
import { client, startBroker, type ClientTestEnv } from "./support.js";
import * as adminProgram from "../../examples/kafkajs/admin.js";
import * as consumeTransformProduce from "../../examples/kafkajs/consume-transform-produce.js";
import * as eachBatch from "../../examples/kafkajs/each-batch.js";
import * as eachMessage from "../../examples/kafkajs/each-message.js";
import * as instrumentation from "../../examples/kafkajs/instrumentation-events.js";
import * as partitioners from "../../examples/kafkajs/partitioners.js";
import * as pauseResume from "../../examples/kafkajs/pause-resume.js";
import * as producing from "../../examples/kafkajs/producing.js";
import * as retry from "../../examples/kafkajs/retry.js";
import * as seek from "../../examples/kafkajs/seek.js";
import * as transactions from "../../examples/kafkajs/transactions.js";

let env: ClientTestEnv;
beforeAll(async () => {
  env = await startBroker("sdk-kafkajs");
});
afterAll(async () => env?.close());

const connection = () => ({ url: env.url, logLevel: logLevel.NOTHING });

interface StoredRecord {
  offset: number;
  key: string | null;
  value: string;
  headers?: { key: string; value: string | null }[];
}

async function records(topic: string, partition = 0): Promise<StoredRecord[]> {
  const read = await jsonClient(env.url).get(`/v1/topics/${topic}/partitions/${partition}/records?offset=0&maxRecords=1000&encoding=utf8`);
  expect(read.status).toBe(200);
  return read.body.records;
}

async function createTopic(topic: string, numPartitions = 1): Promise<void> {
  await client(env.url).admin().createTopics({ topics: [{ topic, numPartitions }] });
}

async function produceValues(topic: string, values: string[], partitionOf: (i: number) => number = () => 0): Promise<void> {
  await client(env.url).producer().send({ topic, messages: values.map((value, i) => ({ key: `k${i}`, value, partition: partitionOf(i), headers: { n: String(i) } })) });
}

async function committed(groupId: string, topic: string): Promise<number[]> {
  const [offsets] = await client(env.url).admin().fetchOffsets({ groupId, topics: [topic] });
  return offsets!.partitions.map((p) => p.offset);
}

describe("KafkaJS's documented programs, ported by their import line", () => {
  it("producing: keyed, explicit-partition, header, GZIP and multi-topic sends land where KafkaJS puts them", async () => {
    const [topic, otherTopic] = [topicName("kjs-prod"), topicName("kjs-prod2")];
    await createTopic(topic, 2);
    await createTopic(otherTopic);
    const result = await producing.run({ ...connection(), topic, otherTopic });

    expect(result.explicitPartition.map((m) => m.partition).sort()).toEqual([0, 1]);
    expect(result.batch.map((m) => m.topicName).sort()).toEqual([topic, otherTopic].sort());
    const stored = [...(await records(topic, 0)), ...(await records(topic, 1))];
    expect(stored.map((r) => r.value).sort()).toEqual(['{"a":"one"}', '{"a":"two"}', "compressed", "hello world", "hello world", "hello world", "hey hey!", "hey hey!"].sort());
    // Keys without a partition go where Kafka's Java client (and KafkaJS's DefaultPartitioner) puts them.
    const key1 = partitionForKey(new TextEncoder().encode("key1"), 2);
    expect(result.keyed.find((m) => m.partition === key1)).toBeDefined();
    const withHeaders = stored.find((r) => r.headers?.some((h) => h.key === "system-id"));
    expect(withHeaders?.headers).toEqual([
      { key: "correlation-id", value: "2bfb68bb-893a-423b-a7fa-7b568cad5b67" },
      { key: "system-id", value: "my-system" },
    ]);
    expect((await records(otherTopic)).map((r) => r.value)).toEqual(["hello topic"]);
  });

  it("eachMessage: every message once, in partition order, with headers; the group commits the end", async () => {
    const topic = topicName("kjs-each");
    const groupId = topicName("kjs-g");
    await createTopic(topic, 2);
    const values = Array.from({ length: 6 }, (_, i) => `v${i}`);
    await produceValues(topic, values, (i) => i % 2);

    const seen = await eachMessage.run({ ...connection(), topic, groupId, count: values.length });
    expect(seen.map((s) => s.value).sort()).toEqual(values);
    for (const partition of [0, 1]) {
      expect(seen.filter((s) => s.partition === partition).map((s) => s.offset)).toEqual(["0", "1", "2"]);
    }
    expect(seen.find((s) => s.value === "v3")).toMatchObject({ key: "k3", headers: { n: "3" } });
    expect(await committed(groupId, topic)).toEqual([3, 3]);
  });

  it("eachBatch with eachBatchAutoResolve false: resolves message by message; the resolved offsets are committed", async () => {
    const topic = topicName("kjs-batch");
    const groupId = topicName("kjs-g");
    await createTopic(topic);
    const values = Array.from({ length: 8 }, (_, i) => `b${i}`);
    await produceValues(topic, values);

    const batches = await eachBatch.run({ ...connection(), topic, groupId, count: values.length });
    expect(batches.flatMap((b) => b.offsets)).toEqual(["0", "1", "2", "3", "4", "5", "6", "7"]);
    expect(batches.flatMap((b) => b.values)).toEqual(values);
    expect(batches[0]).toMatchObject({ topic, partition: 0, highWatermark: "8" });
    expect(await committed(groupId, topic)).toEqual([8]);
  });

  it("pause & resume: a paused topic or partition is not consumed until resumed, then the refused message comes again", async () => {
    const topic = topicName("kjs-pause");
    const groupId = topicName("kjs-g");
    await createTopic(topic);
    const values = Array.from({ length: 7 }, (_, i) => `v${i}`);
    await produceValues(topic, values);

    const timeline = await pauseResume.run({ ...connection(), topic, groupId, count: values.length, throttle: ["v2", "v5"], retryAfter: 0.3 });
    const paused = `paused ${JSON.stringify([{ topic, partitions: [0] }])}`;
    expect(timeline).toEqual([
      "processed v0",
      "processed v1",
      "throttled v2",
      paused,
      "resumed",
      "processed v2",
      "processed v3",
      "processed v4",
      "throttled v5",
      paused,
      "resumed 0",
      "processed v5",
      "processed v6",
    ]);
    expect(await committed(groupId, topic)).toEqual([7]);
  });

  it("seek: a seek right after run() sets where consumption starts; a seek in the handler makes the rest of the batch stale", async () => {
    const topic = topicName("kjs-seek");
    const groupId = topicName("kjs-g");
    await createTopic(topic);
    await produceValues(topic, Array.from({ length: 10 }, (_, i) => `s${i}`));

    const offsets = await seek.run({ ...connection(), topic, groupId, seekTo: 4, rewindAt: 7, rewindTo: 5, count: 9 });
    expect(offsets).toEqual([4, 5, 6, 7, 5, 6, 7, 8, 9]);
    expect(await committed(groupId, topic)).toEqual([10]);
  });

  it("transactions: the committed transaction is visible, the aborted one never is", async () => {
    const topic = topicName("kjs-tx");
    await createTopic(topic);
    const result = await transactions.run({ ...connection(), topic, transactionalId: topicName("kjs-tid") });
    expect(result).toEqual({ committed: true, aborted: true });
    expect((await records(topic)).map((r) => r.value)).toEqual(["committed-1", "committed-2"]);
  });

  it("consume-transform-produce with sendOffsets({ consumerGroupId }): every message copied exactly once, input offsets committed", async () => {
    const [input, output] = [topicName("kjs-in"), topicName("kjs-out")];
    const groupId = topicName("kjs-copier");
    await createTopic(input, 2);
    await createTopic(output, 2);
    const values = Array.from({ length: 10 }, (_, i) => `order-${i}`);
    await produceValues(input, values, (i) => i % 2);

    const started = Date.now();
    await consumeTransformProduce.run({ ...connection(), input, output, groupId, transactionalId: topicName("kjs-tid"), count: values.length });
    expect(Date.now() - started).toBeLessThan(30_000); // no refused commit retried with backoff

    const copies = [...(await records(output, 0)), ...(await records(output, 1))];
    expect(copies.map((r) => r.value).sort()).toEqual(values.map((v) => v.toUpperCase()).sort());
    const sources = copies.map((r) => r.headers?.find((h) => h.key === "source")?.value);
    expect(new Set(sources).size).toBe(values.length);
    expect(await committed(groupId, input)).toEqual([5, 5]);
  });

  it("admin: topics, metadata, offsets and groups as KafkaJS answers them; CONNECT, REQUEST and DISCONNECT events fire", async () => {
    const topic = topicName("kjs-admin");
    const groupId = topicName("kjs-g");
    const result = await adminProgram.run({ ...connection(), topic, groupId });

    expect(result.created).toBe(true);
    expect(result.createdAgain).toBe(false);
    expect(result.topics).toContain(topic);
    expect(result.metadata.topics[0]!.partitions.map((p) => p.partitionId)).toEqual([0, 1, 2]);
    expect(result.topicOffsets).toEqual([0, 1, 2].map((partition) => ({ partition, offset: 2, high: 2, low: 0 })));
    expect(result.offsetsByTimestamp).toEqual([0, 1, 2].map((partition) => ({ partition, offset: 2 })));
    expect(result.afterSet).toEqual([{ topic, partitions: [{ partition: 0, offset: 1, metadata: null }, { partition: 1, offset: -1, metadata: null }, { partition: 2, offset: 2, metadata: null }] }]);
    expect(result.afterReset[0]!.partitions.map((p) => p.offset)).toEqual([0, 0, 0]);
    expect(result.groups.groups.map((g) => g.groupId)).toContain(groupId);
    expect(result.described.groups[0]).toMatchObject({ groupId, members: [] });
    expect(result.topicsAfterDelete).not.toContain(topic);

    const types = result.events.map((e) => e.type);
    expect(types[0]).toBe("admin.connect");
    expect(types.at(-1)).toBe("admin.disconnect");
    const requests = result.events.filter((e) => e.type === "admin.network.request").map((e) => e.payload as { apiName: string; status: number; broker: string; clientId: string });
    expect(requests.map((r) => r.apiName)).toContain("POST /v1/topics");
    expect(requests.find((r) => r.apiName === "POST /v1/topics")).toMatchObject({ status: 201, broker: env.url, clientId: "my-app" });
    expect(requests.some((r) => r.status === 409)).toBe(true); // the second createTopics: TOPIC_ALREADY_EXISTS
  });

  it("instrumentation events: the consumer's, producer's and admin's events fire with KafkaJS's payload fields", async () => {
    const topic = topicName("kjs-events");
    const groupId = topicName("kjs-g");
    const events = await instrumentation.run({ ...connection(), topic, groupId, count: 3 });
    const of = (type: string) => events.filter((e) => e.type === type);

    const heartbeat = of("consumer.heartbeat")[0]!.payload;
    expect(heartbeat).toMatchObject({ groupId, memberId: expect.any(String) });
    expect(heartbeat.groupGenerationId).toBeGreaterThan(0);
    expect(heartbeat.groupGenerationId).toBe(heartbeat.memberEpoch);
    expect(of("consumer.group_join").at(-1)!.payload).toMatchObject({ groupId, memberAssignment: { [topic]: [0] } });
    expect(of("consumer.start_batch_process")[0]!.payload).toMatchObject({ topic, partition: 0, batchSize: 3, firstOffset: 0, lastOffset: 2 });
    expect(of("consumer.end_batch_process")[0]!.payload.duration).toBeGreaterThanOrEqual(0);
    expect(of("consumer.fetch").some((e) => e.payload.numberOfBatches === 1)).toBe(true);
    expect(of("consumer.fetch_start").length).toBeGreaterThan(0);
    const commit = of("consumer.commit_offsets").at(-1)!.payload;
    expect(commit).toMatchObject({ groupId, topics: [{ topic, partitions: [{ partition: 0, offset: 3 }] }] });
    expect(commit.groupGenerationId).toBeGreaterThan(0);
    expect(of("consumer.network.request").map((e) => e.payload.apiName)).toContain(`POST /v1/groups/${groupId}/heartbeat`);
    for (const type of ["consumer.connect", "consumer.stop", "consumer.disconnect", "producer.connect", "producer.network.request", "producer.disconnect", "admin.connect", "admin.network.request", "admin.disconnect"]) {
      expect(of(type).length, type).toBeGreaterThan(0);
    }
  });

  it("partitioners: a custom one, KafkaJS's LegacyPartitioner (1.x hash, round-robin) and the DefaultPartitioner (Java hash, sticky)", async () => {
    const topics = { custom: topicName("kjs-pcustom"), legacy: topicName("kjs-plegacy"), default: topicName("kjs-pdefault") };
    for (const topic of Object.values(topics)) await createTopic(topic, 3);
    // KafkaJS's own published hashes of its legacy murmur2 (src/producer/partitioners/legacy/murmur2.spec.js).
    const legacyHashes: Record<string, number> = { "0": 272173970, "1": 1311020360, "128": 2053105854, "2187": -2081355488, "78125": -677491393 };
    const keys = Object.keys(legacyHashes);
    const result = await partitioners.run({ ...connection(), topics, keys, keyless: 6 });

    expect(result.custom).toEqual([expect.objectContaining({ topicName: topics.custom, partition: 0, baseOffset: 0, lastOffset: 10 })]);
    const where = async (topic: string) => {
      const byValue = new Map<string, number>();
      for (const partition of [0, 1, 2]) for (const r of await records(topic, partition)) byValue.set(r.value, partition);
      return byValue;
    };
    const legacy = await where(topics.legacy);
    for (const key of keys) expect(legacy.get(`keyed ${key}`), key).toBe((legacyHashes[key]! & 0x7fffffff) % 3);
    const keylessLegacy = [0, 1, 2].map((p) => [...legacy.entries()].filter(([v, q]) => v.startsWith("keyless") && q === p).length);
    expect(keylessLegacy).toEqual([2, 2, 2]); // round-robin, message by message

    const java = await where(topics.default);
    for (const key of keys) expect(java.get(`keyed ${key}`), key).toBe(partitionForKey(new TextEncoder().encode(key), 3));
    expect(new Set([...java.entries()].filter(([v]) => v.startsWith("keyless")).map(([, p]) => p)).size).toBe(1); // sticky: one batch, one partition
    expect(keys.some((key) => legacy.get(`keyed ${key}`) !== java.get(`keyed ${key}`))).toBe(true);
  });

  it("retry: with KafkaJS's retry options the producer rides out an unreachable broker with growing backoff and writes once", async () => {
    const topic = topicName("kjs-retry");
    await createTopic(topic);
    const refusedAt: number[] = [];
    const flaky: FetchFunction = async (input, init) => {
      if (refusedAt.length < 3) {
        refusedAt.push(Date.now());
        throw new TypeError("fetch failed", { cause: Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }) });
      }
      return fetch(input, init);
    };
    const sent = await retry.run({ ...connection(), fetch: flaky, topic });
    expect(refusedAt).toHaveLength(3);
    const gaps = refusedAt.slice(1).map((t, i) => t - refusedAt[i]!);
    expect(gaps[0]).toBeGreaterThanOrEqual(75); // initialRetryTime 100 ± 20% jitter
    expect(gaps[1]).toBeGreaterThan(gaps[0]!); // × multiplier 2
    expect(sent).toEqual([expect.objectContaining({ topicName: topic, partition: 0, baseOffset: 0 })]);
    expect((await records(topic)).map((r) => r.value)).toEqual(["survived the outage"]);
  });
});
