/** Helpers for CDK template assertions shared by the infra tests. */
import { App, Stack, type CfnElement } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { buildApp } from "../../infra/app.js";
import type { DynalogStack } from "../../infra/dynalog-stack.js";

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
