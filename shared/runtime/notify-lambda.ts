/**
 * The deployed notification functions (docs/api.md, "Notifications"):
 * - notify-connect serves the API Gateway WebSocket API: `$connect` (after the API-key or IAM
 *   authorizer let it through) records the connection, `$disconnect` removes it, `subscribe` and
 *   `ping` (and anything else, `$default`) are answered by shared/http/notification-protocol.ts.
 * - notifier reads the log table's stream (inserted batch items only: the event source mapping's
 *   filter, infra/notifications.ts) and posts to the subscribed connections.
 */
import { Logger } from "./logger.js";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { APIGatewayProxyResultV2, APIGatewayProxyWebsocketEventV2, Context, DynamoDBStreamEvent } from "aws-lambda";
import { Notifications, type AppendedBatch, type TopicAccess } from "../core/notifications.js";
import { answerClientMessage, NOTIFICATION_SUBPROTOCOL } from "../http/notification-protocol.js";
import { iamPrincipal, Security } from "../security/security.js";
import { createDynamoConnectionStore } from "../storage/connection-store.js";
import { createDynamoStorage } from "../storage/dynamo-storage.js";
import { createDynamoSecurityStore } from "../storage/security-store.js";
import { managementApiPoster } from "./connection-poster.js";
import { runtimeConfigFromEnv } from "./config.js";
import { createDynamoDbClient } from "./dynamodb-client.js";

/** What API Gateway passes a WebSocket integration: the authorizer's context or the IAM caller. */
interface WebSocketRequestContext {
  readonly authorizer?: { readonly principal?: unknown } | null;
  readonly identity?: { readonly userArn?: unknown } | null;
}

export function topicAccess(security: Security): TopicAccess {
  return { mayRead: (principal, topic) => security.isAllowed(principal, { resourceType: "Topic", name: topic, operation: "Read" }) };
}

function setup(fn: "notify-connect" | "notifier") {
  const config = runtimeConfigFromEnv();
  const logger = new Logger({ serviceName: config.serviceName, logLevel: config.logLevel, persistentKeys: { function: fn } });
  const client = createDynamoDbClient(config);
  const documents = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  const storage = createDynamoStorage(client, config.tables);
  const security = new Security(createDynamoSecurityStore(documents, config.tables), config.security);
  return { config, logger, documents, storage, security };
}

/** The connection's principal as API Gateway established it at $connect (key authorizer or IAM). */
function connectPrincipal(context: WebSocketRequestContext): string | undefined {
  const principal = context.authorizer?.principal;
  if (typeof principal === "string" && principal.length > 0) return principal;
  const arn = context.identity?.userArn;
  return typeof arn === "string" && arn.startsWith("arn:") ? iamPrincipal(arn) : undefined;
}

export function lambdaNotifyConnect(): (event: APIGatewayProxyWebsocketEventV2, context: Context) => Promise<APIGatewayProxyResultV2> {
  const { config, logger, documents, storage, security } = setup("notify-connect");
  const notifications = new Notifications(createDynamoConnectionStore(documents, config.tables), storage.topics, topicAccess(security));
  return async (event, context) => {
    logger.addContext(context);
    const { connectionId, routeKey } = event.requestContext;
    try {
      if (routeKey === "$connect") {
        const principal = connectPrincipal(event.requestContext as unknown as WebSocketRequestContext);
        // The authorizer runs before this; no principal means a misconfigured route, never "let in".
        if (principal === undefined) return { statusCode: 401, body: "Unauthenticated" };
        await notifications.connect(connectionId, principal);
        return { statusCode: 200, headers: { "Sec-WebSocket-Protocol": NOTIFICATION_SUBPROTOCOL } };
      }
      if (routeKey === "$disconnect") {
        await notifications.disconnect(connectionId);
        return { statusCode: 200 };
      }
      const body = event.isBase64Encoded && event.body ? Buffer.from(event.body, "base64").toString("utf8") : (event.body ?? "");
      return { statusCode: 200, body: await answerClientMessage(notifications, connectionId, body) };
    } catch (error) {
      logger.error("notification connection request failed", error as Error);
      throw error;
    } finally {
      logger.resetKeys();
    }
  };
}

/** The batches a stream event reports (the mapping's filter passes only inserted batch items; voids and others are skipped here too). */
export function appendedBatches(event: DynamoDBStreamEvent): AppendedBatch[] {
  const batches: AppendedBatch[] = [];
  for (const record of event.Records) {
    const image = record.dynamodb?.NewImage;
    if (record.eventName !== "INSERT" || image?.["k"]?.S !== "B") continue;
    const key = image["p"]?.S ?? "";
    const cut = key.lastIndexOf("#");
    const baseOffset = Number(image["o"]?.N);
    if (cut <= 0 || !Number.isFinite(baseOffset)) continue;
    batches.push({ topicId: key.slice(0, cut), partition: Number(key.slice(cut + 1)), baseOffset });
  }
  return batches;
}

export function lambdaNotifier(): (event: DynamoDBStreamEvent, context: Context) => Promise<void> {
  const { config, logger, documents, storage, security } = setup("notifier");
  const endpoint = process.env["DYNALOG_NOTIFICATIONS_ENDPOINT"];
  if (!endpoint) throw new Error("DYNALOG_NOTIFICATIONS_ENDPOINT is not set (the WebSocket API's management endpoint)");
  const poster = managementApiPoster(endpoint, config.region);
  const notifications = new Notifications(createDynamoConnectionStore(documents, config.tables), storage.topics, topicAccess(security), poster);
  return async (event, context) => {
    logger.addContext(context);
    try {
      const outcome = await notifications.notify(appendedBatches(event));
      if (outcome.failed > 0) logger.warn("some notifications could not be posted", outcome);
      else logger.debug("notified", outcome);
    } finally {
      logger.resetKeys();
    }
  };
}
