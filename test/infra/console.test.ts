/**
 * The web console on a deployed stack (docs/console.md, "Deployed stacks"): its function and its two
 * routes on the key API — the stack's only unauthenticated ones, a named exception — and a function
 * that can read nothing. Template assertions (bundling skipped), plus the function's handler over a
 * freshly built bundle. test/infra/bundled-handlers.test.ts runs the bundle CDK actually deploys.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { App, Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { HttpMethod, HttpNoneAuthorizer, HttpRoute, HttpRouteKey } from "aws-cdk-lib/aws-apigatewayv2";
import { HttpLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import type { Context } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONSOLE_ROUTE_PATHS } from "../../infra/console.js";
import { Dynalog, type DynalogProps } from "../../infra/dynalog.js";
import type { DynalogStack } from "../../infra/dynalog-stack.js";
import { buildConsole, writeConsoleBundle } from "../../scripts/build-console.js";
import { consoleLambdaHandler } from "../../shared/runtime/console-lambda.js";
import { consoleEvent } from "../support/console-event.js";
import { logicalId, NO_BUNDLING, resourcesOfType, routesOfApi, synthProjectStack, type Resource, type Statement } from "./template-support.js";

let stack: DynalogStack;
let resources: Record<string, Resource>;

beforeAll(() => {
  ({ stack, resources } = synthProjectStack());
}, 300_000);

function synth(props: DynalogProps): { broker: Dynalog; resources: Record<string, Resource> } {
  const s = new Stack(new App({ context: NO_BUNDLING }), "Test");
  const broker = new Dynalog(s, "Broker", { alarms: false, dashboard: false, ...props });
  return { broker, resources: Template.fromStack(s).toJSON()["Resources"] as Record<string, Resource> };
}

describe("the console on the key API", { timeout: 300_000 }, () => {
  it("serves GET /console and GET /console/{proxy+} from the console function, without authorization", () => {
    const broker = stack.broker;
    expect(broker.console).toBeDefined();
    const routes = routesOfApi(resources, broker.keyApi!).filter(([, r]) => String(r.Properties["RouteKey"]).includes("/console"));
    expect(routes.map(([, r]) => r.Properties["RouteKey"]).sort()).toEqual(CONSOLE_ROUTE_PATHS.map((p) => `GET ${p}`).sort());
    const integrations = new Map(resourcesOfType(resources, "AWS::ApiGatewayV2::Integration").map(([id, i]) => [id, i]));
    for (const [, route] of routes) {
      expect(route.Properties["AuthorizationType"]).toBe("NONE");
      expect(route.Properties).not.toHaveProperty("AuthorizerId");
      const target = JSON.stringify(route.Properties["Target"]);
      const integration = [...integrations].find(([id]) => target.includes(`"${id}"`))![1];
      expect(integration.Properties["IntegrationUri"]).toEqual({ "Fn::GetAtt": [logicalId(broker.console!.function), "Arn"] });
    }
  });

  it("leaves no other route of either API without authorization", () => {
    const open = resourcesOfType(resources, "AWS::ApiGatewayV2::Route").filter(([, r]) => r.Properties["AuthorizationType"] === "NONE");
    expect(open.map(([, r]) => r.Properties["RouteKey"]).sort()).toEqual(["GET /console", "GET /console/{proxy+}"]);
    expect(open.every(([, r]) => (r.Properties["ApiId"] as { Ref: string }).Ref === logicalId(stack.broker.keyApi!))).toBe(true);
    // Not on the IAM API: SigV4 callers get no console there (docs/console.md, "SigV4 users").
    expect(routesOfApi(resources, stack.broker.api).filter(([, r]) => String(r.Properties["RouteKey"]).includes("/console"))).toEqual([]);
  });

  it("runs a function that may write its own logs and nothing else: no table grant, no environment", () => {
    const fn = stack.broker.console!.function;
    const role = (resources[logicalId(fn)]!.Properties["Role"] as { "Fn::GetAtt": string[] })["Fn::GetAtt"][0]!;
    const statements = resourcesOfType(resources, "AWS::IAM::Policy")
      .filter(([, p]) => (p.Properties["Roles"] as { Ref: string }[]).some((r) => r.Ref === role))
      .flatMap(([, p]) => (p.Properties["PolicyDocument"] as { Statement: Statement[] }).Statement);
    expect(statements.flatMap((s) => ([] as string[]).concat(s.Action)).sort()).toEqual(["logs:CreateLogStream", "logs:PutLogEvents"]);
    expect(JSON.stringify(statements)).not.toMatch(/dynamodb|Table/);
    const roleResource = resources[role]!;
    expect(roleResource.Properties).not.toHaveProperty("ManagedPolicyArns");
    expect(roleResource.Properties).not.toHaveProperty("Policies");
    expect(resources[logicalId(fn)]!.Properties).not.toHaveProperty("Environment");
    expect(resources[logicalId(fn)]!.Properties).toMatchObject({ Runtime: "nodejs22.x", Architectures: ["arm64"], Handler: "index.handler" });
  });

  it("is left out with console: false and in auth mode iam (no key API)", () => {
    for (const props of [{ console: false }, { auth: { mode: "iam" } }] satisfies DynalogProps[]) {
      const { broker, resources: r } = synth(props);
      expect(broker.console).toBeUndefined();
      expect(resourcesOfType(r, "AWS::ApiGatewayV2::Route").filter(([, route]) => route.Properties["AuthorizationType"] === "NONE")).toEqual([]);
    }
  });

  it("is an exception by construct, not by path: another unauthenticated GET /console/... route is still refused", () => {
    const app = new App({ context: NO_BUNDLING });
    const s = new Stack(app, "Open");
    const broker = new Dynalog(s, "Broker", { alarms: false, dashboard: false });
    new HttpRoute(broker.api, "LookalikeConsole", {
      httpApi: broker.api,
      routeKey: HttpRouteKey.with("/console/{proxy+}", HttpMethod.GET),
      integration: new HttpLambdaIntegration("Lookalike", broker.functions.admin),
      authorizer: new HttpNoneAuthorizer(),
    });
    expect(() => app.synth()).toThrow(/LookalikeConsole has no authorization/);
  });
});

describe("the console function's handler", { timeout: 120_000 }, () => {
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "dynalog-console-fn-"));
    writeConsoleBundle(await buildConsole(), dir);
  }, 120_000);
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("answers index.html for page paths and the hashed assets as immutable, as the local broker does", async () => {
    const handler = consoleLambdaHandler(dir) as unknown as (event: unknown, context: Context) => Promise<{ statusCode: number; headers: Record<string, string>; body: string }>;
    const context = { awsRequestId: "a", functionName: "console" } as Context;
    const root = await handler(consoleEvent("/console"), context);
    const page = await handler(consoleEvent("/console/subscriptions/orders.to.billing"), context);
    for (const answer of [root, page]) {
      expect(answer.statusCode).toBe(200);
      expect(answer.headers).toMatchObject({ "cache-control": "no-cache", "x-content-type-options": "nosniff" });
      expect(answer.headers["content-security-policy"]).toContain("connect-src 'self'");
    }
    expect(page.body).toBe(root.body);
    const script = /src="(\/console\/assets\/[^"]+\.js)"/.exec(page.body)![1]!;
    const asset = await handler(consoleEvent(script), context);
    expect(asset).toMatchObject({ statusCode: 200, headers: expect.objectContaining({ "cache-control": "public, max-age=31536000, immutable" }) });
    expect(asset.headers["content-type"]).toContain("text/javascript");
    expect((await handler(consoleEvent("/console/assets/main-OLDHASH.js"), context)).statusCode).toBe(404);
  });
});
