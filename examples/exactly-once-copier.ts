/**
 * Exactly-once consume → transform → produce: reads `orders`, writes one invoice per order to
 * `invoices`, and commits its input offsets IN THE SAME TRANSACTION as the invoices. A crash at
 * any point (mid-batch, or after the commit was sent but before its answer arrived) never loses
 * an order and never writes an invoice twice: the next instance resumes exactly after the last
 * committed transaction, and the transactional id fences the old instance if it is still alive.
 *
 * Run it against the local broker (README quick start: `npm start` in another terminal):
 *
 *   npx dynalog topics create orders --partitions 3
 *   npx dynalog topics create invoices --partitions 3
 *   npx tsx examples/exactly-once-copier.ts             # Ctrl-C to stop
 *   seq 1 100 | sed 's/^/customer-/;s/$/,{"total":1999}/' | npx dynalog produce orders --key-separator ,
 *   npx dynalog consume invoices --from-beginning --max 100
 *
 * Kill it (kill -9) mid-stream and start it again: `npx dynalog groups lag copier` drains to 0 and
 * the invoices topic holds exactly one invoice per order.
 */
import { Dynalog, logLevel, type EachBatchPayload } from "dynalog/client";

const url = process.env.DYNALOG_URL ?? "http://127.0.0.1:8790";
const dynalog = new Dynalog({ url, clientId: "copier", logLevel: logLevel.WARN });

// One transactional id per copier deployment: a restarted instance fences the previous one.
const producer = dynalog.producer({ transactionalId: process.env.COPIER_ID ?? "copier-1" });
const consumer = dynalog.consumer({ groupId: "copier", maxRecordsPerPartition: 50 });

await producer.connect();
await consumer.connect();
await consumer.subscribe({ topics: ["orders"], fromBeginning: true });

await consumer.run({
  // The consumer never commits by itself; the offsets go into each transaction below, and after a
  // failed batch it rewinds to the committed offsets.
  deliverySemantics: "exactly-once",
  eachBatch: async ({ batch }: EachBatchPayload) => {
    const tx = await producer.transaction();
    try {
      await tx.send({
        topic: "invoices",
        messages: batch.messages.map((order) => ({
          key: order.key,
          value: JSON.stringify({ invoiceFor: order.value?.toString() ?? null, order: `${batch.topic}-${batch.partition}@${order.offset}` }),
          headers: { source: "copier" },
        })),
      });
      // `consumer` (not just the group id): its member id and epoch fence the commit, so a member
      // that lost these partitions in a rebalance cannot commit them any more.
      await tx.sendOffsets({ consumer, topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: batch.nextOffset }] }] });
      await tx.commit(); // ONE request: the invoices and the offsets, all or nothing
    } catch (error) {
      await tx.abort();
      throw error; // the consumer goes back to the committed offset and tries again
    }
  },
});

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void consumer.disconnect().then(() => process.exit(0));
  });
}
