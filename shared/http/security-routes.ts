/** HTTP handlers for API keys and ACL rules (admin function; each needs Cluster Alter or Describe). */
import type { Context } from "hono";
import * as z from "../zod.js";
import { OPERATIONS, PATTERN_TYPES, PERMISSIONS, RESOURCE_TYPES } from "../security/acl.js";
import type { StoredAcl, StoredApiKey } from "../security/ports.js";
import type { Security } from "../security/security.js";
import { authorize, cluster, type AuthEnv } from "./authorization.js";
import { readJson } from "./request-body.js";

export type SecurityRouteId = "createAcl" | "listAcls" | "deleteAcl" | "createApiKey" | "listApiKeys" | "revokeApiKey";

const aclBodySchema = z.strictObject({
  principal: z.string(),
  resourceType: z.enum(RESOURCE_TYPES),
  patternType: z._default(z.enum(PATTERN_TYPES), "LITERAL"),
  resourceName: z.string(),
  operation: z.enum(OPERATIONS),
  permission: z._default(z.enum(PERMISSIONS), "Allow"),
});

const apiKeyBodySchema = z.strictObject({
  principal: z.string(),
  description: z.optional(z.string().check(z.maxLength(200))),
});

const aclJson = (acl: StoredAcl) => ({ ...acl, createdAt: new Date(acl.createdAt).toISOString() });
const keyJson = (key: StoredApiKey) => ({
  keyId: key.keyId,
  principal: key.principal,
  description: key.description,
  createdAt: new Date(key.createdAt).toISOString(),
  revokedAt: key.revokedAt === null ? null : new Date(key.revokedAt).toISOString(),
});

export function securityHandlers(security: Security): Record<SecurityRouteId, (c: Context<AuthEnv>) => Promise<Response>> {
  return {
    async createAcl(c) {
      const rule = await readJson(c, aclBodySchema);
      await authorize(c, cluster("Alter"));
      return c.json(aclJson(await security.addAcl(rule)), 201);
    },
    async listAcls(c) {
      await authorize(c, cluster("Describe"));
      return c.json({ acls: (await security.listAcls()).map(aclJson) });
    },
    async deleteAcl(c) {
      await authorize(c, cluster("Alter"));
      return c.json({ deleted: aclJson(await security.deleteAcl(c.req.param("id")!)) });
    },
    async createApiKey(c) {
      const input = await readJson(c, apiKeyBodySchema);
      await authorize(c, cluster("Alter"));
      const created = await security.createApiKey(input.principal, input.description);
      // The secret is shown here once; only its hash is stored.
      return c.json({ ...keyJson(created.key), token: created.token, secret: created.secret }, 201);
    },
    async listApiKeys(c) {
      await authorize(c, cluster("Describe"));
      return c.json({ apiKeys: (await security.listApiKeys()).map(keyJson) });
    },
    async revokeApiKey(c) {
      await authorize(c, cluster("Alter"));
      return c.json({ revoked: keyJson(await security.revokeApiKey(c.req.param("keyId")!)) });
    },
  };
}
