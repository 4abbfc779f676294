/**
 * KafkaJS's admin guide (docs/Admin.md) and its admin events (docs/InstrumentationEvents.md →
 * Admin), as written there — only the import and the connection config differ. Creates a topic,
 * reads its metadata and offsets, sets, fetches and resets a group's offsets, lists and describes
 * groups, deletes the topic; returns every answer and the admin events seen.
 */
import { Kafka, type KafkaConfig } from "dynalog/client";

export type Connection = Pick<KafkaConfig, "url" | "auth" | "logLevel" | "fetch">;

export async function run({ topic, groupId, ...connection }: Connection & { topic: string; groupId: string }) {
  const kafka = new Kafka({ clientId: "my-app", ...connection });
  const admin = kafka.admin();
  const events: { type: string; payload: unknown }[] = [];
  const { CONNECT, DISCONNECT, REQUEST } = admin.events;
  const removeListeners = [CONNECT, DISCONNECT, REQUEST].map((name) => admin.on(name, (e) => events.push({ type: e.type, payload: e.payload })));

  // remember to connect and disconnect when you are done
  await admin.connect();

  const created = await admin.createTopics({
    topics: [{ topic, numPartitions: 3, replicationFactor: 1, configEntries: [{ name: "retention.ms", value: "86400000" }] }],
  });
  const createdAgain = await admin.createTopics({ topics: [{ topic, numPartitions: 3 }] });
  const topics = await admin.listTopics();
  const metadata = await admin.fetchTopicMetadata({ topics: [topic] });

  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic, messages: [0, 1, 2, 3, 4, 5].map((i) => ({ value: `m${i}`, partition: i % 3 })) });
  await producer.disconnect();

  const topicOffsets = await admin.fetchTopicOffsets(topic);
  const offsetsByTimestamp = await admin.fetchTopicOffsetsByTimestamp(topic, Date.now() + 60_000);
  await admin.setOffsets({
    groupId,
    topic,
    partitions: [
      { partition: 0, offset: "1" },
      { partition: 2, offset: "2" },
    ],
  });
  const afterSet = await admin.fetchOffsets({ groupId, topics: [topic] });
  await admin.resetOffsets({ groupId, topic, earliest: true });
  const afterReset = await admin.fetchOffsets({ groupId, topics: [topic], resolveOffsets: true });
  await admin.setOffsets({ groupId, topic, partitions: await admin.fetchTopicOffsetsByTimestamp(topic, 0) });
  const groups = await admin.listGroups();
  const described = await admin.describeGroups([groupId]);

  await admin.deleteTopics({ topics: [topic] });
  const topicsAfterDelete = await admin.listTopics();

  await admin.disconnect();
  for (const remove of removeListeners) remove();
  return { created, createdAgain, topics, metadata, topicOffsets, offsetsByTimestamp, afterSet, afterReset, groups, described, topicsAfterDelete, events };
}
