/** The SDK against a real broker: produce → consume round trips, partitioning, batching, admin. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { partitionForKey } from "../../shared/partitioner.js";
import { jsonClient } from "../support/http.js";
import { topicName } from "../support/broker.js";
import { DynalogError, type KafkaMessage } from "../../client/index.js";
import { client, deferred, FetchControl, startBroker, waitFor, type ClientTestEnv } from "./support.js";

let env: ClientTestEnv;
beforeAll(async () => {
  env = await startBroker("sdk-rt");
});
afterAll(async () => env?.close());

const text = (b: Buffer | null) => (b === null ? null : b.toString("utf8"));

describe("produce → consume", () => {
  it("round-trips string and binary keys, values, headers, tombstones and timestamps through a consumer group", async () => {
    const dynalog = client(env.url);
    const admin = dynalog.admin();
    const topic = topicName("rt");
    expect(await admin.createTopics({ topics: [{ topic, numPartitions: 3 }] })).toBe(true);
    expect(await admin.createTopics({ topics: [{ topic, numPartitions: 3 }] })).toBe(false); // exists

    const producer = dynalog.producer();
    await producer.connect();
    const binary = Buffer.from([0, 255, 1, 254, 0x80]);
    const sent = await producer.send({
      topic,
      messages: [
        { key: "customer-42", value: "first", headers: { trace: "abc", multi: ["x", "y"] }, timestamp: 1_700_000_000_000 },
        { key: "customer-42", value: binary },
        { key: "customer-7", value: null },
        { key: Buffer.from("customer-42"), value: "héllo" },
      ],
    });
    const p42 = partitionForKey(Buffer.from("customer-42"), 3);
    const p7 = partitionForKey(Buffer.from("customer-7"), 3);
    expect(sent.find((r) => r.partition === p42)).toMatchObject({ topicName: topic, errorCode: 0, baseOffset: 0, lastOffset: 2, duplicate: false });
    expect(sent.find((r) => r.partition === p7)).toMatchObject({ baseOffset: 0, lastOffset: 0 });

    // The broker partitions a key exactly as the SDK does (murmur2, shared/partitioner.ts).
    const raw = await jsonClient(env.url).post(`/v1/topics/${topic}/records`, { encoding: "utf8", records: [{ key: "customer-7", value: "via-http" }] });
    expect(raw.body.partitions[0].partition).toBe(p7);

    const groupId = topicName("g");
    const consumer = dynalog.consumer({ groupId, heartbeatInterval: 200, maxWaitTimeInMs: 500 });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    const seen: { partition: number; message: KafkaMessage }[] = [];
    const done = deferred();
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        seen.push({ partition, message });
        if (seen.length === 5) done.resolve();
      },
    });
    await done.promise;
    await consumer.disconnect();
    await producer.disconnect();

    const of42 = seen.filter((s) => s.partition === p42).map((s) => s.message);
    expect(of42.map((m) => m.offset)).toEqual([0, 1, 2]);
    expect(text(of42[0]!.value)).toBe("first");
    expect(text(of42[0]!.key)).toBe("customer-42");
    expect(of42[0]!.timestamp).toBe(1_700_000_000_000);
    expect(text(of42[0]!.headers["trace"] as Buffer)).toBe("abc");
    expect((of42[0]!.headers["multi"] as Buffer[]).map(text)).toEqual(["x", "y"]);
    expect(of42[1]!.value).toEqual(binary);
    expect(text(of42[2]!.value)).toBe("héllo");
    const of7 = seen.filter((s) => s.partition === p7).map((s) => s.message);
    expect(of7.map((m) => [m.offset, text(m.value)])).toEqual([
      [0, null],
      [1, "via-http"],
    ]);

    // The consumer committed what it processed: the group has no lag.
    const lag = await admin.fetchGroupLag({ groupId });
    expect(lag.totalLag).toBe(0);
    expect(lag.topics[0]!.partitions.find((p) => p.partition === p42)).toMatchObject({ committedOffset: 3, highWatermark: 3, lag: 0 });
  });

  it("batches concurrent sends (linger) into few requests and keeps each partition's order", async () => {
    const control = new FetchControl();
    const dynalog = client(env.url, { fetch: control.fetch });
    const topic = topicName("batch");
    await dynalog.admin().createTopics({ topics: [{ topic, numPartitions: 2 }] });
    const producer = dynalog.producer({ linger: 50 });
    await producer.connect();
    const sends = Array.from({ length: 40 }, (_, i) => producer.send({ topic, messages: [{ key: `k${i % 4}`, value: `v${i}` }] }));
    const results = await Promise.all(sends);
    const produceRequests = control.count((r) => r.path.endsWith("/records"));
    expect(produceRequests).toBeLessThanOrEqual(2);
    // Per key (so per partition), offsets follow the order of the sends.
    for (let k = 0; k < 4; k++) {
      const offsets = results.filter((_, i) => i % 4 === k).map((r) => r[0]!.baseOffset!);
      expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
      expect(new Set(results.filter((_, i) => i % 4 === k).map((r) => r[0]!.partition)).size).toBe(1);
    }
    // Every request was idempotent: a producer id, an epoch and per-partition sequences.
    const first = control.requests.find((r) => r.path.endsWith("/records"))!;
    expect(first.body).toMatchObject({ producerId: expect.any(Number), producerEpoch: 0, encoding: "utf8" });
    expect(first.body.partitions.every((p: any) => p.baseSequence === 0)).toBe(true);
    await producer.disconnect();
  });

  it("spreads null keys over partitions batch by batch (sticky), and sendBatch writes several topics", async () => {
    const dynalog = client(env.url);
    const a = topicName("nk");
    const b = topicName("nk");
    await dynalog.admin().createTopics({ topics: [{ topic: a, numPartitions: 4 }, { topic: b, numPartitions: 1 }] });
    const producer = dynalog.producer();
    const partitions = new Set<number>();
    for (let i = 0; i < 8; i++) {
      const [meta] = await producer.send({ topic: a, messages: [{ value: `m${i}` }, { value: `n${i}` }] });
      expect(meta!.lastOffset! - meta!.baseOffset!).toBe(1); // one request's null keys stay together
      partitions.add(meta!.partition);
    }
    expect(partitions.size).toBe(4); // round robin across batches
    const both = await producer.sendBatch({ topicMessages: [{ topic: a, messages: [{ value: "x", partition: 3 }] }, { topic: b, messages: [{ value: "y" }] }] });
    expect(both.map((r) => [r.topicName, r.partition])).toEqual([[a, 3], [b, 0]].sort((x, y) => (x[0]! < y[0]! ? -1 : 1)));
  });

  it("refuses bad input before sending anything", async () => {
    const control = new FetchControl();
    const dynalog = client(env.url, { fetch: control.fetch });
    const topic = topicName("bad");
    await dynalog.admin().createTopics({ topics: [{ topic, numPartitions: 1 }] });
    const producer = dynalog.producer();
    await expect(producer.send({ topic, messages: [{ value: "ok", partition: 5 }] })).rejects.toMatchObject({ code: "UNKNOWN_TOPIC_OR_PARTITION" });
    await expect(producer.send({ topic, messages: [{ value: "x".repeat(400_000) }] })).rejects.toThrow(/RECORD_TOO_LARGE/);
    await expect(producer.send({ topic: topicName("missing"), messages: [{ value: "x" }] })).rejects.toMatchObject({ code: "UNKNOWN_TOPIC_OR_PARTITION", status: 404, outcome: "definite", retriable: false });
    expect(control.count((r) => r.path.endsWith("/records"))).toBe(0);
  });
});

describe("standalone consumer and admin", () => {
  it("reads every partition without a group; admin offsets, timestamps, set and reset", async () => {
    const dynalog = client(env.url);
    const admin = dynalog.admin();
    const topic = topicName("adm");
    await admin.createTopics({ topics: [{ topic, numPartitions: 2, configEntries: [{ name: "retention.ms", value: "-1" }] }] });
    expect(await admin.listTopics()).toContain(topic);
    expect((await admin.describeTopic(topic)).retentionMs).toBeNull();
    const producer = dynalog.producer();
    await producer.send({ topic, messages: [0, 1, 2, 3, 4, 5].map((i) => ({ value: `v${i}`, partition: i % 2, timestamp: 1_000 + i })) });
    expect(await admin.fetchTopicOffsets(topic)).toEqual([
      { partition: 0, offset: 3, high: 3, low: 0 },
      { partition: 1, offset: 3, high: 3, low: 0 },
    ]);
    expect(await admin.fetchTopicOffsetsByTimestamp(topic, 1_003)).toEqual([
      { partition: 0, offset: 2 },
      { partition: 1, offset: 1 },
    ]);

    const standalone = dynalog.consumer({ maxWaitTimeInMs: 200 });
    await standalone.subscribe({ topics: [topic], fromBeginning: true });
    const values: string[] = [];
    const all = deferred();
    await standalone.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) values.push(`${batch.partition}:${text(m.value)}`);
        if (values.length === 6) all.resolve();
      },
    });
    await all.promise;
    await standalone.stop();
    expect(values.sort()).toEqual(["0:v0", "0:v2", "0:v4", "1:v1", "1:v3", "1:v5"]);
    await expect(standalone.commitOffsets([{ topic, partition: 0, offset: 1 }])).rejects.toBeInstanceOf(DynalogError);

    const groupId = topicName("adm-g");
    await admin.setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: 2 }] });
    expect(await admin.fetchOffsets({ groupId, topics: [topic] })).toEqual([
      { topic, partitions: [{ partition: 0, offset: 2, metadata: null }, { partition: 1, offset: -1, metadata: null }] },
    ]);
    expect((await admin.fetchGroupLag({ groupId })).topics[0]!.partitions[0]).toMatchObject({ lag: 1 });
    await admin.resetOffsets({ groupId, topic, earliest: true });
    expect((await admin.fetchOffsets({ groupId })).flatMap((t) => t.partitions.map((p) => p.offset))).toEqual([0, 0]);
    expect((await admin.listGroups()).groups.map((g) => g.groupId)).toContain(groupId);
    const described = await admin.describeGroups([groupId]);
    expect(described.groups[0]).toMatchObject({ groupId, state: "Empty", protocolType: "consumer", totalLag: 6 });

    await admin.deleteTopics({ topics: [topic] });
    await expect(admin.describeTopic(topic)).rejects.toMatchObject({ code: "UNKNOWN_TOPIC_OR_PARTITION" });
    await waitFor(async () => !(await admin.listTopics()).includes(topic), { what: "topic gone" });
  });
});
