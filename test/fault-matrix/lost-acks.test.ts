/**
 * Fault matrix: lost acknowledgements OUTSIDE the SDK's retry loop. DynamoDB applied the write,
 * the broker sees a timeout, the client sees an indefinite outcome and retries the very same
 * request (same producer id, epoch and sequence; same offsets) on another broker instance.
 */
import { matrix, type RowContext } from "./matrix.js";
import { offsetCommitScenario, producersScenario, transactionsScenario } from "./scenarios.js";
import { isClaim, lostAck, touches, WRITES } from "./workloads.js";

const TRANSACT = /^TransactWriteItemsCommand$/;

/** Writes of the offsets table (the commit's transaction; lib-dynamodb input names the table verbatim). */
const offsetWrites = (ctx: RowContext) => touches(ctx.tables.offsets);

matrix("test/fault-matrix/lost-acks.test.ts", [
  {
    name: "lost ack on produce",
    // The first append's ack is always lost; after that one write in five (reservations, appends, voids).
    run: (ctx) =>
      producersScenario(ctx, {
        plain: true,
        arm: ([a, b]) => {
          a!.chaos.addRule({ ...lostAck(/^(TransactWriteItems|PutItem)Command$/, 1, touches(ctx.tables.log)), times: 1 });
          for (const lambda of [a!, b!]) lambda.chaos.addRule(lostAck(WRITES, 0.2));
        },
      }),
  },
  {
    name: "lost ack on the idempotent sequence claim",
    // The first claim's ack is always lost (docs/append.md); after that one claim in three.
    run: (ctx) =>
      producersScenario(ctx, {
        plain: false,
        arm: ([a, b]) => {
          a!.chaos.addRule({ ...lostAck(/^UpdateItemCommand$/, 1, isClaim), times: 1 });
          for (const lambda of [a!, b!]) lambda.chaos.addRule(lostAck(/^UpdateItemCommand$/, 0.3, isClaim));
        },
      }),
  },
  {
    name: "lost ack on offset commit",
    run: (ctx) =>
      offsetCommitScenario(ctx, {
        arm: ([a, b]) => {
          a!.chaos.addRule({ ...lostAck(TRANSACT, 1, offsetWrites(ctx)), times: 1 });
          for (const lambda of [a!, b!]) lambda.chaos.addRule(lostAck(WRITES, 0.3, offsetWrites(ctx)));
        },
      }),
  },
  {
    name: "lost ack on transaction commit",
    run: (ctx) =>
      transactionsScenario(ctx, {
        arm: ([a, b]) => {
          a!.chaos.addRule({ ...lostAck(TRANSACT, 1), times: 1 });
          for (const lambda of [a!, b!]) lambda.chaos.addRule(lostAck(TRANSACT, 0.3));
        },
      }),
  },
]);
