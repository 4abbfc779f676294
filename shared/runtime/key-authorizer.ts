/**
 * The API-key authorizer's decision, as a type: the HTTP API's simple response with the caller's
 * principal. The REST authorizer (authorizer.ts) makes it; the WebSocket $connect adapter
 * (websocket-authorizer.ts) translates it. Its own module so the two import it without importing
 * each other.
 */
import type { APIGatewayRequestAuthorizerEventV2, APIGatewaySimpleAuthorizerResult, APIGatewaySimpleAuthorizerWithContextResult } from "aws-lambda";

export interface KeyAuthorizerContext {
  readonly principal: string;
}

export type KeyAuthorizerResult = APIGatewaySimpleAuthorizerResult | APIGatewaySimpleAuthorizerWithContextResult<KeyAuthorizerContext>;

export type KeyAuthorizer = (event: APIGatewayRequestAuthorizerEventV2) => Promise<KeyAuthorizerResult>;
