/**
 * Builds a Lambda handler for one function: configuration, DynamoDB client, telemetry and broker
 * are created once per cold start and reused by every invocation of the warm instance.
 */
import { handle } from "hono/aws-lambda";
import type { BrokerDependencies } from "../core/broker-areas.js";
import { composeApi, type RouteHandlers } from "../http/compose.js";
import type { FunctionName } from "../http/routes.js";
import { createDynamoStorage } from "../storage/dynamo-storage.js";
import { runtimeConfigFromEnv } from "./config.js";
import { createDynamoDbClient } from "./dynamodb-client.js";
import { createTelemetry, type LambdaHttpHandler } from "./telemetry.js";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { Context } from "hono";
import { Security } from "../security/security.js";
import { createDynamoSecurityStore } from "../storage/security-store.js";
import type { WebhookGuard } from "./webhook-guard.js";

/** The IAM identity API Gateway verified (SigV4), from the payload-v2 event hono/aws-lambda keeps. */
function iamCaller(c: Context): string | undefined {
  const env = c.env as { event?: { requestContext?: { authorizer?: { iam?: { userArn?: unknown } } } } } | undefined;
  const arn = env?.event?.requestContext?.authorizer?.iam?.userArn;
  return typeof arn === "string" && arn.startsWith("arn:") ? arn : undefined;
}

export interface LambdaHandlerOptions {
  /**
   * The subscription webhook guard (DYNALOG_SUBSCRIPTION_WEBHOOK_GUARD), for the function that
   * creates subscriptions: passed by its entry point so no other bundle carries it (ipaddr.js).
   */
  readonly webhookGuard?: () => WebhookGuard;
}

/**
 * `routes`: the function's route modules and `core` the part of the broker they call (both from
 * shared/http/function-routes/<fn>.ts, imported by its entry point), so the bundle holds only
 * those; the types make `core` cover every route.
 */
export function lambdaHandler<B>(fn: FunctionName, routes: readonly RouteHandlers<NoInfer<B>>[], core: (deps: BrokerDependencies) => B, options: LambdaHandlerOptions = {}): LambdaHttpHandler {
  const config = runtimeConfigFromEnv();
  const telemetry = createTelemetry({ fn, serviceName: config.serviceName, logLevel: config.logLevel, metricsEnabled: config.metricsEnabled });
  const client = createDynamoDbClient(config);
  telemetry.instrument(client);
  const broker = core({
    storage: createDynamoStorage(client, config.tables),
    config: config.broker,
    observer: telemetry.observer,
    ...(config.webhookGuard && options.webhookGuard && { webhookCheck: options.webhookGuard().check }),
  });
  const documents = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  const security = new Security(createDynamoSecurityStore(documents, config.tables), config.security);
  const app = composeApi(broker, routes, {
    functions: [fn],
    security,
    iamIdentity: iamCaller,
    onUnexpectedError: (error) => telemetry.logger.error("unexpected error", error instanceof Error ? error : String(error)),
  });
  // Hono types the payload-v2 event and result with its own (structurally looser) shapes; they
  // describe the same JSON API Gateway sends and expects.
  const serve = handle(app) as unknown as LambdaHttpHandler;
  return telemetry.wrap(serve);
}
