/**
 * Fault matrix: a topic deleted and re-created under load. Producers keep sending while the topic
 * goes away and comes back under the same name: records of the old incarnation never appear in the
 * new one, offsets committed for the old one do not carry over, and every write acknowledged by
 * the new incarnation is in its final drain.
 *
 * History topics are named per incarnation ("<name>#1", "<name>#2"). Sends that overlap the
 * delete/re-create may land in either incarnation, so their acknowledgements count as indefinite.
 * The old incarnation is recorded as drained with nothing left (its log start past every offset:
 * deleted, like records removed by retention).
 */
import type { Broker } from "../../shared/core/broker.js";
import { uniqueName } from "../support/dynamodb.js";
import { matrix, type RowContext } from "./matrix.js";
import { plan } from "./workloads.js";

const PARTITIONS = 2;

type Phase = "before" | "during" | "after";

async function deleteAndRecreate(ctx: RowContext): Promise<void> {
  const [a, b, admin] = [ctx.lambda(), ctx.lambda(), ctx.lambda()];
  const topic = await ctx.topic(admin.broker, PARTITIONS);
  const group = uniqueName("g");
  let phase: Phase = "before";
  const sentIn = new Map<string, Phase>();
  const old = `${topic}#1`;
  const fresh = `${topic}#2`;

  /** One plain send (no retry: a retry could land in the other incarnation), labelled by phase. */
  const send = async (process: string, broker: Broker, partition: number): Promise<void> => {
    const value = ctx.values(process, 1)[0]!;
    const startedIn = phase;
    const op = ctx.history.invoke({ type: "send", process, topic: startedIn === "before" ? old : fresh, partition, value });
    sentIn.set(value, startedIn);
    try {
      const result = await broker.produce({ topic, partitions: [{ partition, records: [{ key: null, value: new TextEncoder().encode(value), headers: [] }] }] });
      const answer = result.partitions[0]!;
      if ("error" in answer) throw answer.error;
      // Overlapping the delete/re-create: written to one incarnation or the other, we cannot say which.
      const certain = startedIn === phase && startedIn !== "during";
      ctx.history.complete(op, certain ? { outcome: "ok", offset: answer.baseOffset } : { outcome: "info" });
    } catch (error) {
      const definite = (error as { outcome?: string }).outcome === "definite";
      ctx.history.complete(op, { outcome: definite ? "fail" : "info" });
    }
  };

  const load = plan(ctx, 3, (i) => ({ broker: i % 2 === 0 ? a.broker : b.broker, partitions: plan(ctx, 24, () => ctx.int(0, PARTITIONS - 1)) }));
  let stop = false;
  const producers = load.map(async (producer, i) => {
    for (const partition of producer.partitions) {
      if (stop) break;
      await send(`p${i}`, producer.broker, partition);
    }
  });
  const churn = (async () => {
    for (let i = ctx.int(2, 8); i > 0; i--) await send("warmup", a.broker, ctx.int(0, PARTITIONS - 1));
    // The group commits offsets in the old incarnation: they must not carry over to the new one.
    await admin.broker.commitOffsets(group, [{ topic, partition: 0, offset: 1 }]);
    phase = "during";
    await admin.broker.deleteTopic(topic);
    await admin.broker.createTopic({ name: topic, partitions: PARTITIONS });
    phase = "after";
    const committed = await admin.broker.committedOffsets(group, topic);
    for (const c of committed) if (c.offset !== -1) ctx.violation(`the re-created topic has committed offset ${c.offset} on partition ${c.partition} from the old incarnation`);
    for (let i = 0; i < 6; i++) await send("after", b.broker, i % PARTITIONS);
    stop = true;
  })();
  await Promise.all([...producers, churn]);

  ctx.passHoleTimeout();
  const drainOp = ctx.history.invoke({ type: "drain" });
  const reads = [];
  for (let partition = 0; partition < PARTITIONS; partition++) {
    const records = await ctx.read(admin.broker, topic, partition);
    reads.push({ topic: fresh, partition, from: 0, records });
    reads.push({ topic: old, partition, from: Number.MAX_SAFE_INTEGER, records: [] });
    for (const [offset, value] of records) {
      if (sentIn.get(value) === "before") ctx.violation(`${value}, sent to the old incarnation, appears in the new one at ${topic}-${partition}@${offset}`);
    }
  }
  ctx.history.complete(drainOp, { outcome: "ok", reads });
}

matrix("test/fault-matrix/topics.test.ts", [{ name: "topic delete and re-create under load", run: deleteAndRecreate, timeoutMs: 90_000 }]);
