/**
 * The key API's Lambda authorizer (shared/runtime/authorizer.ts, deployed as functions/authorizer.ts)
 * against DynamoDB Local: a valid key is authorized with its principal in the context; a revoked,
 * unknown, wrong, malformed or missing one is not; a storage failure is an error (API Gateway: 500,
 * nothing cached), never a refusal; and it never writes.
 *
 * Then the deployed path end to end, minus API Gateway itself: the broker's own Lambda handler,
 * fed the events API Gateway sends from the IAM API (SigV4 identity) and from the key API, with
 * the deployer as super-user creating the first API key.
 */
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, APIGatewayRequestAuthorizerEventV2, Context } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKeyAuthorizer, lambdaKeyAuthorizer, type KeyAuthorizer } from "../../shared/runtime/authorizer.js";
import { adminCore, adminRoutes } from "../../shared/http/function-routes/admin.js";
import { lambdaHandler } from "../../shared/runtime/lambda.js";
import { DEFAULT_SECURITY_CONFIG, Security, type SecurityConfig } from "../../shared/security/security.js";
import { createDynamoSecurityStore } from "../../shared/storage/security-store.js";
import type { TableNames } from "../../shared/storage/tables.js";
import { createTestTables, instrumentedClient, TestClock, type Instrumented } from "../support/broker.js";
import { testEndpoint } from "../support/dynamodb.js";

const ENABLED: SecurityConfig = { ...DEFAULT_SECURITY_CONFIG, enabled: true, cacheTtlMs: 0 };
const ROUTE_ARN = "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/$default/POST/v1/topics/orders/records";
const CONTEXT = { awsRequestId: "lambda-req-1", functionName: "dynalog-authorizer", memoryLimitInMB: "1024", invokedFunctionArn: "arn", functionVersion: "$LATEST" } as Context;

let tables: TableNames;
/** Creates and revokes keys, as the admin function would. */
let admin: Security;
const clients: Instrumented[] = [];

/** The event API Gateway sends a payload-2.0 REQUEST authorizer (identity source: the Authorization header). */
function authorizerEvent(authorization?: string): APIGatewayRequestAuthorizerEventV2 {
  return {
    version: "2.0",
    type: "REQUEST",
    routeArn: ROUTE_ARN,
    identitySource: authorization === undefined ? [] : [authorization],
    routeKey: "POST /v1/topics/{topic}/records",
    rawPath: "/v1/topics/orders/records",
    rawQueryString: "",
    cookies: [],
    headers: authorization === undefined ? {} : { authorization },
    requestContext: { requestId: "req-1", routeKey: "POST /v1/topics/{topic}/records", stage: "$default" } as APIGatewayRequestAuthorizerEventV2["requestContext"],
  };
}

function basic(keyId: string, secret: string): string {
  return `Basic ${Buffer.from(`${keyId}:${secret}`).toString("base64")}`;
}

/** An authorizer over the test tables, wired like the deployed one, with its own counted client. */
function authorizer(config: Partial<SecurityConfig> = {}, clock: TestClock = new TestClock()): { authorize: KeyAuthorizer; refusals: string[]; db: Instrumented } {
  const db = instrumentedClient();
  clients.push(db);
  const security = new Security(createDynamoSecurityStore(DynamoDBDocumentClient.from(db.client), tables), { ...ENABLED, ...config }, clock.now);
  const refusals: string[] = [];
  return { authorize: createKeyAuthorizer(security, { onRefused: (reason) => refusals.push(reason) }), refusals, db };
}

/** Build something from environment variables read at its cold start, without leaking them to other tests. */
function withEnv<T>(env: Record<string, string>, build: () => T): T {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    return build();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

beforeAll(async () => {
  tables = await createTestTables("keyauth");
  const db = instrumentedClient();
  clients.push(db);
  admin = new Security(createDynamoSecurityStore(DynamoDBDocumentClient.from(db.client), tables), ENABLED);
});

afterAll(() => {
  for (const { client } of clients) client.destroy();
});

describe("the key authorizer", () => {
  it("authorizes a valid key, as Bearer token or HTTP Basic, with the key's principal in the context", async () => {
    const { authorize, db } = authorizer();
    const alice = await admin.createApiKey("User:alice");
    const app = await admin.createApiKey("IAM:arn:aws:iam::123456789012:role/app");
    expect(await authorize(authorizerEvent(`Bearer ${alice.token}`))).toEqual({ isAuthorized: true, context: { principal: "User:alice" } });
    expect(await authorize(authorizerEvent(basic(alice.key.keyId, alice.secret)))).toEqual({ isAuthorized: true, context: { principal: "User:alice" } });
    expect(await authorize(authorizerEvent(`Bearer ${app.token}`))).toEqual({ isAuthorized: true, context: { principal: "IAM:arn:aws:iam::123456789012:role/app" } });
    expect(db.writes.total).toBe(0);
  });

  it("refuses unknown, wrong, malformed and missing credentials, without writing", async () => {
    const { authorize, refusals, db } = authorizer();
    const bob = await admin.createApiKey("User:bob");
    const otherSecret = (await admin.createApiKey("User:carol")).secret;
    const refused = [
      // Well-formed, but no such key.
      `Bearer dlk_${"z".repeat(16)}_${bob.secret}`,
      // The right key id with another key's secret, both schemes.
      `Bearer dlk_${bob.key.keyId}_${otherSecret}`,
      basic(bob.key.keyId, otherSecret),
      // Not a key at all.
      "Bearer nope",
      `Bearer ${bob.token}x`,
      "Basic !!!",
      `Token ${bob.token}`,
      // A SigV4 signature is no credential on this API.
      "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260101/eu-west-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc",
      "",
    ];
    for (const header of refused) expect(await authorize(authorizerEvent(header)), header).toEqual({ isAuthorized: false });
    // API Gateway answers 401 itself when the header is absent; a direct invocation is still refused.
    expect(await authorize(authorizerEvent())).toEqual({ isAuthorized: false });
    expect(refusals).toHaveLength(refused.length + 1);
    expect(refusals.some((r) => /unknown, revoked or wrong/.test(r))).toBe(true);
    expect(refusals.some((r) => /not a Dynalog API key/.test(r))).toBe(true);
    expect(db.writes.total).toBe(0);
  });

  it("refuses a revoked key", async () => {
    const { authorize } = authorizer();
    const dave = await admin.createApiKey("User:dave");
    expect(await authorize(authorizerEvent(`Bearer ${dave.token}`))).toMatchObject({ isAuthorized: true });
    await admin.revokeApiKey(dave.key.keyId);
    expect(await authorize(authorizerEvent(`Bearer ${dave.token}`))).toEqual({ isAuthorized: false });
    expect(await authorize(authorizerEvent(basic(dave.key.keyId, dave.secret)))).toEqual({ isAuthorized: false });
  });

  it("stops accepting a revoked key once its key cache expires: the documented 5 s bound", async () => {
    const clock = new TestClock();
    // The deployed default TTL (DYNALOG_AUTH_CACHE_TTL_MS unset): the broker functions use the same.
    const { authorize, db } = authorizer({ cacheTtlMs: DEFAULT_SECURITY_CONFIG.cacheTtlMs }, clock);
    const erin = await admin.createApiKey("User:erin");
    const header = `Bearer ${erin.token}`;
    expect(await authorize(authorizerEvent(header))).toMatchObject({ isAuthorized: true });
    await admin.revokeApiKey(erin.key.keyId);
    clock.advance(DEFAULT_SECURITY_CONFIG.cacheTtlMs - 1);
    expect(await authorize(authorizerEvent(header))).toMatchObject({ isAuthorized: true }); // still cached
    clock.advance(1);
    expect(await authorize(authorizerEvent(header))).toEqual({ isAuthorized: false });
    // One read per key per TTL: the cache is what keeps the authorizer cheap.
    expect(db.writes.total).toBe(0);
  });

  it("fails (API Gateway: 500, nothing cached) rather than refuses when it cannot read the key", async () => {
    const { authorize, refusals, db } = authorizer();
    const frank = await admin.createApiKey("User:frank");
    const throttled = Object.assign(new Error("Injected: throughput exceeded"), { name: "ProvisionedThroughputExceededException" });
    db.faults.once(/GetItemCommand/, { kind: "fail-before", error: throttled }, 10);
    await expect(authorize(authorizerEvent(`Bearer ${frank.token}`))).rejects.toThrow();
    expect(refusals).toEqual([]);
    db.faults.clear();
    expect(await authorize(authorizerEvent(`Bearer ${frank.token}`))).toEqual({ isAuthorized: true, context: { principal: "User:frank" } });
  });

  it("refuses to be built over a Security with authentication off (it would let everyone in)", () => {
    const off = new Security(createDynamoSecurityStore(DynamoDBDocumentClient.from(instrumentedClient().client), tables), DEFAULT_SECURITY_CONFIG);
    expect(() => createKeyAuthorizer(off)).toThrow(/authentication enabled/);
  });

  it("deployed wiring: reads the security table from the environment and authenticates even if DYNALOG_AUTH is off", async () => {
    const handler = withEnv(
      { DYNALOG_DYNAMODB_ENDPOINT: testEndpoint(), DYNALOG_TABLE_SECURITY: tables.security, DYNALOG_AUTH: "off", DYNALOG_LOG_LEVEL: "ERROR", DYNALOG_AUTH_CACHE_TTL_MS: "1" },
      () => lambdaKeyAuthorizer(),
    );
    const grace = await admin.createApiKey("User:grace");
    expect(await handler(authorizerEvent(`Bearer ${grace.token}`), CONTEXT)).toEqual({ isAuthorized: true, context: { principal: "User:grace" } });
    expect(await handler(authorizerEvent(), CONTEXT)).toEqual({ isAuthorized: false });
    expect(await handler(authorizerEvent(`Bearer dlk_${"y".repeat(16)}_${grace.secret}`), CONTEXT)).toEqual({ isAuthorized: false });
  });
});

describe("the deployed path: broker functions behind the IAM API and the key API", () => {
  const DEPLOYER_SESSION = "arn:aws:sts::123456789012:assumed-role/deployer/alice-cli";
  const SIGV4 = "AWS4-HMAC-SHA256 Credential=ASIAEXAMPLE/20260101/eu-west-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=0123abcd";

  /** A payload-2.0 integration event as API Gateway sends it to a broker function. */
  function brokerEvent(method: string, path: string, options: { headers?: Record<string, string>; authorizer?: unknown; body?: unknown } = {}): APIGatewayProxyEventV2 {
    return {
      version: "2.0",
      routeKey: `${method} ${path}`,
      rawPath: path,
      rawQueryString: "",
      headers: { ...(options.body !== undefined && { "content-type": "application/json" }), ...options.headers },
      isBase64Encoded: false,
      ...(options.body !== undefined && { body: JSON.stringify(options.body) }),
      requestContext: {
        accountId: "123456789012",
        apiId: "abcdef1234",
        domainName: "abcdef1234.execute-api.eu-west-1.amazonaws.com",
        domainPrefix: "abcdef1234",
        http: { method, path, protocol: "HTTP/1.1", sourceIp: "192.0.2.1", userAgent: "test" },
        requestId: "req-2",
        routeKey: `${method} ${path}`,
        stage: "$default",
        time: "",
        timeEpoch: 0,
        ...(options.authorizer !== undefined && { authorizer: options.authorizer }),
      },
    } as APIGatewayProxyEventV2;
  }

  /** The admin function as `npm run deploy` configures it: auth on, the deploying identity (as its role) a super-user. */
  function deployedAdmin(): (event: APIGatewayProxyEventV2) => Promise<{ status: number; body: Record<string, unknown> }> {
    const admin = withEnv(
      {
        DYNALOG_DYNAMODB_ENDPOINT: testEndpoint(),
        DYNALOG_TABLE_PREFIX: tables.topics.slice(0, -"-topics".length),
        DYNALOG_AUTH: "on",
        DYNALOG_SUPER_USERS: "IAM:arn:aws:iam::123456789012:role/deployer",
        DYNALOG_METRICS_ENABLED: "false",
        DYNALOG_LOG_LEVEL: "ERROR",
      },
      () => lambdaHandler("admin", adminRoutes, adminCore),
    );
    return async (event) => {
      const result = (await admin(event, CONTEXT)) as APIGatewayProxyStructuredResultV2;
      return { status: result.statusCode ?? 0, body: JSON.parse(result.body ?? "{}") as Record<string, unknown> };
    };
  }

  it("the deployer (super-user by ARN) signs a request, creates the first API key, and a keyless client then uses it", async () => {
    const invoke = deployedAdmin();
    const iam = { iam: { userArn: DEPLOYER_SESSION, accountId: "123456789012", callerId: "AROAEXAMPLE:alice-cli" } };

    // From the IAM API: API Gateway verified the signature; the header it forwards is the signature.
    expect((await invoke(brokerEvent("GET", "/v1/topics", { headers: { authorization: SIGV4 }, authorizer: iam }))).status).toBe(200);
    // The same header without a verified identity is no credential (e.g. sent to the key API).
    const forged = await invoke(brokerEvent("GET", "/v1/topics", { headers: { authorization: SIGV4 } }));
    expect(forged.status).toBe(401);
    expect(forged.body).toMatchObject({ error: { code: "AUTHENTICATION_FAILED" } });

    const created = await invoke(brokerEvent("POST", "/v1/api-keys", { headers: { authorization: SIGV4 }, authorizer: iam, body: { principal: "User:ci", description: "first key" } }));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const token = String(created.body["token"]);
    expect(token).toMatch(/^dlk_/);

    // From the key API: the authorizer lets it through, and the broker function checks the key again.
    const authorize = withEnv({ DYNALOG_DYNAMODB_ENDPOINT: testEndpoint(), DYNALOG_TABLE_SECURITY: tables.security, DYNALOG_LOG_LEVEL: "ERROR" }, () => lambdaKeyAuthorizer());
    const decision = await authorize(authorizerEvent(`Bearer ${token}`), CONTEXT);
    expect(decision).toEqual({ isAuthorized: true, context: { principal: "User:ci" } });
    const viaKey = { lambda: { principal: "User:ci" } };
    // Authenticated as User:ci, which holds no ACL yet: listing works (and is empty), creating is refused.
    const listed = await invoke(brokerEvent("GET", "/v1/topics", { headers: { authorization: `Bearer ${token}` }, authorizer: viaKey }));
    expect(listed.status).toBe(200);
    const refused = await invoke(brokerEvent("POST", "/v1/topics", { headers: { authorization: `Bearer ${token}` }, authorizer: viaKey, body: { name: "ci-topic", partitions: 1 } }));
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ error: { code: expect.stringMatching(/AUTHORIZATION_FAILED$/) } });
  });

  it("bad input through the Lambda adapter is a 4xx with a code, never a 5xx, signed or not", async () => {
    const iam = { iam: { userArn: DEPLOYER_SESSION, accountId: "123456789012", callerId: "AROAEXAMPLE:alice-cli" } };
    const admin = deployedAdmin();
    const invoke = async (event: APIGatewayProxyEventV2) => {
      const { status, body } = await admin(event);
      return { status, code: (body as { error?: { code?: string } }).error?.code };
    };
    const signed = (method: string, path: string) => brokerEvent(method, path, { headers: { authorization: SIGV4 }, authorizer: iam });
    // API Gateway passes a path it cannot decode through as sent (rawPath).
    for (const path of ["/v1/topics/%zz", "/v1/groups/%zz", "/v1/topics/%ED%A0%80"]) {
      expect(await invoke(signed("GET", path)), path).toEqual({ status: 400, code: "INVALID_REQUEST" });
      expect(await invoke(brokerEvent("GET", path)), `${path} unsigned`).toEqual({ status: 400, code: "INVALID_REQUEST" });
    }
    for (const path of ["/v1/acls/%zz", "/v1/api-keys/%zz"]) expect(await invoke(signed("DELETE", path)), path).toEqual({ status: 400, code: "INVALID_REQUEST" });
    expect(await invoke(signed("DELETE", `/v1/acls/${"a".repeat(2100)}`))).toEqual({ status: 404, code: "RESOURCE_NOT_FOUND" });
    expect(await invoke(signed("DELETE", `/v1/api-keys/${"k".repeat(10_100)}`))).toEqual({ status: 404, code: "RESOURCE_NOT_FOUND" });
    // A JSON body needs its media type: as text, and as bytes API Gateway base64-encodes.
    const create = { ...signed("POST", "/v1/topics"), body: '{"name":"lambda-never","partitions":1}' };
    expect(await invoke({ ...create, headers: { ...create.headers, "content-type": "text/plain" } })).toEqual({ status: 415, code: "UNSUPPORTED_MEDIA_TYPE" });
    expect(await invoke({ ...create, body: Buffer.from(create.body).toString("base64"), isBase64Encoded: true })).toEqual({ status: 415, code: "UNSUPPORTED_MEDIA_TYPE" });
    const json = { ...create, headers: { ...create.headers, "content-type": "application/json; charset=utf-8" } };
    expect(await invoke({ ...json, body: '{"name":"a","name":"lambda-never","partitions":1}' })).toEqual({ status: 400, code: "INVALID_REQUEST" });
    expect(await invoke({ ...json, body: `${"[".repeat(50_000)}${"]".repeat(50_000)}` })).toEqual({ status: 400, code: "INVALID_REQUEST" });
    expect((await invoke(signed("GET", "/v1/topics/lambda-never"))).code).toBe("UNKNOWN_TOPIC_OR_PARTITION");
  });
});
