import { App, Duration, RemovalPolicy, Stack, type CfnElement } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { HttpNoneAuthorizer, HttpRoute, HttpRouteKey } from "aws-cdk-lib/aws-apigatewayv2";
import { HttpLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import { Role, AccountRootPrincipal } from "aws-cdk-lib/aws-iam";
import { AwsSolutionsChecks } from "cdk-nag";
import { DynalogStack } from "../../infra/dynalog-stack.js";
import { beforeAll, describe, expect, it } from "vitest";
import { logicalId, NO_BUNDLING, resourcesOfType, roleDynamoGrants, routesOfApi, synthProjectStack, type Resource, type Statement } from "./template-support.js";
import { Dynalog, type DynalogProps } from "../../infra/dynalog.js";
import { CLOCK_SKEW_MARGIN_MS, DEFAULT_HOLE_TIMEOUT, FUNCTION_SETTINGS, HOLE_TIMEOUT_HEADROOM_MS, minimumHoleTimeoutMs, reservingFunctions } from "../../infra/functions.js";
import { FUNCTION_ACCESS } from "../../infra/permissions.js";
import { DEFAULT_FETCH_MEMORY_MB } from "../../infra/capacity.js";
import { FUNCTION_NAMES, ROUTES, apiGatewayPath, type FunctionName } from "../../shared/http/routes.js";
import { DYNAMODB_CLIENT_LIMITS } from "../../shared/runtime/client-limits.js";
import { TABLES, TABLE_IDS } from "../../shared/storage/tables.js";

// Bundling is skipped here (the CDK puts a placeholder asset): these tests read the template only.
// test/infra/bundled-handlers.test.ts synthesizes with bundling and runs the bundles.


let stack: DynalogStack;
let broker: Dynalog;
let template: Template;
let resources: Record<string, Resource>;

const ofType = (type: string) => resourcesOfType(resources, type);
const routesOf = (api: { node: { defaultChild?: unknown } }) => routesOfApi(resources, api);

/** The statements of a function's role, as "table:Action" or "table:Action[attr,…]" strings (logs excluded). */
function dynamoGrants(fn: FunctionName): string[] {
  return roleDynamoGrants(resources, broker, broker.functions[fn]);
}

function synth(props: DynalogProps = {}): { stack: Stack; broker: Dynalog; template: Template } {
  const app = new App({ context: NO_BUNDLING });
  const s = new Stack(app, "Test");
  const b = new Dynalog(s, "Broker", props);
  return { stack: s, broker: b, template: Template.fromStack(s) };
}

beforeAll(() => {
  ({ stack, template, resources } = synthProjectStack());
  broker = stack.broker;
});

describe("tables", () => {
  it("creates one table per definition in shared/storage/tables.ts, with its keys, TTL, PITR and on-demand billing", () => {
    template.resourceCountIs("AWS::DynamoDB::Table", TABLE_IDS.length);
    for (const id of TABLE_IDS) {
      const definition = TABLES[id];
      const keys = [definition.partitionKey, ...(definition.sortKey ? [definition.sortKey] : [])];
      const table = resources[logicalId(broker.tables[id])]!;
      expect(table.Type).toBe("AWS::DynamoDB::Table");
      expect(table.Properties).toMatchObject({
        KeySchema: keys.map((k, i) => ({ AttributeName: k.name, KeyType: i === 0 ? "HASH" : "RANGE" })),
        AttributeDefinitions: keys.map((k) => ({ AttributeName: k.name, AttributeType: k.type })),
        BillingMode: "PAY_PER_REQUEST",
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        DeletionProtectionEnabled: true,
      });
      if (definition.ttlAttribute) expect(table.Properties["TimeToLiveSpecification"]).toEqual({ AttributeName: definition.ttlAttribute, Enabled: true });
      else expect(table.Properties["TimeToLiveSpecification"]).toBeUndefined();
    }
    expect(TABLES.log.ttlAttribute).toBe("x");
  });

  it("retains the tables by default, so no deploy or destroy deletes data", () => {
    for (const [, table] of ofType("AWS::DynamoDB::Table")) expect(table).toMatchObject({ DeletionPolicy: "Retain", UpdateReplacePolicy: "Retain" });
  });

  it("honours billing, removal policy and deletion protection props", () => {
    const { template: t } = synth({ billing: { mode: "provisioned", readCapacity: 7, writeCapacity: 3 }, removalPolicy: RemovalPolicy.DESTROY });
    t.allResourcesProperties("AWS::DynamoDB::Table", { ProvisionedThroughput: { ReadCapacityUnits: 7, WriteCapacityUnits: 3 }, DeletionProtectionEnabled: false });
    t.allResources("AWS::DynamoDB::Table", { DeletionPolicy: "Delete" });
  });

  it("passes every table's name to every function, and the tables are the ones the functions may use", () => {
    for (const fn of FUNCTION_NAMES) {
      const variables = (resources[logicalId(broker.functions[fn])]!.Properties["Environment"] as { Variables: Record<string, unknown> }).Variables;
      for (const id of TABLE_IDS) expect(variables[`DYNALOG_TABLE_${id.toUpperCase()}`]).toEqual({ Ref: logicalId(broker.tables[id]) });
    }
  });
});

describe("functions", () => {
  it("runs one nodejs22.x arm64 function per handler, ESM-bundled", () => {
    // Plus the key API's authorizer (test/infra/key-api.test.ts), the console's (test/infra/console.test.ts),
    // the subscription dispatcher (test/infra/subscriptions-stack.test.ts), the scheduled compactor
    // (test/infra/compactor-schedule.test.ts) and the history sampler (test/infra/history-schedule.test.ts).
    template.resourceCountIs("AWS::Lambda::Function", FUNCTION_NAMES.length + 5);
    for (const fn of FUNCTION_NAMES) {
      expect(resources[logicalId(broker.functions[fn])]!.Properties).toMatchObject({
        Runtime: "nodejs22.x",
        Architectures: ["arm64"],
        Handler: "index.handler",
        Timeout: FUNCTION_SETTINGS[fn].timeout.toSeconds(),
        MemorySize: fn === "fetch" ? DEFAULT_FETCH_MEMORY_MB : 1024,
      });
    }
  });

  it("keeps the hole timeout longer than any offset-reserving function can still write (DESIGN.md §1.4)", () => {
    // The functions that hold the reservation grant are exactly the writers of the log.
    expect(reservingFunctions().sort()).toEqual(["produce", "transactions"]);
    for (const fn of FUNCTION_NAMES) {
      const properties = resources[logicalId(broker.functions[fn])]!.Properties;
      const holeTimeoutMs = Number((properties["Environment"] as { Variables: Record<string, string> }).Variables["DYNALOG_HOLE_TIMEOUT_MS"]);
      // Set explicitly on every function: readers (fetch, admin) are the ones that apply it.
      expect(holeTimeoutMs).toBe(DEFAULT_HOLE_TIMEOUT.toMilliseconds());
      if (!reservingFunctions().includes(fn)) continue;
      const writesUntilMs = (properties["Timeout"] as number) * 1000 + DYNAMODB_CLIENT_LIMITS.requestTimeoutMs + CLOCK_SKEW_MARGIN_MS;
      expect(holeTimeoutMs, `${fn}: hole timeout vs. timeout + request timeout + skew`).toBeGreaterThan(writesUntilMs);
    }
  });

  it("refuses a hole timeout the writers could outlive", () => {
    expect(() => synth({ holeTimeout: Duration.seconds(15) })).toThrow(/holeTimeout 15000 ms is unsafe: the produce function/);
    expect(() => synth({ holeTimeout: Duration.seconds(17) })).toThrow(/must be greater than 17000 ms/);
    expect(() => synth({ holeTimeout: Duration.seconds(18) })).not.toThrow();
  });

  it("derives the default hole timeout (how long a crashed writer stalls readers) from the writers' timeouts", () => {
    const slowestWriterMs = Math.max(...reservingFunctions().map((fn) => minimumHoleTimeoutMs(FUNCTION_SETTINGS[fn].timeout.toMilliseconds())));
    expect(DEFAULT_HOLE_TIMEOUT.toMilliseconds()).toBe(slowestWriterMs + HOLE_TIMEOUT_HEADROOM_MS);
    expect(DEFAULT_HOLE_TIMEOUT.toMilliseconds()).toBe(18_000); // 10 s writers + 5 s request + 2 s skew + 1 s
    const { broker: b, template: t } = synth({ holeTimeout: Duration.seconds(30) });
    const env = (t.toJSON()["Resources"] as Record<string, Resource>)[logicalId(b.functions.fetch)]!.Properties["Environment"] as { Variables: Record<string, string> };
    expect(env.Variables["DYNALOG_HOLE_TIMEOUT_MS"]).toBe("30000");
  });

  it("takes the hole timeout from CDK context (dynalog:holeTimeoutMs), validated", () => {
    const withContext = (value: string) => {
      const s = new DynalogStack(new App({ context: { ...NO_BUNDLING, "dynalog:holeTimeoutMs": value } }), "HoleTimeout");
      const json = Template.fromStack(s).toJSON()["Resources"] as Record<string, Resource>;
      return (json[logicalId(s.broker.functions.fetch)]!.Properties["Environment"] as { Variables: Record<string, string> }).Variables["DYNALOG_HOLE_TIMEOUT_MS"];
    };
    expect(withContext("25000")).toBe("25000");
    expect(() => withContext("12000")).toThrow(/holeTimeout 12000 ms is unsafe: the produce function can still write until 17000 ms/);
    expect(() => withContext("20s")).toThrow(/dynalog:holeTimeoutMs must be a whole number of milliseconds, got "20s"/);
  });

  it("sets reserved concurrency, log level and default retention when asked", () => {
    const { broker: b, template: t } = synth({ reservedConcurrency: { produce: 50 }, logLevel: "DEBUG", defaultTopicRetention: Duration.hours(2) });
    const json = t.toJSON()["Resources"] as Record<string, Resource>;
    expect(json[logicalId(b.functions.produce)]!.Properties["ReservedConcurrentExecutions"]).toBe(50);
    expect(json[logicalId(b.functions.fetch)]!.Properties["ReservedConcurrentExecutions"]).toBeUndefined();
    expect(json[logicalId(b.functions.fetch)]!.Properties["Environment"]).toMatchObject({ Variables: { DYNALOG_LOG_LEVEL: "DEBUG", DYNALOG_DEFAULT_RETENTION_MS: "7200000" } });
  });

  it("writes logs only to each function's own log group, with a retention", () => {
    for (const fn of FUNCTION_NAMES) {
      const properties = resources[logicalId(broker.functions[fn])]!.Properties;
      expect(properties["LoggingConfig"]).toMatchObject({ LogGroup: { Ref: expect.stringMatching(new RegExp(`${fn}Logs`, "i")) } });
    }
    template.allResourcesProperties("AWS::Logs::LogGroup", { RetentionInDays: 30 });
    // No AWS managed policy (the basic execution role may write to every log group).
    for (const [, role] of ofType("AWS::IAM::Role")) expect(role.Properties["ManagedPolicyArns"]).toBeUndefined();
  });
});

describe("IAM: least privilege per function", () => {
  const VOID = "[p,o,k,c,a,x]";
  const HINTS = "[p,hw,ls]";
  const RESERVE = "[p,next,ra,rt,bw]";
  const QUOTA = "[pk,sk,requests,bytes,x]";
  // Every function authenticates (API keys), authorizes (ACL rules) and counts quotas.
  const AUTH = ["security:GetItem", "security:Query", `security:UpdateItem${QUOTA}`];
  const EXPECTED: Record<FunctionName, string[]> = {
    admin: [
      "topics:GetItem", "topics:PutItem", "topics:DeleteItem", "topics:Scan",
      "partitions:BatchGetItem", "partitions:BatchWriteItem", "partitions:GetItem", "partitions:PutItem", `partitions:UpdateItem${HINTS}`,
      "log:Query", "log:GetItem", "log:BatchWriteItem", `log:PutItem${VOID}`,
      // Compaction (docs/compaction.md): conditional rewrites of batch items, and the checkpoint.
      "log:UpdateItem", "partitions:UpdateItem[p,cc,cr,ck,ch,cn]",
      // Purge a topic's producer state; trace a record (transaction records and their input index).
      "producers:Query", "producers:GetItem", "producers:BatchWriteItem",
      // Deleting a consumer group (no live members): its group and member items, then its offsets.
      "offsets:Query", "offsets:Scan", "offsets:DeleteItem", "offsets:ConditionCheckItem", "offsets:BatchWriteItem",
      ...AUTH, "security:PutItem", "security:UpdateItem", "security:DeleteItem", "security:Scan",
    ],
    // partitions:GetItem: settling a dead writer's sequence claim checks the log start (docs/append.md).
    produce: ["topics:GetItem", "partitions:GetItem", `partitions:UpdateItem${RESERVE}`, "log:PutItem", "log:GetItem", "producers:GetItem", "producers:PutItem", "producers:UpdateItem", ...AUTH],
    fetch: ["topics:GetItem", "partitions:GetItem", "partitions:BatchGetItem", `partitions:UpdateItem${HINTS}`, "log:Query", "log:GetItem", `log:PutItem${VOID}`, ...AUTH],
    commit: [
      "topics:GetItem",
      // GetItem: Upstash consumer-instance items (docs/upstash.md).
      "offsets:Query", "offsets:GetItem", "offsets:PutItem", "offsets:DeleteItem", "offsets:ConditionCheckItem",
      // A reader's access, for committed offsets with a reset policy (earliest / latest) and
      // the Upstash dialect's consume (BatchGetItem: fetch reads partition heads).
      "partitions:GetItem", "partitions:BatchGetItem", `partitions:UpdateItem${HINTS}`, "log:Query", "log:GetItem", `log:PutItem${VOID}`,
      ...AUTH,
    ],
    transactions: [
      "topics:GetItem", `partitions:UpdateItem${RESERVE}`, "log:PutItem", "log:GetItem", "producers:GetItem", "producers:UpdateItem",
      // The transaction's record and input index items (tracing), in the commit transaction.
      "producers:PutItem",
      // Offsets fenced by a group member (ConditionCheck), and the member list for memberless commits.
      "offsets:PutItem", "offsets:ConditionCheckItem", "offsets:Query",
      ...AUTH,
    ],
    // Push-subscription management: their items and partition states, and the starting offsets a
    // new one pins for its group (a memberless commit); a reader's access for the starting offsets
    // and describe's high watermarks.
    subscriptions: [
      "topics:GetItem",
      "partitions:GetItem", "partitions:BatchGetItem", `partitions:UpdateItem${HINTS}`, "log:Query", "log:GetItem", `log:PutItem${VOID}`,
      "offsets:GetItem", "offsets:PutItem", "offsets:DeleteItem", "offsets:BatchWriteItem", "offsets:Query", "offsets:ConditionCheckItem",
      ...AUTH,
    ],
  };

  it.each(FUNCTION_NAMES)("%s gets exactly the DynamoDB actions it needs", (fn) => {
    expect(dynamoGrants(fn)).toEqual([...EXPECTED[fn]].sort());
  });

  it("grants nothing beyond the permission table, and no wildcard anywhere", () => {
    for (const fn of FUNCTION_NAMES) {
      const fromTable = Object.entries(FUNCTION_ACCESS[fn]).flatMap(([table, grants]) =>
        (grants ?? []).flatMap((g) => g.actions.map((a) => `${table}:${a}${g.onlyAttributes ? `[${g.onlyAttributes.join(",")}]` : ""}`)),
      );
      expect(dynamoGrants(fn)).toEqual(fromTable.sort());
    }
    for (const [, policy] of ofType("AWS::IAM::Policy")) {
      for (const statement of (policy.Properties["PolicyDocument"] as { Statement: Statement[] }).Statement) {
        for (const action of ([] as string[]).concat(statement.Action)) expect(action).not.toMatch(/\*/);
        expect(JSON.stringify(statement.Resource)).not.toMatch(/"\*"/);
      }
    }
  });

  it("fetch cannot write records, move the sequencer, or touch producer state and offsets", () => {
    const grants = dynamoGrants("fetch");
    const writes = grants.filter((g) => /:(PutItem|UpdateItem|DeleteItem|BatchWriteItem)/.test(g));
    expect(writes).toEqual([`log:PutItem${VOID}`, `partitions:UpdateItem${HINTS}`, "security:UpdateItem[pk,sk,requests,bytes,x]"]);
    expect(grants.some((g) => g.startsWith("producers:") || g.startsWith("offsets:"))).toBe(false);
  });

  it("produce cannot touch committed offsets; commit and transactions write them, subscriptions writes its items, admin only reads and deletes groups", () => {
    const writesOffsets = FUNCTION_NAMES.filter((fn) => dynamoGrants(fn).some((g) => /^offsets:(Put|Update)/.test(g)));
    // subscriptions: a subscription's item, and its group's starting offsets (pinned at create, never moved after).
    expect(writesOffsets.sort()).toEqual(["commit", "subscriptions", "transactions"]);
    expect(dynamoGrants("admin").filter((g) => g.startsWith("offsets:")).sort()).toEqual(["offsets:BatchWriteItem", "offsets:ConditionCheckItem", "offsets:DeleteItem", "offsets:Query", "offsets:Scan"]);
    expect(dynamoGrants("produce").some((g) => g.startsWith("offsets:"))).toBe(false);
  });

  it("can drop the attribute conditions (escape hatch), keeping the actions", () => {
    const { template: t } = synth({ restrictWriteAttributes: false });
    expect(JSON.stringify(t.toJSON())).not.toContain("dynamodb:Attributes");
  });
});

describe("HTTP API", () => {
  it("creates exactly the routes of shared/http/routes.ts, each sent to its function", () => {
    const routes = routesOf(broker.api);
    expect(routes.map(([, r]) => r.Properties["RouteKey"]).sort()).toEqual(ROUTES.map((r) => `${r.method} ${apiGatewayPath(r)}`).sort());
    const integrationOf = new Map(
      ofType("AWS::ApiGatewayV2::Integration").map(([id, i]) => [id, ((i.Properties["IntegrationUri"] as { "Fn::GetAtt": string[] })["Fn::GetAtt"] ?? [])[0]]),
    );
    for (const [, route] of routes) {
      const definition = ROUTES.find((r) => `${r.method} ${apiGatewayPath(r)}` === route.Properties["RouteKey"])!;
      const target = (route.Properties["Target"] as { "Fn::Join": [string, unknown[]] })["Fn::Join"][1] as { Ref?: string }[];
      const integration = target.find((part) => typeof part === "object" && part.Ref)?.Ref;
      expect(integrationOf.get(integration!), String(route.Properties["RouteKey"])).toBe(logicalId(broker.functions[definition.fn]));
    }
  });

  it("requires IAM (SigV4) authorization on every route of the IAM API", () => {
    const routes = routesOf(broker.api);
    expect(routes.length).toBe(ROUTES.length);
    for (const [, route] of routes) expect(route.Properties["AuthorizationType"]).toBe("AWS_IAM");
    // The only other routes are the key API's, each behind its Lambda authorizer (key-api.test.ts),
    // but for the console's two static-file routes (console.test.ts).
    const others = ofType("AWS::ApiGatewayV2::Route").filter(([, r]) => r.Properties["AuthorizationType"] !== "AWS_IAM");
    expect(others.length).toBe(ROUTES.length + 2);
    const open = others.filter(([, r]) => r.Properties["AuthorizationType"] === "NONE").map(([, r]) => r.Properties["RouteKey"]);
    expect(open.sort()).toEqual(["GET /console", "GET /console/{proxy+}"]);
    for (const [, route] of others) if (!open.includes(route.Properties["RouteKey"])) expect(route.Properties["AuthorizationType"]).toBe("CUSTOM");
  });

  it("refuses to synthesize a route without authorization, even one added later", () => {
    const app = new App({ context: NO_BUNDLING });
    const s = new Stack(app, "Open");
    const b = new Dynalog(s, "Broker", { alarms: false, dashboard: false });
    new HttpRoute(b.api, "Backdoor", {
      httpApi: b.api,
      routeKey: HttpRouteKey.with("/v1/backdoor"),
      integration: new HttpLambdaIntegration("Backdoor", b.functions.admin),
      authorizer: new HttpNoneAuthorizer(),
    });
    expect(() => app.synth()).toThrow(/Backdoor has no authorization/);
  });

  it("logs every request to an access log, on both APIs", () => {
    const stages = ofType("AWS::ApiGatewayV2::Stage");
    expect(stages).toHaveLength(2);
    for (const [, stage] of stages) {
      expect(stage.Properties).toMatchObject({ StageName: "$default", AutoDeploy: true, AccessLogSettings: { DestinationArn: expect.anything(), Format: expect.stringContaining("$context.requestId") } });
    }
  });

  it("answers browsers' CORS preflights only when origins are configured, on both APIs, with the headers the SDK sends", () => {
    const apis = (tpl: Template) => Object.values(tpl.findResources("AWS::ApiGatewayV2::Api")) as { Properties: Record<string, unknown> }[];
    expect(apis(template).map((a) => a.Properties["CorsConfiguration"])).toEqual([undefined, undefined]);
    const { template: withCors } = synth({ cors: { allowOrigins: ["https://app.example.com"] } });
    const configs = apis(withCors).map((a) => a.Properties["CorsConfiguration"]);
    expect(configs).toHaveLength(2);
    for (const config of configs) {
      expect(config).toMatchObject({ AllowOrigins: ["https://app.example.com"], AllowMethods: ["GET", "POST", "DELETE"], MaxAge: 600 });
      expect((config as { AllowHeaders: string[] }).AllowHeaders).toEqual(expect.arrayContaining(["authorization", "content-type", "x-amz-date", "x-amz-security-token"]));
    }
    expect(() => synth({ cors: { allowOrigins: [] } })).toThrow(/at least one origin/);
  });

  it("grantInvoke allows execute-api:Invoke on the chosen functions' routes only", () => {
    const app = new App({ context: NO_BUNDLING });
    const s = new Stack(app, "Grants");
    const b = new Dynalog(s, "Broker", { alarms: false, dashboard: false });
    const producer = new Role(s, "Producer", { assumedBy: new AccountRootPrincipal() });
    b.grantInvoke(producer, "produce");
    const policies = Object.values(Template.fromStack(s).findResources("AWS::IAM::Policy", { Properties: { Roles: [{ Ref: s.resolve(s.getLogicalId(producer.node.defaultChild as CfnElement)) }] } })) as Resource[];
    const statement = (policies[0]!.Properties["PolicyDocument"] as { Statement: Statement[] }).Statement[0]!;
    expect(statement.Action).toBe("execute-api:Invoke");
    const resourcesJson = JSON.stringify(s.resolve(statement.Resource));
    expect(resourcesJson).toContain("/$default/POST/v1/topics/*/records");
    expect(resourcesJson).toContain("/$default/POST/v1/producers");
    expect(resourcesJson).not.toContain("/v1/fetch");
    expect(resourcesJson).not.toContain("DELETE");
  });

  it("grantProduce / grantConsume allow exactly a producer's / a consumer's routes, topic-scoped where the path names the topic", () => {
    const app = new App({ context: NO_BUNDLING });
    const s = new Stack(app, "RoleGrants");
    const b = new Dynalog(s, "Broker", { alarms: false, dashboard: false, auth: { mode: "iam" } });
    const invokable = (role: Role): string[] => {
      const policies = Object.values(Template.fromStack(s).findResources("AWS::IAM::Policy", { Properties: { Roles: [{ Ref: s.resolve(s.getLogicalId(role.node.defaultChild as CfnElement)) }] } })) as Resource[];
      const statements = policies.flatMap((p) => (p.Properties["PolicyDocument"] as { Statement: Statement[] }).Statement);
      expect(statements.every((st) => st.Action === "execute-api:Invoke")).toBe(true);
      // Each resource is Fn::Join([..., "/$default/<METHOD><path>"]); keep the route part.
      return statements.flatMap((st) => s.resolve(st.Resource) as unknown[]).map((r) => /\/\$default\/(.*)"/.exec(JSON.stringify(r))![1]!).sort();
    };
    const producer = new Role(s, "Producer", { assumedBy: new AccountRootPrincipal() });
    const transactional = new Role(s, "Transactional", { assumedBy: new AccountRootPrincipal() });
    const consumer = new Role(s, "Consumer", { assumedBy: new AccountRootPrincipal() });
    b.grantProduce(producer, "orders");
    b.grantProduce(transactional, undefined, { transactions: true });
    b.grantConsume(consumer, "orders");
    expect(invokable(producer)).toEqual(["GET/v1/topics/orders", "POST/v1/producers", "POST/v1/topics/orders/records"]);
    expect(invokable(transactional)).toEqual(["GET/v1/topics/*", "POST/v1/producers", "POST/v1/topics/*/records", "POST/v1/transactions"]);
    expect(invokable(consumer)).toEqual([
      "DELETE/v1/groups/*/members/*",
      "GET/v1/groups/*/offsets",
      "GET/v1/topics",
      "GET/v1/topics/orders",
      "GET/v1/topics/orders/partitions/*/offsets",
      "GET/v1/topics/orders/partitions/*/records",
      "POST/v1/fetch",
      "POST/v1/groups/*/heartbeat",
      "POST/v1/groups/*/offsets",
    ]);
    expect(() => b.grantConsume(consumer, "a/b")).toThrow(/plain topic name/);
    expect(() => b.grantProduce(consumer, "*")).toThrow(/plain topic name/);
  });
});

describe("observability", () => {
  it("alarms on function errors and throttles, API 5xx, DynamoDB throttles and each table's system errors", () => {
    const alarms = ofType("AWS::CloudWatch::Alarm").map(([, a]) => a.Properties);
    // 6: function errors and throttles, background function errors, API 5xx, read and write throttles.
    expect(alarms).toHaveLength(6 + TABLE_IDS.length);
    const expressions = alarms.map((a) => JSON.stringify(a));
    for (const metric of ["\"Errors\"", "\"Throttles\"", "\"5xx\"", "ReadThrottleEvents", "WriteThrottleEvents"]) {
      expect(expressions.some((e) => e.includes(metric)), metric).toBe(true);
    }
    const systemErrors = expressions.filter((e) => e.includes("SystemErrors"));
    expect(systemErrors).toHaveLength(TABLE_IDS.length);
    // Function-error alarms cover every function.
    const errors = expressions.find((e) => e.includes("\"Errors\"") && e.includes("API function"))!;
    for (const fn of FUNCTION_NAMES) expect(errors).toContain(logicalId(broker.functions[fn]));
    expect(errors).toContain(logicalId(broker.console!.function));
    const backgroundErrors = expressions.find((e) => e.includes("\"Errors\"") && e.includes("background function"))!;
    expect(backgroundErrors).toContain(logicalId(broker.compactor!));
    expect(backgroundErrors).toContain(logicalId(broker.dispatcher));
    for (const alarm of alarms) {
      expect(alarm).toMatchObject({ TreatMissingData: "notBreaching", ComparisonOperator: "GreaterThanOrEqualToThreshold" });
      // CloudWatch refuses metric math with more than 10 metrics in an alarm.
      expect(((alarm["Metrics"] as unknown[] | undefined) ?? []).length).toBeLessThanOrEqual(11);
    }
  });

  it("can go without alarms and dashboard", () => {
    const { template: t } = synth({ alarms: false, dashboard: false });
    t.resourceCountIs("AWS::CloudWatch::Alarm", 0);
    t.resourceCountIs("AWS::CloudWatch::Dashboard", 0);
  });

  it("builds a dashboard over the broker's EMF metrics and the AWS resources", () => {
    const [, dashboard] = ofType("AWS::CloudWatch::Dashboard")[0]!;
    const body = JSON.stringify(dashboard.Properties["DashboardBody"]);
    for (const metric of ["Requests", "Latency", "RecordsProduced", "RecordsFetched", "ConsumerLag", "VoidsFilled", "DynamoDBThrottles", "ConsumedWriteCapacityUnits"]) {
      expect(body, metric).toContain(metric);
    }
    expect(body).toContain("service=\\\\\\\"Dynalog-Broker\\\\\\\"");
  });

  it("names the deployment in logs and metrics", () => {
    for (const fn of FUNCTION_NAMES) {
      expect(resources[logicalId(broker.functions[fn])]!.Properties["Environment"]).toEqual({
        Variables: expect.objectContaining({ DYNALOG_SERVICE_NAME: "Dynalog-Broker", DYNALOG_METRICS_ENABLED: "true", DYNALOG_LOG_LEVEL: "INFO" }),
      });
    }
    // The authorizer logs (no metrics of its own: API Gateway and Lambda count its calls and errors).
    expect(resources[logicalId(broker.keyAuthorizer!)]!.Properties["Environment"]).toEqual({ Variables: expect.objectContaining({ DYNALOG_SERVICE_NAME: "Dynalog-Broker", DYNALOG_LOG_LEVEL: "INFO" }) });
  });
});

describe("cdk-nag (AwsSolutions)", () => {
  it("has no unacknowledged finding on the project's app", () => {
    const report = new AwsSolutionsChecks().validateScope(stack.node.root);
    expect(report.violations.map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(", ")}`)).toEqual([]);
  });

  it("reports the runtime rule when the acknowledgements are not applied (the check is live)", () => {
    const app = new App({ context: NO_BUNDLING });
    const s = new Stack(app, "Bare");
    new Dynalog(s, "Broker");
    // Without the acknowledgements in infra/nag-suppressions.ts, the runtime rule fires, and so does
    // the no-authorization rule on the console's static-file routes (and on nothing else).
    const report = new AwsSolutionsChecks().validateScope(app);
    expect(report.violations.map((v) => v.ruleName).sort()).toEqual(["AwsSolutions-APIG4", "AwsSolutions-L1"]);
    const unauthenticated = report.violations.find((v) => v.ruleName === "AwsSolutions-APIG4")!.violatingResources.map((r) => r.constructPath);
    expect(unauthenticated.sort()).toEqual(["Bare/Broker/Console/Route0/Resource", "Bare/Broker/Console/Route1/Resource"]);
  });
});
