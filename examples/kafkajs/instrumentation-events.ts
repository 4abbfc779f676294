/**
 * KafkaJS's "Instrumentation Events" guide (docs/InstrumentationEvents.md), as written there —
 * only the import and the connection config differ: listeners on the consumer's, the producer's
 * and the admin's events, removed with the function `on` returns. Produces and consumes `count`
 * messages and returns every event seen (type and payload).
 */
import { Kafka, type KafkaConfig } from "dynalog/client";

export type Connection = Pick<KafkaConfig, "url" | "auth" | "logLevel" | "fetch">;

export async function run({ topic, groupId, count, ...connection }: Connection & { topic: string; groupId: string; count: number }) {
  const kafka = new Kafka({ clientId: "my-app", ...connection });
  const events: { type: string; payload: Record<string, unknown> }[] = [];
  const record = (e: { type: string; payload: unknown }) => events.push({ type: e.type, payload: (e.payload ?? {}) as Record<string, unknown> });

  const admin = kafka.admin();
  const producer = kafka.producer();
  const consumer = kafka.consumer({ groupId });

  const { HEARTBEAT } = consumer.events;
  const removeListener = consumer.on(HEARTBEAT, (e) => {
    console.log(`heartbeat at ${e.timestamp}`);
    record(e);
  });
  const { GROUP_JOIN, FETCH_START, FETCH, START_BATCH_PROCESS, END_BATCH_PROCESS, COMMIT_OFFSETS, CONNECT, STOP, DISCONNECT, REQUEST } = consumer.events;
  for (const name of [GROUP_JOIN, FETCH_START, FETCH, START_BATCH_PROCESS, END_BATCH_PROCESS, COMMIT_OFFSETS, CONNECT, STOP, DISCONNECT, REQUEST]) consumer.on(name, record);
  for (const name of [producer.events.CONNECT, producer.events.DISCONNECT, producer.events.REQUEST]) producer.on(name, record);
  for (const name of [admin.events.CONNECT, admin.events.DISCONNECT, admin.events.REQUEST]) admin.on(name, record);

  await admin.connect();
  await admin.createTopics({ topics: [{ topic }] });
  await admin.disconnect();

  await producer.connect();
  await producer.send({ topic, messages: Array.from({ length: count }, (_, i) => ({ value: `event-${i}` })) });
  await producer.disconnect();

  let received = 0;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    eachMessage: async () => {
      if (++received >= count) done();
    },
  });
  await finished;
  await consumer.disconnect();
  // Remove the listener by invoking removeListener()
  removeListener();
  return events;
}
