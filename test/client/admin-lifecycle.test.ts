/** The SDK's topic-lifecycle admin calls, in KafkaJS's shapes, against a served broker. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigResourceTypes, isDynalogError, type Admin, type Consumer } from "../../client/index.js";
import { MAX_RECORD_BYTES } from "../../shared/limits.js";
import { uniqueName } from "../support/dynamodb.js";
import { client, startBroker, waitFor, type ClientTestEnv } from "./support.js";

let env: ClientTestEnv;
let admin: Admin;

beforeAll(async () => {
  env = await startBroker("sdk-lifecycle");
  admin = client(env.url).admin();
});
afterAll(async () => env?.close());

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return "ok";
  } catch (error) {
    return isDynalogError(error) ? error.code : `not a DynalogError: ${String(error)}`;
  }
}

describe("admin topic lifecycle (KafkaJS names)", () => {
  it("describeConfigs and alterConfigs map Kafka's config names", async () => {
    const topic = uniqueName("sdk-cfg");
    await admin.createTopics({ topics: [{ topic, configEntries: [{ name: "compression.type", value: "uncompressed" }] }] });
    const altered = await admin.alterConfigs({
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configEntries: [{ name: "retention.ms", value: "-1" }, { name: "message.timestamp.type", value: "LogAppendTime" }] }],
    });
    expect(altered.resources).toEqual([{ errorCode: 0, errorMessage: null, resourceName: topic, resourceType: ConfigResourceTypes.TOPIC }]);
    const described = await admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }] });
    const entries = Object.fromEntries(described.resources[0]!.configEntries.map((e) => [e.configName, [e.configValue, e.readOnly]]));
    expect(entries).toEqual({
      "retention.ms": ["-1", false],
      "compression.type": ["uncompressed", false],
      "message.timestamp.type": ["LogAppendTime", false],
      "cleanup.policy": ["delete", false],
      "delete.retention.ms": ["86400000", false],
      "min.compaction.lag.ms": ["0", false],
      "max.message.bytes": [String(MAX_RECORD_BYTES), false],
    });
    const only = await admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ["retention.ms"] }] });
    expect(only.resources[0]!.configEntries.map((e) => e.configName)).toEqual(["retention.ms"]);
  });

  it("refuses unsupported names and resource types before any request", async () => {
    const topic = uniqueName("sdk-cfg-bad");
    await admin.createTopics({ topics: [{ topic }] });
    await expect(admin.alterConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configEntries: [{ name: "segment.bytes", value: "1024" }] }] })).rejects.toThrow(/Unsupported topic config/);
    expect(await codeOf(admin.alterConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configEntries: [{ name: "max.message.bytes", value: "10" }] }] }))).toBe("INVALID_CONFIG");
    await expect(admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.BROKER, name: "1" }] })).rejects.toThrow(/topics only/);
    expect(await codeOf(admin.alterConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configEntries: [{ name: "retention.ms", value: "5" }] }] }))).toBe("INVALID_CONFIG");
  });

  it("max.message.bytes at create and through alterConfigs; the producer's oversized record is refused with RECORD_TOO_LARGE", async () => {
    const topic = uniqueName("sdk-max-bytes");
    await admin.createTopics({ topics: [{ topic, configEntries: [{ name: "max.message.bytes", value: "100" }] }] });
    const configs = async () => (await admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ["max.message.bytes"] }] })).resources[0]!.configEntries[0]!.configValue;
    expect(await configs()).toBe("100");
    expect(await codeOf(admin.alterConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configEntries: [{ name: "max.message.bytes", value: String(MAX_RECORD_BYTES + 1) }] }] }))).toBe("INVALID_CONFIG");
    await admin.alterConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configEntries: [{ name: "max.message.bytes", value: "5000" }] }] });
    expect(await configs()).toBe("5000");
  });

  it("createPartitions grows a topic and refuses a decrease", async () => {
    const topic = uniqueName("sdk-grow");
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
    expect(await admin.createPartitions({ topicPartitions: [{ topic, count: 5 }] })).toBe(true);
    expect((await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]!.partitions).toHaveLength(5);
    expect(await codeOf(admin.createPartitions({ topicPartitions: [{ topic, count: 3 }] }))).toBe("INVALID_PARTITIONS");
  });

  it("deleteTopicRecords moves the low watermark", async () => {
    const topic = uniqueName("sdk-del");
    await admin.createTopics({ topics: [{ topic }] });
    const producer = client(env.url).producer();
    await producer.send({ topic, messages: [{ value: "a" }, { value: "b" }, { value: "c" }] });
    await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: "2" }] });
    expect(await admin.fetchTopicOffsets(topic)).toEqual([{ partition: 0, offset: 3, high: 3, low: 2 }]);
    expect(await codeOf(admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: "9" }] }))).toBe("OFFSET_OUT_OF_RANGE");
  });

  it("deleteGroups deletes an empty group and its offsets; a live group is refused", async () => {
    const topic = uniqueName("sdk-groups");
    await admin.createTopics({ topics: [{ topic }] });
    const empty = uniqueName("sdk-empty");
    await admin.setOffsets({ groupId: empty, topic, partitions: [{ partition: 0, offset: 0 }] });
    expect(await admin.deleteGroups([empty])).toEqual([{ groupId: empty, errorCode: "NONE" }]);
    expect(await admin.fetchOffsets({ groupId: empty, topics: [topic] })).toEqual([{ topic, partitions: [{ partition: 0, offset: -1, metadata: null }] }]);
    const live = uniqueName("sdk-live");
    await env.harness.broker.heartbeat(live, { memberEpoch: 0, topics: [topic] });
    expect(await codeOf(admin.deleteGroups([live]))).toBe("NON_EMPTY_GROUP");
  });

  it("createPartitions under a running SDK consumer group and a keyed SDK producer: nothing lost, the group takes the new partitions", async () => {
    const dynalog = client(env.url);
    const topic = uniqueName("sdk-grow-live");
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
    // metadataMaxAge 0: the producer re-reads the partition count before every send (KafkaJS default: 5 min).
    const producer = dynalog.producer({ metadataMaxAge: 0 });
    const consumer: Consumer = dynalog.consumer({ groupId: uniqueName("sdk-grow-g"), heartbeatInterval: 100, maxWaitTimeInMs: 200 });
    const seen = new Map<string, number>(); // value → partition it was consumed from
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({ eachMessage: async ({ partition, message }) => void seen.set(message.value!.toString(), partition) });
    const owned = () => consumer.assignment().flatMap((tp) => tp.partitions).sort();
    await waitFor(() => owned().length === 2, { what: "the consumer owns both partitions" });
    const send = (round: string) => producer.send({ topic, messages: Array.from({ length: 12 }, (_, i) => ({ key: `k${i}`, value: `${round}-k${i}` })) });
    await send("before");
    await admin.createPartitions({ topicPartitions: [{ topic, count: 4 }] });
    await send("after");
    await waitFor(() => owned().length === 4, { what: "the group takes the new partitions" });
    await waitFor(() => seen.size === 24, { what: "all 24 consumed" });
    await consumer.disconnect();
    await producer.disconnect();
    expect([...seen.values()].some((p) => p >= 2)).toBe(true);
  }, 60_000);
});
