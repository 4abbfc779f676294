/**
 * KafkaJS's retry configuration (docs/Configuration.md → Default Retry; docs/RetryDetailed.md), as
 * written there — only the import and the connection config differ. With `retries: 8` and
 * `initialRetryTime: 100` the client rides out a broker that cannot be reached for a while
 * (exponential backoff with jitter) and the messages are written once.
 */
import { Kafka, type KafkaConfig, type RecordMetadata } from "dynalog/client";

export type Connection = Pick<KafkaConfig, "url" | "auth" | "logLevel" | "fetch">;

export async function run({ topic, ...connection }: Connection & { topic: string }): Promise<RecordMetadata[]> {
  const kafka = new Kafka({
    clientId: "my-app",
    ...connection,
    retry: {
      initialRetryTime: 100,
      retries: 8,
    },
  });
  const producer = kafka.producer();
  await producer.connect();
  const sent = await producer.send({ topic, messages: [{ key: "k", value: "survived the outage" }] });
  await producer.disconnect();
  return sent;
}
