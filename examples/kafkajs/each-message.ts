/**
 * KafkaJS's consumer example (docs/ConsumerExample.md, "Consuming Messages" → eachMessage), as
 * written there — only the import and the connection config differ. Bounded for a test: it stops
 * after `count` messages and returns what `eachMessage` saw.
 */
import { Kafka, logLevel, type KafkaConfig } from "dynalog/client";

export type Connection = Pick<KafkaConfig, "url" | "auth" | "logLevel" | "fetch">;

export interface Seen {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: string | undefined;
  readonly value: string | undefined;
  readonly headers: Record<string, string | undefined>;
}

export async function run({ topic, groupId, count, ...connection }: Connection & { topic: string; groupId: string; count: number }): Promise<Seen[]> {
  const kafka = new Kafka({
    logLevel: logLevel.INFO,
    clientId: "example-consumer",
    ...connection,
  });

  const consumer = kafka.consumer({ groupId });
  const seen: Seen[] = [];
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));

  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ topic, partition, message }) => {
      const prefix = `${topic}[${partition} | ${message.offset}] / ${message.timestamp}`;
      console.log(`- ${prefix} ${message.key}#${message.value}`);
      const headers: Record<string, string | undefined> = {};
      for (const [name, value] of Object.entries(message.headers ?? {})) headers[name] = value?.toString();
      seen.push({ topic, partition, offset: message.offset.toString(), key: message.key?.toString(), value: message.value?.toString(), headers });
      if (seen.length >= count) done();
    },
  });

  await finished;
  await consumer.disconnect();
  return seen;
}
