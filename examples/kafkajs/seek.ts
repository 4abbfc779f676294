/**
 * KafkaJS's "Seek" guide (docs/Consuming.md → seek), as written there — only the import and the
 * connection config differ. `consumer.run` is not awaited and `seek` follows at once (before the
 * partition is even assigned); later the handler seeks back once, which makes the rest of the
 * batch stale. Returns the offsets `eachMessage` saw, in order.
 */
import { Kafka, type KafkaConfig } from "dynalog/client";

export type Connection = Pick<KafkaConfig, "url" | "auth" | "logLevel" | "fetch">;

export async function run({
  topic, groupId, seekTo, rewindAt, rewindTo, count,
  ...connection
}: Connection & { topic: string; groupId: string; seekTo: number; rewindAt: number; rewindTo: number; count: number }): Promise<number[]> {
  const kafka = new Kafka({ clientId: "my-app", ...connection });
  const consumer = kafka.consumer({ groupId });
  const offsets: number[] = [];
  let rewound = false;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));

  await consumer.connect();
  await consumer.subscribe({ topics: [topic] });
  // you don't need to await consumer#run
  const running = consumer.run({
    eachMessage: async ({ topic, message }) => {
      offsets.push(Number(message.offset));
      if (offsets.length >= count) done();
      if (!rewound && Number(message.offset) === rewindAt) {
        rewound = true;
        consumer.seek({ topic, partition: 0, offset: String(rewindTo) });
      }
    },
  });
  consumer.seek({ topic, partition: 0, offset: seekTo });

  await running;
  await finished;
  await consumer.disconnect();
  return offsets;
}
