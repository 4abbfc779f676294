/**
 * The deployed push-subscription dispatcher in the template (docs/subscriptions.md, "Deployed"):
 * the log table's stream (keys only) wakes it through an event source mapping filtered to inserts,
 * a schedule sweeps every minute, its DynamoDB grants are exactly DISPATCHER_ACCESS, it reads only
 * the log's stream, and it may invoke exactly the construct's `subscriptionTargets` — the list the
 * subscriptions function's allow-list holds too (and no other route function).
 */
import { App, Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { Dynalog, type DynalogProps } from "../../infra/dynalog.js";
import { DISPATCHER_SETTINGS } from "../../infra/functions.js";
import { DISPATCHER_ACCESS } from "../../infra/permissions.js";
import { TABLE_IDS } from "../../shared/storage/tables.js";
import { logicalId, NO_BUNDLING, resourcesOfType, type Resource, type Statement } from "./template-support.js";

function synth(props: DynalogProps = {}) {
  const app = new App({ context: NO_BUNDLING });
  const stack = new Stack(app, "Test", { env: { account: "123456789012", region: "eu-west-1" } });
  const broker = new Dynalog(stack, "Broker", props);
  const template = Template.fromStack(stack);
  return { broker, template, resources: template.toJSON()["Resources"] as Record<string, Resource> };
}

/** Every statement of the role of `fn` (a function of the construct). */
function statementsOf(resources: Record<string, Resource>, fn: { role?: unknown }): Statement[] {
  const roleId = logicalId(fn.role as never);
  return resourcesOfType(resources, "AWS::IAM::Policy")
    .filter(([, p]) => (p.Properties["Roles"] as { Ref: string }[]).some((r) => r.Ref === roleId))
    .flatMap(([, p]) => (p.Properties["PolicyDocument"] as { Statement: Statement[] }).Statement);
}

const ARN = "arn:aws:lambda:eu-west-1:123456789012:function:billing";
const PREFIX = "arn:aws:lambda:eu-west-1:123456789012:function:team-a-*";

describe("the subscription dispatcher", () => {
  const { broker, template, resources } = synth();
  const dispatcherId = logicalId(broker.dispatcher);

  it("is a function of its own with Lambda's longest timeout (a run fits the longest target timeout)", () => {
    expect(resources[dispatcherId]!.Properties).toMatchObject({ Timeout: DISPATCHER_SETTINGS.timeout.toSeconds(), Runtime: "nodejs22.x", Architectures: ["arm64"] });
    expect(DISPATCHER_SETTINGS.timeout.toSeconds()).toBe(900);
  });

  it("is woken by the log table's stream, keys only, filtered to inserts", () => {
    const logId = logicalId(broker.tables.log);
    expect(resources[logId]!.Properties["StreamSpecification"]).toEqual({ StreamViewType: "NEW_IMAGE" });
    // Only the log table has a stream.
    for (const id of TABLE_IDS.filter((t) => t !== "log")) expect(resources[logicalId(broker.tables[id])]!.Properties["StreamSpecification"]).toBeUndefined();
    const mappings = resourcesOfType(resources, "AWS::Lambda::EventSourceMapping");
    expect(mappings).toHaveLength(1);
    const mapping = mappings[0]![1].Properties;
    expect(mapping["FunctionName"]).toEqual({ Ref: dispatcherId });
    expect(mapping["EventSourceArn"]).toEqual({ "Fn::GetAtt": [logId, "StreamArn"] });
    expect(mapping).toMatchObject({ StartingPosition: "LATEST", MaximumRetryAttempts: 2 });
    expect(mapping["FilterCriteria"]).toEqual({ Filters: [{ Pattern: JSON.stringify({ eventName: ["INSERT"] }) }] });
  });

  it("is swept every minute by a schedule", () => {
    // The dispatcher's rule (the scheduled compactor has its own: test/infra/compactor-schedule.test.ts).
    const rules = resourcesOfType(resources, "AWS::Events::Rule").filter(([, r]) => JSON.stringify(r.Properties["Targets"]).includes(dispatcherId));
    expect(rules).toHaveLength(1);
    const rule = rules[0]![1].Properties;
    expect(rule["ScheduleExpression"]).toBe("rate(1 minute)");
    expect(rule["Targets"]).toEqual([expect.objectContaining({ Arn: { "Fn::GetAtt": [dispatcherId, "Arn"] }, RetryPolicy: { MaximumRetryAttempts: 0 } })]);
    template.hasResourceProperties("AWS::Lambda::Permission", { Action: "lambda:InvokeFunction", Principal: "events.amazonaws.com", FunctionName: { "Fn::GetAtt": [dispatcherId, "Arn"] } });
  });

  it("has exactly DISPATCHER_ACCESS on the tables, reads only the log's stream, and invokes no function by default", () => {
    const statements = statementsOf(resources, broker.dispatcher);
    const tableById = new Map(TABLE_IDS.map((id) => [logicalId(broker.tables[id]), id]));
    const granted: string[] = [];
    const stream: Statement[] = [];
    for (const statement of statements) {
      const actions = ([] as string[]).concat(statement.Action);
      if (actions.every((a) => a.startsWith("logs:"))) continue;
      if (actions.includes("dynamodb:GetRecords")) {
        stream.push(statement);
        continue;
      }
      const table = tableById.get((statement.Resource as { "Fn::GetAtt": [string, string] })["Fn::GetAtt"]?.[0] ?? "");
      expect(table, JSON.stringify(statement)).toBeDefined();
      for (const action of actions) granted.push(`${table}:${action.replace("dynamodb:", "")}`);
    }
    const expected = Object.entries(DISPATCHER_ACCESS).flatMap(([table, grants]) => (grants ?? []).flatMap((g) => g.actions.map((a) => `${table}:${a}`)));
    expect(granted.sort()).toEqual(expected.sort());
    expect(stream).toEqual([
      expect.objectContaining({
        Action: ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"],
        Resource: { "Fn::GetAtt": [logicalId(broker.tables.log), "StreamArn"] },
      }),
    ]);
    expect(JSON.stringify(statements)).not.toContain("lambda:InvokeFunction");
    // The broker refuses every function target: its allow-list is empty.
    expect(JSON.stringify(resources[logicalId(broker.functions.subscriptions)]!.Properties["Environment"])).toContain('"DYNALOG_SUBSCRIPTION_FUNCTIONS":""');
  });

  it("may invoke exactly the subscriptionTargets, the subscriptions function's allow-list (no other route function holds it)", () => {
    const { broker: b, resources: r } = synth({ subscriptionTargets: [ARN, PREFIX] });
    const invoke = statementsOf(r, b.dispatcher).filter((s) => ([] as string[]).concat(s.Action).includes("lambda:InvokeFunction"));
    expect(invoke).toEqual([expect.objectContaining({ Action: "lambda:InvokeFunction", Resource: [ARN, PREFIX] })]);
    const allowList = (fn: (typeof b.functions)[keyof typeof b.functions]) => (r[logicalId(fn)]!.Properties["Environment"] as { Variables: Record<string, string> }).Variables["DYNALOG_SUBSCRIPTION_FUNCTIONS"];
    for (const fn of [b.functions.subscriptions, b.dispatcher]) expect(allowList(fn)).toBe(`${ARN},${PREFIX}`);
    // Only creating a subscription checks it: the other route functions do without.
    for (const [name, fn] of Object.entries(b.functions)) if (name !== "subscriptions") expect(allowList(fn), name).toBeUndefined();
    // No other function may invoke anything.
    for (const fn of Object.values(b.functions)) expect(JSON.stringify(statementsOf(r, fn))).not.toContain("lambda:InvokeFunction");
  });

  it("refuses a target that is not a function ARN or an ARN prefix", () => {
    for (const bad of ["*", "arn:aws:lambda:eu-west-1:123456789012:*", "billing", "arn:aws:s3:::bucket", `${ARN}*x`]) {
      expect(() => synth({ subscriptionTargets: [bad] }), bad).toThrow(/subscriptionTargets/);
    }
  });
});
