import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isAllowed, type AclRule, type AccessRequest } from "../../shared/security/acl.js";
import { hashSecret, issueApiKey, parseAuthorization, secretMatches } from "../../shared/security/api-keys.js";
import { iamPrincipal } from "../../shared/security/security.js";

const rule = (overrides: Partial<AclRule>): AclRule => ({ principal: "User:a", resourceType: "Topic", patternType: "LITERAL", resourceName: "t", operation: "Read", permission: "Allow", ...overrides });
const read = (name: string, operation: AccessRequest["operation"] = "Read"): AccessRequest => ({ resourceType: "Topic", name, operation });
const none = new Set<string>();

describe("ACL evaluation", () => {
  it("denies by default and allows what a rule allows", () => {
    expect(isAllowed("User:a", read("t"), [], none)).toBe(false);
    expect(isAllowed("User:a", read("t"), [rule({})], none)).toBe(true);
    expect(isAllowed("User:b", read("t"), [rule({})], none)).toBe(false);
    expect(isAllowed("User:a", read("t", "Write"), [rule({})], none)).toBe(false);
    expect(isAllowed("User:a", { resourceType: "Group", name: "t", operation: "Read" }, [rule({})], none)).toBe(false);
  });

  it("matches prefixes, the literal wildcard, the principal wildcard and All", () => {
    expect(isAllowed("User:a", read("orders-eu"), [rule({ patternType: "PREFIXED", resourceName: "orders-" })], none)).toBe(true);
    expect(isAllowed("User:a", read("order"), [rule({ patternType: "PREFIXED", resourceName: "orders-" })], none)).toBe(false);
    expect(isAllowed("User:a", read("anything"), [rule({ resourceName: "*" })], none)).toBe(true);
    expect(isAllowed("User:z", read("t"), [rule({ principal: "*" })], none)).toBe(true);
    expect(isAllowed("User:a", read("t", "Delete"), [rule({ operation: "All" })], none)).toBe(true);
  });

  it("lets Read, Write, Delete and Alter imply Describe, but a denied one does not deny Describe", () => {
    for (const operation of ["Read", "Write", "Delete", "Alter"] as const) expect(isAllowed("User:a", read("t", "Describe"), [rule({ operation })], none)).toBe(true);
    expect(isAllowed("User:a", read("t", "Describe"), [rule({ operation: "Create" })], none)).toBe(false);
    expect(isAllowed("User:a", read("t", "Describe"), [rule({ operation: "Describe" }), rule({ operation: "Write", permission: "Deny" })], none)).toBe(true);
  });

  it("lets deny win over any allow (property), and super-users over any deny", () => {
    fc.assert(
      fc.property(fc.constantFrom("Read", "Write", "Describe"), fc.constantFrom("LITERAL", "PREFIXED"), (operation, patternType) => {
        const rules = [rule({ operation: "All", resourceName: "*" }), rule({ operation: operation as AclRule["operation"], permission: "Deny", patternType: patternType as AclRule["patternType"], resourceName: "t" })];
        expect(isAllowed("User:a", read("t", operation as AccessRequest["operation"]), rules, none)).toBe(false);
        expect(isAllowed("User:a", read("t", operation as AccessRequest["operation"]), rules, new Set(["User:a"]))).toBe(true);
      }),
    );
  });
});

describe("API keys", () => {
  it("issue tokens that parse back as Bearer and as Basic credentials, and only the right secret matches", () => {
    const key = issueApiKey();
    expect(key.token).toMatch(/^dlk_[a-z0-9]{16}_[A-Za-z0-9_-]{43}$/);
    expect(key.secretHash).toBe(hashSecret(key.secret));
    expect(key.secretHash).not.toContain(key.secret);
    expect(parseAuthorization(`Bearer ${key.token}`)).toEqual({ keyId: key.keyId, secret: key.secret });
    expect(parseAuthorization(`Basic ${Buffer.from(`${key.keyId}:${key.secret}`).toString("base64")}`)).toEqual({ keyId: key.keyId, secret: key.secret });
    expect(secretMatches(key.secret, key.secretHash)).toBe(true);
    expect(secretMatches(`${key.secret.slice(0, -1)}x`, key.secretHash)).toBe(false);
    expect(issueApiKey().keyId).not.toBe(key.keyId);
  });

  it("tells absent from malformed credentials", () => {
    expect(parseAuthorization(undefined)).toBeUndefined();
    expect(parseAuthorization("  ")).toBeUndefined();
    for (const header of ["Bearer", "Bearer abc", "Token x", "Basic !!!", `Basic ${Buffer.from("nocolon").toString("base64")}`]) expect(parseAuthorization(header)).toBe("malformed");
  });
});

describe("IAM principals", () => {
  it("name a role for its assumed-role sessions and keep users as they are", () => {
    expect(iamPrincipal("arn:aws:sts::123456789012:assumed-role/Deployer/alice@example.com")).toBe("IAM:arn:aws:iam::123456789012:role/Deployer");
    expect(iamPrincipal("arn:aws:iam::123456789012:user/ci")).toBe("IAM:arn:aws:iam::123456789012:user/ci");
  });
});
