/**
 * A local stand-in for API Gateway's HTTP API: turns each HTTP request into the same payload-v2
 * event API Gateway sends, invokes the Lambda handler that owns the route (per the shared route
 * table), and writes the handler's result back. The handlers are the deployed ones, unchanged.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from "aws-lambda";
import { DynalogError } from "../shared/errors.js";
import { applyCors } from "./cors.js";
import { LAMBDA_MAX_REQUEST_PAYLOAD_BYTES, LAMBDA_MAX_RESPONSE_PAYLOAD_BYTES } from "../shared/limits.js";
import type { CorsPolicy } from "../shared/http/cors.js";
import { isConsolePath } from "../shared/http/console-routes.js";
import { ROUTES, apiGatewayPath, matchesPath, type FunctionName, type RouteDefinition } from "../shared/http/routes.js";

export type LambdaHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyResultV2>;
export type FunctionHandlers = Readonly<Record<FunctionName, LambdaHandler>>;

/** An HTTP API refuses bodies over 10 MB itself (its quotas page), with 413. */
const GATEWAY_BODY_LIMIT = 10 * 1024 * 1024;

export interface GatewayOptions {
  /** Which web origins may call (the deployed API's `cors` prop); none when absent. */
  readonly cors?: CorsPolicy;
  /** Serves `/console` and everything under it (shared/http/console-routes.ts); off when absent. */
  readonly console?: { fetch(request: Request): Response | Promise<Response> };
  /** Told of every function result written back (the local broker's notifications watch produces with it). */
  readonly onResult?: (route: RouteDefinition, status: number, body: string) => void;
}

export function createGateway(handlers: FunctionHandlers, options: GatewayOptions = {}): Server {
  return createServer((request, response) => {
    if (options.cors && applyCors(options.cors, request, response)) return;
    const path = new URL(request.url ?? "/", "http://localhost").pathname;
    const served = options.console && isConsolePath(path) ? serveStatic(options.console, request, response) : handle(handlers, request, response, options.onResult);
    served.catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      sendError(response, new DynalogError("UNKNOWN_SERVER_ERROR", `Local gateway failure: ${message}`));
    });
  });
}

async function handle(handlers: FunctionHandlers, request: IncomingMessage, response: ServerResponse, onResult?: GatewayOptions["onResult"]): Promise<void> {
  const url = new URL(request.url ?? "/", "http://localhost");
  const method = (request.method ?? "GET").toUpperCase();
  // Locally the subscription routes are served too: the local broker runs their dispatcher.
  const candidates = ROUTES.filter((route) => matchesPath(route, url.pathname));
  const route = candidates.find((r) => r.method === method);
  if (!route) {
    if (candidates.length === 0) return sendError(response, new DynalogError("NOT_FOUND", `No route ${method} ${url.pathname}`));
    const allowed = [...new Set(candidates.map((r) => r.method))].join(", ");
    return sendError(response, new DynalogError("METHOD_NOT_ALLOWED", `${method} is not allowed on ${url.pathname}; use ${allowed}`), { allow: allowed });
  }
  const body = await readBody(request);
  if (body === undefined) {
    return sendError(response, new DynalogError("REQUEST_TOO_LARGE", `Request body exceeds ${GATEWAY_BODY_LIMIT} bytes`));
  }
  const event = toEvent(route, method, url, request, body);
  // Lambda measures the event as JSON, the body escaped inside it: over its cap the function is
  // never invoked, and API Gateway answers with its own error, not the broker's.
  const eventBytes = Buffer.byteLength(JSON.stringify(event), "utf8");
  if (eventBytes > LAMBDA_MAX_REQUEST_PAYLOAD_BYTES) return sendGatewayError(response, `Lambda refused a ${eventBytes}-byte event (limit ${LAMBDA_MAX_REQUEST_PAYLOAD_BYTES})`);
  const result = await handlers[route.fn](event, lambdaContext(route.fn, event.requestContext.requestId));
  // Likewise the result: Lambda fails an invocation whose JSON result is over its cap.
  const resultBytes = Buffer.byteLength(JSON.stringify(result), "utf8");
  if (resultBytes > LAMBDA_MAX_RESPONSE_PAYLOAD_BYTES) return sendGatewayError(response, `Lambda refused a ${resultBytes}-byte result (limit ${LAMBDA_MAX_RESPONSE_PAYLOAD_BYTES})`);
  writeResult(response, result);
  if (onResult && typeof result !== "string" && !result.isBase64Encoded) onResult(route, result.statusCode ?? 200, result.body ?? "");
}

/** The console's static files: a plain Request/Response app, no Lambda in between (none of its routes take a body). */
async function serveStatic(app: NonNullable<GatewayOptions["console"]>, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const headers = new Headers();
  for (const [name, value] of Object.entries(request.headers)) {
    if (typeof value === "string") headers.set(name, value);
  }
  const answer = await app.fetch(new Request(new URL(request.url ?? "/", "http://localhost"), { method: request.method ?? "GET", headers }));
  request.resume();
  response.writeHead(answer.status, Object.fromEntries(answer.headers));
  response.end(Buffer.from(await answer.arrayBuffer()));
}

function readBody(request: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > GATEWAY_BODY_LIMIT) tooLarge = true;
      else chunks.push(chunk);
    });
    request.on("end", () => resolve(tooLarge ? undefined : Buffer.concat(chunks)));
    request.on("error", reject);
  });
}

function pathParameters(route: RouteDefinition, path: string): Record<string, string> {
  const names = [...route.path.matchAll(/:([A-Za-z]+)/g)].map((m) => m[1]!);
  const pattern = new RegExp(`^${route.path.replace(/:[A-Za-z]+/g, "([^/]+)")}/?$`);
  const values = pattern.exec(path)?.slice(1) ?? [];
  return Object.fromEntries(names.map((name, i) => [name, decodeOrRaw(values[i] ?? "")]));
}

/**
 * A malformed escape (`%zz`, or bytes that are not UTF-8) stays as sent: the handler sees the raw
 * path too and refuses it with 400, as it does behind API Gateway.
 */
function decodeOrRaw(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function toEvent(route: RouteDefinition, method: string, url: URL, request: IncomingMessage, body: Buffer): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(",") : value;
  }
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams) query[name] = name in query ? `${query[name]},${value}` : value;
  const contentType = headers["content-type"] ?? "";
  const isText = body.length === 0 || /json|text|xml|urlencoded/i.test(contentType);
  const routeKey = `${route.method} ${apiGatewayPath(route)}`;
  const now = new Date();
  return {
    version: "2.0",
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.replace(/^\?/, ""),
    headers,
    queryStringParameters: Object.keys(query).length > 0 ? query : undefined,
    pathParameters: pathParameters(route, url.pathname),
    requestContext: {
      accountId: "000000000000",
      apiId: "local",
      domainName: headers["host"] ?? "localhost",
      domainPrefix: "local",
      http: { method, path: url.pathname, protocol: "HTTP/1.1", sourceIp: request.socket.remoteAddress ?? "127.0.0.1", userAgent: headers["user-agent"] ?? "" },
      requestId: randomUUID(),
      routeKey,
      stage: "$default",
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    body: body.length === 0 ? undefined : isText ? body.toString("utf8") : body.toString("base64"),
    isBase64Encoded: !isText,
  };
}

function lambdaContext(fn: FunctionName, requestId: string): Context {
  const deadline = Date.now() + 30_000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: `dynalog-${fn}`,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:dynalog-${fn}`,
    memoryLimitInMB: "1024",
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/dynalog-${fn}`,
    logStreamName: "local",
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

function writeResult(response: ServerResponse, result: APIGatewayProxyResultV2): void {
  if (typeof result === "string") {
    response.writeHead(200, { "content-type": "application/json" }).end(result);
    return;
  }
  const headers: Record<string, string | string[]> = { ...(result.headers as Record<string, string>) };
  if (result.cookies?.length) headers["set-cookie"] = result.cookies;
  const body = result.body === undefined ? "" : result.isBase64Encoded ? Buffer.from(result.body, "base64") : result.body;
  response.writeHead(result.statusCode ?? 200, headers).end(body);
}

/**
 * What an HTTP API answers when the Lambda invocation itself fails: a bare 500 without the
 * broker's error format (the local header says why, for tests and for whoever reads the output).
 */
function sendGatewayError(response: ServerResponse, why: string): void {
  response.writeHead(500, { "content-type": "application/json", "x-dynalog-local-gateway-error": why }).end(JSON.stringify({ message: "Internal Server Error" }));
}

function sendError(response: ServerResponse, error: DynalogError, extraHeaders: Record<string, string> = {}): void {
  response.writeHead(error.status, { "content-type": "application/json; charset=utf-8", ...extraHeaders }).end(JSON.stringify({ error: error.toJSON() }));
}
