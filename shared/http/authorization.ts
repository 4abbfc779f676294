/**
 * Authentication, authorization and quotas at the HTTP edge. The middleware authenticates every
 * request and checks the caller's quota; each handler then names what it needs (`authorize`)
 * right after parsing and before the broker core runs, so a refusal never reaches DynamoDB writes.
 */
import type { Context, MiddlewareHandler } from "hono";
import type { AccessRequest, Operation } from "../security/acl.js";
import { CLUSTER_RESOURCE } from "../security/acl.js";
import type { Credentials, Security } from "../security/security.js";

export interface AuthEnv {
  Variables: {
    principal: string;
    security: Security;
  };
}

type AccessOperation = Exclude<Operation, "All">;

export const topic = (name: string, operation: AccessOperation): AccessRequest => ({ resourceType: "Topic", name, operation });
export const group = (name: string, operation: AccessOperation): AccessRequest => ({ resourceType: "Group", name, operation });
export const transactionalId = (name: string, operation: AccessOperation): AccessRequest => ({ resourceType: "TransactionalId", name, operation });
export const cluster = (operation: AccessOperation): AccessRequest => ({ resourceType: "Cluster", name: CLUSTER_RESOURCE, operation });

/** Refuses (403) unless the caller may do every one of `requests`. */
export async function authorize(c: Context<AuthEnv>, ...requests: AccessRequest[]): Promise<void> {
  await c.var.security.require(c.var.principal, dedupe(requests));
}

/** Like Kafka's CreateTopics: allowed by Create on the topic or on the cluster. */
export async function authorizeAny(c: Context<AuthEnv>, ...alternatives: AccessRequest[]): Promise<void> {
  for (const request of alternatives) if (await c.var.security.isAllowed(c.var.principal, request)) return;
  await authorize(c, alternatives[0]!);
}

/** Whether the caller may see `request`'s resource (for filtering lists, which never 403). */
export function mayAccess(c: Context<AuthEnv>, request: AccessRequest): Promise<boolean> {
  return c.var.security.isAllowed(c.var.principal, request);
}

function dedupe(requests: readonly AccessRequest[]): AccessRequest[] {
  const seen = new Map<string, AccessRequest>();
  for (const r of requests) seen.set(`${r.resourceType}\u0000${r.name}\u0000${r.operation}`, r);
  return [...seen.values()];
}

/**
 * Authenticates, checks the quota (reads only), and after the response counts the request toward
 * the caller's quota — flushing that count to DynamoDB only after a success, never on a refusal.
 */
export function securityMiddleware(security: Security, credentials: (c: Context) => Credentials): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    c.set("security", security);
    const principal = await security.authenticate(credentials(c));
    c.set("principal", principal);
    security.quota.check(principal);
    await next();
    // The request body was read by the handler: its declared length counts (the gateway caps bodies).
    const requestBytes = Number(c.req.header("content-length") ?? 0) || 0;
    const bytes = security.quota.countsBytes ? requestBytes + (await responseBytes(c.res.clone())) : 0;
    await security.quota.record(principal, bytes, c.res.status < 400);
  };
}

/** A response's body size (Hono's JSON responses carry no content-length). */
async function responseBytes(response: Response): Promise<number> {
  const declared = Number(response.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > 0) return declared;
  return response.body ? (await response.arrayBuffer()).byteLength : 0;
}
