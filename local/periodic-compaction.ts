/**
 * The local broker's compactor: every `intervalMs`, one compaction pass over every compacted topic
 * (docs/compaction.md), in this process, through the same core the admin route uses. Deployed,
 * a scheduled function does the same (docs/compaction.md, "Running it").
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { createBroker } from "../shared/core/broker.js";
import { MIN_CLEANABLE_DIRTY_RATIO } from "../shared/core/compactor.js";
import { createDynamoStorage } from "../shared/storage/dynamo-storage.js";
import type { TableNames } from "../shared/storage/tables.js";
import { localDynamoDbClientConfig } from "./dynamodb-local.js";

/** Kafka's log.cleaner.backoff.ms is 15 s; a minute keeps a laptop's DynamoDB Local quiet. */
export const DEFAULT_COMPACTION_INTERVAL_MS = 60_000;

export interface PeriodicCompaction {
  /** Run a pass now (waits for one already running instead of starting a second). */
  runOnce(): Promise<void>;
  /** No new pass starts; resolves when the running one (if any) has finished. */
  stop(): Promise<void>;
}

export function startPeriodicCompaction(options: {
  readonly endpoint: string;
  readonly tables: TableNames;
  readonly intervalMs: number;
  readonly onError?: (topic: string, error: unknown) => void;
}): PeriodicCompaction {
  const client = new DynamoDBClient(localDynamoDbClientConfig(options.endpoint));
  const broker = createBroker({ storage: createDynamoStorage(client, options.tables) });
  let running: Promise<void> | undefined;
  let stopped = false;

  const runOnce = (): Promise<void> => {
    running ??= (async () => {
      try {
        const { failed } = await broker.compactAllTopics({ minDirtyRatio: MIN_CLEANABLE_DIRTY_RATIO });
        for (const { topic, error } of failed) options.onError?.(topic, error);
      } catch (error) {
        options.onError?.("*", error);
      } finally {
        running = undefined;
      }
    })();
    return running;
  };

  const timer = setInterval(() => {
    if (!stopped) void runOnce();
  }, options.intervalMs);
  timer.unref();

  return {
    runOnce,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
      client.destroy();
    },
  };
}
