/**
 * Fault matrix: the Lambda dies between two DynamoDB steps of an append and of a transaction.
 * A probe first lists the requests one operation makes on a fresh instance; then, for every k, an
 * instance runs the operation and dies after k of them (every later request fails before it is
 * sent, cleanup included; k = all of them: it dies before answering). The client sees an unknown
 * outcome and retries the same request on another instance. Whatever the dead instance reserved
 * is left as a gap, which readers void once the hole timeout (TestClock) has passed.
 */
import type { Broker } from "../../shared/core/broker.js";
import type { TestBroker } from "../support/broker.js";
import { uniqueName } from "../support/dynamodb.js";
import { matrix, type RowContext } from "./matrix.js";
import { dieAfter, dieAfterMatch, IdempotentProducer, isClaim, LambdaDied, probeSteps, TransactionalProducer } from "./workloads.js";

/** An instance that dies after `steps` DynamoDB requests, or (steps = all) after doing everything but answering. */
function dyingInstance(ctx: RowContext, steps: number, total: number): Broker {
  const lambda: TestBroker = ctx.lambda();
  if (steps < total) {
    dieAfter(lambda, steps);
    return lambda.broker;
  }
  const died = () => new LambdaDied(`the instance died after all ${total} DynamoDB requests, before answering`);
  return {
    ...lambda.broker,
    produce: (input) => lambda.broker.produce(input).then(() => Promise.reject(died())),
    commitTransaction: (input) => lambda.broker.commitTransaction(input).then(() => Promise.reject(died())),
  };
}

/** A consumer that follows the partition between crashes (through voided gaps), recorded. */
class Follower {
  private offset = 0;
  constructor(
    private readonly ctx: RowContext,
    private readonly broker: Broker,
    private readonly topic: string,
    private readonly partition: number,
  ) {}

  async catchUp(): Promise<void> {
    for (let guard = 0; guard < 20; guard++) {
      const polled = await this.ctx.poll(this.broker, { process: `c${this.partition}`, topic: this.topic, partition: this.partition, offset: this.offset, maxRecords: this.ctx.int(1, 6) });
      if (polled.nextOffset === this.offset) return;
      this.offset = polled.nextOffset;
    }
  }
}

async function crashDuringAppend(ctx: RowContext): Promise<void> {
  const reader = ctx.lambda();
  const topic = await ctx.topic(reader.broker, 1);
  const producer = await IdempotentProducer.init(ctx, reader.broker, "p");
  const probe = ctx.lambda();
  const steps = await probeSteps(probe, () => producer.send([probe.broker], topic, 0, 1));
  const follower = new Follower(ctx, reader.broker, topic, 0);
  for (let k = 0; k <= steps.length; k++) {
    const dying = dyingInstance(ctx, k, steps.length);
    const survivor = ctx.lambda();
    if (ctx.chance(0.5)) {
      // Another writer reserves after the dead one: its gap is no longer the partition's last.
      await ctx.send({ process: "other", topic, partition: 0, values: ctx.values("other", ctx.int(1, 2)), brokers: [survivor.broker], attempts: 1 });
    }
    const resolution = await producer.send([dying, survivor.broker], topic, 0, ctx.int(1, 3));
    if (resolution?.outcome !== "ok") ctx.violation(`after dying at step ${k} (${steps.slice(0, k).join(" → ") || "before any request"}), the retry ended ${resolution?.outcome}: ${resolution?.errors.join(", ")}`);
    if (producer.broken) return;
    ctx.passHoleTimeout();
    await follower.catchUp();
  }
  await ctx.drain(reader.broker, [{ topic, partitions: 1 }]);
}

/**
 * The instance dies right after claiming its sequences (docs/append.md), before its batch put. The
 * dead claim's slot is past the hole timeout as the client retries, so a reader's hole filling races
 * the retry's settling of the claim: whichever voids the slot first, the batch lands exactly once.
 * With `stale`, every instance answers most eventually consistent reads from an older view.
 */
async function deadClaims(ctx: RowContext, stale: boolean): Promise<void> {
  if (stale) {
    const lambdaOf = ctx.lambda.bind(ctx);
    ctx.lambda = (options) => {
      const lambda = lambdaOf(options);
      lambda.chaos.setStaleReads({ probability: 0.9 });
      return lambda;
    };
  }
  const reader = ctx.lambda();
  const topic = await ctx.topic(reader.broker, 1);
  const producer = await IdempotentProducer.init(ctx, reader.broker, "p");
  const follower = new Follower(ctx, reader.broker, topic, 0);
  for (let round = 0; round < 4; round++) {
    const dying = ctx.lambda();
    dieAfterMatch(dying, isClaim);
    let filling: Promise<void> | undefined;
    const racing: Broker = {
      ...dying.broker,
      produce: (input) =>
        dying.broker.produce(input).finally(() => {
          ctx.passHoleTimeout();
          filling = follower.catchUp();
        }),
    };
    const resolution = await producer.send([racing, ctx.lambda().broker], topic, 0, ctx.int(1, 3));
    await filling;
    if (resolution?.outcome !== "ok") ctx.violation(`round ${round}: the retry after a dead claim ended ${resolution?.outcome}: ${resolution?.errors.join(", ")}`);
    if (producer.broken) return;
    if (ctx.chance(0.5)) await ctx.send({ process: "other", topic, partition: 0, values: ctx.values("other", ctx.int(1, 2)), brokers: [ctx.lambda().broker], attempts: 1 });
  }
  await ctx.drain(reader.broker, [{ topic, partitions: 1 }]);
}

async function crashDuringTransaction(ctx: RowContext): Promise<void> {
  const reader = ctx.lambda();
  const output = await ctx.topic(reader.broker, 2, "mx-out");
  const input = await ctx.topic(reader.broker, 1, "mx-in");
  await ctx.send({ process: "src", topic: input, partition: 0, values: ctx.values("src", 30), brokers: [reader.broker] });
  const group = uniqueName("g");
  const producer = await TransactionalProducer.init(ctx, reader.broker, "t", uniqueName("tid"));
  let consumed = 0;
  const commitNext = (brokers: readonly Broker[]) => {
    const offsets = { group, offsets: [{ topic: input, partition: 0, offset: consumed + 1 }] };
    const sends = [{ topic: output, partition: 0 }, { topic: output, partition: 1 }, ...(ctx.chance(0.5) ? [{ topic: output, partition: ctx.int(0, 1) }] : [])];
    return producer.commit(brokers, sends, { offsets });
  };
  const probe = ctx.lambda();
  const steps = await probeSteps(probe, () => commitNext([probe.broker]));
  consumed += 1;
  const followers = [0, 1].map((p) => new Follower(ctx, reader.broker, output, p));
  for (let k = 0; k <= steps.length; k++) {
    const dying = dyingInstance(ctx, k, steps.length);
    const survivor = ctx.lambda();
    const resolution = await commitNext([dying, survivor.broker]);
    if (resolution?.outcome !== "ok") ctx.violation(`after dying at step ${k} (${steps.slice(0, k).join(" → ") || "before any request"}), the retried commit ended ${resolution?.outcome}: ${resolution?.errors.join(", ")}`);
    if (producer.broken) return;
    consumed += 1;
    ctx.passHoleTimeout();
    for (const follower of followers) await follower.catchUp();
  }
  const [committed] = await reader.broker.committedOffsets(group, input);
  if (committed!.offset !== consumed) ctx.violation(`the transactions committed offset ${consumed} last, the group has ${committed!.offset}`);
  await ctx.drain(reader.broker, [
    { topic: input, partitions: 1 },
    { topic: output, partitions: 2 },
  ]);
}

/**
 * A transaction too large for one TransactWriteItems (docs/transactions.md: staged batch items, then
 * a small commit): the instance dies after a random number of its ~200 requests — while reserving,
 * while staging, right before or after the commit — and the client retries on another instance.
 * Followers poll in between (before and after the hole timeout): never a partial transaction, never
 * a dead attempt's records, each committed transaction exactly once.
 */
async function crashDuringLargeTransaction(ctx: RowContext): Promise<void> {
  const partitions = 100; // with the transactional id: 101 actions, one past a TransactWriteItems
  const reader = ctx.lambda();
  const output = await ctx.topic(reader.broker, partitions, "mx-wide");
  const producer = await TransactionalProducer.init(ctx, reader.broker, "t", uniqueName("tid"));
  const sends = Array.from({ length: partitions }, (_, partition) => ({ topic: output, partition }));
  const probe = ctx.lambda();
  const steps = await probeSteps(probe, () => producer.commit([probe.broker], sends));
  const followers = [0, 1, partitions - 1].map((p) => new Follower(ctx, reader.broker, output, p));
  for (let round = 0; round < 3; round++) {
    const k = ctx.int(0, steps.length);
    const resolution = await producer.commit([dyingInstance(ctx, k, steps.length), ctx.lambda().broker], sends);
    if (resolution?.outcome !== "ok") ctx.violation(`after dying at step ${k} of ${steps.length}, the retried commit ended ${resolution?.outcome}: ${resolution?.errors.join(", ")}`);
    if (producer.broken) return;
    for (const follower of followers) await follower.catchUp();
    ctx.passHoleTimeout();
    for (const follower of followers) await follower.catchUp();
  }
  await ctx.drain(reader.broker, [{ topic: output, partitions }]);
}

matrix("test/fault-matrix/crashes.test.ts", [
  { name: "crash between the DynamoDB steps of an append", run: crashDuringAppend, timeoutMs: 120_000 },
  { name: "crash between the DynamoDB steps of a transaction", run: crashDuringTransaction, timeoutMs: 120_000 },
  { name: "crash at a random step of a transaction too large for one TransactWriteItems", run: crashDuringLargeTransaction, timeoutMs: 300_000 },
  { name: "crash between the sequence claim and the batch put; the retry races the hole filler", run: (ctx) => deadClaims(ctx, false), timeoutMs: 120_000 },
  { name: "crash between the sequence claim and the batch put, with stale reads everywhere", run: (ctx) => deadClaims(ctx, true), timeoutMs: 120_000 },
]);
