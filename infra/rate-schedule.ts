/**
 * A function invoked by EventBridge at a fixed rate, the shape the scheduled compactor and the
 * history sampler share. No retries: a missed tick's work is what the next tick does anyway.
 */
import { Duration } from "aws-cdk-lib";
import { Rule, Schedule } from "aws-cdk-lib/aws-events";
import { LambdaFunction as LambdaTarget } from "aws-cdk-lib/aws-events-targets";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import { Construct } from "constructs";

/** EventBridge's finest rate. */
export const MIN_RATE = Duration.minutes(1);

/**
 * `rate` in milliseconds when it is a whole number of minutes (EventBridge rates) from 1 to `max`;
 * otherwise an error naming the construct prop (`setting`) that carried it.
 */
export function minuteRateMs(rate: Duration, setting: string, max?: { readonly rate: Duration; readonly why: string }): number {
  const rateMs = rate.toMilliseconds();
  const tooLong = max !== undefined && rateMs > max.rate.toMilliseconds();
  if (rateMs < MIN_RATE.toMilliseconds() || tooLong || rateMs % 60_000 !== 0) {
    const range = max ? ` from 1 to ${max.rate.toMinutes()} (EventBridge rates; ${max.why})` : ", at least 1 (EventBridge rates)";
    throw new Error(`${setting} must be a whole number of minutes${range}, got ${rateMs} ms`);
  }
  return rateMs;
}

export interface RateScheduleProps {
  readonly target: IFunction;
  readonly rate: Duration;
  readonly description: string;
  /** How late a tick may still start its run; past it EventBridge drops the event. */
  readonly maxEventAge: Duration;
}

export class RateSchedule extends Construct {
  readonly rule: Rule;

  constructor(scope: Construct, id: string, props: RateScheduleProps) {
    super(scope, id);
    this.rule = new Rule(this, "Rule", { description: props.description, schedule: Schedule.rate(props.rate) });
    this.rule.addTarget(new LambdaTarget(props.target, { retryAttempts: 0, maxEventAge: props.maxEventAge }));
  }
}
