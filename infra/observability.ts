/**
 * Alarms and a dashboard for one Dynalog deployment.
 *
 * Alarms are few on purpose (each costs ~$0.10/month even when idle): aggregate ones over all
 * functions, one over all tables' throttling, and one per table for DynamoDB system errors (an
 * alarm's metric math may hold at most 10 metrics, and SystemErrors is reported per operation).
 */
import { Duration } from "aws-cdk-lib";
import type { HttpApi } from "aws-cdk-lib/aws-apigatewayv2";
import {
  Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  MathExpression,
  TextWidget,
  TreatMissingData,
  type IMetric,
} from "aws-cdk-lib/aws-cloudwatch";
import { SnsAction } from "aws-cdk-lib/aws-cloudwatch-actions";
import { Operation, type Table } from "aws-cdk-lib/aws-dynamodb";
import type { Function as LambdaFunction } from "aws-cdk-lib/aws-lambda";
import type { ITopic } from "aws-cdk-lib/aws-sns";
import { Construct } from "constructs";
import type { FunctionName } from "../shared/http/routes.js";
import { METRIC, METRICS_NAMESPACE, type MetricName } from "../shared/runtime/metric-names.js";
import type { TableId } from "../shared/storage/tables.js";
import { FUNCTION_ACCESS, type DynamoAction } from "./permissions.js";

export interface DynalogObservabilityProps {
  readonly serviceName: string;
  readonly tables: Readonly<Record<TableId, Table>>;
  readonly functions: Readonly<Record<FunctionName, LambdaFunction>>;
  readonly api: HttpApi;
  /** The API-key API and its authorizer, when deployed: covered by the same alarms and graphs. */
  readonly keyApi?: HttpApi;
  readonly keyAuthorizer?: LambdaFunction;
  /** The web console's static-files function (key API), when deployed: a request function like the rest. */
  readonly consoleFunction?: LambdaFunction;
  /**
   * Functions no request waits on (the scheduled compactor, …): their errors get an alarm of their
   * own, so the API functions' alarm keeps within CloudWatch's 10 metrics per alarm and a failing
   * background job is told apart from failing requests.
   */
  readonly backgroundFunctions?: readonly (readonly [string, LambdaFunction])[];
  readonly alarms: boolean;
  readonly alarmTopic?: ITopic;
  readonly dashboard: boolean;
}

const PERIOD = Duration.minutes(5);

/** Thresholds per 5 minutes. Function errors and DynamoDB system errors should never happen. */
export const ALARM_THRESHOLDS = {
  functionErrors: 1,
  functionThrottles: 1,
  apiServerErrors: 10,
  // On-demand tables throttle only on hot partitions (DESIGN.md: ~1,000 WCU per partition key);
  // a few are the SDK's business, a stream of them is a capacity problem.
  dynamodbThrottles: 10,
  dynamodbSystemErrors: 1,
} as const;

/** IAM action → the CloudWatch `Operation` that reports it. */
const OPERATION_OF: Readonly<Record<DynamoAction, Operation>> = {
  GetItem: Operation.GET_ITEM,
  BatchGetItem: Operation.BATCH_GET_ITEM,
  Query: Operation.QUERY,
  Scan: Operation.SCAN,
  PutItem: Operation.PUT_ITEM,
  UpdateItem: Operation.UPDATE_ITEM,
  DeleteItem: Operation.DELETE_ITEM,
  BatchWriteItem: Operation.BATCH_WRITE_ITEM,
  ConditionCheckItem: Operation.TRANSACT_WRITE_ITEMS,
};

/** The operations the broker performs on a table (from the IAM grants); writes may be transactional. */
export function operationsOn(table: TableId): Operation[] {
  const operations = new Set<Operation>();
  for (const access of Object.values(FUNCTION_ACCESS)) {
    for (const grant of access[table] ?? []) {
      for (const action of grant.actions) {
        operations.add(OPERATION_OF[action]);
        if (action === "PutItem" || action === "UpdateItem" || action === "DeleteItem") operations.add(Operation.TRANSACT_WRITE_ITEMS);
      }
    }
  }
  return [...operations].sort();
}

export class DynalogObservability extends Construct {
  readonly alarms: Alarm[] = [];
  readonly dashboard?: Dashboard;

  constructor(scope: Construct, id: string, private readonly props: DynalogObservabilityProps) {
    super(scope, id);
    const requestFunctions: [string, LambdaFunction][] = [...(Object.entries(props.functions) as [FunctionName, LambdaFunction][])];
    if (props.keyAuthorizer) requestFunctions.push(["authorizer", props.keyAuthorizer]);
    if (props.consoleFunction) requestFunctions.push(["console", props.consoleFunction]);
    const background = (props.backgroundFunctions ?? []).map(([name, fn]): [string, LambdaFunction] => [name, fn]);
    const functions = [...requestFunctions, ...background];
    const apis = [props.api, ...(props.keyApi ? [props.keyApi] : [])];
    const tables = Object.entries(props.tables) as [TableId, Table][];

    if (props.alarms) {
      this.alarm("FunctionErrors", "Lambda errors (crashes, timeouts) in any Dynalog API function", sum(requestFunctions.map(([, f]) => f.metricErrors({ period: PERIOD }))), ALARM_THRESHOLDS.functionErrors);
      this.alarm("FunctionThrottles", "Lambda throttled invocations of any Dynalog API function", sum(requestFunctions.map(([, f]) => f.metricThrottles({ period: PERIOD }))), ALARM_THRESHOLDS.functionThrottles);
      if (background.length > 0) {
        this.alarm(
          "BackgroundFunctionErrors",
          "Lambda errors (crashes, timeouts) in a Dynalog background function (scheduled compaction, …)",
          sum(background.map(([, f]) => f.metricErrors({ period: PERIOD }))),
          ALARM_THRESHOLDS.functionErrors,
        );
      }
      this.alarm("ApiServerErrors", "HTTP 5xx answered by the Dynalog API(s)", sum(apis.map((api) => api.metricServerError({ period: PERIOD, statistic: "Sum" }))), ALARM_THRESHOLDS.apiServerErrors);
      // Reads and writes apart: one alarm's metric math holds at most 10 metrics (6 tables each).
      for (const kind of ["Read", "Write"] as const) {
        this.alarm(
          `DynamoDB${kind}Throttles`,
          `DynamoDB ${kind.toLowerCase()} throttle events on any Dynalog table`,
          sum(tables.map(([, t]) => t.metric(`${kind}ThrottleEvents`, { period: PERIOD, statistic: "Sum" }))),
          ALARM_THRESHOLDS.dynamodbThrottles,
        );
      }
      for (const [id, table] of tables) {
        this.alarm(
          `DynamoDBSystemErrors${capitalize(id)}`,
          `DynamoDB system errors (HTTP 500s from DynamoDB) on the ${id} table`,
          table.metricSystemErrorsForOperations({ operations: operationsOn(id), period: PERIOD }),
          ALARM_THRESHOLDS.dynamodbSystemErrors,
        );
      }
    }

    if (props.dashboard) this.dashboard = this.createDashboard(functions, tables, apis);
  }

  private alarm(id: string, description: string, metric: IMetric, threshold: number): void {
    const alarm = new Alarm(this, id, {
      alarmDescription: `${description} (${this.props.serviceName})`,
      metric,
      threshold,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      // No traffic is not a problem.
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    if (this.props.alarmTopic) alarm.addAlarmAction(new SnsAction(this.props.alarmTopic));
    this.alarms.push(alarm);
  }

  /** A broker metric per route (EMF dimensions service + route), via a search over the routes. */
  private byRoute(metric: MetricName, statistic: string, label: string): MathExpression {
    return new MathExpression({
      expression: `SEARCH('{${METRICS_NAMESPACE},route,service} MetricName="${metric}" service="${this.props.serviceName}"', '${statistic}', ${PERIOD.toSeconds()})`,
      label,
      period: PERIOD,
    });
  }

  private createDashboard(functions: [string, LambdaFunction][], tables: [TableId, Table][], apis: HttpApi[]): Dashboard {
    const label = (api: HttpApi, what: string) => (api === this.props.keyApi ? `key API ${what}` : apis.length > 1 ? `IAM API ${what}` : what);
    const dashboard = new Dashboard(this, "Dashboard", { defaultInterval: Duration.hours(3) });
    const w = { width: 8, height: 6 } as const;
    dashboard.addWidgets(
      new TextWidget({ markdown: `# Dynalog — ${this.props.serviceName}\nRequests, records, lag and the AWS resources behind them.`, width: 24, height: 2 }),
    );
    if (this.alarms.length > 0) dashboard.addWidgets(new AlarmStatusWidget({ alarms: this.alarms, width: 24, height: 3, title: "Alarms" }));
    dashboard.addWidgets(
      new GraphWidget({
        ...w,
        title: "API requests",
        left: apis.map((api) => api.metricCount({ period: PERIOD, statistic: "Sum", label: label(api, "requests") })),
        right: apis.flatMap((api) => [api.metricClientError({ period: PERIOD, statistic: "Sum", label: label(api, "4xx") }), api.metricServerError({ period: PERIOD, statistic: "Sum", label: label(api, "5xx") })]),
      }),
      new GraphWidget({
        ...w,
        title: "API latency (ms)",
        left: apis.flatMap((api) => [api.metricLatency({ period: PERIOD, statistic: "p50", label: label(api, "p50") }), api.metricLatency({ period: PERIOD, statistic: "p99", label: label(api, "p99") })]),
      }),
      new GraphWidget({ ...w, title: "Requests per route", left: [this.byRoute(METRIC.requests, "Sum", "")] }),
      new GraphWidget({ ...w, title: "Latency per route, p99 (ms)", left: [this.byRoute(METRIC.latency, "p99", "")] }),
      new GraphWidget({ ...w, title: "Records produced / fetched", left: [this.byRoute(METRIC.recordsProduced, "Sum", ""), this.byRoute(METRIC.recordsFetched, "Sum", "")] }),
      new GraphWidget({ ...w, title: "Consumer lag, max (records)", left: [this.byRoute(METRIC.consumerLag, "Maximum", "")] }),
      new GraphWidget({ ...w, title: "Voids filled (dead writers' gaps)", left: [this.byRoute(METRIC.voidsFilled, "Sum", "")] }),
      new GraphWidget({ ...w, title: "DynamoDB throttled attempts (seen by the SDK)", left: [this.byRoute(METRIC.dynamodbThrottles, "Sum", "")] }),
      new GraphWidget({ ...w, title: "Server errors per route", left: [this.byRoute(METRIC.serverErrors, "Sum", "")] }),
      new GraphWidget({ ...w, title: "Lambda errors / throttles", left: functions.map(([fn, f]) => f.metricErrors({ period: PERIOD, label: `${fn} errors` })), right: functions.map(([fn, f]) => f.metricThrottles({ period: PERIOD, label: `${fn} throttles` })) }),
      new GraphWidget({ ...w, title: "Lambda duration p99 (ms)", left: functions.map(([fn, f]) => f.metricDuration({ period: PERIOD, statistic: "p99", label: fn })) }),
      new GraphWidget({ ...w, title: "Lambda concurrency", left: functions.map(([fn, f]) => f.metric("ConcurrentExecutions", { period: PERIOD, statistic: "Maximum", label: fn })) }),
      new GraphWidget({ ...w, title: "DynamoDB write units", left: tables.map(([id, t]) => t.metricConsumedWriteCapacityUnits({ period: PERIOD, statistic: "Sum", label: id })) }),
      new GraphWidget({ ...w, title: "DynamoDB read units", left: tables.map(([id, t]) => t.metricConsumedReadCapacityUnits({ period: PERIOD, statistic: "Sum", label: id })) }),
      new GraphWidget({
        ...w,
        title: "DynamoDB throttle events",
        left: tables.flatMap(([id, t]) => [t.metric("ReadThrottleEvents", { period: PERIOD, statistic: "Sum", label: `${id} read` }), t.metric("WriteThrottleEvents", { period: PERIOD, statistic: "Sum", label: `${id} write` })]),
      }),
    );
    return dashboard;
  }
}

function sum(metrics: IMetric[]): MathExpression {
  const usingMetrics = Object.fromEntries(metrics.map((m, i) => [`m${i}`, m]));
  return new MathExpression({ // SUM([...]) rather than m0 + m1: a series without data in a period does not blank the total.
    expression: `SUM([${Object.keys(usingMetrics).join(", ")}])`, usingMetrics, period: PERIOD });
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
