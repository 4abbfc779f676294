/**
 * CORS at the local gateway, as API Gateway's HTTP API applies its CORS configuration: it answers
 * preflights itself (OPTIONS with Access-Control-Request-Method, no handler invoked) and adds the
 * allow/expose headers to every answer to an allowed origin.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { allowedOrigin, CORS_ALLOW_HEADERS, CORS_ALLOW_METHODS, CORS_DEFAULT_MAX_AGE_SECONDS, CORS_EXPOSE_HEADERS, type CorsPolicy } from "../shared/http/cors.js";

/** Applies `policy` to the request; true when it was a preflight, answered here. */
export function applyCors(policy: CorsPolicy, request: IncomingMessage, response: ServerResponse): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return false;
  const allowed = allowedOrigin(policy, origin);
  const preflight = request.method === "OPTIONS" && request.headers["access-control-request-method"] !== undefined;
  if (allowed !== undefined) {
    response.setHeader("access-control-allow-origin", allowed);
    if (allowed !== "*") response.setHeader("vary", "origin");
  }
  if (!preflight) {
    if (allowed !== undefined) response.setHeader("access-control-expose-headers", CORS_EXPOSE_HEADERS.join(","));
    return false;
  }
  // A disallowed origin's preflight gets no allow headers, and the browser stops there.
  if (allowed !== undefined) {
    response.setHeader("access-control-allow-methods", CORS_ALLOW_METHODS.join(","));
    response.setHeader("access-control-allow-headers", CORS_ALLOW_HEADERS.join(","));
    response.setHeader("access-control-max-age", String(policy.maxAgeSeconds ?? CORS_DEFAULT_MAX_AGE_SECONDS));
  }
  response.writeHead(204).end();
  return true;
}
