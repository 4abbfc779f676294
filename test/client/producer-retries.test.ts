/** Lost answers: the idempotent producer and transactions retry with the same sequence and keep exactly one copy. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { timeoutError, topicName } from "../support/broker.js";
import { jsonClient } from "../support/http.js";
import type { Dynalog } from "../../client/index.js";
import { client, FetchControl, startBroker, type ClientTestEnv } from "./support.js";

let env: ClientTestEnv;
beforeAll(async () => {
  env = await startBroker("sdk-retry");
});
afterAll(async () => env?.close());

async function values(topic: string, partition = 0): Promise<string[]> {
  const read = await jsonClient(env.url).get(`/v1/topics/${topic}/partitions/${partition}/records?offset=0&maxRecords=1000&encoding=utf8`);
  return read.body.records.map((r: any) => r.value);
}

async function newTopic(dynalog: Dynalog, partitions = 1): Promise<string> {
  const topic = topicName("retry");
  await dynalog.admin().createTopics({ topics: [{ topic, numPartitions: partitions }] });
  return topic;
}

const isProduce = (r: { path: string }) => r.path.endsWith("/records");

describe("idempotent producer under lost answers", () => {
  it("an HTTP answer lost on the way back: the retry carries the same sequence, the broker recognises it, one copy", async () => {
    const control = new FetchControl();
    const dynalog = client(env.url, { fetch: control.fetch });
    const topic = await newTopic(dynalog);
    const producer = dynalog.producer();
    await producer.connect();
    control.dropResponse(isProduce);
    const [meta] = await producer.send({ topic, messages: [{ value: "a" }, { value: "b" }] });
    expect(meta).toMatchObject({ partition: 0, baseOffset: 0, lastOffset: 1, duplicate: true });
    const attempts = control.requests.filter(isProduce);
    expect(attempts).toHaveLength(2);
    expect(attempts[1]!.body).toEqual(attempts[0]!.body); // same producer id, epoch, baseSequence and records
    expect(await values(topic)).toEqual(["a", "b"]);

    // The sequence moved on by 2: the next batch is accepted as new (the retry's own reservation
    // became voids, so offsets skip; readers never see them).
    const [next] = await producer.send({ topic, messages: [{ value: "c" }] });
    expect(next).toMatchObject({ duplicate: false });
    expect(next!.baseOffset).toBeGreaterThanOrEqual(2);
    expect(control.requests.filter(isProduce)[2]!.body.partitions[0].baseSequence).toBe(2);
    expect(await values(topic)).toEqual(["a", "b", "c"]);
  });

  it("DynamoDB's answer lost inside the broker (504 REQUEST_TIMED_OUT, indefinite): retried, one copy", async () => {
    const topic = await newTopic(client(env.url));
    // (Faults are armed after connect: initializing the producer writes too.)
    const answers: number[] = [];
    const recording = client(env.url, {
      fetch: async (input, init) => {
        const response = await fetch(input, init);
        if (new URL(input).pathname.endsWith("/records")) answers.push(response.status);
        return response;
      },
    });
    const producer = recording.producer();
    await producer.connect();
    // The append is written but its answer is lost, and the broker cannot settle it either (its
    // void of its own slot times out too): it answers 504 REQUEST_TIMED_OUT, outcome indefinite.
    env.harness.faults.once(/PutItem/, { kind: "drop-response", error: timeoutError() }); // the batch put
    env.harness.faults.once(/PutItem/, { kind: "fail-before", error: timeoutError() }); // the writer's void of its own slot
    const [meta] = await producer.send({ topic, messages: [{ value: "only-once" }] });
    expect(answers).toEqual([504, 200]);
    expect(meta).toMatchObject({ baseOffset: 0, duplicate: true });
    expect(await values(topic)).toEqual(["only-once"]);
  });

  it("a plain (non-idempotent) producer does not retry an indefinite outcome: it reports it", async () => {
    const control = new FetchControl();
    const dynalog = client(env.url, { fetch: control.fetch });
    const topic = await newTopic(dynalog);
    const producer = dynalog.producer({ idempotent: false });
    control.dropResponse(isProduce);
    const failure = await producer.send({ topic, messages: [{ value: "x" }] }).catch((e) => e);
    expect(failure).toMatchObject({ code: "NETWORK_ERROR", outcome: "indefinite" });
    expect(control.count(isProduce)).toBe(1);
    expect(await values(topic)).toEqual(["x"]); // it was written — the caller was told it may have been
  });

  it("an outcome still unknown after every retry: the send fails as indefinite and the producer continues under a new producer id", async () => {
    const control = new FetchControl();
    const dynalog = client(env.url, { fetch: control.fetch, retry: { retries: 2, initialRetryTime: 20 } });
    const topic = await newTopic(dynalog);
    const producer = dynalog.producer();
    await producer.connect();
    control.dropResponse(isProduce, 3);
    await expect(producer.send({ topic, messages: [{ value: "maybe" }] })).rejects.toMatchObject({ outcome: "indefinite" });
    const first = control.requests.filter(isProduce)[0]!.body;
    await producer.send({ topic, messages: [{ value: "after" }] });
    const last = control.requests.filter(isProduce).at(-1)!.body;
    expect(last.producerId).not.toBe(first.producerId);
    expect(last.partitions[0].baseSequence).toBe(0);
    expect(await values(topic)).toEqual(["maybe", "after"]); // "maybe" was written once (by the first attempt)
  });

  it("retries a definite, retriable refusal (throttling) without a duplicate", async () => {
    const control = new FetchControl();
    const dynalog = client(env.url, { fetch: control.fetch });
    const topic = await newTopic(dynalog);
    const producer = dynalog.producer();
    await producer.connect();
    const throttled = Object.assign(new Error("Injected: throughput exceeded"), { name: "ProvisionedThroughputExceededException" });
    env.harness.faults.once(/PutItem/, { kind: "fail-before", error: throttled }); // the batch put
    await producer.send({ topic, messages: [{ value: "t" }] });
    expect(control.count(isProduce)).toBe(2);
    expect(await values(topic)).toEqual(["t"]);
  });
});

describe("transactions under lost answers", () => {
  it("a commit whose answer is lost is retried with the same transaction sequence: duplicate, one copy; the next uses the next sequence", async () => {
    const control = new FetchControl();
    const dynalog = client(env.url, { fetch: control.fetch });
    const topic = await newTopic(dynalog);
    const producer = dynalog.producer({ transactionalId: topicName("tx") });
    await producer.connect();
    control.dropResponse((r) => r.path === "/v1/transactions");
    const tx = await producer.transaction();
    await tx.send({ topic, messages: [{ value: "t1" }, { value: "t2" }] });
    const result = await tx.commit();
    expect(result).toMatchObject({ duplicate: true, partitions: [{ topicName: topic, partition: 0, baseOffset: 0, lastOffset: 1 }] });
    const commits = control.requests.filter((r) => r.path === "/v1/transactions");
    expect(commits.map((c) => c.body.transactionSequence)).toEqual([0, 0]);

    const tx2 = await producer.transaction();
    await tx2.send({ topic, messages: [{ value: "t3" }] });
    expect(await tx2.commit()).toMatchObject({ duplicate: false });
    expect(control.requests.filter((r) => r.path === "/v1/transactions").at(-1)!.body.transactionSequence).toBe(1);
    expect(await values(topic)).toEqual(["t1", "t2", "t3"]);
  });
});
