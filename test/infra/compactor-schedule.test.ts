/**
 * The deployed scheduled compactor (infra/compactor-schedule.ts, docs/compaction.md): an EventBridge
 * rule at the configured rate targeting a compactor function whose timeout stays under the rate and
 * whose role holds exactly COMPACTOR_ACCESS.
 */
import { App, Duration, Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { Dynalog, type DynalogProps } from "../../infra/dynalog.js";
import { COMPACTOR_ACCESS } from "../../infra/permissions.js";
import { logicalId, NO_BUNDLING, resourcesOfType, roleDynamoGrants, type Resource } from "./template-support.js";

function synth(props: DynalogProps = {}): { broker: Dynalog; resources: Record<string, Resource> } {
  const stack = new Stack(new App({ context: NO_BUNDLING }), "Test");
  const broker = new Dynalog(stack, "Broker", { superUsers: ["User:admin"], ...props });
  return { broker, resources: Template.fromStack(stack).toJSON()["Resources"] as Record<string, Resource> };
}

const compactorRules = (resources: Record<string, Resource>, broker: Dynalog) =>
  resourcesOfType(resources, "AWS::Events::Rule").filter(([, r]) => JSON.stringify(r.Properties["Targets"]).includes(logicalId(broker.compactor!)));

describe("the scheduled compactor", () => {
  it("by default: a rule every 5 minutes invoking the compactor, whose timeout is under the rate, and nothing retried", () => {
    const { broker, resources } = synth();
    // The compactor's rule (the subscription dispatcher's sweep has its own).
    const rules = compactorRules(resources, broker);
    expect(rules).toHaveLength(1);
    const [, rule] = rules[0]!;
    expect(rule.Properties["ScheduleExpression"]).toBe("rate(5 minutes)");
    const targets = rule.Properties["Targets"] as { Arn: { "Fn::GetAtt": [string, string] }; RetryPolicy?: { MaximumRetryAttempts: number } }[];
    expect(targets).toHaveLength(1);
    expect(targets[0]!.Arn["Fn::GetAtt"][0]).toBe(logicalId(broker.compactor!));
    expect(targets[0]!.RetryPolicy?.MaximumRetryAttempts).toBe(0);

    const fn = resources[logicalId(broker.compactor!)]!;
    expect(fn.Properties["Timeout"]).toBe(290);
    // EventBridge may invoke it, and nothing else is granted.
    const permissions = resourcesOfType(resources, "AWS::Lambda::Permission").filter(([, p]) => (p.Properties["FunctionName"] as { "Fn::GetAtt"?: [string] })["Fn::GetAtt"]?.[0] === logicalId(broker.compactor!));
    expect(permissions.map(([, p]) => p.Properties["Principal"])).toEqual(["events.amazonaws.com"]);
  });

  it("its role holds exactly the compactor's grants: a reader's, rewrites and the checkpoint — no security, producer or offset table", () => {
    const { broker, resources } = synth();
    const fromTable = Object.entries(COMPACTOR_ACCESS).flatMap(([table, grants]) =>
      (grants ?? []).flatMap((g) => g.actions.map((a) => `${table}:${a}${g.onlyAttributes ? `[${g.onlyAttributes.join(",")}]` : ""}`)),
    );
    const grants = roleDynamoGrants(resources, broker, broker.compactor!);
    expect(grants).toEqual(fromTable.sort());
    expect(grants).toEqual(
      ["log:GetItem", "log:PutItem[p,o,k,c,a,x]", "log:Query", "log:UpdateItem", "partitions:GetItem", "partitions:UpdateItem[p,cc,cr,ck,ch,cn]", "partitions:UpdateItem[p,hw,ls]", "topics:GetItem", "topics:Scan"].sort(),
    );
  });

  it("takes a rate in whole minutes, and `compaction: false` creates neither rule nor function", () => {
    const { broker, resources } = synth({ compaction: { rate: Duration.minutes(30) } });
    expect(compactorRules(resources, broker)[0]![1].Properties["ScheduleExpression"]).toBe("rate(30 minutes)");
    // Lambda's 15-minute ceiling.
    expect(resources[logicalId(broker.compactor!)]!.Properties["Timeout"]).toBe(900);

    const off = synth({ compaction: false });
    expect(off.broker.compactor).toBeUndefined();
    // The dispatcher's sweep and the history sampler's rules are left.
    expect(resourcesOfType(off.resources, "AWS::Events::Rule").map(([, r]) => JSON.stringify(r.Properties["Targets"]))).toEqual([
      expect.stringContaining(logicalId(off.broker.dispatcher)),
      expect.stringContaining(logicalId(off.broker.history!)),
    ]);

    expect(() => synth({ compaction: { rate: Duration.seconds(90) } })).toThrow(/compaction.rate must be a whole number of minutes, at least 1/);
    expect(() => synth({ compaction: { rate: Duration.seconds(30) } })).toThrow(/compaction.rate must be a whole number of minutes, at least 1/);
  });
});
