/**
 * Where KafkaJS names meet Dynalog: what ports unchanged (Kafka, consumerGroupId offsets fenced by
 * the group's running consumer, LegacyPartitioner's hash) and what is refused clearly, at once,
 * with a DynalogError and nothing sent (custom assigners, Snappy/LZ4/ZSTD, unknown topic configs).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { topicName } from "../support/broker.js";
import { legacyMurmur2 } from "../../client/legacy-partitioner.js";
import { CompressionTypes, Dynalog, DynalogError, Kafka, PartitionAssigners, type CompressionType, type Consumer } from "../../client/index.js";
import { client, FetchControl, startBroker, waitFor, type ClientTestEnv } from "./support.js";

let env: ClientTestEnv;
beforeAll(async () => {
  env = await startBroker("sdk-kafkajs-compat");
});
afterAll(async () => env?.close());

async function runConsumer(dynalog: Dynalog, groupId: string, topic: string): Promise<Consumer> {
  const consumer = dynalog.consumer({ groupId, heartbeatInterval: 100, maxWaitTimeInMs: 200 });
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({ eachMessage: async () => {} });
  return consumer;
}

describe("KafkaJS names", () => {
  it("Kafka is the Dynalog client; KafkaJS's brokers option is pointed at url", () => {
    expect(Kafka).toBe(Dynalog);
    expect(() => new Kafka({ brokers: ["localhost:9092"] } as never)).toThrow(/replace KafkaJS's `brokers` with `url`/);
  });

  it("LegacyPartitioner hashes keys as KafkaJS 1.x did (its published murmur2 values), not as Kafka's Java client", () => {
    // src/producer/partitioners/legacy/murmur2.spec.js in tulios/kafkajs.
    const published: Record<string, number> = {
      "0": 272173970, "1": 1311020360, "128": 2053105854, "2187": -2081355488, "16384": 204404061, "78125": -677491393, "279936": -622460209, "823543": 651276451,
      "2097152": 944683677, "4782969": -892695770, "10000000": -1778616326, "19487171": -518311627, "35831808": 556972389, "62748517": -233806557, "105413504": -109398538, "170859375": 102939717,
    };
    for (const [key, hash] of Object.entries(published)) expect(legacyMurmur2(new TextEncoder().encode(key)), key).toBe(hash);
  });
});

describe("sendOffsets({ consumerGroupId }) in a consume-transform-produce loop", () => {
  it("uses the member id and epoch of the group's consumer on the same instance — the one that owns the partitions", async () => {
    const control = new FetchControl();
    const dynalog = client(env.url, { fetch: control.fetch });
    const topic = topicName("cg-own");
    const groupId = topicName("cg");
    await dynalog.admin().createTopics({ topics: [{ topic, numPartitions: 2 }] });
    const [a, b] = [await runConsumer(dynalog, groupId, topic), await runConsumer(dynalog, groupId, topic)];
    await waitFor(() => a.assignment().length === 1 && b.assignment().length === 1, { what: "one partition each" });
    const ownerOf1 = a.assignment()[0]!.partitions.includes(1) ? a : b;

    const producer = dynalog.producer({ transactionalId: topicName("tid") });
    await producer.connect();
    const tx = await producer.transaction();
    await tx.sendOffsets({ consumerGroupId: groupId, topics: [{ topic, partitions: [{ partition: 1, offset: "0" }] }] });
    expect((await tx.commit()).offsetsCommitted).toBe(1);
    const body = control.requests.findLast((r) => r.path === "/v1/transactions")!.body;
    expect(body.offsets).toMatchObject({ group: groupId, memberId: ownerOf1.groupMetadata().memberId, memberEpoch: ownerOf1.groupMetadata().memberEpoch });

    await Promise.all([a.disconnect(), b.disconnect()]);
    // Stopped consumers are forgotten: the group is empty now and takes the offsets unfenced.
    const after = await producer.transaction();
    await after.sendOffsets({ consumerGroupId: groupId, topics: [{ topic, partitions: [{ partition: 0, offset: 0 }] }] });
    await after.commit();
    expect(control.requests.findLast((r) => r.path === "/v1/transactions")!.body.offsets.memberId).toBeUndefined();
  });

  it("without a consumer of the live group on this instance it fails at once, saying what to pass; nothing is written", async () => {
    const topic = topicName("cg-elsewhere");
    const out = topicName("cg-out");
    const groupId = topicName("cg");
    const elsewhere = client(env.url);
    await elsewhere.admin().createTopics({ topics: [{ topic }, { topic: out }] });
    const consumer = await runConsumer(elsewhere, groupId, topic); // another process, in effect

    const control = new FetchControl();
    const producer = client(env.url, { fetch: control.fetch }).producer({ transactionalId: topicName("tid") });
    await producer.connect();
    const tx = await producer.transaction();
    await tx.send({ topic: out, messages: [{ value: "copy" }] });
    await tx.sendOffsets({ consumerGroupId: groupId, topics: [{ topic, partitions: [{ partition: 0, offset: 1 }] }] });
    const failure = await tx.commit().catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(DynalogError);
    expect(failure).toMatchObject({ code: "NON_EMPTY_GROUP", retriable: false, outcome: "definite" });
    expect((failure as Error).message).toMatch(/sendOffsets\(\{ consumer, topics \}\)/);
    expect((failure as Error).message).toMatch(/same Dynalog \(Kafka\) instance/);
    expect(control.count((r) => r.path === "/v1/transactions")).toBe(1); // refused once, not retried
    expect((await elsewhere.admin().fetchTopicOffsets(out))[0]!.high).toBe(0);
    await consumer.disconnect();
  });
});

describe("what Dynalog does not have is refused at once, as a DynalogError, before anything is sent", () => {
  it("a custom partition assigner (the broker assigns); PartitionAssigners.roundRobin is accepted", () => {
    const dynalog = client(env.url);
    const MyPartitionAssigner = () => ({ name: "MyPartitionAssigner", version: 1, assign: async () => [], protocol: () => ({}) });
    let failure: unknown;
    try {
      dynalog.consumer({ groupId: "g", partitionAssigners: [MyPartitionAssigner] });
    } catch (error) {
      failure = error;
    }
    expect(failure).toBeInstanceOf(DynalogError);
    expect(failure).toMatchObject({ code: "UNSUPPORTED_ASSIGNOR", message: expect.stringMatching(/'MyPartitionAssigner'.*serverAssignor/) });
    expect(() => dynalog.consumer({ groupId: "g", partitionAssigners: [PartitionAssigners.roundRobin] })).not.toThrow();
  });

  it("KafkaJS's Snappy, LZ4 and ZSTD codecs", async () => {
    const control = new FetchControl();
    const dynalog = client(env.url, { fetch: control.fetch });
    const producer = dynalog.producer({ idempotent: false });
    for (const codec of [CompressionTypes.Snappy, CompressionTypes.LZ4, CompressionTypes.ZSTD]) {
      await expect(producer.send({ topic: "any", compression: codec as unknown as CompressionType, messages: [{ value: "x" }] })).rejects.toMatchObject({ code: "UNSUPPORTED_COMPRESSION_TYPE", outcome: "definite" });
    }
    expect(() => dynalog.producer({ compression: "zstd" as CompressionType })).toThrow(DynalogError);
    const tx = await dynalog.producer({ transactionalId: topicName("tid") }).transaction();
    await expect(tx.send({ topic: "any", compression: CompressionTypes.Snappy as unknown as CompressionType, messages: [{ value: "x" }] })).rejects.toMatchObject({ code: "UNSUPPORTED_COMPRESSION_TYPE" });
    expect(control.requests.filter((r) => r.path !== "/v1/producers")).toEqual([]);
  });

  it("a topic config Dynalog does not have: INVALID_CONFIG, and no topic of the call is created", async () => {
    const admin = client(env.url).admin();
    const [ok, unclean] = [topicName("cfg-ok"), topicName("cfg-unclean")];
    const failure = await admin
      .createTopics({ topics: [{ topic: ok }, { topic: unclean, configEntries: [{ name: "unclean.leader.election.enable", value: "true" }] }] })
      .catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(DynalogError);
    expect(failure).toMatchObject({ code: "INVALID_CONFIG", retriable: false, outcome: "definite", details: { topic: unclean, config: "unclean.leader.election.enable" } });
    expect(await admin.listTopics()).not.toContain(ok);
  });

  it("REQUEST_TIMEOUT fires (admin, producer) when a request gets no answer within requestTimeout", async () => {
    const silent = (_input: string, init: RequestInit) => new Promise<Response>((_, reject) => init.signal?.addEventListener("abort", () => reject(init.signal!.reason)));
    const dynalog = client(env.url, { fetch: silent, requestTimeout: 50, retry: { retries: 0 } });
    const admin = dynalog.admin();
    const timeouts: unknown[] = [];
    admin.on(admin.events.REQUEST_TIMEOUT, (e) => timeouts.push(e.payload));
    await expect(admin.listTopics()).rejects.toMatchObject({ code: "CLIENT_TIMEOUT" });
    expect(timeouts).toEqual([expect.objectContaining({ apiName: "GET /v1/topics", errorCode: "CLIENT_TIMEOUT", status: null })]);

    const producer = dynalog.producer({ idempotent: false });
    const producerTimeouts: unknown[] = [];
    producer.on(producer.events.REQUEST_TIMEOUT, (e) => producerTimeouts.push(e.payload));
    await expect(producer.send({ topic: "t", messages: [{ value: "x" }] })).rejects.toMatchObject({ code: "CLIENT_TIMEOUT" });
    expect(producerTimeouts).toEqual([expect.objectContaining({ apiName: "GET /v1/topics/t", errorCode: "CLIENT_TIMEOUT" })]);
    // KafkaJS events without a counterpart are undefined here, and listening to one says so.
    expect(() => producer.on((producer.events as unknown as Record<string, never>)["REQUEST_QUEUE_SIZE"]!, () => {})).toThrow(/does not exist in Dynalog/);
  });
});
