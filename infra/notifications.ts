/**
 * Record notifications, deployed (docs/api.md, "Notifications"; `notifications: true` on the
 * Dynalog construct): an API Gateway WebSocket API whose `$connect` is authenticated (the API-key
 * authorizer, the key offered as a subprotocol; or SigV4 with `auth: { mode: "iam" }`), served by
 * the notify-connect function, and the notifier function on the log table's stream (inserted
 * batch items only) posting `{topic, partition, offset}` to the subscribed connections.
 *
 * An idle consumer then waits on a connection (connection minutes, $0.25 per million) instead of
 * a running fetch function (docs/performance.md, "Idle consumers").
 *
 * Least privilege: notify-connect reads topics (GetItem) and ACLs, and writes only the security
 * table's connection items (keys starting "ws", dynamodb:LeadingKeys); the notifier reads and
 * deletes only those items, reads the stream, and may post to this API's connections only.
 */
import { ArnFormat, CfnOutput, Duration, RemovalPolicy, Stack } from "aws-cdk-lib";
import { AccessLogFormat } from "aws-cdk-lib/aws-apigateway";
import { LogGroupLogDestination, WebSocketApi, WebSocketStage } from "aws-cdk-lib/aws-apigatewayv2";
import { WebSocketIamAuthorizer, WebSocketLambdaAuthorizer } from "aws-cdk-lib/aws-apigatewayv2-authorizers";
import { WebSocketLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import type { Table } from "aws-cdk-lib/aws-dynamodb";
import { Effect, PolicyStatement } from "aws-cdk-lib/aws-iam";
import { LogGroup, type RetentionDays } from "aws-cdk-lib/aws-logs";
import { FilterCriteria, FilterRule, StartingPosition, type Function as LambdaFunction } from "aws-cdk-lib/aws-lambda";
import { DynamoEventSource } from "aws-cdk-lib/aws-lambda-event-sources";
import { Construct } from "constructs";
import { CONNECTION_KEY_PREFIX } from "../shared/storage/connection-store.js";
import { vendedLogGroupName } from "./access-logs.js";
import type { FunctionSettings } from "./functions.js";
import type { FunctionAccess } from "./permissions.js";

/** The key prefix of the ACL items (security-store.ts), which notify-connect reads to check Read on a topic. */
const ACL_PARTITION_KEY = "acl";

export const NOTIFY_CONNECT_SETTINGS: FunctionSettings = { timeout: Duration.seconds(10), description: "Dynalog notification WebSocket routes ($connect, $disconnect, subscribe, ping)" };
export const NOTIFIER_SETTINGS: FunctionSettings = { timeout: Duration.seconds(30), description: "Dynalog notifier: the log table's stream to subscribed WebSocket connections" };

/** Table grants without key conditions (the connection items' grants are added with LeadingKeys below). */
export const NOTIFY_CONNECT_ACCESS: FunctionAccess = {
  topics: [{ actions: ["GetItem"], why: "resolve a subscribed topic to its incarnation and partition count" }],
};
export const NOTIFIER_ACCESS: FunctionAccess = {};

export type NotificationFunctionFactory = (fn: "notify-connect" | "notifier", access: FunctionAccess, settings: FunctionSettings, environment: Record<string, string>) => LambdaFunction;

export interface DynalogNotificationsProps {
  readonly tables: Readonly<Record<"log" | "security" | "topics", Table>>;
  /** The broker functions' environment (table names, auth, logging); the endpoint is added for the notifier. */
  readonly environment: Readonly<Record<string, string>>;
  /** The key authorizer function (auth mode `iam-and-api-keys`); without it `$connect` requires SigV4. */
  readonly keyAuthorizer?: LambdaFunction;
  readonly logRetention: RetentionDays;
  /** Builds a function the way the construct builds all of its functions (role, log group, bundling). */
  readonly createFunction: NotificationFunctionFactory;
}

export class DynalogNotifications extends Construct {
  readonly api: WebSocketApi;
  readonly stage: WebSocketStage;
  /** Where clients connect (`wss://…/v1`): the SDK's `notifications.url`. */
  readonly url: string;
  readonly connectFunction: LambdaFunction;
  readonly notifierFunction: LambdaFunction;

  constructor(scope: Construct, id: string, props: DynalogNotificationsProps) {
    super(scope, id);
    const { tables } = props;
    this.connectFunction = props.createFunction("notify-connect", NOTIFY_CONNECT_ACCESS, NOTIFY_CONNECT_SETTINGS, { ...props.environment });
    const integration = new WebSocketLambdaIntegration("ConnectIntegration", this.connectFunction);
    const authorizer = props.keyAuthorizer
      ? new WebSocketLambdaAuthorizer("KeyAuthorizer", props.keyAuthorizer, {
          authorizerName: "dynalog-notifications-api-keys",
          // Browsers cannot set Authorization on a WebSocket: the key is offered as a subprotocol.
          identitySource: ["route.request.header.Sec-WebSocket-Protocol"],
        })
      : new WebSocketIamAuthorizer();
    this.api = new WebSocketApi(this, "Api", {
      description: "Dynalog record notifications (WebSocket)",
      routeSelectionExpression: "$request.body.action",
      // Only $connect can carry an authorizer in API Gateway; every other route runs on a connection it let in.
      connectRouteOptions: { integration, authorizer },
      disconnectRouteOptions: { integration },
      defaultRouteOptions: { integration, returnResponse: true },
    });
    this.api.addRoute("subscribe", { integration, returnResponse: true });
    this.api.addRoute("ping", { integration, returnResponse: true });
    const accessLogs = new LogGroup(this, "AccessLogs", { logGroupName: vendedLogGroupName(this, "notifications-access"), retention: props.logRetention, removalPolicy: RemovalPolicy.DESTROY });
    this.stage = new WebSocketStage(this, "Stage", {
      webSocketApi: this.api,
      stageName: "v1",
      autoDeploy: true,
      accessLogSettings: { destination: new LogGroupLogDestination(accessLogs), format: webSocketAccessLogFormat() },
      // A connection is cheap; a flood of messages is not: API Gateway throttles per stage.
      throttle: { rateLimit: 500, burstLimit: 1_000 },
    });
    this.url = this.stage.url;

    const connectionItems = [`${CONNECTION_KEY_PREFIX}*`];
    this.connectFunction.addToRolePolicy(
      leadingKeys(tables.security.tableArn, ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:BatchWriteItem"], connectionItems),
    );
    this.connectFunction.addToRolePolicy(leadingKeys(tables.security.tableArn, ["dynamodb:Query"], [ACL_PARTITION_KEY]));

    this.notifierFunction = props.createFunction("notifier", NOTIFIER_ACCESS, NOTIFIER_SETTINGS, {
      ...props.environment,
      DYNALOG_NOTIFICATIONS_ENDPOINT: this.stage.callbackUrl,
    });
    this.notifierFunction.addToRolePolicy(leadingKeys(tables.security.tableArn, ["dynamodb:Query", "dynamodb:BatchWriteItem"], connectionItems));
    this.notifierFunction.addToRolePolicy(
      new PolicyStatement({ effect: Effect.ALLOW, actions: ["execute-api:ManageConnections"], resources: [
          Stack.of(this).formatArn({ service: "execute-api", resource: this.api.apiId, resourceName: `${this.stage.stageName}/POST/@connections/*`, arnFormat: ArnFormat.SLASH_RESOURCE_NAME }),
        ],
      }),
    );
    this.notifierFunction.addEventSource(
      new DynamoEventSource(tables.log, {
        startingPosition: StartingPosition.LATEST,
        // Every batch item written is an INSERT (log items are write-once); voids and counters are not news.
        filters: [FilterCriteria.filter({ eventName: FilterRule.isEqual("INSERT"), dynamodb: { NewImage: { k: { S: FilterRule.isEqual("B") } } } })],
        batchSize: 100,
        // Latency over batching: a notification is worth sending at once.
        maxBatchingWindow: Duration.seconds(0),
        // A notification is a hint (consumers re-fetch on a timer anyway): never block the shard on one.
        retryAttempts: 2,
        bisectBatchOnError: true,
      }),
    );
    new CfnOutput(this, "NotificationsUrl", { value: this.url, description: "Dynalog notifications WebSocket URL (the SDK's notifications.url)" });
  }
}

/** One JSON line per connect, disconnect and message: who (the key's principal or the SigV4 caller), which route, how it ended. */
function webSocketAccessLogFormat(): AccessLogFormat {
  return AccessLogFormat.custom(
    JSON.stringify({
      requestId: "$context.requestId",
      time: "$context.requestTimeEpoch",
      connectionId: "$context.connectionId",
      event: "$context.eventType",
      route: "$context.routeKey",
      status: "$context.status",
      integrationError: "$context.integrationErrorMessage",
      sourceIp: "$context.identity.sourceIp",
      caller: "$context.identity.userArn",
      principal: "$context.authorizer.principal",
      authError: "$context.authorizer.error",
    }),
  );
}

/** Actions on `tableArn` allowed only on items whose partition key matches one of `patterns`. */
function leadingKeys(tableArn: string, actions: string[], patterns: string[]): PolicyStatement {
  return new PolicyStatement({
    effect: Effect.ALLOW,
    actions,
    resources: [tableArn],
    conditions: { "ForAllValues:StringLike": { "dynamodb:LeadingKeys": patterns } },
  });
}
