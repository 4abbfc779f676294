/**
 * The deployed history sampler (docs/console.md, "History"): an EventBridge rule invokes this
 * function every minute; each run takes one sample of every topic and consumer group through the
 * same core the local broker's timer uses (shared/core/history.ts), in the bucket of the run's
 * start. A run EventBridge delivers twice, or one that overlaps the next, writes each bucket once:
 * the items are conditional puts (shared/storage/history-store.ts).
 */
import { brokerContext, historyOperations } from "../core/broker-areas.js";
import type { HistoryRun } from "../core/history.js";
import { LogReader } from "../core/log-reader.js";
import { TopicCatalog } from "../core/topics.js";
import { createDynamoStorage } from "../storage/dynamo-storage.js";
import { runtimeConfigFromEnv } from "./config.js";
import { createDynamoDbClient } from "./dynamodb-client.js";
import { Logger } from "./logger.js";

/** What one run did, logged as one line and returned (the invocation's result, visible in tests). */
export interface HistoryRunSummary {
  readonly bucket: string;
  readonly topicsWritten: number;
  readonly topicsAlreadySampled: number;
  readonly groupsWritten: number;
  readonly groupsAlreadySampled: number;
  readonly failed: readonly string[];
}

export type ScheduledHistoryHandler = (event: unknown) => Promise<HistoryRunSummary>;

export interface ScheduledHistoryDependencies {
  readonly sampleHistory: (now: number) => Promise<HistoryRun>;
  readonly clock: () => number;
  readonly logger: Pick<Logger, "info" | "error">;
}

/** The handler's logic over named dependencies (tests give it a broker over DynamoDB Local). */
export function scheduledHistory(deps: ScheduledHistoryDependencies): ScheduledHistoryHandler {
  return async () => {
    const run = await deps.sampleHistory(deps.clock());
    for (const { kind, name, error } of run.failed) deps.logger.error("history sample failed", { kind, name, error: error instanceof Error ? error.message : String(error) });
    const summary: HistoryRunSummary = {
      bucket: new Date(run.bucket).toISOString(),
      topicsWritten: run.topics.written,
      topicsAlreadySampled: run.topics.existing,
      groupsWritten: run.groups.written,
      groupsAlreadySampled: run.groups.existing,
      failed: run.failed.map((f) => `${f.kind}:${f.name}`),
    };
    deps.logger.info("history run", { ...summary });
    // A run that sampled nothing it was asked to is an error: the BackgroundFunctionErrors alarm sees it.
    if (run.failed.length > 0 && run.topics.written + run.groups.written + run.topics.existing + run.groups.existing === 0) {
      throw new Error(`Every history sample of this run failed (${run.failed.length}); see the log lines before`);
    }
    return summary;
  };
}

export function lambdaHistory(): ScheduledHistoryHandler {
  const config = runtimeConfigFromEnv();
  const logger = new Logger({ serviceName: config.serviceName, logLevel: config.logLevel, persistentKeys: { function: "history" } });
  const client = createDynamoDbClient(config);
  // The history area alone (core/broker-areas.ts): the rest of the broker would only weigh on the cold start.
  const ctx = brokerContext({ storage: createDynamoStorage(client, config.tables), config: config.broker });
  const history = historyOperations(ctx, new TopicCatalog(ctx), new LogReader(ctx));
  return scheduledHistory({ sampleHistory: (now) => history.sampleHistory(now), clock: Date.now, logger });
}
