/**
 * KafkaJS's "Producing Messages" guide (docs/Producing.md) and its producer example, as written
 * there — only the import and the connection config differ (`brokers` → Dynalog's `url`).
 * Sends keyed messages, a message to an explicit partition, headers, a GZIP send and a
 * `sendBatch` over two topics, and returns what each call resolved to.
 */
import { CompressionTypes, Kafka, type KafkaConfig, type Message, type ProducerBatch, type RecordMetadata, type TopicMessages } from "dynalog/client";

export type Connection = Pick<KafkaConfig, "url" | "auth" | "logLevel" | "fetch">;

export interface ProducingResult {
  readonly keyed: RecordMetadata[];
  readonly explicitPartition: RecordMetadata[];
  readonly withHeaders: RecordMetadata[];
  readonly compressed: RecordMetadata[];
  readonly batch: RecordMetadata[];
}

export async function run({ topic, otherTopic, ...connection }: Connection & { topic: string; otherTopic: string }): Promise<ProducingResult> {
  const kafka = new Kafka({ clientId: "my-app", ...connection });
  const producer = kafka.producer();

  await producer.connect();
  const keyed = await producer.send({
    topic,
    messages: [
      { key: "key1", value: "hello world" },
      { key: "key2", value: "hey hey!" },
    ],
  });

  // Example with a defined partition (the topic has at least 2 partitions)
  const explicitPartition = await producer.send({
    topic,
    messages: [
      { key: "key1", value: "hello world", partition: 0 },
      { key: "key2", value: "hey hey!", partition: 1 },
    ],
    acks: -1,
    timeout: 30000,
  });

  // Message headers
  const withHeaders = await producer.send({
    topic,
    messages: [
      {
        key: "key1",
        value: "hello world",
        headers: {
          "correlation-id": "2bfb68bb-893a-423b-a7fa-7b568cad5b67",
          "system-id": "my-system",
        },
      },
    ],
  });

  // Compression
  const compressed = await producer.send({
    topic,
    compression: CompressionTypes.GZIP,
    messages: [{ key: "key3", value: "compressed" }],
  });

  // Producing to multiple topics (the TypeScript producer example's sendBatch)
  const kafkaMessages: Array<Message> = [{ a: "one" }, { a: "two" }].map((message) => ({ value: JSON.stringify(message) }));
  const topicMessages: TopicMessages[] = [
    { topic, messages: kafkaMessages },
    { topic: otherTopic, messages: [{ key: "key", value: "hello topic" }] },
  ];
  const producerBatch: ProducerBatch = { topicMessages };
  const batch = await producer.sendBatch(producerBatch);

  await producer.disconnect();
  return { keyed, explicitPartition, withHeaders, compressed, batch };
}
