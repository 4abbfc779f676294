/**
 * Fault matrix: responses lost INSIDE the AWS SDK's retry loop. DynamoDB applied the request, the
 * connection dropped, and the SDK sent the very same request again on its own — the broker never
 * learns there were two. Each row aims at one write of the protocol: the offset reservation, the
 * batch append, the transaction, the offset commit.
 */
import { matrix, type RowContext } from "./matrix.js";
import { offsetCommitScenario, producersScenario, transactionsScenario } from "./scenarios.js";
import type { TestBroker } from "../support/broker.js";
import type { FaultRule } from "../../local/faults/dynamodb-faults.js";
import { isClaim, isReservation, sdkRetriedAck, touches } from "./workloads.js";

const TRANSACT = /^TransactWriteItemsCommand$/;
/** One in three: with three SDK attempts, about one request in 27 still reaches the broker as a timeout. */
const P = 0.35;

/** The first matching request on the first instance always loses its response; then one in three. */
const arm = (rule: FaultRule) => (lambdas: readonly TestBroker[]) => {
  lambdas[0]!.chaos.addRule({ ...rule, probability: 1, times: 1 });
  for (const lambda of lambdas) lambda.chaos.addRule(rule);
};

const logWrites = (ctx: RowContext) => touches(ctx.tables.log);

matrix("test/fault-matrix/sdk-retries.test.ts", [
  {
    name: "SDK retries an applied reservation",
    run: (ctx) =>
      producersScenario(ctx, { plain: true, arm: arm(sdkRetriedAck(/^UpdateItemCommand$/, P, isReservation)) }),
  },
  {
    name: "SDK retries an applied append",
    run: (ctx) =>
      producersScenario(ctx, { plain: true, arm: arm(sdkRetriedAck(/^(TransactWriteItems|PutItem)Command$/, P, logWrites(ctx))) }),
  },
  {
    name: "SDK retries an applied sequence claim",
    run: (ctx) => producersScenario(ctx, { plain: false, arm: arm(sdkRetriedAck(/^UpdateItemCommand$/, P, isClaim)) }),
  },
  {
    name: "SDK retries an applied transaction",
    run: (ctx) => transactionsScenario(ctx, { arm: arm(sdkRetriedAck(TRANSACT, P)) }),
  },
  {
    name: "SDK retries an applied offset commit",
    run: (ctx) => offsetCommitScenario(ctx, { arm: arm(sdkRetriedAck(TRANSACT, P, touches(ctx.tables.offsets))) }),
  },
]);
