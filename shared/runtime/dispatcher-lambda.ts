/**
 * The deployed push-subscription dispatcher (docs/subscriptions.md, "Deployed design"): one Lambda
 * function, woken two ways, running the same core (shared/core/dispatch.ts) as the local broker:
 *
 * - by the log table's DynamoDB Stream (keys only, inserts): it delivers the partitions those
 *   inserts wrote to, for every active subscription of their topics;
 * - by an EventBridge schedule (every minute): a full sweep, for what no insert wakes — retries
 *   whose backoff expired, batching windows, partitions whose dispatcher died, resumed subscriptions.
 *
 * Either way it keeps going while rounds deliver, until caught up or its time budget ends: a batch
 * starts only while one invocation timeout (plus a margin) still fits before the Lambda timeout,
 * and every lease is given back when a partition's run ends. Delivery failures are the core's
 * business (retries, dead letters) and never fail the invocation; a failure to run at all (the
 * subscription list unreadable) throws, so the stream retries the wake and the sweep catches up.
 */
import { Logger } from "./logger.js";
import type { Context } from "aws-lambda";
import { createBroker } from "../core/broker.js";
import { Dispatcher, type DispatchRound } from "../core/dispatch.js";
import { createDynamoStorage } from "../storage/dynamo-storage.js";
import { partitionsInsertedInto, type LogStreamRecord } from "../storage/log-stream.js";
import { runtimeConfigFromEnv } from "./config.js";
import { createInvoker } from "./invokers.js";
import { createDynamoDbClient } from "./dynamodb-client.js";
import { createWebhookGuard } from "./webhook-guard.js";

/** A DynamoDB Stream batch (event source mapping) or anything else (the schedule's event: a sweep). */
export type DispatcherEvent = { readonly Records: readonly LogStreamRecord[] } | { readonly source?: string; readonly "detail-type"?: string };

export interface DispatcherResult {
  readonly wake: "stream" | "sweep";
  readonly partitions: number;
  readonly rounds: number;
  readonly invocations: number;
  readonly delivered: number;
}

/** How much time a handler has left (the Lambda context's, in tests a stand-in). */
export type RemainingTime = Pick<Context, "getRemainingTimeInMillis">;

export interface DispatcherHandlerOptions {
  readonly clock?: () => number;
}

function isStreamEvent(event: DispatcherEvent): event is { readonly Records: readonly LogStreamRecord[] } {
  return Array.isArray((event as { Records?: unknown }).Records);
}

/** The handler's logic around a Dispatcher (tests drive it against DynamoDB Local). */
export function createDispatcherHandler(dispatcher: Dispatcher, options: DispatcherHandlerOptions = {}) {
  const clock = options.clock ?? Date.now;
  return async (event: DispatcherEvent, context: RemainingTime): Promise<DispatcherResult> => {
    const deadline = clock() + context.getRemainingTimeInMillis();
    const stream = isStreamEvent(event);
    const partitions = stream ? partitionsInsertedInto(event.Records) : [];
    const runRound = (): Promise<DispatchRound> => (stream ? dispatcher.runPartitions(partitions, { deadline }) : dispatcher.runOnce({ deadline }));
    let rounds = 0;
    let invocations = 0;
    let delivered = 0;
    if (!stream || partitions.length > 0) {
      // Again while a round delivered: records produced meanwhile, and partitions that yielded
      // after maxBatchesPerRun. Each round stops on its own at the deadline (no batch is started
      // that could not finish).
      for (;;) {
        const round = await runRound();
        rounds++;
        invocations += round.invocations;
        delivered += round.delivered;
        if (round.invocations === 0) break;
      }
    }
    return { wake: stream ? "stream" : "sweep", partitions: partitions.length, rounds, invocations, delivered };
  };
}

/** The deployed dispatcher: configuration from the environment, built once per cold start. */
export function lambdaDispatcher(): (event: DispatcherEvent, context: Context) => Promise<DispatcherResult> {
  const config = runtimeConfigFromEnv();
  const logger = new Logger({ serviceName: config.serviceName, logLevel: config.logLevel, persistentKeys: { function: "dispatcher" } });
  const client = createDynamoDbClient(config);
  const broker = createBroker({ storage: createDynamoStorage(client, config.tables), config: config.broker });
  const dispatcher = new Dispatcher({
    broker,
    invoker: createInvoker(config.webhookGuard ? { guard: createWebhookGuard() } : {}),
    // The time budget, not a batch count, ends a deployed run.
    maxBatchesPerRun: 1_000,
    onError: (error, where) => logger.error("subscription partition run failed", { ...where, error: error instanceof Error ? error.message : String(error) }),
  });
  const handle = createDispatcherHandler(dispatcher);
  return async (event, context) => {
    logger.addContext(context);
    try {
      const result = await handle(event, context);
      if (result.invocations > 0) logger.info("dispatched", { ...result });
      return result;
    } catch (error) {
      logger.error("dispatcher run failed", error as Error);
      throw error;
    } finally {
      logger.resetKeys();
    }
  };
}
