/**
 * The Upstash-compatible dialect end to end: the published @upstash/kafka 1.3.5 client, unmodified,
 * against a served broker with security on (HTTP Basic = an API key's id and secret).
 */
import { Kafka, UpstashError } from "@upstash/kafka";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uniqueName } from "../support/dynamodb.js";
import { startUpstash, type UpstashFixture } from "../support/upstash.js";

let up: UpstashFixture;
let kafka: Kafka;

beforeAll(async () => {
  up = await startUpstash("ups");
  kafka = up.kafka;
});
afterAll(async () => up?.served.close());

const newTopic = (label: string, partitions: number) => up.newTopic(label, partitions);
const raw: UpstashFixture["raw"] = (...args) => up.raw(...args);

describe("producer and fetch", () => {
  it("produce answers the record's place; fetch returns it with key, value and headers", async () => {
    const topic = await newTopic("up-one", 2);
    const before = Date.now();
    const first = await kafka.producer().produce(topic, { hello: "world" }, { partition: 1, key: "k1", headers: [{ key: "h", value: "v" }] });
    expect(first).toEqual({ topic, partition: 1, offset: 0, timestamp: expect.any(Number) });
    expect(first.timestamp).toBeGreaterThanOrEqual(before);
    const second = await kafka.producer().produce(topic, "plain", { partition: 1 });
    expect(second.offset).toBe(1);
    const messages = await kafka.consumer().fetch({ topic, partition: 1, offset: 0 }, { parallel: false });
    expect(messages.map((m) => [m.offset, m.key, m.value, m.headers])).toEqual([
      [0, "k1", '{"hello":"world"}', [{ key: "h", value: "v" }]],
      [1, "", "plain", []],
    ]);
    expect(messages[0]).toMatchObject({ topic, partition: 1 });
  });

  it("produceMany across topics answers in request order; fetch in parallel reads both topics", async () => {
    const a = await newTopic("up-many-a", 1);
    const b = await newTopic("up-many-b", 1);
    const answers = await kafka.producer().produceMany([
      { topic: a, value: "a0" },
      { topic: b, value: "b0" },
      { topic: a, value: "a1" },
    ]);
    expect(answers.map((r) => [r.topic, r.partition, r.offset])).toEqual([
      [a, 0, 0],
      [b, 0, 0],
      [a, 0, 1],
    ]);
    const parallel = await kafka.consumer().fetch({ topic: a, partition: 0, offset: 1, topicPartitionOffsets: [{ topic: b, partition: 0, offset: 0 }], timeout: 100 });
    expect(parallel.map((m) => `${m.topic === a ? "a" : "b"}:${m.value}`).sort()).toEqual(["a:a1", "b:b0"]);
    const together = await kafka.consumer().fetch({ topicPartitionOffsets: [{ topic: a, partition: 0, offset: 0 }, { topic: b, partition: 0, offset: 0 }] }, { parallel: false });
    expect(together.map((m) => m.value).sort()).toEqual(["a0", "a1", "b0"]);
  });

  it("takes timestamps in seconds or milliseconds; offsets by earliest, latest and time", async () => {
    const topic = await newTopic("up-time", 1);
    await kafka.producer().produce(topic, "old", { timestamp: 1_700_000_000 }); // seconds
    await kafka.producer().produce(topic, "new", { timestamp: 1_800_000_000_000 }); // milliseconds
    const fetched = await kafka.consumer().fetch({ topic, partition: 0, offset: 0 });
    expect(fetched.map((m) => m.timestamp)).toEqual([1_700_000_000_000, 1_800_000_000_000]);
    const admin = kafka.admin();
    const tp = { topic, partition: 0 };
    expect(await admin.topicPartitionOffsets({ timestamp: "earliest", topicPartition: tp })).toEqual([{ ...tp, offset: 0 }]);
    expect(await admin.topicPartitionOffsets({ timestamp: "latest", topicPartitions: [tp] })).toEqual([{ ...tp, offset: 2 }]);
    expect(await admin.topicPartitionOffsets({ timestamp: 1_750_000_000, topicPartition: tp })).toEqual([{ ...tp, offset: 1 }]);
    expect(await admin.topicPartitionOffsets({ timestamp: 1_750_000_000_000, topicPartition: tp })).toEqual([{ ...tp, offset: 1 }]);
    // Nothing at or after the time: the latest offset (where such a record would go).
    expect(await admin.topicPartitionOffsets({ timestamp: 1_900_000_000_000, topicPartition: tp })).toEqual([{ ...tp, offset: 2 }]);
  });

  it("admin.topics lists topics with their partition counts", async () => {
    const topic = await newTopic("up-list", 3);
    const topics = await kafka.admin().topics();
    expect(topics[topic]).toBe(3);
  });
});

describe("consumer groups", () => {
  it("two instances share a topic's partitions; commit and committed; removal hands partitions over", async () => {
    const topic = await newTopic("up-group", 2);
    const group = uniqueName("up-g");
    const consumer = kafka.consumer();
    const consume = (instanceId: string) => consumer.consume({ consumerGroupId: group, instanceId, topics: [topic], autoCommit: false, autoOffsetReset: "earliest" });
    const assignments = async () => {
      const listed = (await kafka.admin().consumers()).find((g) => g.name === group);
      return Object.fromEntries((listed?.instances ?? []).map((i) => [i.name, i.topics.flatMap((t) => t.partitions)]));
    };
    // Join both, then heartbeat until the group settles on one partition each (KIP-848 hands a
    // partition over only after its owner releases it on a later call).
    expect(await consume("a")).toEqual([]);
    expect(await consume("b")).toEqual([]);
    for (let round = 0; round < 10; round++) {
      const current = await assignments();
      if (current["a"]?.length === 1 && current["b"]?.length === 1) break;
      await consume("a");
      await consume("b");
    }
    const settled = await assignments();
    expect([...settled["a"]!, ...settled["b"]!].sort()).toEqual([0, 1]);

    for (const partition of [0, 1]) for (const value of ["x", "y"]) await kafka.producer().produce(topic, `${partition}${value}`, { partition });
    const got: Record<string, string[]> = { a: [], b: [] };
    for (let round = 0; round < 5 && got["a"]!.length + got["b"]!.length < 4; round++) {
      for (const instance of ["a", "b"]) got[instance]!.push(...(await consume(instance)).map((m) => m.value));
    }
    expect(got["a"]).toEqual([`${settled["a"]![0]}x`, `${settled["a"]![0]}y`]);
    expect(got["b"]).toEqual([`${settled["b"]![0]}x`, `${settled["b"]![0]}y`]);

    // Nothing committed yet (auto-commit off); commit with no body = everything consumed.
    const pa = { topic, partition: settled["a"]![0]! };
    const pb = { topic, partition: settled["b"]![0]! };
    expect(await consumer.committed({ consumerGroupId: group, instanceId: "a", topicPartitions: [pa] })).toEqual([{ ...pa, offset: -1 }]);
    await consumer.commit({ consumerGroupId: group, instanceId: "a" });
    await consumer.commit({ consumerGroupId: group, instanceId: "b", offset: { ...pb, offset: 1 } });
    expect(await consumer.committed({ consumerGroupId: group, instanceId: "a", topicPartitions: [pa, pb] })).toEqual([
      { ...pa, offset: 2 },
      { ...pb, offset: 1 },
    ]);
    expect(await kafka.admin().committedOffsets({ consumerGroupId: group, instanceId: "b", topicPartition: pb })).toEqual([{ ...pb, offset: 1 }]);

    // Removing b: it leaves the listing and the group; a takes both partitions and resumes b's from its commit.
    await kafka.admin().removeConsumerInstance(group, "b");
    expect(Object.keys(await assignments())).toEqual(["a"]);
    const resumed: string[] = [];
    for (let round = 0; round < 5 && resumed.length === 0; round++) resumed.push(...(await consume("a")).map((m) => m.value));
    expect(resumed).toEqual([`${pb.partition}y`]);
    const again = await raw("POST", `/delete-consumer/${group}/b`);
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ error: expect.stringContaining("No consumer instance b"), status: 409, code: "UNKNOWN_MEMBER_ID" });
  }, 60_000);

  it("auto-commit commits what earlier calls returned at the next call after the interval", async () => {
    const topic = await newTopic("up-auto", 1);
    const group = uniqueName("up-auto");
    await kafka.producer().produceMany([{ topic, value: "1" }, { topic, value: "2" }]);
    const consumer = kafka.consumer();
    const request = { consumerGroupId: group, instanceId: "solo", topics: [topic], autoCommit: true, autoCommitInterval: 0, autoOffsetReset: "earliest" as const };
    expect((await consumer.consume(request)).map((m) => m.value)).toEqual(["1", "2"]);
    expect(await consumer.committed({ consumerGroupId: group, instanceId: "solo", topicPartitions: [{ topic, partition: 0 }] })).toEqual([{ topic, partition: 0, offset: -1 }]);
    expect(await consumer.consume(request)).toEqual([]);
    expect(await consumer.committed({ consumerGroupId: group, instanceId: "solo", topicPartitions: [{ topic, partition: 0 }] })).toEqual([{ topic, partition: 0, offset: 2 }]);
  });
});

describe("errors", () => {
  it("bad input is a 4xx JSON {error, status} and writes nothing", async () => {
    const topic = await newTopic("up-bad", 1);
    up.harness.writes.reset();
    const cases: [string, string, unknown, Record<string, string>?][] = [
      ["POST", "/produce", {}],
      ["POST", "/produce", []],
      ["POST", "/produce", { topic, value: 5 }],
      ["POST", "/produce", "{not json"],
      ["POST", "/fetch", { topic }],
      ["POST", "/fetch", {}],
      ["POST", "/offsets/yesterday", [{ topic, partition: 0 }]],
      ["POST", "/offsets/latest", []],
      ["POST", "/consume/g/i", { topic, topics: [topic] }],
      ["POST", "/consume/g/i", { topic }, { "Kafka-Auto-Offset-Reset": "sometimes" }],
      ["POST", "/consume/g/i", { topic }, { "Kafka-Enable-Auto-Commit": "yes" }],
      ["POST", "/commit/g/i", { topic, partition: 0, offset: -1 }],
      ["POST", "/committed/g/i", [{ topic }]],
      ["POST", "/produce", { topic: "no-such-topic-" + topic, value: "x" }],
      ["POST", "/produce", Array.from({ length: 501 }, () => ({ topic, value: "x" }))],
      ["POST", "/consume/bad%20group/i", { topic }],
      ["POST", "/consume/g/bad%20instance", { topic }],
    ];
    for (const [method, path, body, headers] of cases) {
      const response = await raw(method, path, body, headers);
      expect(response.status, `${path} ${JSON.stringify(body)}`).toBeGreaterThanOrEqual(400);
      expect(response.status, `${path} ${JSON.stringify(body)}`).toBeLessThan(500);
      expect(response.body).toMatchObject({ error: expect.any(String), status: response.status });
    }
    expect(up.harness.writes.total).toBe(0);
  });

  it("reset policy none with nothing committed: 404 NO_OFFSET_FOR_PARTITION", async () => {
    const topic = await newTopic("up-none", 1);
    const response = await raw("POST", `/consume/${uniqueName("up-none")}/i`, { topic }, { "Kafka-Auto-Offset-Reset": "none" });
    expect(response.status).toBe(404);
    expect(response.body).toMatchObject({ status: 404, code: "NO_OFFSET_FOR_PARTITION", error: expect.stringContaining("reset policy is 'none'") });
  });

  it("a wrong password fails with the client's UpstashError (401)", async () => {
    const intruder = new Kafka({ url: up.served.url, username: "aaaaaaaaaaaaaaaa", password: "wrong" });
    const failure = await intruder.admin().topics().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(UpstashError);
    expect(failure).toMatchObject({ status: 401, message: expect.stringContaining("") });
  }, 30_000);
});
