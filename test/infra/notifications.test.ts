/** The notification WebSocket API as synthesized (infra/notifications.ts): routes, authorizer, grants, the stream mapping. */
import { App, Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { AwsSolutionsChecks } from "cdk-nag";
import { beforeAll, describe, expect, it } from "vitest";
import { Dynalog, type DynalogProps } from "../../infra/dynalog.js";
import { acknowledgeNagFindings } from "../../infra/nag-suppressions.js";
import { logicalId, NO_BUNDLING, resourcesOfType, type Resource, type Statement } from "./template-support.js";

function synth(props: DynalogProps): { broker: Dynalog; app: App; resources: Record<string, Resource> } {
  const app = new App({ context: NO_BUNDLING });
  const stack = new Stack(app, "Test");
  const broker = new Dynalog(stack, "Broker", props);
  acknowledgeNagFindings(broker);
  return { broker, app, resources: Template.fromStack(stack).toJSON()["Resources"] as Record<string, Resource> };
}

/** Every statement of a role's policies. */
function statementsOf(resources: Record<string, Resource>, roleLogicalId: string): Statement[] {
  return resourcesOfType(resources, "AWS::IAM::Policy")
    .filter(([, p]) => (p.Properties["Roles"] as { Ref: string }[]).some((r) => r.Ref === roleLogicalId))
    .flatMap(([, p]) => (p.Properties["PolicyDocument"] as { Statement: Statement[] }).Statement);
}

const actionsOf = (s: Statement) => ([] as string[]).concat(s.Action);

describe("notifications: true (API keys)", () => {
  let broker: Dynalog;
  let app: App;
  let resources: Record<string, Resource>;
  beforeAll(() => ({ broker, app, resources } = synth({ notifications: true })));

  it("is off unless asked for: no WebSocket API, no notification functions", () => {
    const { broker: plain, resources: plainResources } = synth({});
    expect(plain.notifications).toBeUndefined();
    expect(resourcesOfType(plainResources, "AWS::ApiGatewayV2::Api").filter(([, r]) => r.Properties["ProtocolType"] === "WEBSOCKET")).toEqual([]);
    // The stream's one consumer is then the subscription dispatcher.
    expect(resourcesOfType(plainResources, "AWS::Lambda::EventSourceMapping").map(([, m]) => JSON.stringify(m.Properties["FunctionName"]))).toEqual([expect.stringContaining(logicalId(plain.dispatcher))]);
  });

  it("enables the log table's stream with new images", () => {
    const log = resources[logicalId(broker.tables.log)]!;
    expect(log.Properties["StreamSpecification"]).toEqual({ StreamViewType: "NEW_IMAGE" });
  });

  it("authenticates $connect with the key authorizer, reading the key from the subprotocol header", () => {
    const apiId = logicalId(broker.notifications!.api);
    const routes = resourcesOfType(resources, "AWS::ApiGatewayV2::Route").filter(([, r]) => (r.Properties["ApiId"] as { Ref: string }).Ref === apiId);
    expect(routes.map(([, r]) => r.Properties["RouteKey"]).sort()).toEqual(["$connect", "$default", "$disconnect", "ping", "subscribe"]);
    const connect = routes.find(([, r]) => r.Properties["RouteKey"] === "$connect")![1];
    expect(connect.Properties["AuthorizationType"]).toBe("CUSTOM");
    const [, authorizer] = resourcesOfType(resources, "AWS::ApiGatewayV2::Authorizer").find(([, r]) => (r.Properties["ApiId"] as { Ref: string }).Ref === apiId)!;
    expect(authorizer.Properties["IdentitySource"]).toEqual(["route.request.header.Sec-WebSocket-Protocol"]);
    expect(JSON.stringify(authorizer.Properties["AuthorizerUri"])).toContain(logicalId(broker.keyAuthorizer!));
  });

  it("filters the stream mapping to inserted batch items", () => {
    const mappings = resourcesOfType(resources, "AWS::Lambda::EventSourceMapping").filter(([, m]) => JSON.stringify(m.Properties["FunctionName"]).includes(logicalId(broker.notifications!.notifierFunction)));
    expect(mappings).toHaveLength(1);
    const [, mapping] = mappings[0]!;
    const patterns = (mapping.Properties["FilterCriteria"] as { Filters: { Pattern: string }[] }).Filters.map((f) => JSON.parse(f.Pattern) as unknown);
    expect(patterns).toEqual([{ eventName: ["INSERT"], dynamodb: { NewImage: { k: { S: ["B"] } } } }]);
    expect(mapping.Properties["StartingPosition"]).toBe("LATEST");
  });

  it("gives the notifier the connection items only, and ManageConnections on this API only", () => {
    const statements = statementsOf(resources, logicalId(broker.notifications!.notifierFunction.role as never));
    const dynamo = statements.filter((s) => actionsOf(s).some((a) => a.startsWith("dynamodb:") && a !== "dynamodb:ListStreams" && !a.startsWith("dynamodb:GetRecords") && !a.startsWith("dynamodb:GetShardIterator") && !a.startsWith("dynamodb:DescribeStream")));
    expect(dynamo.map((s) => ({ actions: actionsOf(s).sort(), keys: s.Condition?.["ForAllValues:StringLike"]?.["dynamodb:LeadingKeys"] }))).toEqual([
      { actions: ["dynamodb:BatchWriteItem", "dynamodb:Query"], keys: ["ws*"] },
    ]);
    const manage = statements.filter((s) => actionsOf(s).includes("execute-api:ManageConnections"));
    expect(manage).toHaveLength(1);
    expect(JSON.stringify(manage[0]!.Resource)).toContain(logicalId(broker.notifications!.api));
    expect(JSON.stringify(manage[0]!.Resource)).toContain("/v1/POST/@connections/*");
    expect(statements.flatMap(actionsOf).filter((a) => a.endsWith("*") || a === "dynamodb:PutItem" || a === "dynamodb:Scan")).toEqual([]);
  });

  it("gives notify-connect topic reads, ACL reads and connection writes, nothing else in DynamoDB", () => {
    const statements = statementsOf(resources, logicalId(broker.notifications!.connectFunction.role as never)).filter((s) => actionsOf(s).some((a) => a.startsWith("dynamodb:")));
    const topicsTable = logicalId(broker.tables.topics);
    const summary = statements.map((s) => ({
      table: JSON.stringify(s.Resource).includes(topicsTable) ? "topics" : "security",
      actions: actionsOf(s).sort(),
      keys: s.Condition?.["ForAllValues:StringLike"]?.["dynamodb:LeadingKeys"],
    }));
    expect(summary).toEqual(
      expect.arrayContaining([
        { table: "topics", actions: ["dynamodb:GetItem"], keys: undefined },
        { table: "security", actions: ["dynamodb:BatchWriteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"], keys: ["ws*"] },
        { table: "security", actions: ["dynamodb:Query"], keys: ["acl"] },
      ]),
    );
    expect(summary).toHaveLength(3);
  });

  it("logs every connection and message, and passes cdk-nag with its acknowledgements", () => {
    const stage = resources[logicalId(broker.notifications!.stage)]!;
    expect(JSON.stringify(stage.Properties["AccessLogSettings"])).toContain("$context.connectionId");
    const report = new AwsSolutionsChecks().validateScope(app);
    expect(report.violations.map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(", ")}`)).toEqual([]);
  });
});

describe("notifications: true (IAM only)", () => {
  it("requires SigV4 on $connect", () => {
    const { broker, resources } = synth({ notifications: true, auth: { mode: "iam" } });
    const apiId = logicalId(broker.notifications!.api);
    const connect = resourcesOfType(resources, "AWS::ApiGatewayV2::Route").find(([, r]) => (r.Properties["ApiId"] as { Ref: string }).Ref === apiId && r.Properties["RouteKey"] === "$connect")![1];
    expect(connect.Properties["AuthorizationType"]).toBe("AWS_IAM");
  });
});
