/**
 * IAM coverage (test/infra/iam-coverage/harness.ts says how it is proved) of the key API's Lambda
 * authorizer: every decision it can make, its calls held against AUTHORIZER_ACCESS both ways.
 */
import type { APIGatewayRequestAuthorizerEventV2 } from "aws-lambda";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AUTHORIZER_ACCESS } from "../../infra/permissions.js";
import { createKeyAuthorizer } from "../../shared/runtime/authorizer.js";
import { DEFAULT_SECURITY_CONFIG, Security } from "../../shared/security/security.js";
import { createDynamoSecurityStore } from "../../shared/storage/security-store.js";
import { createIamFixture, SECURITY, ungranted, type Call, type IamFixture } from "./iam-coverage/harness.js";

let fx: IamFixture;

afterAll(async () => {
  await fx?.close();
});

describe("IAM grant of the key API's authorizer", () => {
  const authorizerCalls: Call[] = [];

  beforeAll(async () => {
    fx = await createIamFixture("iam-authorizer");
    const { adminToken, tables } = fx;
    const client = fx.recordingClient("authorizer", authorizerCalls);
    // Deployed settings (default key cache), with every decision it can make: valid key, wrong
    // secret, unknown key, revoked key, malformed and missing header.
    const security = new Security(createDynamoSecurityStore(DynamoDBDocumentClient.from(client), tables), { ...SECURITY, cacheTtlMs: DEFAULT_SECURITY_CONFIG.cacheTtlMs });
    const authorize = createKeyAuthorizer(security);
    const event = (authorization?: string) =>
      ({ version: "2.0", type: "REQUEST", identitySource: authorization === undefined ? [] : [authorization], headers: {}, requestContext: {} }) as unknown as APIGatewayRequestAuthorizerEventV2;
    const bootstrap = new Security(createDynamoSecurityStore(DynamoDBDocumentClient.from(fx.setupClient()), tables), SECURITY);
    const revoked = await bootstrap.createApiKey("User:iam-revoked");
    await bootstrap.revokeApiKey(revoked.key.keyId);
    expect(await authorize(event(`Bearer ${adminToken}`))).toMatchObject({ isAuthorized: true });
    expect(await authorize(event(`Bearer ${adminToken.slice(0, -1)}${adminToken.endsWith("A") ? "B" : "A"}`))).toMatchObject({ isAuthorized: false });
    expect(await authorize(event(`Bearer dlk_${"q".repeat(16)}_${revoked.secret}`))).toMatchObject({ isAuthorized: false });
    expect(await authorize(event(`Bearer ${revoked.token}`))).toMatchObject({ isAuthorized: false });
    expect(await authorize(event("Bearer nope"))).toMatchObject({ isAuthorized: false });
    expect(await authorize(event())).toMatchObject({ isAuthorized: false });
  });

  it("every DynamoDB call it made is granted", () => {
    expect(authorizerCalls.length).toBeGreaterThan(0);
    expect(ungranted(AUTHORIZER_ACCESS, authorizerCalls)).toEqual([]);
  });

  it("every grant was used, and the grant is one read", () => {
    expect(AUTHORIZER_ACCESS).toEqual({ security: [expect.objectContaining({ actions: ["GetItem"] })] });
    expect([...new Set(authorizerCalls.map((c) => `${c.table}:${c.action}`))]).toEqual(["security:GetItem"]);
  });
});
