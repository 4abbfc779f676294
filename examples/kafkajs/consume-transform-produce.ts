/**
 * The consume-transform-produce loop of KafkaJS's "Transactions" guide (docs/Transactions.md →
 * sending offsets): `eachMessage` → `producer.transaction()` → `transaction.send` →
 * `transaction.sendOffsets({ consumerGroupId, topics })` → `commit()`, as KafkaJS users write it —
 * only the import and the connection config differ. The producer and the consumer come from the
 * same client, so the offsets are committed with the consumer's group membership. Copies `count`
 * messages from `input` to `output` (upper-cased) and stops.
 */
import { Kafka, type KafkaConfig } from "dynalog/client";

export type Connection = Pick<KafkaConfig, "url" | "auth" | "logLevel" | "fetch">;

export async function run({
  input, output, groupId, transactionalId, count,
  ...connection
}: Connection & { input: string; output: string; groupId: string; transactionalId: string; count: number }): Promise<void> {
  const kafka = new Kafka({ clientId: "copier", ...connection });
  const consumer = kafka.consumer({ groupId });
  const producer = kafka.producer({ transactionalId, maxInFlightRequests: 1, idempotent: true });
  let copied = 0;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));

  await producer.connect();
  await consumer.connect();
  await consumer.subscribe({ topics: [input], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ topic, partition, message }) => {
      const transaction = await producer.transaction();
      try {
        await transaction.send({
          topic: output,
          messages: [{ key: message.key, value: message.value!.toString().toUpperCase(), headers: { source: `${topic}-${partition}-${message.offset}` } }],
        });
        await transaction.sendOffsets({
          consumerGroupId: groupId,
          topics: [{ topic, partitions: [{ partition, offset: (Number(message.offset) + 1).toString() }] }],
        });
        await transaction.commit();
      } catch (e) {
        await transaction.abort();
        throw e;
      }
      if (++copied >= count) done();
    },
  });

  await finished;
  await consumer.disconnect();
  await producer.disconnect();
}
