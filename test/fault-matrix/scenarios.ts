/**
 * Workloads several matrix rows share; each row arms its own faults on the broker instances the
 * workload uses (`arm`), so the same workload runs under lost acks, SDK retries, throttles,
 * transaction conflicts and stale reads.
 */
import type { TestBroker } from "../support/broker.js";
import { uniqueName } from "../support/dynamodb.js";
import { Member } from "../support/group-member.js";
import type { RowContext } from "./matrix.js";
import { IdempotentProducer, plan, TransactionalProducer } from "./workloads.js";

export type Arm = (lambdas: readonly TestBroker[]) => void;

/** Idempotent producers (and, with `plain`, a producer without id that never retries) on two partitions. */
export async function producersScenario(ctx: RowContext, options: { arm: Arm; producers?: number; batches?: number; plain?: boolean }): Promise<void> {
  const [a, b, reader] = [ctx.lambda(), ctx.lambda(), ctx.lambda()];
  const topic = await ctx.topic(reader.broker, 2);
  options.arm([a, b]);
  const names = Array.from({ length: options.producers ?? 2 }, (_, i) => `p${i}`);
  const producers = await Promise.all(names.map((name) => IdempotentProducer.init(ctx, reader.broker, name)));
  const plans = producers.map(() => plan(ctx, options.batches ?? 8, () => ({ partition: ctx.int(0, 1), count: ctx.int(1, 4) })));
  const plain = plan(ctx, options.plain ? (options.batches ?? 8) : 0, () => ({ partition: ctx.int(0, 1), count: ctx.int(1, 3) }));
  await Promise.all([
    ...producers.map(async (producer, i) => {
      for (const step of plans[i]!) await producer.send([a.broker, b.broker], topic, step.partition, step.count);
    }),
    (async () => {
      for (const step of plain) await ctx.send({ process: "plain", topic, partition: step.partition, values: ctx.values("plain", step.count), brokers: [b.broker], attempts: 1 });
    })(),
  ]);
  // A consumer reads everything through whatever gaps the faults left (voided after the hole timeout).
  ctx.passHoleTimeout();
  for (let partition = 0; partition < 2; partition++) {
    let offset = 0;
    for (let guard = 0; guard < 30; guard++) {
      const polled = await ctx.poll(reader.broker, { process: "c", topic, partition, offset, maxRecords: ctx.int(2, 8) });
      if (polled.records.length === 0) break;
      offset = polled.nextOffset;
    }
  }
  await ctx.drain(reader.broker, [{ topic, partitions: 2 }]);
}

/**
 * A group member polls and commits (retrying each commit while its outcome is unknown), then
 * vanishes; after its session expired a new member resumes from the group's committed offset.
 * The commit the consumer last saw acknowledged must be the one stored (a commit applied twice,
 * or not at all after an ack, shows as a skip or a violation).
 */
export async function offsetCommitScenario(ctx: RowContext, options: { arm: Arm }): Promise<void> {
  const [a, b, reader] = [ctx.lambda(), ctx.lambda(), ctx.lambda()];
  const topic = await ctx.topic(reader.broker, 1);
  const producer = await IdempotentProducer.init(ctx, reader.broker, "p");
  for (let i = 0; i < 6; i++) await producer.send([reader.broker], topic, 0, ctx.int(2, 5));
  const group = uniqueName("g");
  options.arm([a, b]);

  const c1 = new Member(reader.broker, group, [topic]);
  await c1.heartbeat();
  ctx.history.record({ type: "assign", process: "c1", generation: c1.epoch, partitions: [{ topic, partition: 0, position: 0 }] });
  let position = 0;
  let believed = 0;
  const rounds = ctx.int(3, 5);
  for (let round = 0; round < rounds; round++) {
    const polled = await ctx.poll(reader.broker, { process: "c1", generation: c1.epoch, topic, partition: 0, offset: position, maxRecords: ctx.int(1, 5) });
    position = polled.nextOffset;
    const committed = position;
    const op = ctx.history.invoke({ type: "commit", process: "c1", group, generation: c1.epoch, offsets: [{ topic, partition: 0, offset: committed }] });
    const resolution = await ctx.retry([a.broker, b.broker], 8, true, async (broker) => {
      await broker.commitOffsets(group, [{ topic, partition: 0, offset: committed }], { memberId: c1.memberId, memberEpoch: c1.epoch });
      return committed;
    });
    ctx.history.complete(op, { outcome: resolution.outcome });
    if (resolution.outcome === "ok") believed = committed;
  }

  ctx.clock.advance(c1.last!.heartbeatIntervalMs * 10);
  const c2 = new Member(reader.broker, group, [topic]);
  await c2.heartbeat();
  const [stored] = await reader.broker.committedOffsets(group, topic);
  if (stored!.offset !== believed) ctx.violation(`the group's committed offset is ${stored!.offset}; the consumer's last acknowledged commit was ${believed}`);
  ctx.history.record({ type: "assign", process: "c2", generation: c2.epoch, partitions: [{ topic, partition: 0, position: believed }] });
  let next = Math.max(0, stored!.offset);
  for (let guard = 0; guard < 20; guard++) {
    const polled = await ctx.poll(reader.broker, { process: "c2", generation: c2.epoch, topic, partition: 0, offset: next });
    if (polled.records.length === 0) break;
    next = polled.nextOffset;
  }
  await ctx.drain(reader.broker, [{ topic, partitions: 1 }]);
}

/** A transactional producer (transactions over two partitions) beside an idempotent one. */
export async function transactionsScenario(ctx: RowContext, options: { arm: Arm; transactions?: number }): Promise<void> {
  const [a, b, reader] = [ctx.lambda(), ctx.lambda(), ctx.lambda()];
  const topic = await ctx.topic(reader.broker, 2);
  options.arm([a, b]);
  const transactional = await TransactionalProducer.init(ctx, reader.broker, "t", uniqueName("tid"));
  const idempotent = await IdempotentProducer.init(ctx, reader.broker, "p");
  const count = options.transactions ?? 8;
  const txns = plan(ctx, count, () => plan(ctx, ctx.int(1, 3), () => ({ topic, partition: ctx.int(0, 1) })));
  const sends = plan(ctx, count, () => ({ partition: ctx.int(0, 1), count: ctx.int(1, 3) }));
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

/**
 * Everything at once on two instances: idempotent producers, a consume-transform-produce copier
 * (transactions carrying the group's offsets) and a group member committing offsets.
 */
export async function mixedScenario(ctx: RowContext, options: { arm: Arm; steps?: number }): Promise<void> {
  const [a, b, reader] = [ctx.lambda(), ctx.lambda(), ctx.lambda()];
  const input = await ctx.topic(reader.broker, 2, "mx-in");
  const output = await ctx.topic(reader.broker, 2, "mx-out");
  const steps = options.steps ?? 6;
  const seedProducer = await IdempotentProducer.init(ctx, reader.broker, "src");
  for (let i = 0; i < steps; i++) await seedProducer.send([reader.broker], input, i % 2, ctx.int(1, 4));
  options.arm([a, b]);
  const producers = await Promise.all(["p0", "p1"].map((name) => IdempotentProducer.init(ctx, a.broker, name)));
  const copier = await TransactionalProducer.init(ctx, b.broker, "copier", uniqueName("tid"));
  const group = uniqueName("copy");
  const plans = producers.map(() => plan(ctx, steps, () => ({ partition: ctx.int(0, 1), count: ctx.int(1, 3) })));
  const sizes = plan(ctx, steps, () => ctx.int(1, 4));
  const positions = [0, 0];
  await Promise.all([
    ...producers.map(async (producer, i) => {
      for (const step of plans[i]!) await producer.send([a.broker, b.broker], output, step.partition, step.count);
    }),
    (async () => {
      // The copier reads the input (recorded polls) and commits copies plus its offsets atomically.
      for (const size of sizes) {
        if (copier.broken) break;
        const partition = positions[0]! <= positions[1]! ? 0 : 1;
        const polled = await ctx.poll(b.broker, { process: "copier", topic: input, partition, offset: positions[partition]!, maxRecords: size });
        if (polled.records.length === 0) continue;
        const next = [...positions];
        next[partition] = polled.nextOffset;
        const resolution = await copier.commit([b.broker, a.broker], polled.records.map(() => ({ topic: output, partition })), {
          offsets: { group, offsets: [{ topic: input, partition, offset: polled.nextOffset }] },
        });
        if (resolution?.outcome === "ok") positions.splice(0, 2, ...next);
        // Not committed: it goes back to where its offsets stand (an explicit seek) and reads again.
        else ctx.history.record({ type: "seek", process: "copier", topic: input, partition, offset: positions[partition]! });
      }
    })(),
  ]);
  // The offsets committed with the copies are exactly those of the acknowledged transactions.
  const committed = (await reader.broker.committedOffsets(group, input)).map((c) => Math.max(0, c.offset));
  if (!copier.broken && committed.join() !== positions.join()) ctx.violation(`the copier's group committed ${committed.join(", ")}, its acknowledged transactions ${positions.join(", ")}`);
  await ctx.drain(reader.broker, [
    { topic: input, partitions: 2 },
    { topic: output, partitions: 2 },
  ]);
}
