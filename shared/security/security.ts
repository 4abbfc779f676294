/**
 * Authentication, authorization and quotas. Every decision here is made before the broker core
 * runs, from reads only (API keys and ACL rules, cached per warm instance for `cacheTtlMs`), so a
 * refused request never writes. A revoked key or removed rule stops working within that TTL.
 */
import { randomUUID } from "node:crypto";
import { ANONYMOUS_PRINCIPAL } from "../core/producer-ids.js";
import { DynalogError, type ErrorCode } from "../errors.js";
import { CLUSTER_RESOURCE, isAllowed, WILDCARD, type AccessRequest, type AclRule, type ResourceType } from "./acl.js";
import { isApiKeyId, issueApiKey, parseAuthorization, secretMatches } from "./api-keys.js";
import type { SecurityStore, StoredAcl, StoredApiKey } from "./ports.js";
import { QuotaTracker, type QuotaLimits } from "./quotas.js";

export interface SecurityConfig {
  /** Off: every request is the super-user "User:anonymous" (the local default). */
  readonly enabled: boolean;
  readonly superUsers: readonly string[];
  readonly cacheTtlMs: number;
  readonly quotas: QuotaLimits & {
    /** Producer ids one principal may initialize per hour; null = unlimited. */
    readonly producerIdsPerHour: number | null;
  };
}

export const DEFAULT_SECURITY_CONFIG: SecurityConfig = {
  enabled: false,
  superUsers: [],
  cacheTtlMs: 5_000,
  quotas: { requestsPerSecond: null, bytesPerSecond: null, windowMs: 1_000, flushIntervalMs: 1_000, producerIdsPerHour: null },
};

/** Every caller when security is off; the core binds producer ids to this name then. */
export const ANONYMOUS = ANONYMOUS_PRINCIPAL;
/** ACL rule ids are randomUUID()s. */
const ACL_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const PRINCIPAL_NAME = /^(User:[A-Za-z0-9._@:+=,-]{1,200}|IAM:arn:[A-Za-z0-9:/._+=,@-]{1,1000}|\*)$/;

const DENIED: Record<ResourceType, ErrorCode> = {
  Topic: "TOPIC_AUTHORIZATION_FAILED",
  Group: "GROUP_AUTHORIZATION_FAILED",
  TransactionalId: "TRANSACTIONAL_ID_AUTHORIZATION_FAILED",
  Cluster: "CLUSTER_AUTHORIZATION_FAILED",
};

/** Who is calling, as far as the transport knows: an Authorization header and/or a SigV4 identity. */
export interface Credentials {
  readonly authorization?: string;
  /** The caller's IAM ARN when API Gateway verified a SigV4 signature. */
  readonly iamArn?: string;
}

/** An assumed-role session counts as its role, so rules name roles, not sessions. */
export function iamPrincipal(arn: string): string {
  const assumed = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([^/]+)\/.+$/.exec(arn);
  return assumed ? `IAM:arn:${assumed[1]}:iam::${assumed[2]}:role/${assumed[3]}` : `IAM:${arn}`;
}

export function validatePrincipal(principal: string): void {
  if (!PRINCIPAL_NAME.test(principal)) {
    throw new DynalogError("INVALID_REQUEST", `Principal must be "User:<name>", "IAM:<arn>" or "*", got '${principal.slice(0, 80)}'`, { details: { field: "principal" } });
  }
}

class TtlCache<V> {
  private readonly entries = new Map<string, { value: V; expiresAt: number }>();
  constructor(
    private readonly ttlMs: number,
    private readonly clock: () => number,
  ) {}
  async get(key: string, load: () => Promise<V>): Promise<V> {
    const now = this.clock();
    const hit = this.entries.get(key);
    if (hit && hit.expiresAt > now) return hit.value;
    const value = await load();
    if (this.ttlMs > 0) this.entries.set(key, { value, expiresAt: now + this.ttlMs });
    return value;
  }
  clear(): void {
    this.entries.clear();
  }
}

export class Security {
  readonly quota: QuotaTracker;
  readonly producerIdQuota: QuotaTracker;
  private readonly superUsers: ReadonlySet<string>;
  private readonly keys: TtlCache<StoredApiKey | undefined>;
  private readonly acls: TtlCache<StoredAcl[]>;

  constructor(
    private readonly store: SecurityStore,
    readonly config: SecurityConfig,
    private readonly clock: () => number = Date.now,
  ) {
    this.superUsers = new Set(config.superUsers);
    this.keys = new TtlCache(config.cacheTtlMs, clock);
    this.acls = new TtlCache(config.cacheTtlMs, clock);
    this.quota = new QuotaTracker(store, config.quotas, clock);
    const perHour = config.quotas.producerIdsPerHour;
    this.producerIdQuota = new QuotaTracker(
      store,
      { requestsPerSecond: perHour === null ? null : perHour / 3600, bytesPerSecond: null, windowMs: 3_600_000, flushIntervalMs: 0 },
      clock,
      "producer-ids",
      { quota: "producerIdsPerHour", limit: perHour, what: "producer id" },
    );
  }

  /** The caller's principal, or AUTHENTICATION_FAILED. A key, when sent, must be valid. */
  async authenticate(credentials: Credentials): Promise<string> {
    if (!this.config.enabled) return ANONYMOUS;
    const parsed = parseAuthorization(signedWithSigV4(credentials) ? undefined : credentials.authorization);
    if (parsed === "malformed") throw unauthenticated("The Authorization header is not a Dynalog API key (Bearer dlk_… or Basic keyId:secret)");
    if (parsed) {
      const key = await this.keys.get(parsed.keyId, () => this.store.getApiKey(parsed.keyId));
      if (!key || key.revokedAt !== null || !secretMatches(parsed.secret, key.secretHash)) throw unauthenticated("The API key is unknown, revoked or wrong");
      return key.principal;
    }
    if (credentials.iamArn) return iamPrincipal(credentials.iamArn);
    throw unauthenticated("Authentication required: send an API key (Authorization: Bearer dlk_…) or sign the request with SigV4");
  }

  async isAllowed(principal: string, request: AccessRequest): Promise<boolean> {
    if (!this.config.enabled) return true;
    const rules = await this.acls.get("all", () => this.store.listAcls());
    return isAllowed(principal, request, rules, this.superUsers);
  }

  /**
   * Kafka's rule for idempotent producers: IdempotentWrite on the cluster, or Write on some topic
   * (a producer id is only useful to someone who may write). Otherwise CLUSTER_AUTHORIZATION_FAILED.
   */
  async requireIdempotentWrite(principal: string): Promise<void> {
    if (await this.isAllowed(principal, { resourceType: "Cluster", name: CLUSTER_RESOURCE, operation: "IdempotentWrite" })) return;
    const rules = await this.acls.get("all", () => this.store.listAcls());
    const writesSomeTopic = rules.some(
      (r) => (r.principal === principal || r.principal === WILDCARD) && r.resourceType === "Topic" && r.permission === "Allow" && (r.operation === "Write" || r.operation === "All"),
    );
    if (writesSomeTopic) return;
    throw new DynalogError("CLUSTER_AUTHORIZATION_FAILED", `${principal} may not initialize an idempotent producer: it needs Write on some topic or IdempotentWrite on the cluster`, {
      details: { principal, resourceType: "Cluster", resource: CLUSTER_RESOURCE, operation: "IdempotentWrite" },
    });
  }

  /**
   * Refuse with the resource type's *_AUTHORIZATION_FAILED unless every request is allowed. The
   * refusal names the resource the caller asked for and never says whether it exists.
   */
  async require(principal: string, requests: readonly AccessRequest[]): Promise<void> {
    for (const request of requests) {
      if (await this.isAllowed(principal, request)) continue;
      throw new DynalogError(DENIED[request.resourceType], `${principal} may not ${request.operation} ${request.resourceType} '${request.name}'`, {
        details: { principal, resourceType: request.resourceType, resource: request.name, operation: request.operation },
      });
    }
  }

  // ---- administration (callers must hold Cluster Alter) -----------------------------------------

  async createApiKey(principal: string, description = ""): Promise<{ key: StoredApiKey; token: string; secret: string }> {
    validatePrincipal(principal);
    if (principal === WILDCARD) throw new DynalogError("INVALID_REQUEST", 'An API key belongs to one principal, not "*"');
    const issued = issueApiKey();
    const key: StoredApiKey = { keyId: issued.keyId, principal, secretHash: issued.secretHash, description: description.slice(0, 200), createdAt: this.clock(), revokedAt: null };
    await this.store.putApiKey(key);
    return { key, token: issued.token, secret: issued.secret };
  }

  async revokeApiKey(keyId: string): Promise<StoredApiKey> {
    // An id the broker never issues names no key: answered without touching storage.
    const revoked = isApiKeyId(keyId) ? await this.store.revokeApiKey(keyId, this.clock()) : undefined;
    if (!revoked) throw new DynalogError("RESOURCE_NOT_FOUND", `No API key '${keyId.slice(0, 40)}'`, { details: { keyId: keyId.slice(0, 40) } });
    this.keys.clear();
    return revoked;
  }

  listApiKeys(): Promise<StoredApiKey[]> {
    return this.store.listApiKeys();
  }

  async addAcl(rule: AclRule): Promise<StoredAcl> {
    validatePrincipal(rule.principal);
    if (rule.resourceName.length === 0 || rule.resourceName.length > 255) throw new DynalogError("INVALID_REQUEST", "resourceName must be 1-255 characters");
    const acl: StoredAcl = { ...rule, id: randomUUID(), createdAt: this.clock() };
    await this.store.putAcl(acl);
    this.acls.clear();
    return acl;
  }

  async deleteAcl(id: string): Promise<StoredAcl> {
    const removed = ACL_ID.test(id) ? await this.store.deleteAcl(id) : undefined;
    if (!removed) throw new DynalogError("RESOURCE_NOT_FOUND", `No ACL rule '${id.slice(0, 40)}'`, { details: { id: id.slice(0, 40) } });
    this.acls.clear();
    return removed;
  }

  listAcls(): Promise<StoredAcl[]> {
    return this.store.listAcls();
  }
}

/**
 * A request API Gateway verified with SigV4 (the IAM API) may still carry its signature in the
 * Authorization header when it reaches the function: that header is the signature, not an API key.
 */
function signedWithSigV4(credentials: Credentials): boolean {
  return credentials.iamArn !== undefined && /^AWS4-HMAC-SHA256\s/i.test(credentials.authorization?.trim() ?? "");
}

function unauthenticated(message: string): DynalogError {
  return new DynalogError("AUTHENTICATION_FAILED", message);
}
