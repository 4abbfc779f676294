/**
 * The local broker's history sampler: every `intervalMs`, one sample of every topic and consumer
 * group (shared/core/history.ts; docs/console.md, "History"), in this process, through the same
 * core the deployed history function runs on its schedule. Tests call `sampleOnce(now)` with an
 * injected time instead of waiting for the timer.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { createBroker } from "../shared/core/broker.js";
import type { HistoryRun } from "../shared/core/history.js";
import { createDynamoStorage } from "../shared/storage/dynamo-storage.js";
import type { TableNames } from "../shared/storage/tables.js";
import { localDynamoDbClientConfig } from "./dynamodb-local.js";

export { DEFAULT_HISTORY_INTERVAL_MS } from "../shared/core/history.js";

export interface PeriodicHistory {
  /** Take a sample now (or at `now`, in the bucket of that time); runs one after another, never two at once. */
  sampleOnce(now?: number): Promise<HistoryRun>;
  /** No new sample starts; resolves when the running one (if any) has finished. */
  stop(): Promise<void>;
}

export function startPeriodicHistory(options: {
  readonly endpoint: string;
  readonly tables: TableNames;
  readonly intervalMs: number;
  /** Run the timer (default true); without it, samples are taken only by `sampleOnce`. */
  readonly autoStart?: boolean;
  readonly onError?: (what: string, error: unknown) => void;
}): PeriodicHistory {
  const client = new DynamoDBClient(localDynamoDbClientConfig(options.endpoint));
  const broker = createBroker({ storage: createDynamoStorage(client, options.tables) });
  let queue: Promise<unknown> = Promise.resolve();
  let stopped = false;

  const sampleOnce = (now: number = Date.now()): Promise<HistoryRun> => {
    const run = queue.then(() => broker.sampleHistory(now, options.intervalMs));
    queue = run.catch(() => undefined);
    return run;
  };

  const timer = setInterval(() => {
    if (stopped || options.autoStart === false) return;
    sampleOnce().then(
      (run) => {
        for (const failure of run.failed) options.onError?.(`${failure.kind} ${failure.name}`, failure.error);
      },
      (error: unknown) => options.onError?.("run", error),
    );
  }, options.intervalMs);
  timer.unref();

  return {
    sampleOnce,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await queue;
      client.destroy();
    },
  };
}
