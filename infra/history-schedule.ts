/**
 * The deployed history sampler (docs/console.md, "History"): an EventBridge rule invokes the
 * history function (shared/runtime/history.ts) every minute; each run samples every topic and
 * consumer group into the one-minute bucket of its start, so the rate is the charts' resolution.
 * A run delivered twice, or one overlapping the next, writes each bucket once
 * (conditional puts), so nothing needs reserved concurrency.
 */
import { Duration } from "aws-cdk-lib";
import type { FunctionSettings } from "./functions.js";
import { minuteRateMs } from "./rate-schedule.js";

/** One sample a minute: EventBridge's finest rate, and the local broker's default. */
export const DEFAULT_HISTORY_RATE = Duration.minutes(1);
/** Samples are kept a day (shared/core/history.ts): a rate past an hour would leave charts nearly empty. */
const MAX_HISTORY_RATE = Duration.hours(1);
/** What the history schedule's rule says it does (infra/rate-schedule.ts). */
export const HISTORY_SCHEDULE_DESCRIPTION = "Takes a Dynalog history sample (docs/console.md)";

export interface HistoryScheduleProps {
  /** How often a sample is taken. Default: every minute; a whole number of minutes up to 60. */
  readonly rate?: Duration;
}

/** The history function's settings for a rate: a run's timeout stays under it (never over 5 minutes). */
export function historySettings(rate: Duration): FunctionSettings {
  const rateMs = minuteRateMs(rate, "history.rate", { rate: MAX_HISTORY_RATE, why: "samples are kept a day" });
  return {
    timeout: Duration.seconds(Math.min(5 * 60, rateMs / 1000 - 5)),
    description: "Dynalog history sampler: topics' high watermarks and groups' lag for the console's charts (docs/console.md)",
  };
}
