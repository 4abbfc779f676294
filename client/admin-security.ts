/**
 * The admin client's security calls (docs/api.md#security): ACL rules and API keys, over
 * /v1/acls and /v1/api-keys. Not KafkaJS API in these shapes; the caller needs Cluster Alter
 * (Describe to list). The Admin class (admin.ts) exposes these as methods.
 */
import type { Transport } from "./transport.js";

/** An ACL rule (Kafka semantics; see docs/api.md#security). */
export interface AclRule {
  readonly principal: string;
  readonly resourceType: "Topic" | "Group" | "TransactionalId" | "Cluster";
  readonly patternType?: "LITERAL" | "PREFIXED";
  readonly resourceName: string;
  readonly operation: "All" | "Read" | "Write" | "Create" | "Delete" | "Describe" | "Alter" | "IdempotentWrite";
  readonly permission?: "Allow" | "Deny";
}

export interface ApiKeyInfo {
  readonly keyId: string;
  readonly principal: string;
  readonly description: string;
  readonly createdAt: string;
  readonly revokedAt: string | null;
}

/** One request per rule, in order; answers each rule with its id. */
export async function createAcls(transport: Transport, acls: readonly AclRule[]): Promise<(AclRule & { id: string; createdAt: string })[]> {
  const created = [];
  for (const acl of acls) created.push(await transport.request<AclRule & { id: string; createdAt: string }>({ method: "POST", path: "/v1/acls", body: acl, idempotent: false }));
  return created;
}

export async function describeAcls(transport: Transport): Promise<(AclRule & { id: string; createdAt: string })[]> {
  return (await transport.request<{ acls: (AclRule & { id: string; createdAt: string })[] }>({ method: "GET", path: "/v1/acls", idempotent: true })).acls;
}

export async function deleteAcls(transport: Transport, ids: readonly string[]): Promise<void> {
  for (const id of ids) await transport.request({ method: "DELETE", path: `/v1/acls/${encodeURIComponent(id)}`, idempotent: true });
}

/** The answer carries the token and secret: the only time the broker shows them. */
export function createApiKey(transport: Transport, principal: string, description: string | undefined): Promise<ApiKeyInfo & { token: string; secret: string }> {
  return transport.request({ method: "POST", path: "/v1/api-keys", body: { principal, ...(description !== undefined ? { description } : {}) }, idempotent: false });
}

export async function listApiKeys(transport: Transport): Promise<ApiKeyInfo[]> {
  return (await transport.request<{ apiKeys: ApiKeyInfo[] }>({ method: "GET", path: "/v1/api-keys", idempotent: true })).apiKeys;
}

export async function revokeApiKey(transport: Transport, keyId: string): Promise<void> {
  await transport.request({ method: "DELETE", path: `/v1/api-keys/${encodeURIComponent(keyId)}`, idempotent: true });
}
