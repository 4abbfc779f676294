/**
 * What makes a first deploy in a real AWS account succeed, and say what it left undone (issue 14):
 * access-log names, memory and concurrency, timeouts against API Gateway's 30 s, the super-user
 * warning, IAM conditions on attribute-restricted writes. Template assertions only (no bundling).
 */
import { App, Stack } from "aws-cdk-lib";
import { Annotations, Match, Template } from "aws-cdk-lib/assertions";
import { Runtime } from "aws-cdk-lib/aws-lambda";
import { describe, expect, it, vi } from "vitest";
import { buildApp } from "../../infra/app.js";
import { DEFAULT_FETCH_MEMORY_MB, LAMBDA_MIN_UNRESERVED_CONCURRENCY, resolveCapacity } from "../../infra/capacity.js";
import { Dynalog, type DynalogProps } from "../../infra/dynalog.js";
import { API_GATEWAY_INTEGRATION_TIMEOUT_MS, AUTHORIZER_SETTINGS, FUNCTION_SETTINGS, GATEWAY_TIMEOUT_MARGIN_MS, gatewayTimeoutProblems } from "../../infra/functions.js";
import { LAMBDA_RUNTIME } from "../../infra/dynalog.js";
import { FUNCTION_NAMES } from "../../shared/http/routes.js";
import { NO_BUNDLING, logicalId, type Resource, type Statement } from "./template-support.js";

// Synthesis is CPU-bound and the machine is shared: seconds each, more under load.
vi.setConfig({ testTimeout: 180_000 });

let defaultSynth: ReturnType<typeof synth> | undefined;
/** The default construct, synthesized once for the tests that only read it. */
const synthDefault = () => (defaultSynth ??= synth());

function synth(props: DynalogProps = {}, context: Record<string, unknown> = {}): { stack: Stack; broker: Dynalog; template: Template } {
  const app = new App({ context: { ...NO_BUNDLING, ...context } });
  const stack = new Stack(app, "Deploy");
  const broker = new Dynalog(stack, "Broker", { superUsers: ["User:admin"], ...props });
  return { stack, broker, template: Template.fromStack(stack) };
}

const resourcesOf = (template: Template, type: string): Resource[] => Object.values(template.findResources(type)) as Resource[];

describe("API access logs", () => {
  it("are named under /aws/vendedlogs/ (one wildcard entry in the account's Logs resource policy, not one per group)", () => {
    const { broker, template } = synthDefault();
    const stages = resourcesOf(template, "AWS::ApiGatewayV2::Stage");
    expect(stages).toHaveLength(2); // the IAM API and the key API
    const groups = template.findResources("AWS::Logs::LogGroup");
    for (const stage of stages) {
      const destination = (stage.Properties["AccessLogSettings"] as { DestinationArn: { "Fn::GetAtt": [string, string] } }).DestinationArn;
      const group = groups[destination["Fn::GetAtt"][0]] as Resource;
      expect(group.Properties["LogGroupName"]).toMatch(/^\/aws\/vendedlogs\/apigateway\/Deploy-[A-Za-z0-9]+-(api|key-api)-access$/);
    }
    expect(logicalId(broker.api)).toBeDefined();
  });
});

describe("memory and concurrency", () => {
  it("gives the long-polling fetch function less memory than the others (a waiting function needs little)", () => {
    const { broker, template } = synthDefault();
    const memory = (fn: keyof typeof broker.functions) => (template.toJSON()["Resources"][logicalId(broker.functions[fn])] as Resource).Properties["MemorySize"];
    expect(memory("fetch")).toBe(DEFAULT_FETCH_MEMORY_MB);
    for (const fn of FUNCTION_NAMES.filter((f) => f !== "fetch")) expect(memory(fn)).toBe(1024);
    const small = synth({ fetchMemorySize: 256 });
    expect((small.template.toJSON()["Resources"][logicalId(small.broker.functions.fetch)] as Resource).Properties["MemorySize"]).toBe(256);
  });

  it("reserves nothing by default (deploys on a new account with a 10-execution quota) and warns that fetch is uncapped", () => {
    const { stack, template } = synthDefault();
    for (const fn of resourcesOf(template, "AWS::Lambda::Function")) expect(fn.Properties["ReservedConcurrentExecutions"]).toBeUndefined();
    Annotations.fromStack(stack).hasWarning("*", Match.stringLikeRegexp("Fetch concurrency is uncapped"));
  });

  it("caps fetch with fetchConcurrency (context dynalog:fetchConcurrency) and reserves for the authorizer too, without the warning", () => {
    const { stack, broker, template } = synth({ fetchConcurrency: 200, reservedConcurrency: { produce: 50, authorizer: 20 } });
    const props = (fn: { node: { defaultChild?: unknown } }) => (template.toJSON()["Resources"][logicalId(fn)] as Resource).Properties;
    expect(props(broker.functions.fetch)["ReservedConcurrentExecutions"]).toBe(200);
    expect(props(broker.functions.produce)["ReservedConcurrentExecutions"]).toBe(50);
    expect(props(broker.keyAuthorizer!)["ReservedConcurrentExecutions"]).toBe(20);
    expect(Annotations.fromStack(stack).findWarning("*", Match.stringLikeRegexp("Fetch concurrency is uncapped"))).toEqual([]);

    const fromContext = buildApp(new App({ context: { ...NO_BUNDLING, "dynalog:fetchConcurrency": "150", "dynalog:superUsers": "User:a" } })).stack;
    const fetchFn = Template.fromStack(fromContext).toJSON()["Resources"][logicalId(fromContext.broker.functions.fetch)] as Resource;
    expect(fetchFn.Properties["ReservedConcurrentExecutions"]).toBe(150);
  });

  it("refuses reservations the account cannot make (Lambda keeps 100 unreserved), zero, and contradictory caps, with the way out", () => {
    expect(() => synth({ fetchConcurrency: 901 })).toThrow(/at most 900 .*accountConcurrency/s);
    expect(() => synth({ fetchConcurrency: 5, accountConcurrency: 10 })).toThrow(/at most 0/);
    expect(() => synth({ reservedConcurrency: { commit: 0 } })).toThrow(/commit must be a whole number ≥ 1/);
    expect(() => synth({ fetchConcurrency: 10, reservedConcurrency: { fetch: 20 } })).toThrow(/disagree/);
    expect(() => synth({ fetchMemorySize: 64 })).toThrow(/128 to 10240/);
    expect(resolveCapacity({ fetchConcurrency: 1000 - LAMBDA_MIN_UNRESERVED_CONCURRENCY }).reserved("fetch")).toBe(900);
  });
});

describe("timeouts against API Gateway's 30 s integration timeout", () => {
  it("every function answers before the gateway gives up, authorizer and cold-start margin included", () => {
    expect(gatewayTimeoutProblems()).toEqual([]);
    for (const fn of FUNCTION_NAMES) {
      expect(FUNCTION_SETTINGS[fn].timeout.toMilliseconds() + AUTHORIZER_SETTINGS.timeout.toMilliseconds() + GATEWAY_TIMEOUT_MARGIN_MS).toBeLessThanOrEqual(API_GATEWAY_INTEGRATION_TIMEOUT_MS);
    }
    expect(FUNCTION_SETTINGS.admin.timeout.toSeconds()).toBeLessThan(29);
  });
});

describe("who can administer the broker", () => {
  it("warns at synth when no super-user is given (a plain `cdk deploy`), and not when one is", () => {
    const plain = buildApp(new App({ context: NO_BUNDLING })).stack;
    Annotations.fromStack(plain).hasWarning("*", Match.stringLikeRegexp("No super-users: nobody will be able to create API keys or ACLs"));
    const { stack } = synthDefault(); // superUsers: ["User:admin"]
    expect(Annotations.fromStack(stack).findWarning("*", Match.stringLikeRegexp("No super-users"))).toEqual([]);
  });
});

describe("runtime", () => {
  it("is the one the project tests on, set in one place", () => {
    const { template } = synthDefault();
    for (const fn of resourcesOf(template, "AWS::Lambda::Function")) expect(fn.Properties["Runtime"]).toBe(LAMBDA_RUNTIME.name);
    expect(LAMBDA_RUNTIME).toBe(Runtime.NODEJS_22_X);
    // The next step (docs/deploy.md): aws-cdk-lib already has it.
    expect(Runtime.NODEJS_24_X.name).toBe("nodejs24.x");
  });
});

describe("IAM on attribute-restricted writes", () => {
  it("every statement restricted with dynamodb:Attributes also restricts dynamodb:ReturnValues to NONE / UPDATED_OLD / UPDATED_NEW", () => {
    const { template } = synthDefault();
    let restricted = 0;
    for (const policy of resourcesOf(template, "AWS::IAM::Policy")) {
      for (const statement of (policy.Properties["PolicyDocument"] as { Statement: Statement[] }).Statement) {
        if (!statement.Condition?.["ForAllValues:StringEquals"]?.["dynamodb:Attributes"]) continue;
        restricted++;
        expect(statement.Condition["StringEqualsIfExists"]).toEqual({ "dynamodb:ReturnValues": ["NONE", "UPDATED_OLD", "UPDATED_NEW"] });
      }
    }
    expect(restricted).toBeGreaterThan(5);
  });
});
