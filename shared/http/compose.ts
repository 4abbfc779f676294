/**
 * Composes the HTTP API (a Hono app: Request → Response, runtime-agnostic) from route modules.
 * Each Lambda function composes only its own routes' modules (functions/*.ts), so its bundle holds
 * only the code they use; createApi (app.ts) composes them all for in-process tests and tools.
 * Handlers parse and validate, call the broker core, and shape the response; nothing else.
 */
import type { Context } from "hono";
import { Hono } from "hono/tiny";
import type { Broker } from "../core/broker.js";
import { DynalogError } from "../errors.js";
import { errorResponse, errorResponse as jsonErrorResponse, toDynalogError } from "./responses.js";
import { ROUTES, matchesPath, type FunctionName, type RouteId } from "./routes.js";
import { DEFAULT_SECURITY_CONFIG, Security } from "../security/security.js";
import type { SecurityStore } from "../security/ports.js";
import { securityMiddleware, type AuthEnv } from "./authorization.js";
import { isUpstashPath, upstashErrorResponse } from "./upstash/mapping.js";

export interface ApiOptions {
  /** Serve only the routes of these functions (a Lambda serves its own); default all. */
  readonly functions?: readonly FunctionName[];
  /** Authentication, ACLs and quotas; default off (every caller is a super-user). */
  readonly security?: Security;
  /** The caller's SigV4-verified IAM identity, when the runtime has one (API Gateway's IAM auth). */
  readonly iamIdentity?: (c: Context) => string | undefined;
  /** Called for every unexpected (500) error, e.g. to log it. */
  readonly onUnexpectedError?: (error: unknown) => void;
}

/**
 * A route's handler. `B` is the part of the broker it calls (a Pick of Broker): a Lambda function
 * builds only the core areas its routes call (function-routes/<fn>.ts), and the types check that
 * those areas cover every route composed with them.
 */
export type Handler<B = Broker> = (c: Context<AuthEnv>, broker: B) => Promise<Response>;

/** A route module's handlers by route id, or a factory of them when they need the app's Security. */
export type RouteHandlers<B = Broker> = Partial<Record<RouteId, Handler<B>>> | ((security: Security) => Partial<Record<RouteId, Handler<B>>>);

/** Security switched off: never reads its store. */
const OPEN = new Security(
  new Proxy({} as SecurityStore, { get: () => () => Promise.reject(new Error("security is disabled")) }),
  DEFAULT_SECURITY_CONFIG,
);

/** The API as a Hono app; `app.fetch` serves it on any runtime. */
export type DynalogApi = Hono<AuthEnv>;

export function composeApi<B>(broker: B, routes: readonly RouteHandlers<NoInfer<B>>[], options: ApiOptions = {}): DynalogApi {
  const app = new Hono<AuthEnv>();
  const served = ROUTES.filter((r) => !options.functions || options.functions.includes(r.fn));
  const security = options.security ?? OPEN;
  // Once per path (several methods share one): authentication and quota before any handler.
  // Before anything else, authentication included: a path that does not decode cannot name
  // anything, and every parameter handlers read is then well-formed.
  app.use("*", async (c, next) => {
    refuseUndecodablePath(c.req.raw.url);
    await next();
  });
  const guard = securityMiddleware(security, (c) => ({ authorization: c.req.header("authorization"), iamArn: options.iamIdentity?.(c) }));
  for (const path of new Set(served.map((r) => r.path))) app.use(path, guard);
  const handlers: Partial<Record<RouteId, Handler<B>>> = Object.assign({}, ...routes.map((r) => (typeof r === "function" ? r(security) : r)));
  for (const route of served) {
    const handler = handlers[route.id];
    if (handler === undefined) throw new Error(`No handler for route ${route.id} (${route.method} ${route.path}) among the route modules given`);
    app.on(route.method, route.path, (c) => handler(c, broker));
  }
  app.notFound((c) => {
    const path = new URL(c.req.url).pathname;
    const errorResponse = isUpstashPath(path) ? upstashErrorResponse : jsonErrorResponse;
    const known = served.filter((r) => matchesPath(r, path));
    if (known.length > 0) {
      const allowed = [...new Set(known.map((r) => r.method))].join(", ");
      const response = errorResponse(new DynalogError("METHOD_NOT_ALLOWED", `${c.req.method} is not allowed on ${path}; use ${allowed}`));
      response.headers.set("Allow", allowed);
      return response;
    }
    return errorResponse(new DynalogError("NOT_FOUND", `No route ${c.req.method} ${path}`));
  });
  app.onError((error, c) => {
    const mapped = toDynalogError(error);
    if (mapped.code === "UNKNOWN_SERVER_ERROR") options.onUnexpectedError?.(error);
    // The Upstash dialect's clients read `error` as a message string (docs/upstash.md).
    const response = (isUpstashPath(new URL(c.req.url).pathname) ? upstashErrorResponse : errorResponse)(mapped);
    if (mapped.code === "THROTTLING_QUOTA_EXCEEDED") response.headers.set("Retry-After", String(Math.max(1, Math.ceil(Number(mapped.details["retryAfterMs"] ?? 1000) / 1000))));
    if (mapped.code === "AUTHENTICATION_FAILED") response.headers.set("WWW-Authenticate", 'Bearer realm="dynalog"');
    return response;
  });
  return app;
}

/** A malformed percent-escape (`%zz`) or escaped bytes that are not UTF-8 (`%ED%A0%80`) → 400. */
function refuseUndecodablePath(url: string): void {
  const path = url.replace(/^[a-z]+:\/\/[^/]*/i, "").split(/[?#]/, 1)[0]!;
  try {
    decodeURIComponent(path);
  } catch {
    throw new DynalogError("INVALID_REQUEST", `The path is not valid percent-encoded UTF-8: ${path.slice(0, 200)}`, { details: { path: path.slice(0, 200) } });
  }
}
