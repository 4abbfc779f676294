/**
 * The deployed scheduled compactor (docs/compaction.md, "Running it"): an EventBridge rule invokes
 * this function every few minutes; each run makes one compaction pass over every compacted topic,
 * through the same core the `POST /v1/topics/:topic/compact` route uses. A partition unchanged
 * since its last complete pass, or with less than half of it new (Kafka's min.cleanable.dirty.ratio),
 * costs one counter read, so a schedule over idle topics is nearly free and a busy partition is
 * re-read only once it has doubled. Runs never overlap in effect: the function's reserved concurrency is 1.
 */
import { Logger } from "./logger.js";
import type { Context } from "aws-lambda";
import { brokerContext, compactionOperations } from "../core/broker-areas.js";
import { MIN_CLEANABLE_DIRTY_RATIO, type CompactAllResult } from "../core/compactor.js";
import { LogReader } from "../core/log-reader.js";
import { TopicCatalog } from "../core/topics.js";
import { createDynamoStorage } from "../storage/dynamo-storage.js";
import { runtimeConfigFromEnv } from "./config.js";
import { createDynamoDbClient } from "./dynamodb-client.js";

/**
 * No topic's pass starts with less than this left of the invocation: a pass that the timeout cuts
 * short is harmless (its rewrites stand) but saves no checkpoint, so it is better left to the next run.
 */
export const COMPACTION_PASS_RESERVE_MS = 60_000;

/** What one run did, logged as one line and returned (the invocation's result, visible in tests). */
export interface CompactionRunSummary {
  readonly topics: number;
  readonly partitions: number;
  /** Partitions not read: nothing could have changed since their last complete pass. */
  readonly unchangedPartitions: number;
  /** Partitions not read: too little appended since their last complete pass (Kafka's min.cleanable.dirty.ratio). */
  readonly notDirtyEnoughPartitions: number;
  readonly removedRecords: number;
  readonly removedTombstones: number;
  readonly rewrittenBatches: number;
  readonly failedTopics: readonly string[];
  readonly notStartedTopics: readonly string[];
}

export function summarizeCompaction(result: CompactAllResult): CompactionRunSummary {
  const partitions = result.compacted.flatMap((t) => t.partitions);
  const sum = (pick: (p: (typeof partitions)[number]) => number) => partitions.reduce((total, p) => total + pick(p), 0);
  return {
    topics: result.compacted.length,
    partitions: partitions.length,
    unchangedPartitions: partitions.filter((p) => p.skipped === "unchanged").length,
    notDirtyEnoughPartitions: partitions.filter((p) => p.skipped === "dirty-ratio").length,
    removedRecords: sum((p) => p.removedRecords),
    removedTombstones: sum((p) => p.removedTombstones),
    rewrittenBatches: sum((p) => p.rewrittenBatches),
    failedTopics: result.failed.map((f) => f.topic),
    notStartedTopics: result.notStarted,
  };
}

export type ScheduledCompactionHandler = (event: unknown, context: Pick<Context, "getRemainingTimeInMillis">) => Promise<CompactionRunSummary>;

export interface ScheduledCompactionDependencies {
  readonly compactAllTopics: (options: { readonly startBefore: number; readonly minDirtyRatio: number }) => Promise<CompactAllResult>;
  readonly clock: () => number;
  readonly logger: Pick<Logger, "info" | "error">;
}

/** The handler's logic over named dependencies (tests give it a broker over DynamoDB Local). */
export function scheduledCompaction(deps: ScheduledCompactionDependencies): ScheduledCompactionHandler {
  return async (_event, context) => {
    const startBefore = deps.clock() + context.getRemainingTimeInMillis() - COMPACTION_PASS_RESERVE_MS;
    const result = await deps.compactAllTopics({ startBefore, minDirtyRatio: MIN_CLEANABLE_DIRTY_RATIO });
    for (const { topic, error } of result.failed) deps.logger.error("compaction pass failed", { topic, error: error instanceof Error ? error.message : String(error) });
    const summary = summarizeCompaction(result);
    deps.logger.info("compaction run", { ...summary });
    return summary;
  };
}

export function lambdaCompactor(): ScheduledCompactionHandler {
  const config = runtimeConfigFromEnv();
  const logger = new Logger({ serviceName: config.serviceName, logLevel: config.logLevel, persistentKeys: { function: "compactor" } });
  const client = createDynamoDbClient(config);
  // The compaction area alone (core/broker-areas.ts): the rest of the broker would only weigh on the cold start.
  const ctx = brokerContext({ storage: createDynamoStorage(client, config.tables), config: config.broker });
  const { compactAllTopics } = compactionOperations(ctx, new TopicCatalog(ctx), new LogReader(ctx));
  return scheduledCompaction({ compactAllTopics: (options) => compactAllTopics(options), clock: Date.now, logger });
}
