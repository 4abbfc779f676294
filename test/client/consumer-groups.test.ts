/** Consumer groups through the SDK: rebalances hand partitions over without loss or repeats; seek, pause. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { topicName } from "../support/broker.js";
import type { Consumer, Dynalog } from "../../client/index.js";
import { client, startBroker, waitFor, type ClientTestEnv } from "./support.js";

let env: ClientTestEnv;
beforeAll(async () => {
  env = await startBroker("sdk-groups");
});
afterAll(async () => env?.close());

async function produce(dynalog: Dynalog, topic: string, from: number, count: number) {
  await dynalog.producer().send({ topic, messages: Array.from({ length: count }, (_, i) => ({ value: `m${from + i}`, partition: (from + i) % 4 })) });
}

const owned = (c: Consumer) => c.assignment().flatMap((tp) => tp.partitions.map((p) => `${tp.topic}-${p}`));

describe("consumer group rebalances", () => {
  it("a member joining and one leaving move partitions with their committed offsets: every message processed exactly once", async () => {
    const dynalog = client(env.url);
    const topic = topicName("grp");
    const groupId = topicName("g");
    await dynalog.admin().createTopics({ topics: [{ topic, numPartitions: 4 }] });
    await produce(dynalog, topic, 0, 40);

    const processed = new Map<string, string[]>(); // value → consumers that processed it
    const make = (name: string) => {
      const consumer = dynalog.consumer({ groupId, heartbeatInterval: 100, maxWaitTimeInMs: 200, maxRecordsPerPartition: 3 });
      return { name, consumer };
    };
    const start = async ({ name, consumer }: { name: string; consumer: Consumer }) => {
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          const v = message.value!.toString();
          processed.set(v, [...(processed.get(v) ?? []), name]);
        },
      });
    };
    const a = make("a");
    const b = make("b");
    await start(a);
    await waitFor(() => owned(a.consumer).length === 4, { what: "a owns all" });
    await waitFor(() => processed.size >= 8, { what: "a made progress" });
    await start(b); // a must revoke two partitions: commit them, release, b resumes from the commits
    await waitFor(() => owned(a.consumer).length === 2 && owned(b.consumer).length === 2, { what: "split 2/2" });
    expect(new Set([...owned(a.consumer), ...owned(b.consumer)]).size).toBe(4); // disjoint
    await produce(dynalog, topic, 40, 40);
    await waitFor(() => processed.size === 80, { what: "all 80 processed" });
    expect([...processed.values()].filter((who) => who.length > 1)).toEqual([]); // none twice
    expect(new Set([...processed.values()].flat())).toEqual(new Set(["a", "b"]));

    await a.consumer.disconnect(); // leaves: its partitions go to b at once
    await waitFor(() => owned(b.consumer).length === 4, { what: "b owns all" });
    await produce(dynalog, topic, 80, 8);
    await waitFor(() => processed.size === 88, { what: "b took over" });
    expect([...processed.values()].filter((who) => who.length > 1)).toEqual([]);
    expect(new Set(Array.from({ length: 8 }, (_, i) => processed.get(`m${80 + i}`)![0]))).toEqual(new Set(["b"]));

    // seek re-reads; pause keeps a partition out of fetches until resumed.
    b.consumer.seek({ topic, partition: 1, offset: 0 });
    await waitFor(() => processed.get("m1")!.length === 2, { what: "seek re-delivered m1" });
    b.consumer.pause([{ topic, partitions: [2] }]);
    expect(b.consumer.paused()).toEqual([{ topic, partitions: [2] }]);
    await produce(dynalog, topic, 90, 4); // m90 → p2, m91 → p3, m92 → p0, m93 → p1
    await waitFor(() => processed.has("m91") && processed.has("m92") && processed.has("m93"), { what: "unpaused partitions flow" });
    expect(processed.has("m90")).toBe(false);
    b.consumer.resume([{ topic }]);
    await waitFor(() => processed.has("m90"), { what: "resumed" });
    await b.consumer.disconnect();

    const described = await dynalog.admin().describeGroup(groupId);
    expect(described.state).toBe("Empty");
    expect(described.totalLag).toBe(0);
  });

  it("stop() called from inside eachMessage does not wait for itself; what was processed is committed", async () => {
    const dynalog = client(env.url);
    const topic = topicName("stop");
    const groupId = topicName("g");
    await dynalog.admin().createTopics({ topics: [{ topic, numPartitions: 1 }] });
    await dynalog.producer().send({ topic, messages: Array.from({ length: 10 }, (_, i) => ({ value: `v${i}` })) });
    const consumer = dynalog.consumer({ groupId, heartbeatInterval: 200, maxWaitTimeInMs: 200 });
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    const stopped = new Promise<void>((resolve) => consumer.on(consumer.events.STOP, () => resolve()));
    const seen: number[] = [];
    await consumer.run({
      eachMessage: async ({ message }) => {
        seen.push(message.offset);
        if (message.offset === 3) await consumer.stop();
      },
    });
    await stopped;
    expect(seen).toEqual([0, 1, 2, 3]);
    const [committed] = await dynalog.admin().fetchOffsets({ groupId, topics: [topic] });
    expect(committed!.partitions[0]!.offset).toBe(4);
  });
});
