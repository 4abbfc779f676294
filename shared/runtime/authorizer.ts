/**
 * The Lambda REQUEST authorizer of the deployment's API-key HTTP API (API Gateway payload 2.0,
 * simple responses). It lets a request through to the broker only with a valid, unrevoked
 * broker-issued API key — `Authorization: Bearer dlk_…` or `Basic base64(keyId:secret)` — and hands
 * API Gateway the key's principal as context (it shows in the access log).
 *
 * It authenticates, nothing more: ACLs are checked per route by the broker function, which also
 * re-checks the key itself (API Gateway caches this authorizer's answers; the broker's own check
 * is what bounds how long a revoked key keeps working). It reads one item (GetItem) and never
 * writes.
 */
import { Logger } from "./logger.js";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent, APIGatewayRequestAuthorizerEventV2, Context } from "aws-lambda";
import { DynalogError } from "../errors.js";
import { Security } from "../security/security.js";
import { createDynamoSecurityStore } from "../storage/security-store.js";
import { runtimeConfigFromEnv } from "./config.js";
import { createDynamoDbClient } from "./dynamodb-client.js";
import type { KeyAuthorizer, KeyAuthorizerResult } from "./key-authorizer.js";
import { authorizeWebSocketConnect, isWebSocketConnect } from "./websocket-authorizer.js";

/** What API Gateway passes on to the integration (`$context.authorizer.principal`). */
export type { KeyAuthorizer, KeyAuthorizerContext, KeyAuthorizerResult } from "./key-authorizer.js";

export interface KeyAuthorizerOptions {
  /** Called with the reason of each refusal (unknown, revoked, wrong or malformed key). */
  readonly onRefused?: (reason: string) => void;
}

/**
 * The authorizer's decision logic. A refusal answers `isAuthorized: false` (API Gateway: 403); a
 * failure to decide (DynamoDB unreachable, throttled) throws, so API Gateway answers 500, caches
 * nothing, and the client retries — a storage hiccup never reads as "your key is bad".
 */
export function createKeyAuthorizer(security: Security, options: KeyAuthorizerOptions = {}): KeyAuthorizer {
  if (!security.config.enabled) {
    // With authentication off, Security answers "User:anonymous" for anything: every request would pass.
    throw new Error("The key authorizer needs a Security with authentication enabled");
  }
  return async (event) => {
    // The identity source is the Authorization header; API Gateway does not call the authorizer
    // without it (the client gets 401), but a direct invocation might.
    const authorization = event.identitySource?.[0] ?? event.headers?.["authorization"];
    try {
      // No SigV4 identity here: on this API only an API key authenticates.
      const principal = await security.authenticate({ authorization });
      return { isAuthorized: true, context: { principal } };
    } catch (error) {
      if (error instanceof DynalogError && error.code === "AUTHENTICATION_FAILED") {
        options.onRefused?.(error.message);
        return { isAuthorized: false };
      }
      throw error;
    }
  };
}

/** The deployed authorizer: configuration from the environment, built once per cold start. */
export function lambdaKeyAuthorizer(): (
  event: APIGatewayRequestAuthorizerEventV2 | APIGatewayRequestAuthorizerEvent,
  context: Context,
) => Promise<KeyAuthorizerResult | APIGatewayAuthorizerResult> {
  const config = runtimeConfigFromEnv();
  const logger = new Logger({ serviceName: config.serviceName, logLevel: config.logLevel, persistentKeys: { function: "authorizer" } });
  const documents = DynamoDBDocumentClient.from(createDynamoDbClient(config));
  // Always on, whatever DYNALOG_AUTH says: this function exists only to check keys. Its key cache
  // has the same TTL as the broker functions' (DYNALOG_AUTH_CACHE_TTL_MS, default 5 s).
  const security = new Security(createDynamoSecurityStore(documents, config.tables), { ...config.security, enabled: true });
  const authorize = createKeyAuthorizer(security, { onRefused: (reason) => logger.info("API key refused", { reason }) });
  return async (event, context) => {
    logger.addContext(context);
    logger.setCorrelationId((event.requestContext as { requestId?: string } | undefined)?.requestId);
    try {
      // The same function guards the notification WebSocket API's $connect (infra/notifications.ts).
      if (isWebSocketConnect(event)) return await authorizeWebSocketConnect(authorize, event);
      return await authorize(event as APIGatewayRequestAuthorizerEventV2);
    } catch (error) {
      logger.error("could not decide on an API key", error as Error);
      throw error;
    } finally {
      logger.resetKeys();
    }
  };
}
