/**
 * The deployed push-subscription dispatcher's wiring (docs/subscriptions.md, "Deployed"): the log
 * table's stream wakes it (an event source mapping filtered to inserts), a schedule sweeps every
 * minute, and its role may invoke exactly the Lambda functions the construct's
 * `subscriptionTargets` names — the same list the broker's allow-list holds, so `create` refuses
 * a function the dispatcher could not invoke. Its DynamoDB access is DISPATCHER_ACCESS
 * (infra/permissions.ts), granted like every function's.
 */
import { Duration } from "aws-cdk-lib";
import type { Table } from "aws-cdk-lib/aws-dynamodb";
import { Rule, Schedule } from "aws-cdk-lib/aws-events";
import { LambdaFunction as LambdaTarget } from "aws-cdk-lib/aws-events-targets";
import { PolicyStatement } from "aws-cdk-lib/aws-iam";
import { EventSourceMapping, FilterCriteria, FilterRule, StartingPosition, type Function as LambdaFunction } from "aws-cdk-lib/aws-lambda";
import type { Construct } from "constructs";

/** A function ARN, optionally with a version or alias; or a prefix of one ending in '*'. */
const TARGET = /^arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:function:([a-zA-Z0-9_-]{1,64}(:[a-zA-Z0-9_$-]{1,128})?|[a-zA-Z0-9_:$-]*\*)$/;

/** How often the sweep runs: retries, batching windows, dead dispatchers, resumed subscriptions. */
export const SWEEP_RATE = Duration.minutes(1);

/** Throws a clear message for an entry that is neither a function ARN nor an ARN prefix ending in '*'. */
export function validateSubscriptionTargets(targets: readonly string[]): void {
  for (const target of targets) {
    if (!TARGET.test(target)) {
      throw new Error(
        `subscriptionTargets: ${JSON.stringify(target)} is not a Lambda function ARN (arn:aws:lambda:<region>:<account>:function:<name>[:<alias>]) ` +
          "or such an ARN's prefix ending in '*' (arn:aws:lambda:<region>:<account>:function:billing-*)",
      );
    }
  }
}

export interface SubscriptionDispatcherWiring {
  readonly dispatcher: LambdaFunction;
  readonly logTable: Table;
  readonly targets: readonly string[];
}

export function wireSubscriptionDispatcher(scope: Construct, { dispatcher, logTable, targets }: SubscriptionDispatcherWiring): { mapping: EventSourceMapping; sweep: Rule } {
  if (!logTable.tableStreamArn) throw new Error("The log table has no stream (infra/log-stream.ts)");
  // Reading the stream: the actions of AWS's documented policy, on this table's stream only.
  dispatcher.addToRolePolicy(
    new PolicyStatement({ actions: ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"], resources: [logTable.tableStreamArn] }),
  );
  const mapping = new EventSourceMapping(scope, "DispatcherLogStream", {
    target: dispatcher,
    eventSourceArn: logTable.tableStreamArn,
    startingPosition: StartingPosition.LATEST,
    // Only new items (batches, and the rare void) wake it; compaction's rewrites and TTL deletes do not.
    filters: [FilterCriteria.filter({ eventName: FilterRule.isEqual("INSERT") })],
    batchSize: 100,
    // A wake that failed to run at all (the subscription list unreadable) is retried a little;
    // after that the sweep catches up. Delivery failures never fail the invocation.
    retryAttempts: 2,
    maxRecordAge: Duration.hours(1),
    bisectBatchOnError: false,
  });
  const sweep = new Rule(scope, "DispatcherSweep", {
    description: "Dynalog push subscriptions: the dispatcher's sweep (retries, batching windows, expired leases)",
    schedule: Schedule.rate(SWEEP_RATE),
    // A missed sweep is made up by the next one a minute later.
    targets: [new LambdaTarget(dispatcher, { retryAttempts: 0 })],
  });
  if (targets.length > 0) {
    dispatcher.addToRolePolicy(new PolicyStatement({ actions: ["lambda:InvokeFunction"], resources: [...targets] }));
  }
  return { mapping, sweep };
}
