/**
 * The deployed history sampler (docs/console.md, "History"): an EventBridge rule invokes the
 * history function (shared/runtime/history.ts) every minute; each run samples every topic and
 * consumer group into the one-minute bucket of its start, so the rate is the charts' resolution.
 * A run delivered twice, or one overlapping the next, writes each bucket once
 * (conditional puts), so nothing needs reserved concurrency.
 */
import { Duration } from "aws-cdk-lib";
import { Rule, Schedule } from "aws-cdk-lib/aws-events";
import { LambdaFunction as LambdaTarget } from "aws-cdk-lib/aws-events-targets";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import { Construct } from "constructs";
import type { FunctionSettings } from "./functions.js";

/** One sample a minute: EventBridge's finest rate, and the local broker's default. */
export const DEFAULT_HISTORY_RATE = Duration.minutes(1);
/** Samples are kept a day (shared/core/history.ts): a rate past an hour would leave charts nearly empty. */
const MAX_HISTORY_RATE = Duration.hours(1);

export interface HistoryScheduleProps {
  /** How often a sample is taken. Default: every minute; a whole number of minutes up to 60. */
  readonly rate?: Duration;
}

/** The history function's settings for a rate: a run's timeout stays under it (never over 5 minutes). */
export function historySettings(rate: Duration): FunctionSettings {
  const rateMs = rate.toMilliseconds();
  if (rateMs < DEFAULT_HISTORY_RATE.toMilliseconds() || rateMs > MAX_HISTORY_RATE.toMilliseconds() || rateMs % 60_000 !== 0) {
    throw new Error(`history.rate must be a whole number of minutes from 1 to 60 (EventBridge rates; samples are kept a day), got ${rateMs} ms`);
  }
  return {
    timeout: Duration.seconds(Math.min(5 * 60, rateMs / 1000 - 5)),
    description: "Dynalog history sampler: topics' high watermarks and groups' lag for the console's charts (docs/console.md)",
  };
}

export class HistorySchedule extends Construct {
  readonly rule: Rule;

  constructor(scope: Construct, id: string, props: { readonly sampler: IFunction; readonly rate: Duration }) {
    super(scope, id);
    this.rule = new Rule(this, "Rule", {
      description: "Takes a Dynalog history sample (docs/console.md)",
      schedule: Schedule.rate(props.rate),
    });
    // A missed sample is not retried: the next one comes at the next tick (the chart has a gap).
    this.rule.addTarget(new LambdaTarget(props.sampler, { retryAttempts: 0, maxEventAge: Duration.seconds(Math.max(60, props.rate.toSeconds())) }));
  }
}
