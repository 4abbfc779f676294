/**
 * Access control lists with Kafka's semantics: a rule allows or denies one operation on resources
 * named literally or by prefix, to one principal or to everyone ("*"). Deny wins over allow;
 * Describe is implied by Read, Write, Delete and Alter; super-users bypass the rules; anything not
 * allowed is denied. Pure: evaluated in memory over the rules loaded from storage.
 */

export const RESOURCE_TYPES = ["Topic", "Group", "TransactionalId", "Cluster"] as const;
export type ResourceType = (typeof RESOURCE_TYPES)[number];

/** IdempotentWrite (Cluster only, as in Kafka): may initialize idempotent producer ids. */
export const OPERATIONS = ["All", "Read", "Write", "Create", "Delete", "Describe", "Alter", "IdempotentWrite"] as const;
export type Operation = (typeof OPERATIONS)[number];

export const PATTERN_TYPES = ["LITERAL", "PREFIXED"] as const;
export type PatternType = (typeof PATTERN_TYPES)[number];

export const PERMISSIONS = ["Allow", "Deny"] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** The single cluster resource's name, as Kafka's "kafka-cluster". */
export const CLUSTER_RESOURCE = "dynalog";
/** A literal rule with this name matches every resource of its type. */
export const WILDCARD = "*";

export interface AclRule {
  /** "User:<name>", "IAM:<arn>", or "*" for every principal. */
  readonly principal: string;
  readonly resourceType: ResourceType;
  readonly patternType: PatternType;
  readonly resourceName: string;
  readonly operation: Operation;
  readonly permission: Permission;
}

/** What a request needs: one operation on one named resource. */
export interface AccessRequest {
  readonly resourceType: ResourceType;
  readonly name: string;
  readonly operation: Exclude<Operation, "All">;
}

/** Operations whose permission implies Describe (Kafka's rule). */
const IMPLIES_DESCRIBE: readonly Operation[] = ["Read", "Write", "Delete", "Alter"];

function matchesResource(rule: AclRule, request: AccessRequest): boolean {
  if (rule.resourceType !== request.resourceType) return false;
  if (rule.patternType === "PREFIXED") return request.name.startsWith(rule.resourceName);
  return rule.resourceName === WILDCARD || rule.resourceName === request.name;
}

function matchesOperation(rule: AclRule, operation: AccessRequest["operation"], forAllow: boolean): boolean {
  if (rule.operation === "All" || rule.operation === operation) return true;
  // An allowed Read/Write/Delete/Alter implies Describe; a denied one does not deny Describe.
  return forAllow && operation === "Describe" && IMPLIES_DESCRIBE.includes(rule.operation);
}

export function isAllowed(principal: string, request: AccessRequest, rules: readonly AclRule[], superUsers: ReadonlySet<string>): boolean {
  if (superUsers.has(principal)) return true;
  const applicable = rules.filter((r) => (r.principal === principal || r.principal === WILDCARD) && matchesResource(r, request));
  if (applicable.some((r) => r.permission === "Deny" && matchesOperation(r, request.operation, false))) return false;
  return applicable.some((r) => r.permission === "Allow" && matchesOperation(r, request.operation, true));
}
