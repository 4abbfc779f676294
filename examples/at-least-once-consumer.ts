/**
 * An at-least-once consumer: every message is processed, a crash may process some twice.
 *
 * Run it against the local broker (README quick start: `npm start` in another terminal):
 *
 *   npx dynalog topics create orders --partitions 3
 *   npx tsx examples/at-least-once-consumer.ts          # Ctrl-C to stop (commits, leaves the group)
 *   seq 1 20 | npx dynalog produce orders --key customer-42
 *
 * Start it twice to watch the group split the partitions between the two processes.
 * DYNALOG_URL points it elsewhere (default http://127.0.0.1:8790).
 */
import { Dynalog, logLevel } from "dynalog/client";

const dynalog = new Dynalog({ url: process.env.DYNALOG_URL ?? "http://127.0.0.1:8790", clientId: "orders-printer", logLevel: logLevel.WARN });
const consumer = dynalog.consumer({ groupId: "orders-printer", sessionTimeout: 30_000, heartbeatInterval: 3_000 });

await consumer.connect();
await consumer.subscribe({ topics: ["orders"], fromBeginning: true });
consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => console.error(`assigned: ${JSON.stringify(payload.memberAssignment)}`));
await consumer.run({
  // The default: the offset of a message is committed only after eachMessage returned for it
  // (per batch here; autoCommitInterval / autoCommitThreshold commit less often).
  deliverySemantics: "at-least-once",
  eachMessage: async ({ topic, partition, message }) => {
    // Processing must tolerate a repeat: after a crash, what was processed but not yet committed comes again.
    console.log(`${topic}-${partition}@${message.offset} key=${message.key?.toString() ?? "null"} value=${message.value?.toString() ?? "null"}`);
  },
});

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void consumer.disconnect().then(() => process.exit(0));
  });
}
