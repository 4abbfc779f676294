/**
 * The deployed scheduled compactor (docs/compaction.md, "Running it"): an EventBridge rule invokes
 * the compactor function (shared/runtime/compactor.ts) at a fixed rate; each run makes one pass over
 * every compacted topic. The function's timeout is kept below the rate, so runs never overlap in the
 * normal case; if EventBridge delivers a run twice, two passes at once leave what one leaves (each
 * rewrite is conditional on the batch being the one read — test/integration/compaction.test.ts).
 */
import { Duration } from "aws-cdk-lib";
import type { FunctionSettings } from "./functions.js";
import { minuteRateMs } from "./rate-schedule.js";

/** Kafka's cleaner looks every 15 s; a pass here costs reads, and 5 minutes keeps an idle stack's runs at ~8,900 a month. */
export const DEFAULT_COMPACTION_RATE = Duration.minutes(5);
/** What the compaction schedule's rule says it does (infra/rate-schedule.ts). */
export const COMPACTION_SCHEDULE_DESCRIPTION = "Starts a Dynalog compaction run (docs/compaction.md)";

export interface CompactionScheduleProps {
  /** How often a run starts. Default: every 5 minutes; at least 1 minute. */
  readonly rate?: Duration;
}

/** The compactor's timeout for a rate: just under it (never more than Lambda's 15 minutes), so runs do not overlap. */
export function compactorSettings(rate: Duration): FunctionSettings {
  const rateMs = minuteRateMs(rate, "compaction.rate");
  return {
    timeout: Duration.seconds(Math.min(15 * 60, rateMs / 1000 - 10)),
    description: "Dynalog scheduled compaction of compacted topics (docs/compaction.md)",
  };
}
