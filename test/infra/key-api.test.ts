/**
 * The deployed API-key path (issue 6 on AWS): a second HTTP API with every route of
 * shared/http/routes.ts behind a Lambda REQUEST authorizer that may only read API keys, next to
 * the IAM API, which stays as it was. Template assertions only (bundling skipped); the
 * authorizer's logic is tested against DynamoDB Local in key-authorizer.test.ts.
 */
import { App, Duration, Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { HttpNoneAuthorizer, HttpRoute, HttpRouteKey } from "aws-cdk-lib/aws-apigatewayv2";
import { HttpLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import { AccountRootPrincipal, Role } from "aws-cdk-lib/aws-iam";
import type { DynalogStack } from "../../infra/dynalog-stack.js";
import { beforeAll, describe, expect, it } from "vitest";
import { logicalId, NO_BUNDLING, resourcesOfType, routesOfApi, synthProjectStack, type Resource, type Statement } from "./template-support.js";
import { buildApp } from "../../infra/app.js";
import { DEFAULT_AUTHORIZER_CACHE_TTL, Dynalog, type DynalogProps } from "../../infra/dynalog.js";
import { AUTHORIZER_SETTINGS } from "../../infra/functions.js";
import { CONSOLE_ROUTE_PATHS } from "../../infra/console.js";
import { FUNCTION_NAMES, ROUTES, apiGatewayPath } from "../../shared/http/routes.js";
import { DEFAULT_SECURITY_CONFIG } from "../../shared/security/security.js";
import { TABLE_IDS } from "../../shared/storage/tables.js";



let stack: DynalogStack;
let broker: Dynalog;
let template: Template;
let resources: Record<string, Resource>;

const ofType = (type: string, within: Record<string, Resource> = resources) => resourcesOfType(within, type);
const routesOf = (api: { node: { defaultChild?: unknown } }, within: Record<string, Resource> = resources) => routesOfApi(within, api);

/** Route key → logical id of the function its integration invokes. */
function targets(api: { node: { defaultChild?: unknown } }): Map<string, string> {
  const functionOf = new Map(
    ofType("AWS::ApiGatewayV2::Integration").map(([id, i]) => [id, ((i.Properties["IntegrationUri"] as { "Fn::GetAtt"?: string[] })["Fn::GetAtt"] ?? [])[0]!]),
  );
  return new Map(
    routesOf(api).map(([, route]) => {
      const parts = (route.Properties["Target"] as { "Fn::Join": [string, ({ Ref?: string } | string)[]] })["Fn::Join"][1];
      const integration = parts.find((p): p is { Ref: string } => typeof p === "object" && p.Ref !== undefined)!.Ref;
      return [String(route.Properties["RouteKey"]), functionOf.get(integration)!];
    }),
  );
}

/** Every statement of the policies attached to a role. */
function statementsOf(roleLogicalId: string): Statement[] {
  return ofType("AWS::IAM::Policy")
    .filter(([, p]) => (p.Properties["Roles"] as { Ref: string }[]).some((r) => r.Ref === roleLogicalId))
    .flatMap(([, p]) => (p.Properties["PolicyDocument"] as { Statement: Statement[] }).Statement);
}

/** A broker in a fresh app, not synthesized yet (constructs may still be added). */
function build(props: DynalogProps = {}): { app: App; stack: Stack; broker: Dynalog } {
  const app = new App({ context: NO_BUNDLING });
  const s = new Stack(app, "Test");
  return { app, stack: s, broker: new Dynalog(s, "Broker", { alarms: false, dashboard: false, ...props }) };
}

function synth(props: DynalogProps = {}): { broker: Dynalog; resources: Record<string, Resource> } {
  const { stack: s, broker: b } = build(props);
  return { broker: b, resources: Template.fromStack(s).toJSON()["Resources"] as Record<string, Resource> };
}

beforeAll(() => {
  ({ stack, template, resources } = synthProjectStack());
  broker = stack.broker;
});

describe("the key API", () => {
  it("exists by default next to the IAM API, and both URLs are stack outputs", () => {
    expect(broker.keyApi).toBeDefined();
    expect(ofType("AWS::ApiGatewayV2::Api").map(([id]) => id).sort()).toEqual([logicalId(broker.api), logicalId(broker.keyApi!)].sort());
    const outputs = template.toJSON()["Outputs"] as Record<string, { Value: unknown }>;
    expect(JSON.stringify(outputs["ApiUrl"]!.Value)).toContain(`"Ref":"${logicalId(broker.api)}"`);
    expect(JSON.stringify(outputs["KeyApiUrl"]!.Value)).toContain(`"Ref":"${logicalId(broker.keyApi!)}"`);
  });

  it("has exactly the routes of shared/http/routes.ts, each to the same function as on the IAM API", () => {
    // Plus the web console's two static-file routes (test/infra/console.test.ts), which go to its own function.
    const keyTargets = new Map([...targets(broker.keyApi!)].filter(([key]) => !CONSOLE_ROUTE_PATHS.some((p) => key === `GET ${p}`)));
    expect([...keyTargets.keys()].sort()).toEqual(ROUTES.map((r) => `${r.method} ${apiGatewayPath(r)}`).sort());
    expect(keyTargets).toEqual(targets(broker.api));
    for (const route of ROUTES) expect(keyTargets.get(`${route.method} ${apiGatewayPath(route)}`)).toBe(logicalId(broker.functions[route.fn]));
  });

  it("puts every route behind the one Lambda REQUEST authorizer: Authorization header, simple responses, short cache", () => {
    const authorizers = ofType("AWS::ApiGatewayV2::Authorizer");
    expect(authorizers).toHaveLength(1);
    const [authorizerId, authorizer] = authorizers[0]!;
    expect(authorizer.Properties).toMatchObject({
      ApiId: { Ref: logicalId(broker.keyApi!) },
      AuthorizerType: "REQUEST",
      IdentitySource: ["$request.header.Authorization"],
      EnableSimpleResponses: true,
      AuthorizerPayloadFormatVersion: "2.0",
      AuthorizerResultTtlInSeconds: DEFAULT_AUTHORIZER_CACHE_TTL.toSeconds(),
    });
    expect(JSON.stringify(authorizer.Properties["AuthorizerUri"])).toContain(`"${logicalId(broker.keyAuthorizer!)}","Arn"`);
    // Short: far below API Gateway's 5-minute default.
    expect(DEFAULT_AUTHORIZER_CACHE_TTL.toSeconds()).toBeLessThanOrEqual(60);

    // Every route but the console's static files (the named exception: test/infra/console.test.ts).
    const routes = routesOf(broker.keyApi!).filter(([, r]) => !CONSOLE_ROUTE_PATHS.some((p) => r.Properties["RouteKey"] === `GET ${p}`));
    expect(routes).toHaveLength(ROUTES.length);
    for (const [, route] of routes) expect(route.Properties).toMatchObject({ AuthorizationType: "CUSTOM", AuthorizerId: { Ref: authorizerId } });
  });

  it("lets only this API's authorizer resource invoke the authorizer function", () => {
    const permissions = ofType("AWS::Lambda::Permission").filter(([, p]) => JSON.stringify(p.Properties["FunctionName"]).includes(logicalId(broker.keyAuthorizer!)));
    expect(permissions).toHaveLength(1);
    const source = JSON.stringify(permissions[0]![1].Properties["SourceArn"]);
    expect(permissions[0]![1].Properties["Principal"]).toBe("apigateway.amazonaws.com");
    expect(source).toContain(`{"Ref":"${logicalId(broker.keyApi!)}"},"/authorizers/"`);
  });

  it("logs every request with the key's principal", () => {
    const stage = ofType("AWS::ApiGatewayV2::Stage").find(([, s]) => (s.Properties["ApiId"] as { Ref: string }).Ref === logicalId(broker.keyApi!));
    expect(stage).toBeDefined();
    const format = JSON.parse(String((stage![1].Properties["AccessLogSettings"] as { Format: string }).Format)) as Record<string, string>;
    expect(format).toMatchObject({ requestId: "$context.requestId", status: "$context.status", principal: "$context.authorizer.principal", authError: "$context.authorizer.error" });
  });
});

describe("the authorizer function", () => {
  it("may only GetItem on the security table (and write its own logs)", () => {
    const statements = statementsOf(logicalId(broker.keyAuthorizer!.role as never));
    const dynamo = statements.filter((s) => ([] as string[]).concat(s.Action).some((a) => a.startsWith("dynamodb:")));
    expect(dynamo).toEqual([{ Action: "dynamodb:GetItem", Effect: "Allow", Resource: { "Fn::GetAtt": [logicalId(broker.tables.security), "Arn"] } }]);
    const others = statements.filter((s) => !dynamo.includes(s));
    expect(others).toEqual([
      { Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Effect: "Allow", Resource: { "Fn::GetAtt": [expect.stringMatching(/^BrokerAuthorizerLogs/), "Arn"] } },
    ]);
    const role = resources[logicalId(broker.keyAuthorizer!.role as never)]!;
    expect(role.Properties["ManagedPolicyArns"]).toBeUndefined();
    expect(role.Properties["Policies"]).toBeUndefined();
  });

  it("knows only the security table, always authenticates, and runs like the broker's functions", () => {
    const properties = resources[logicalId(broker.keyAuthorizer!)]!.Properties;
    const variables = (properties["Environment"] as { Variables: Record<string, unknown> }).Variables;
    expect(variables["DYNALOG_TABLE_SECURITY"]).toEqual({ Ref: logicalId(broker.tables.security) });
    for (const id of TABLE_IDS.filter((t) => t !== "security")) expect(variables[`DYNALOG_TABLE_${id.toUpperCase()}`]).toBeUndefined();
    expect(variables["DYNALOG_AUTH"]).toBe("on");
    // Its key cache is the broker's default (no override): the revocation bound the docs state.
    expect(variables["DYNALOG_AUTH_CACHE_TTL_MS"]).toBeUndefined();
    expect(DEFAULT_SECURITY_CONFIG.cacheTtlMs).toBe(5_000);
    expect(properties).toMatchObject({ Runtime: "nodejs22.x", Architectures: ["arm64"], Handler: "index.handler", Timeout: AUTHORIZER_SETTINGS.timeout.toSeconds() });
    // API Gateway gives up on an authorizer after 10 s.
    expect(AUTHORIZER_SETTINGS.timeout.toSeconds()).toBeLessThan(10);
  });

  it("is watched by the function alarms, and the 5xx alarm covers both APIs", () => {
    const alarms = ofType("AWS::CloudWatch::Alarm").map(([, a]) => JSON.stringify(a.Properties));
    const errors = alarms.find((a) => a.includes('"Errors"'))!;
    expect(errors).toContain(logicalId(broker.keyAuthorizer!));
    for (const fn of FUNCTION_NAMES) expect(errors).toContain(logicalId(broker.functions[fn]));
    const serverErrors = alarms.find((a) => a.includes('"5xx"'))!;
    expect(serverErrors).toContain(logicalId(broker.api));
    expect(serverErrors).toContain(logicalId(broker.keyApi!));
  });
});

describe("the IAM API is unchanged", () => {
  it("requires SigV4 on every route, with the same logical ids as before the key API existed", () => {
    const routes = routesOf(broker.api);
    expect(routes).toHaveLength(ROUTES.length);
    for (const [, route] of routes) {
      expect(route.Properties["AuthorizationType"]).toBe("AWS_IAM");
      expect(route.Properties["AuthorizerId"]).toBeUndefined();
    }
    // Logical ids as before the key API existed, so a deployed stack keeps its IAM API resources.
    expect(logicalId(broker.api)).toBe("BrokerApi8DF99423");
    for (const [, route] of routes) {
      const integration = JSON.stringify(route.Properties["Target"]);
      expect(integration).toMatch(/"Ref":"BrokerApi[A-Za-z0-9]*(Admin|Produce|Fetch|Commit|Transactions|Subscriptions)Integration[0-9A-F]{8}"/);
      expect(integration).not.toContain("Key");
    }
  });

  it("grantInvoke grants the IAM API only (keys are the broker's business, not IAM's)", () => {
    const { stack: s, broker: b } = build();
    const grantee = new Role(s, "Caller", { assumedBy: new AccountRootPrincipal() });
    b.grantInvoke(grantee);
    const policy = Object.values(Template.fromStack(s).findResources("AWS::IAM::Policy", { Properties: { Roles: [{ Ref: logicalId(grantee) }] } }))[0] as Resource;
    const resourcesJson = JSON.stringify(s.resolve((policy.Properties["PolicyDocument"] as { Statement: Statement[] }).Statement[0]!.Resource));
    expect(resourcesJson).toContain(`"Ref":"${logicalId(b.api)}"`);
    expect(resourcesJson).not.toContain(`"Ref":"${logicalId(b.keyApi!)}"`);
  });
});

describe("auth modes and the no-route-without-auth check", () => {
  it('mode "iam" deploys the IAM API alone: no key API, no authorizer, no KeyApiUrl', () => {
    const { broker: b, resources: r } = synth({ auth: { mode: "iam" } });
    expect(b.keyApi).toBeUndefined();
    expect(b.keyAuthorizer).toBeUndefined();
    expect(ofType("AWS::ApiGatewayV2::Api", r)).toHaveLength(1);
    expect(ofType("AWS::ApiGatewayV2::Authorizer", r)).toHaveLength(0);
    // The route functions, the subscription dispatcher, the scheduled compactor and the history
    // sampler (its routes are on the IAM API too: the SDK's admin.topicHistory).
    expect(ofType("AWS::Lambda::Function", r)).toHaveLength(FUNCTION_NAMES.length + 3);
    for (const [, route] of ofType("AWS::ApiGatewayV2::Route", r)) expect(route.Properties["AuthorizationType"]).toBe("AWS_IAM");

    const fromContext = buildApp(new App({ context: { ...NO_BUNDLING, "dynalog:auth": "iam" } })).stack;
    expect(fromContext.broker.keyApi).toBeUndefined();
    expect(Template.fromStack(fromContext).toJSON()["Outputs"]).not.toHaveProperty("KeyApiUrl");
    expect(() => buildApp(new App({ context: { ...NO_BUNDLING, "dynalog:auth": "none" } }))).toThrow(/dynalog:auth must be "iam" or "iam-and-api-keys"/);
    // The former "any authorizer" mode is gone (the broker would refuse its callers anyway): refused, not ignored.
    expect(() => build({ auth: { mode: "authorizer" } as never })).toThrow(/auth.mode must be "iam" or "iam-and-api-keys", got "authorizer"/);
  });

  it("takes the authorizer cache TTL as a prop, within API Gateway's limit", () => {
    const { resources: r } = synth({ auth: { mode: "iam-and-api-keys", authorizerCacheTtl: Duration.seconds(0) } });
    expect(ofType("AWS::ApiGatewayV2::Authorizer", r)[0]![1].Properties["AuthorizerResultTtlInSeconds"]).toBe(0);
    expect(() => synth({ auth: { mode: "iam-and-api-keys", authorizerCacheTtl: Duration.hours(2) } })).toThrow(/at most 1 hour/);
  });

  it("refuses to synthesize a route without authorization on the key API too", () => {
    const { app, broker: b } = build();
    new HttpRoute(b.keyApi!, "KeyBackdoor", {
      httpApi: b.keyApi!,
      routeKey: HttpRouteKey.with("/v1/backdoor"),
      integration: new HttpLambdaIntegration("KeyBackdoor", b.functions.admin),
      authorizer: new HttpNoneAuthorizer(),
    });
    expect(() => app.synth()).toThrow(/KeyBackdoor has no authorization/);
  });
});
