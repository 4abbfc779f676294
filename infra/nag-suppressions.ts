/**
 * Every cdk-nag (AwsSolutions) finding this project accepts, each with its reason — the only place
 * suppressions are made. test/infra/nag.test.ts fails on any finding not acknowledged here.
 */
import { Validations } from "aws-cdk-lib";
import type { Dynalog } from "./dynalog.js";

export function acknowledgeNagFindings(broker: Dynalog): void {
  for (const fn of [...Object.values(broker.functions), broker.dispatcher, ...(broker.keyAuthorizer ? [broker.keyAuthorizer] : [])]) {
    Validations.of(fn).acknowledge({
      id: "AwsSolutions-L1",
      reason:
        "nodejs22.x is the runtime this project targets and tests (the issue fixes it; the code also runs on Node 20 for local use). " +
        "Moving to nodejs24.x (aws-cdk-lib has NODEJS_24_X) is a deliberate upgrade with its own test run on Node 24, planned in docs/deploy.md (Runtime), " +
        "not something a lint rule should force on the next release.",
    });
  }
}
