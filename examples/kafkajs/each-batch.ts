/**
 * KafkaJS's eachBatch guide (docs/Consuming.md → eachBatch, and its example with
 * `eachBatchAutoResolve: false`), as written there — only the import and the connection config
 * differ. Bounded for a test: stops after `count` messages; returns the batches it processed.
 */
import { Kafka, type KafkaConfig } from "dynalog/client";

export type Connection = Pick<KafkaConfig, "url" | "auth" | "logLevel" | "fetch">;

export interface SeenBatch {
  readonly topic: string;
  readonly partition: number;
  readonly highWatermark: string;
  readonly offsets: string[];
  readonly values: string[];
}

export async function run({ topic, groupId, count, ...connection }: Connection & { topic: string; groupId: string; count: number }): Promise<SeenBatch[]> {
  const kafka = new Kafka({ clientId: "my-app", ...connection });
  const consumer = kafka.consumer({ groupId });
  const batches: SeenBatch[] = [];
  let processed = 0;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));

  const processMessage = async (message: { offset: string; value: string }) => {
    processed++;
    batches[batches.length - 1]!.offsets.push(message.offset);
    batches[batches.length - 1]!.values.push(message.value);
  };

  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, uncommittedOffsets, isRunning, isStale }) => {
      batches.push({ topic: batch.topic, partition: batch.partition, highWatermark: String(batch.highWatermark), offsets: [], values: [] });
      for (let message of batch.messages) {
        if (!isRunning() || isStale()) break;
        await processMessage({ offset: String(message.offset), value: message.value!.toString() });
        resolveOffset(message.offset);
        await heartbeat();
      }
      console.log({ uncommitted: JSON.stringify(uncommittedOffsets()) });
      await commitOffsetsIfNecessary();
      if (processed >= count) done();
    },
  });

  await finished;
  await consumer.disconnect();
  return batches;
}
