/**
 * Fault matrix: lost acknowledgements OUTSIDE the SDK's retry loop. DynamoDB applied the write,
 * the broker sees a timeout, the client sees an indefinite outcome and retries the very same
 * request (same producer id, epoch and sequence; same offsets) on another broker instance.
 */
import { matrix, type RowContext } from "./matrix.js";
import { Member } from "../support/group-member.js";
import { uniqueName } from "../support/dynamodb.js";
import { IdempotentProducer, lostAck, plan, touches, TransactionalProducer, WRITES } from "./workloads.js";

const BATCHES = 8;

async function lostAckOnProduce(ctx: RowContext): Promise<void> {
  const [a, b, reader] = [ctx.lambda(), ctx.lambda(), ctx.lambda()];
  const topic = await ctx.topic(reader.broker, 2);
  // The first append's ack is always lost; after that, one write in five (reservations, appends, voids).
  a.chaos.addRule({ ...lostAck(/^TransactWriteItemsCommand$/, 1, touches(ctx.tables.log)), times: 1 });
  for (const lambda of [a, b]) lambda.chaos.addRule(lostAck(WRITES, 0.2));
  const producers = await Promise.all(["p0", "p1"].map((name) => IdempotentProducer.init(ctx, reader.broker, name)));
  const plans = producers.map(() => plan(ctx, BATCHES, () => ({ partition: ctx.int(0, 1), count: ctx.int(1, 4) })));
  await Promise.all(
    producers.map(async (producer, i) => {
      for (const step of plans[i]!) await producer.send([a.broker, b.broker], topic, step.partition, step.count);
    }),
  );
  await ctx.drain(reader.broker, [{ topic, partitions: 2 }]);
}

async function lostAckOnOffsetCommit(ctx: RowContext): Promise<void> {
  const [a, b, reader] = [ctx.lambda(), ctx.lambda(), ctx.lambda()];
  const topic = await ctx.topic(reader.broker, 1);
  const producer = await IdempotentProducer.init(ctx, reader.broker, "p");
  for (let i = 0; i < 6; i++) await producer.send([reader.broker], topic, 0, ctx.int(2, 5));
  const group = uniqueName("g");
  a.chaos.addRule({ ...lostAck(/^TransactWriteItemsCommand$/, 1, touches(ctx.tables.offsets)), times: 1 });
  for (const lambda of [a, b]) lambda.chaos.addRule(lostAck(WRITES, 0.3, touches(ctx.tables.offsets)));

  // c1 polls, processes and commits (retrying each commit while its outcome is unknown), then is gone.
  const c1 = new Member(reader.broker, group, [topic]);
  await c1.heartbeat();
  ctx.history.record({ type: "assign", process: "c1", generation: c1.epoch, partitions: [{ topic, partition: 0, position: 0 }] });
  let position = 0;
  let believed = 0;
  const stopAfter = ctx.int(2, 4);
  for (let round = 0; round < stopAfter; round++) {
    const polled = await ctx.poll(reader.broker, { process: "c1", generation: c1.epoch, topic, partition: 0, offset: position, maxRecords: ctx.int(1, 5) });
    position = polled.nextOffset;
    const op = ctx.history.invoke({ type: "commit", process: "c1", group, generation: c1.epoch, offsets: [{ topic, partition: 0, offset: position }] });
    const resolution = await ctx.retry([a.broker, b.broker], 8, true, async (broker) => {
      await broker.commitOffsets(group, [{ topic, partition: 0, offset: position }], { memberId: c1.memberId, memberEpoch: c1.epoch });
      return position;
    });
    ctx.history.complete(op, { outcome: resolution.outcome });
    if (resolution.outcome === "ok") believed = position;
  }

  // c1 vanishes; after its session a new member resumes from what the group committed.
  ctx.clock.advance(c1.last!.heartbeatIntervalMs * 10);
  const c2 = new Member(reader.broker, group, [topic]);
  await c2.heartbeat();
  const [stored] = await reader.broker.committedOffsets(group, topic);
  if (stored!.offset !== believed) ctx.violation(`the group's committed offset is ${stored!.offset}, the consumer's last acknowledged commit was ${believed}`);
  ctx.history.record({ type: "assign", process: "c2", generation: c2.epoch, partitions: [{ topic, partition: 0, position: believed }] });
  let next = Math.max(0, stored!.offset);
  for (let guard = 0; guard < 20; guard++) {
    const polled = await ctx.poll(reader.broker, { process: "c2", generation: c2.epoch, topic, partition: 0, offset: next });
    if (polled.records.length === 0) break;
    next = polled.nextOffset;
  }
  await ctx.drain(reader.broker, [{ topic, partitions: 1 }]);
}

async function lostAckOnTransactionCommit(ctx: RowContext): Promise<void> {
  const [a, b, reader] = [ctx.lambda(), ctx.lambda(), ctx.lambda()];
  const topic = await ctx.topic(reader.broker, 2);
  a.chaos.addRule({ ...lostAck(/^TransactWriteItemsCommand$/, 1), times: 1 });
  for (const lambda of [a, b]) lambda.chaos.addRule(lostAck(/^TransactWriteItemsCommand$/, 0.3));
  const transactional = await TransactionalProducer.init(ctx, reader.broker, "t", uniqueName("tid"));
  const idempotent = await IdempotentProducer.init(ctx, reader.broker, "p");
  const txns = plan(ctx, BATCHES, () => plan(ctx, ctx.int(1, 3), () => ({ topic, partition: ctx.int(0, 1) })));
  const sends = plan(ctx, BATCHES, () => ({ partition: ctx.int(0, 1), count: ctx.int(1, 3) }));
  await Promise.all([
    (async () => {
      for (const sendsOfTxn of txns) await transactional.commit([a.broker, b.broker], sendsOfTxn);
    })(),
    (async () => {
      for (const step of sends) await idempotent.send([b.broker, a.broker], topic, step.partition, step.count);
    })(),
  ]);
  await ctx.drain(reader.broker, [{ topic, partitions: 2 }]);
}

matrix("test/fault-matrix/lost-acks.test.ts", [
  { name: "lost ack on produce", run: lostAckOnProduce },
  { name: "lost ack on offset commit", run: lostAckOnOffsetCommit },
  { name: "lost ack on transaction commit", run: lostAckOnTransactionCommit },
]);
