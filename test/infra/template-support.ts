/** Helpers for CDK template assertions shared by the infra tests. */
import { App, Stack, type CfnElement } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { buildApp } from "../../infra/app.js";
import type { DynalogStack } from "../../infra/dynalog-stack.js";
import type { Dynalog } from "../../infra/dynalog.js";
import { TABLE_IDS } from "../../shared/storage/tables.js";

/** Synthesize without bundling the functions (template assertions need no code). */
export const NO_BUNDLING = { "aws:cdk:bundling-stacks": [] };

export type Resource = { Type: string; Properties: Record<string, unknown> };
export type Statement = { Action: string | string[]; Resource: unknown; Effect: string; Condition?: Record<string, Record<string, string[]>> };

export function logicalId(element: { node: { defaultChild?: unknown } }): string {
  const s = Stack.of(element as never);
  return s.resolve(s.getLogicalId(element.node.defaultChild as CfnElement)) as string;
}

export function resourcesOfType(resources: Record<string, Resource>, type: string): [string, Resource][] {
  return Object.entries(resources).filter(([, r]) => r.Type === type);
}

/** The routes of one HTTP API (the construct has two: IAM and API keys). */
export function routesOfApi(resources: Record<string, Resource>, api: { node: { defaultChild?: unknown } }): [string, Resource][] {
  const apiId = logicalId(api);
  return resourcesOfType(resources, "AWS::ApiGatewayV2::Route").filter(([, r]) => (r.Properties["ApiId"] as { Ref?: string }).Ref === apiId);
}

/** The project's own stack (infra/app.ts), synthesized without bundling. */
export function synthProjectStack(): { stack: DynalogStack; template: Template; resources: Record<string, Resource> } {
  const { stack } = buildApp(new App({ context: NO_BUNDLING }));
  const template = Template.fromStack(stack);
  return { stack, template, resources: template.toJSON()["Resources"] as Record<string, Resource> };
}

/** The DynamoDB statements of a function's role, as "table:Action" or "table:Action[attr,…]" strings (logs excluded), sorted. */
export function roleDynamoGrants(resources: Record<string, Resource>, broker: Dynalog, fn: { readonly role?: unknown }): string[] {
  const roleId = logicalId(fn.role as never);
  const tableById = new Map(TABLE_IDS.map((id) => [logicalId(broker.tables[id]), id]));
  const grants: string[] = [];
  for (const [, policy] of resourcesOfType(resources, "AWS::IAM::Policy")) {
    const roles = policy.Properties["Roles"] as { Ref: string }[];
    if (!roles.some((r) => r.Ref === roleId)) continue;
    for (const statement of (policy.Properties["PolicyDocument"] as { Statement: Statement[] }).Statement) {
      const actions = ([] as string[]).concat(statement.Action);
      if (actions.every((a) => a.startsWith("logs:"))) continue;
      const resource = statement.Resource as { "Fn::GetAtt": [string, string] };
      const table = tableById.get(resource["Fn::GetAtt"]?.[0] ?? "");
      if (table === undefined) throw new Error(`statement on ${JSON.stringify(statement.Resource)} is not on a table`);
      const attributes = statement.Condition?.["ForAllValues:StringEquals"]?.["dynamodb:Attributes"];
      for (const action of actions) grants.push(`${table}:${action.replace("dynamodb:", "")}${attributes ? `[${attributes.join(",")}]` : ""}`);
    }
  }
  return grants.sort();
}
