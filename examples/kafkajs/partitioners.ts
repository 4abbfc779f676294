/**
 * KafkaJS's partitioner options (docs/Producing.md → custom partitioner, default partitioners,
 * and the 2.0 migration's `Partitioners.LegacyPartitioner`), as written there — only the import
 * and the connection config differ. Sends the same keyed and key-less messages through a custom
 * partitioner, the LegacyPartitioner and the DefaultPartitioner, one topic each.
 */
import { Kafka, Partitioners, type KafkaConfig, type Message, type PartitionerArgs, type RecordMetadata } from "dynalog/client";

export type Connection = Pick<KafkaConfig, "url" | "auth" | "logLevel" | "fetch">;

const MyPartitioner = () => {
  return ({ topic, partitionMetadata, message }: PartitionerArgs) => {
    // select a partition based on some logic
    // return the partition number
    return 0;
  };
};

export async function run({ topics, keys, keyless, ...connection }: Connection & { topics: { custom: string; legacy: string; default: string }; keys: string[]; keyless: number }) {
  const kafka = new Kafka({ clientId: "my-app", ...connection });
  const messages: Message[] = [...keys.map((key) => ({ key, value: `keyed ${key}` })), ...Array.from({ length: keyless }, (_, i) => ({ value: `keyless ${i}` }))];
  const results: Record<"custom" | "legacy" | "default", RecordMetadata[]> = { custom: [], legacy: [], default: [] };

  const producers = {
    custom: kafka.producer({ createPartitioner: MyPartitioner }),
    legacy: kafka.producer({ createPartitioner: Partitioners.LegacyPartitioner }),
    default: kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner }),
  };
  for (const [name, producer] of Object.entries(producers) as [keyof typeof producers, (typeof producers)[keyof typeof producers]][]) {
    await producer.connect();
    results[name] = await producer.send({ topic: topics[name], messages });
    await producer.disconnect();
  }
  return results;
}
