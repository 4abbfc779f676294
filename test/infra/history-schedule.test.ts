/**
 * The deployed history sampler (infra/history-schedule.ts, docs/console.md, "History"): an
 * EventBridge rule every minute targeting the history function, whose role holds exactly
 * HISTORY_ACCESS — its only write items the history keys of the producers table
 * (dynamodb:LeadingKeys) and the reader's hint — and whose errors the background alarm watches.
 */
import { App, Duration, Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { Dynalog, type DynalogProps } from "../../infra/dynalog.js";
import { HISTORY_ACCESS } from "../../infra/permissions.js";
import { logicalId, NO_BUNDLING, resourcesOfType, roleDynamoGrants, type Resource } from "./template-support.js";

function synth(props: DynalogProps = {}): { broker: Dynalog; resources: Record<string, Resource> } {
  const stack = new Stack(new App({ context: NO_BUNDLING }), "Test");
  const broker = new Dynalog(stack, "Broker", { superUsers: ["User:admin"], ...props });
  return { broker, resources: Template.fromStack(stack).toJSON()["Resources"] as Record<string, Resource> };
}

const historyRules = (resources: Record<string, Resource>, broker: Dynalog) =>
  resourcesOfType(resources, "AWS::Events::Rule").filter(([, r]) => JSON.stringify(r.Properties["Targets"]).includes(logicalId(broker.history!)));

interface PolicyStatementJson {
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: Record<string, Record<string, string[]>>;
}

/** The history role's DynamoDB statements. */
function historyStatements(resources: Record<string, Resource>, broker: Dynalog): PolicyStatementJson[] {
  const roleId = logicalId(broker.history!.role as never);
  return resourcesOfType(resources, "AWS::IAM::Policy")
    .filter(([, p]) => (p.Properties["Roles"] as { Ref: string }[]).some((r) => r.Ref === roleId))
    .flatMap(([, p]) => (p.Properties["PolicyDocument"] as { Statement: PolicyStatementJson[] }).Statement)
    .filter((s) => ([] as string[]).concat(s.Action).some((a) => a.startsWith("dynamodb:")));
}

describe("the history sampler", () => {
  it("by default: a rule every minute invoking the history function, timeout under the rate, nothing retried", () => {
    const { broker, resources } = synth();
    const rules = historyRules(resources, broker);
    expect(rules).toHaveLength(1);
    const [, rule] = rules[0]!;
    expect(rule.Properties["ScheduleExpression"]).toBe("rate(1 minute)");
    const targets = rule.Properties["Targets"] as { Arn: { "Fn::GetAtt": [string, string] }; RetryPolicy?: { MaximumRetryAttempts: number } }[];
    expect(targets).toHaveLength(1);
    expect(targets[0]!.Arn["Fn::GetAtt"][0]).toBe(logicalId(broker.history!));
    expect(targets[0]!.RetryPolicy?.MaximumRetryAttempts).toBe(0);
    const fn = resources[logicalId(broker.history!)]!;
    expect(fn.Properties["Timeout"]).toBe(55);
    expect(fn.Properties["Handler"]).toBe("index.handler");
    const permissions = resourcesOfType(resources, "AWS::Lambda::Permission").filter(([, p]) => (p.Properties["FunctionName"] as { "Fn::GetAtt"?: [string] })["Fn::GetAtt"]?.[0] === logicalId(broker.history!));
    expect(permissions.map(([, p]) => p.Properties["Principal"])).toEqual(["events.amazonaws.com"]);
  });

  it("its role: reads it needs, the reader's hint, and puts on the producers table's history keys only", () => {
    const { broker, resources } = synth();
    const fromTable = Object.entries(HISTORY_ACCESS).flatMap(([table, grants]) =>
      (grants ?? []).flatMap((g) => g.actions.map((a) => `${table}:${a}${g.onlyAttributes ? `[${g.onlyAttributes.join(",")}]` : ""}`)),
    );
    const grants = roleDynamoGrants(resources, broker, broker.history!);
    expect(grants).toEqual(fromTable.sort());
    expect(grants).toEqual(["log:GetItem", "log:Query", "offsets:Query", "offsets:Scan", "partitions:BatchGetItem", "partitions:UpdateItem[p,hw,ls]", "producers:PutItem", "topics:Scan"].sort());
    const puts = historyStatements(resources, broker).filter((s) => ([] as string[]).concat(s.Action).includes("dynamodb:PutItem"));
    expect(puts).toHaveLength(1);
    expect(puts[0]!.Condition).toEqual({ "ForAllValues:StringLike": { "dynamodb:LeadingKeys": ["ht#*", "hg#*"] } });
    // No other statement of the role writes.
    const writes = historyStatements(resources, broker).filter((s) => ([] as string[]).concat(s.Action).some((a) => /Put|Update|Delete|Write/.test(a)));
    expect(writes.map((s) => s.Condition && Object.keys(s.Condition).sort())).toEqual(expect.arrayContaining([["ForAllValues:StringLike"], ["ForAllValues:StringEquals", "StringEqualsIfExists"]]));
    expect(writes).toHaveLength(2);
  });

  it("its errors are in the background functions' alarm", () => {
    const { broker, resources } = synth();
    const alarms = resourcesOfType(resources, "AWS::CloudWatch::Alarm").filter(([, a]) => JSON.stringify(a.Properties).includes(logicalId(broker.history!)));
    expect(alarms.length).toBeGreaterThan(0);
    expect(alarms.some(([, a]) => JSON.stringify(a.Properties).includes(logicalId(broker.compactor!)))).toBe(true);
  });

  it("takes a rate of whole minutes up to an hour, and `history: false` creates neither rule nor function", () => {
    const { broker, resources } = synth({ history: { rate: Duration.minutes(5) } });
    expect(historyRules(resources, broker)[0]![1].Properties["ScheduleExpression"]).toBe("rate(5 minutes)");
    expect(resources[logicalId(broker.history!)]!.Properties["Timeout"]).toBe(295);
    const off = synth({ history: false });
    expect(off.broker.history).toBeUndefined();
    expect(resourcesOfType(off.resources, "AWS::Lambda::Function").some(([, f]) => String(f.Properties["Description"]).includes("history sampler"))).toBe(false);
    expect(() => synth({ history: { rate: Duration.seconds(90) } })).toThrow(/history.rate must be a whole number of minutes from 1 to 60/);
    expect(() => synth({ history: { rate: Duration.hours(2) } })).toThrow(/history.rate must be a whole number of minutes from 1 to 60/);
  });
});
