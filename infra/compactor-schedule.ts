/**
 * The deployed scheduled compactor (docs/compaction.md, "Running it"): an EventBridge rule invokes
 * the compactor function (shared/runtime/compactor.ts) at a fixed rate; each run makes one pass over
 * every compacted topic. The function's timeout is kept below the rate, so runs never overlap in the
 * normal case; if EventBridge delivers a run twice, two passes at once leave what one leaves (each
 * rewrite is conditional on the batch being the one read — test/integration/compaction.test.ts).
 */
import { Duration } from "aws-cdk-lib";
import { Rule, Schedule } from "aws-cdk-lib/aws-events";
import { LambdaFunction as LambdaTarget } from "aws-cdk-lib/aws-events-targets";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import { Construct } from "constructs";
import type { FunctionSettings } from "./functions.js";

/** Kafka's cleaner looks every 15 s; a pass here costs reads, and 5 minutes keeps an idle stack's runs at ~8,900 a month. */
export const DEFAULT_COMPACTION_RATE = Duration.minutes(5);
/** EventBridge's finest rate. */
const MIN_COMPACTION_RATE = Duration.minutes(1);

export interface CompactionScheduleProps {
  /** How often a run starts. Default: every 5 minutes; at least 1 minute. */
  readonly rate?: Duration;
}

/** The compactor's timeout for a rate: just under it (never more than Lambda's 15 minutes), so runs do not overlap. */
export function compactorSettings(rate: Duration): FunctionSettings {
  const rateMs = rate.toMilliseconds();
  if (rateMs < MIN_COMPACTION_RATE.toMilliseconds() || rateMs % 60_000 !== 0) {
    throw new Error(`compaction.rate must be a whole number of minutes, at least 1 (EventBridge rates), got ${rateMs} ms`);
  }
  return {
    timeout: Duration.seconds(Math.min(15 * 60, rateMs / 1000 - 10)),
    description: "Dynalog scheduled compaction of compacted topics (docs/compaction.md)",
  };
}

export class CompactionSchedule extends Construct {
  readonly rule: Rule;

  constructor(scope: Construct, id: string, props: { readonly compactor: IFunction; readonly rate: Duration }) {
    super(scope, id);
    this.rule = new Rule(this, "Rule", {
      description: "Starts a Dynalog compaction run (docs/compaction.md)",
      schedule: Schedule.rate(props.rate),
    });
    // A missed run is not retried: the next one comes at the next tick and does the same work.
    this.rule.addTarget(new LambdaTarget(props.compactor, { retryAttempts: 0, maxEventAge: props.rate }));
  }
}
