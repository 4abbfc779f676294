/**
 * Fault matrix: requests that arrive more than once or from the wrong producer — the same batch
 * five times at once, an old sequence replayed late, a zombie transactional producer that keeps
 * committing after it was re-initialized, a commit of an old epoch delayed past its successor, and
 * producer ids used by a principal they were not issued to.
 */
import type { Broker } from "../../shared/core/broker.js";
import { DynalogError } from "../../shared/errors.js";
import { uniqueName } from "../support/dynamodb.js";
import { asPrincipal, matrix, text, type RowContext } from "./matrix.js";
import { IdempotentProducer, plan, TransactionalProducer } from "./workloads.js";

async function concurrentDuplicates(ctx: RowContext): Promise<void> {
  const lambdas = Array.from({ length: 5 }, () => ctx.lambda());
  const reader = ctx.lambda();
  const topic = await ctx.topic(reader.broker, 2);
  const producer = await IdempotentProducer.init(ctx, reader.broker, "p");
  const sequences = [0, 0];
  for (const step of plan(ctx, 6, () => ({ partition: ctx.int(0, 1), count: ctx.int(1, 4) }))) {
    // The same batch (same id, epoch, sequence) five times at once, each on its own instance.
    const values = ctx.values("p", step.count);
    const ops = values.map((value) => ctx.history.invoke({ type: "send", process: "p", topic, partition: step.partition, value }));
    const input = { topic, producer: producer.identity, partitions: [{ partition: step.partition, baseSequence: sequences[step.partition]!, records: values.map(text) }] };
    const answers = await Promise.all(lambdas.map((l) => l.broker.produce(input).then((r) => r.partitions[0]!, (error: unknown) => ({ error }))));
    const acked = answers.flatMap((a) => ("baseOffset" in a ? [a.baseOffset] : []));
    const refused = answers.flatMap((a) => ("error" in a ? [a.error instanceof DynalogError ? a.error.code : String(a.error)] : []));
    if (new Set(acked).size > 1) ctx.violation(`one batch sent 5× was acknowledged at different offsets: ${acked.join(", ")}`);
    if (refused.length > 0) ctx.violation(`copies of a batch sent 5× at once were refused (${refused.join(", ")}); each should be acknowledged with the same offsets`);
    ops.forEach((op, i) => ctx.history.complete(op, acked.length > 0 ? { outcome: "ok", offset: acked[0]! + i } : { outcome: "info" }));
    if (acked.length > 0) sequences[step.partition]! += step.count;
    else return;
  }
  await ctx.drain(reader.broker, [{ topic, partitions: 2 }]);
}

async function lateReplay(ctx: RowContext): Promise<void> {
  const [a, b, reader] = [ctx.lambda(), ctx.lambda(), ctx.lambda()];
  const topic = await ctx.topic(reader.broker, 1);
  const producerId = await reader.broker.initProducer();
  const sent: { baseSequence: number; values: string[]; baseOffset: number }[] = [];
  let sequence = 0;
  for (const count of plan(ctx, 10, () => ctx.int(1, 3))) {
    const values = ctx.values("p", count);
    const resolution = await ctx.send({ process: "p", topic, partition: 0, values, brokers: [a.broker], producer: producerId, baseSequence: sequence });
    if (resolution.outcome !== "ok") return ctx.violation(`a plain send failed: ${resolution.errors.join(", ")}`);
    sent.push({ baseSequence: sequence, values, baseOffset: resolution.baseOffset! });
    sequence += count;
    // Replay an older batch (delivered late by the network, on another instance).
    const old = sent[ctx.int(0, sent.length - 1)]!;
    const age = sent.length - 1 - sent.indexOf(old);
    const replayed = await b.broker
      .produce({ topic, producer: producerId, partitions: [{ partition: 0, baseSequence: old.baseSequence, records: old.values.map(text) }] })
      .then((r) => r.partitions[0]!);
    if ("error" in replayed) {
      // Only batches older than the 5 the broker remembers may be refused, and only as duplicates.
      if (replayed.error.code !== "DUPLICATE_SEQUENCE_NUMBER" || age < 5) ctx.violation(`replay of a batch ${age} batches old was refused with ${replayed.error.code}`);
    } else if (replayed.baseOffset !== old.baseOffset || !replayed.duplicate) {
      ctx.violation(`replay of the batch at offset ${old.baseOffset} was answered with offset ${replayed.baseOffset} (duplicate: ${replayed.duplicate})`);
    }
  }
  await ctx.drain(reader.broker, [{ topic, partitions: 1 }]);
}

async function zombieProducer(ctx: RowContext): Promise<void> {
  const [old, fresh, reader] = [ctx.lambda(), ctx.lambda(), ctx.lambda()];
  const topic = await ctx.topic(reader.broker, 2);
  const transactionalId = uniqueName("tid");
  const zombie = await TransactionalProducer.init(ctx, old.broker, "zombie", transactionalId);
  const txns = plan(ctx, 10, () => plan(ctx, ctx.int(1, 3), () => ({ topic, partition: ctx.int(0, 1) })));
  const takeoverAt = ctx.int(1, 6);
  let takeover!: () => void;
  const takeoverDue = new Promise<void>((resolve) => (takeover = resolve));
  let successorReady = false;
  let fenced = 0;
  await Promise.all([
    (async () => {
      // The old instance keeps committing, unaware that it was replaced.
      for (const [i, sends] of txns.entries()) {
        if (i === takeoverAt) takeover();
        const startedAfterTakeover = successorReady;
        const resolution = await zombie.commit([old.broker], sends, { attempts: 1 });
        if (resolution?.outcome === "fail") fenced += 1;
        if (startedAfterTakeover && resolution?.outcome === "ok") ctx.violation(`the zombie committed transaction ${zombie.sequence - 1} after the successor had taken over`);
      }
      takeover();
    })(),
    (async () => {
      await takeoverDue;
      const successor = await TransactionalProducer.init(ctx, fresh.broker, "successor", transactionalId);
      successorReady = true;
      for (const sends of txns.slice(0, 5)) await successor.commit([fresh.broker], sends);
    })(),
  ]);
  // Whatever raced with the takeover, once the successor exists the zombie's commits are refused.
  const after = await zombie.commit([old.broker], [{ topic, partition: 0 }], { attempts: 1 });
  if (after?.outcome !== "fail") ctx.violation(`a commit of the fenced epoch ended ${after?.outcome}, not refused`);
  if (fenced === 0 && after?.outcome !== "fail") ctx.violation("the zombie was never fenced");
  await ctx.drain(reader.broker, [{ topic, partitions: 2 }]);
}

async function delayedOldEpochCommit(ctx: RowContext): Promise<void> {
  const [old, fresh, reader] = [ctx.lambda(), ctx.lambda(), ctx.lambda()];
  const topic = await ctx.topic(reader.broker, 2);
  const transactionalId = uniqueName("tid");
  const first = await TransactionalProducer.init(ctx, old.broker, "old", transactionalId);
  for (const sends of plan(ctx, ctx.int(0, 3), () => [{ topic, partition: ctx.int(0, 1) }])) await first.commit([old.broker], sends);
  // The old epoch's next commit is held up just before its TransactWriteItems (validated, reserved)…
  let successor: TransactionalProducer | undefined;
  const successorSends = plan(ctx, ctx.int(1, 3), () => [{ topic, partition: ctx.int(0, 1) }]);
  old.chaos.beforeCommand(/^TransactWriteItemsCommand$/, async () => {
    // …while a new instance takes the transactional id over and commits.
    successor = await TransactionalProducer.init(ctx, fresh.broker, "new", transactionalId);
    for (const sends of successorSends) await successor.commit([fresh.broker], sends);
  });
  const late = await first.commit([old.broker], [{ topic, partition: 0 }, { topic, partition: 1 }], { attempts: 1 });
  if (!successor) ctx.violation("the delayed commit never reached DynamoDB");
  if (late?.outcome !== "fail" || !late.errors.includes("PRODUCER_FENCED")) ctx.violation(`the delayed commit of the old epoch ended ${late?.outcome} (${late?.errors.join(", ")}), not PRODUCER_FENCED`);
  await ctx.drain(reader.broker, [{ topic, partitions: 2 }]);
}

async function borrowedProducerIds(ctx: RowContext): Promise<void> {
  const [alice, mallory, reader] = [ctx.lambda(), ctx.lambda(), ctx.lambda()];
  const topic = await ctx.topic(reader.broker, 1);
  const owner = await IdempotentProducer.init(ctx, alice.broker, "alice", "User:alice");
  const borrowedIdentity = owner.identity;
  const neverIssued = { producerId: borrowedIdentity.producerId + 1_000_000, epoch: 0 };
  for (const step of plan(ctx, 8, () => ({ count: ctx.int(1, 3), borrow: ctx.int(0, 2) }))) {
    await owner.send([alice.broker], topic, 0, step.count);
    // Mallory sends with alice's id (or one never issued) and the sequence alice will use next.
    const identity = step.borrow === 2 ? neverIssued : borrowedIdentity;
    const principal = step.borrow === 0 ? "User:mallory" : "User:alice";
    if (step.borrow === 1) {
      // The same principal but an id its own init never returned: a guessed sequential id.
      const guessed = { producerId: borrowedIdentity.producerId + 500_000, epoch: 0 };
      await refused(ctx, mallory.broker, topic, "guess", guessed, owner.nextSequence(topic, 0), principal);
    } else {
      await refused(ctx, mallory.broker, topic, "mallory", identity, owner.nextSequence(topic, 0), principal);
    }
  }
  // The real producer carries on with its own sequence as if nothing happened.
  const last = await owner.send([alice.broker], topic, 0, 2);
  if (last?.outcome !== "ok") ctx.violation(`the owner's next batch after the borrowed sends ended ${last?.outcome} (${last?.errors.join(", ")})`);
  await ctx.drain(reader.broker, [{ topic, partitions: 1 }]);
}

/** A send with a producer id the caller was not issued: it must be refused before anything is written. */
async function refused(ctx: RowContext, broker: Broker, topic: string, process: string, producer: { producerId: number; epoch: number }, baseSequence: number, principal: string): Promise<void> {
  const values = ctx.values(process, 1);
  const op = ctx.history.invoke({ type: "send", process, topic, partition: 0, value: values[0]! });
  const result = await broker
    .produce(asPrincipal({ topic, producer, partitions: [{ partition: 0, baseSequence, records: values.map(text) }] }, principal))
    .then((r) => r.partitions[0]!, (error: unknown) => ({ partition: 0, error }));
  if ("baseOffset" in result) {
    ctx.violation(`${principal} wrote with producer id ${producer.producerId}, which was not issued to it (offset ${result.baseOffset})`);
    ctx.history.complete(op, { outcome: "ok", offset: result.baseOffset });
  } else {
    const definite = result.error instanceof DynalogError && result.error.outcome === "definite";
    ctx.history.complete(op, { outcome: definite ? "fail" : "info" });
  }
}

matrix("test/fault-matrix/duplicates.test.ts", [
  { name: "concurrent duplicates 5x at once", run: concurrentDuplicates },
  { name: "late replay of an old sequence", run: lateReplay },
  { name: "zombie producer keeps committing", run: zombieProducer },
  { name: "delayed commit from an old epoch", run: delayedOldEpochCommit },
  { name: "borrowed producer ids", run: borrowedProducerIds },
]);
