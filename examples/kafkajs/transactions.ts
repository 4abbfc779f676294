/**
 * KafkaJS's "Transactions" guide (docs/Transactions.md → sending messages within a transaction),
 * as written there — only the import and the connection config differ. The first transaction
 * commits; the second fails before its commit and is aborted, so none of it is ever visible.
 */
import { Kafka, type KafkaConfig, type Message } from "dynalog/client";

export type Connection = Pick<KafkaConfig, "url" | "auth" | "logLevel" | "fetch">;

export async function run({ topic, transactionalId, ...connection }: Connection & { topic: string; transactionalId: string }): Promise<{ committed: boolean; aborted: boolean }> {
  const client = new Kafka({
    clientId: "transactional-client",
    ...connection,
  });
  const producer = client.producer({
    transactionalId,
    maxInFlightRequests: 1,
    idempotent: true,
  });
  await producer.connect();

  const send = async (messages: Message[], failBeforeCommit: boolean): Promise<boolean> => {
    const transaction = await producer.transaction();

    try {
      await transaction.send({ topic, messages });
      if (failBeforeCommit) throw new Error("the work this transaction belongs to failed");

      await transaction.commit();
      return true;
    } catch (e) {
      await transaction.abort();
      return false;
    }
  };

  const committed = await send([{ key: "a", value: "committed-1" }, { key: "b", value: "committed-2" }], false);
  const aborted = !(await send([{ key: "a", value: "aborted-1" }], true));
  await producer.disconnect();
  return { committed, aborted };
}
