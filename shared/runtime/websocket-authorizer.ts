/**
 * The key authorizer's answer for the notification WebSocket API's `$connect` (a REQUEST
 * authorizer whose identity source is the Sec-WebSocket-Protocol header: browsers cannot set
 * Authorization on a WebSocket, so the key is offered as a subprotocol,
 * shared/http/notification-protocol.ts). WebSocket APIs want an IAM policy back, not the HTTP
 * API's simple response; the decision is the same key check (createKeyAuthorizer).
 */
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent, APIGatewayRequestAuthorizerEventV2 } from "aws-lambda";
import { authorizationFromSubprotocols } from "../http/notification-subprotocol.js";
import type { KeyAuthorizer } from "./key-authorizer.js";

/** A WebSocket `$connect` authorizer event (payload 1.0, with a connection id), as opposed to the HTTP API's payload 2.0. */
export function isWebSocketConnect(event: unknown): event is APIGatewayRequestAuthorizerEvent {
  const e = event as { type?: unknown; requestContext?: { connectionId?: unknown } } | null;
  return e?.type === "REQUEST" && typeof e.requestContext?.connectionId === "string";
}

function header(headers: Record<string, string | undefined> | null, name: string): string | undefined {
  if (!headers) return undefined;
  const found = Object.keys(headers).find((h) => h.toLowerCase() === name);
  return found === undefined ? undefined : headers[found];
}

/** Allow (with the key's principal as context) or deny connecting, by the key offered as a subprotocol. */
export async function authorizeWebSocketConnect(authorize: KeyAuthorizer, event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> {
  const authorization = authorizationFromSubprotocols(header(event.headers, "sec-websocket-protocol"));
  const decision = authorization === undefined ? { isAuthorized: false as const } : await authorize({ headers: { authorization }, identitySource: [authorization] } as unknown as APIGatewayRequestAuthorizerEventV2);
  const principal = decision.isAuthorized && "context" in decision ? decision.context.principal : undefined;
  return {
    principalId: principal ?? "unauthenticated",
    policyDocument: { Version: "2012-10-17", Statement: [{ Action: "execute-api:Invoke", Effect: principal ? "Allow" : "Deny", Resource: event.methodArn }] },
    ...(principal && { context: { principal } }),
  };
}
