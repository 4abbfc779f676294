/**
 * Fault matrix: load and contention. Throttling storms (DynamoDB refuses a share of all requests;
 * the SDK backs off and retries, and what it gives up on reaches the broker and the client),
 * TransactionConflict cancellations, eventually consistent reads answered from an older view on
 * every instance, and 16 producers appending to one partition at once.
 */
import type { FaultRule } from "../../local/faults/dynamodb-faults.js";
import type { TestBroker } from "../support/broker.js";
import { matrix, type Row, type RowContext } from "./matrix.js";
import { mixedScenario } from "./scenarios.js";
import { ANY_COMMAND, IdempotentProducer, lostAck, plan, WRITES } from "./workloads.js";

function throttled(probability: number): FaultRule[] {
  return [
    // Most throttles are retried by the SDK (with its back-off); a few reach the broker directly.
    { name: "throttle", commands: ANY_COMMAND, placement: "inside-retries", probability, action: { kind: "throttle" } },
    { name: "throttle, seen by the broker", commands: ANY_COMMAND, placement: "outside-retries", probability: probability / 4, action: { kind: "throttle", error: "ThrottlingException" } },
  ];
}

const armAll = (rules: readonly FaultRule[]) => (lambdas: readonly TestBroker[]) => {
  for (const lambda of lambdas) for (const rule of rules) lambda.chaos.addRule(rule);
};

const throttlingRow = (percent: number): Row => ({
  name: `throttling storm at ${percent}%`,
  timeoutMs: 120_000,
  run: (ctx) =>
    mixedScenario(ctx, {
      steps: percent >= 50 ? 4 : 6,
      arm: (lambdas) => {
        armAll(throttled(percent / 100))(lambdas);
      },
    }),
});

async function staleReadsEverywhere(ctx: RowContext): Promise<void> {
  // Every instance, the reader and the copier included, answers 90% of eventually consistent reads stale.
  const lambdaOf = ctx.lambda.bind(ctx);
  ctx.lambda = (options) => {
    const lambda = lambdaOf(options);
    lambda.chaos.setStaleReads({ probability: 0.9 });
    return lambda;
  };
  await mixedScenario(ctx, { steps: 6, arm: () => {} });
}

async function sixteenAppenders(ctx: RowContext): Promise<void> {
  const reader = ctx.lambda();
  const topic = await ctx.topic(reader.broker, 1);
  const lambdas = Array.from({ length: 4 }, () => ctx.lambda());
  for (const lambda of lambdas) lambda.chaos.addRule(lostAck(WRITES, 0.03));
  const producers = await Promise.all(Array.from({ length: 16 }, (_, i) => IdempotentProducer.init(ctx, reader.broker, `p${i}`)));
  const plans = producers.map(() => plan(ctx, 3, () => ctx.int(1, 3)));
  await Promise.all(
    producers.map(async (producer, i) => {
      const brokers = [lambdas[i % 4]!.broker, lambdas[(i + 1) % 4]!.broker];
      for (const count of plans[i]!) await producer.send(brokers, topic, 0, count);
    }),
  );
  await ctx.drain(reader.broker, [{ topic, partitions: 1 }]);
}

matrix("test/fault-matrix/storms.test.ts", [
  throttlingRow(5),
  throttlingRow(20),
  throttlingRow(50),
  {
    name: "transaction conflicts",
    run: (ctx) => mixedScenario(ctx, { arm: armAll([{ name: "conflict", commands: /^TransactWriteItemsCommand$/, probability: 0.3, action: { kind: "transaction-conflict" } }]) }),
  },
  { name: "stale reads everywhere", run: staleReadsEverywhere },
  { name: "16 concurrent appenders on one partition", run: sixteenAppenders, timeoutMs: 120_000 },
]);
