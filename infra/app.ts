/**
 * The CDK app (`npm run synth` / `deploy` / `destroy`). cdk-nag's AwsSolutions checks run on every
 * synthesis; accepted findings are acknowledged, with reasons, in nag-suppressions.ts.
 */
import { pathToFileURL } from "node:url";
import { App, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { DynalogStack } from "./dynalog-stack.js";
import { acknowledgeNagFindings } from "./nag-suppressions.js";

export function buildApp(app: App = new App()): { app: App; stack: DynalogStack } {
  const stack = new DynalogStack(app, (app.node.tryGetContext("dynalog:stackName") as string | undefined) ?? "Dynalog", {
    // Environment-agnostic unless the deployer's CLI supplies one: `synth` works offline.
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  });
  acknowledgeNagFindings(stack.broker);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}

// Run as the CDK app (not when imported by tests or the bench).
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  buildApp().app.synth();
}
