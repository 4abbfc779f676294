/** Transactional producer: commit, abort, fencing by transactional id and by consumer-group member. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { topicName } from "../support/broker.js";
import { DynalogError, isFenced, type KafkaMessage } from "../../client/index.js";
import { jsonClient } from "../support/http.js";
import { client, deferred, FetchControl, startBroker, type ClientTestEnv } from "./support.js";

/** The record values of a partition (a refused attempt may leave voids: offsets are not a count). */
async function values(topic: string, partition = 0): Promise<string[]> {
  const read = await jsonClient(env.url).get(`/v1/topics/${topic}/partitions/${partition}/records?offset=0&maxRecords=1000&encoding=utf8`);
  return read.body.records.map((r: any) => r.value);
}

let env: ClientTestEnv;
beforeAll(async () => {
  env = await startBroker("sdk-tx");
});
afterAll(async () => env?.close());

describe("transactional producer", () => {
  it("commit writes records to several topics and the group's offsets at once; nothing is visible before", async () => {
    const dynalog = client(env.url);
    const admin = dynalog.admin();
    const [a, b, input] = [topicName("txa"), topicName("txb"), topicName("txin")];
    await admin.createTopics({ topics: [{ topic: a, numPartitions: 2 }, { topic: b }, { topic: input }] });
    const groupId = topicName("txg");
    const producer = dynalog.producer({ transactionalId: topicName("tid") });
    await producer.connect();
    const tx = await producer.transaction();
    expect(tx.isActive()).toBe(true);
    await tx.send({ topic: a, messages: [{ key: "k", value: "1" }, { value: "2", partition: 1 }] });
    await tx.sendBatch({ topicMessages: [{ topic: b, messages: [{ value: "3" }] }] });
    await tx.sendOffsets({ consumerGroupId: groupId, topics: [{ topic: input, partitions: [{ partition: 0, offset: "7" }] }] });
    expect((await admin.fetchTopicOffsets(a)).map((p) => p.high)).toEqual([0, 0]); // buffered, not written
    const result = await tx.commit();
    expect(tx.isActive()).toBe(false);
    expect(result.duplicate).toBe(false);
    expect(result.offsetsCommitted).toBe(1);
    expect(new Set(result.partitions.map((p) => p.topicName))).toEqual(new Set([a, b]));
    expect((await admin.fetchTopicOffsets(a)).reduce((n, p) => n + p.high, 0)).toBe(2);
    expect((await admin.fetchTopicOffsets(b))[0]!.high).toBe(1);
    expect(await admin.fetchOffsets({ groupId, topics: [input] })).toEqual([{ topic: input, partitions: [{ partition: 0, offset: 7, metadata: null }] }]);
    await expect(tx.send({ topic: a, messages: [{ value: "late" }] })).rejects.toMatchObject({ code: "CLIENT_STATE" });
  });

  it("abort drops everything and uses no sequence; one transaction at a time; plain send is refused", async () => {
    const control = new FetchControl();
    const dynalog = client(env.url, { fetch: control.fetch });
    const topic = topicName("txab");
    await dynalog.admin().createTopics({ topics: [{ topic }] });
    const producer = dynalog.producer({ transactionalId: topicName("tid") });
    await expect(producer.send({ topic, messages: [{ value: "plain" }] })).rejects.toMatchObject({ code: "CLIENT_STATE" });
    const tx = await producer.transaction();
    await expect(producer.transaction()).rejects.toThrow(/ongoing transaction/);
    await tx.send({ topic, messages: [{ value: "never" }] });
    await tx.abort();
    const tx2 = await producer.transaction();
    await tx2.send({ topic, messages: [{ value: "kept" }] });
    await tx2.commit();
    const commits = control.requests.filter((r) => r.path === "/v1/transactions");
    expect(commits.map((c) => c.body.transactionSequence)).toEqual([0]);
    expect(commits[0]!.body.records.map((r: any) => r.value)).toEqual(["kept"]);
    expect(await values(topic)).toEqual(["kept"]);
  });

  it("a second instance with the same transactional id fences the first (PRODUCER_FENCED; nothing written)", async () => {
    const dynalog = client(env.url);
    const topic = topicName("txf");
    await dynalog.admin().createTopics({ topics: [{ topic }] });
    const transactionalId = topicName("tid");
    const zombie = dynalog.producer({ transactionalId });
    await zombie.connect();
    const zombieTx = await zombie.transaction();
    await zombieTx.send({ topic, messages: [{ value: "zombie" }] });

    const successor = dynalog.producer({ transactionalId });
    await successor.connect(); // new epoch
    const failure = await zombieTx.commit().catch((e) => e);
    expect(failure).toBeInstanceOf(DynalogError);
    expect(isFenced(failure)).toBe(true);
    await expect(zombie.transaction()).rejects.toMatchObject({ code: "PRODUCER_FENCED" });

    const tx = await successor.transaction();
    await tx.send({ topic, messages: [{ value: "successor" }] });
    await tx.commit();
    expect(await values(topic)).toEqual(["successor"]);
  });

  it("offsets sent with a consumer carry its member id and epoch; once that member is removed the transaction is refused", async () => {
    const control = new FetchControl();
    const dynalog = client(env.url, { fetch: control.fetch });
    const admin = dynalog.admin();
    const [input, output] = [topicName("txin"), topicName("txout")];
    await admin.createTopics({ topics: [{ topic: input }, { topic: output }] });
    const groupId = topicName("txg");
    const consumer = dynalog.consumer({ groupId, heartbeatInterval: 5_000, maxWaitTimeInMs: 200 });
    await consumer.subscribe({ topics: [input] });
    await consumer.run({ deliverySemantics: "exactly-once", eachBatch: async () => {} });
    const member = consumer.groupMetadata();
    expect(member).toMatchObject({ groupId, memberId: expect.any(String), memberEpoch: expect.any(Number) });
    expect(member.memberEpoch).toBeGreaterThan(0);

    const producer = dynalog.producer({ transactionalId: topicName("tid") });
    const tx = await producer.transaction();
    await tx.send({ topic: output, messages: [{ value: "ok" }] });
    await tx.sendOffsets({ consumer, topics: [{ topic: input, partitions: [{ partition: 0, offset: 0 }] }] });
    await tx.commit();
    const sent = control.requests.filter((r) => r.path === "/v1/transactions").at(-1)!.body;
    expect(sent.offsets).toMatchObject({ group: groupId, memberId: member.memberId, memberEpoch: member.memberEpoch });

    // An admin removes the member (as the broker does when its session expires): a zombie's transaction must fail.
    await admin.removeGroupMember({ groupId, memberId: member.memberId! });
    const zombieTx = await producer.transaction();
    await zombieTx.send({ topic: output, messages: [{ value: "zombie" }] });
    await zombieTx.sendOffsets({ consumer, topics: [{ topic: input, partitions: [{ partition: 0, offset: 0 }] }] });
    await expect(zombieTx.commit()).rejects.toMatchObject({ code: "UNKNOWN_MEMBER_ID" });
    expect(await values(output)).toEqual(["ok"]); // not the zombie's
    await consumer.disconnect();
  });

  it("recordMetadata: a consumer sees each record's producer id and whether a transaction wrote it; without it neither", async () => {
    const control = new FetchControl();
    const dynalog = client(env.url, { fetch: control.fetch });
    const topic = topicName("txmeta");
    await dynalog.admin().createTopics({ topics: [{ topic }] });
    const txProducer = dynalog.producer({ transactionalId: topicName("tid") });
    const tx = await txProducer.transaction();
    await tx.send({ topic, messages: [{ value: "in-tx" }] });
    await tx.commit();
    const idempotent = dynalog.producer({ idempotent: true });
    await idempotent.send({ topic, messages: [{ value: "idempotent" }] });
    await jsonClient(env.url).post(`/v1/topics/${topic}/records`, { encoding: "utf8", records: [{ value: "plain" }] });

    const consume = async (recordMetadata: boolean): Promise<KafkaMessage[]> => {
      const consumer = dynalog.consumer({ groupId: topicName("txmg"), heartbeatInterval: 5_000, maxWaitTimeInMs: 200, recordMetadata });
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      const seen: KafkaMessage[] = [];
      const done = deferred();
      await consumer.run({
        eachMessage: async ({ message }) => {
          seen.push(message);
          if (seen.length === 3) done.resolve();
        },
      });
      await done.promise;
      await consumer.disconnect();
      return seen;
    };

    const withMetadata = await consume(true);
    const byValue = new Map(withMetadata.map((m) => [m.value!.toString(), m]));
    expect(byValue.get("in-tx")).toMatchObject({ transactional: true, producerId: expect.any(Number) });
    expect(byValue.get("idempotent")).toMatchObject({ transactional: false, producerId: expect.any(Number) });
    expect(byValue.get("idempotent")!.producerId).not.toBe(byValue.get("in-tx")!.producerId);
    expect(byValue.get("plain")).toMatchObject({ transactional: false, producerId: null });
    const fetches = control.requests.filter((r) => r.path === "/v1/fetch");
    expect(fetches.length).toBeGreaterThan(0);
    expect(fetches.every((r) => r.body.metadata === true)).toBe(true);

    const before = control.requests.length;
    const plain = await consume(false);
    expect(plain).toHaveLength(3);
    for (const message of plain) {
      expect(message).not.toHaveProperty("producerId");
      expect(message).not.toHaveProperty("transactional");
    }
    expect(control.requests.slice(before).filter((r) => r.path === "/v1/fetch").every((r) => !("metadata" in r.body))).toBe(true);
    await txProducer.disconnect();
    await idempotent.disconnect();
  });
});
