/**
 * Every cdk-nag (AwsSolutions) finding this project accepts, each with its reason — the only place
 * suppressions are made. test/infra/nag.test.ts fails on any finding not acknowledged here.
 */
import { Stack, Validations, type CfnElement } from "aws-cdk-lib";
import { Function as LambdaFunction } from "aws-cdk-lib/aws-lambda";
import type { Dynalog } from "./dynalog.js";

export function acknowledgeNagFindings(broker: Dynalog): void {
  // Every function the construct creates (route functions, authorizer, dispatcher, compactor, console, notifications), so a new one needs no new line here.
  for (const fn of broker.node.findAll().filter((c): c is LambdaFunction => c instanceof LambdaFunction)) {
    Validations.of(fn).acknowledge({
      id: "AwsSolutions-L1",
      reason:
        "nodejs22.x is the runtime this project targets and tests (the issue fixes it; the code also runs on Node 20 for local use). " +
        "Moving to nodejs24.x (aws-cdk-lib has NODEJS_24_X) is a deliberate upgrade with its own test run on Node 24, planned in docs/deploy.md (Runtime), " +
        "not something a lint rule should force on the next release.",
    });
  }
  for (const route of broker.console?.routes ?? []) {
    Validations.of(route).acknowledge({
      id: "AwsSolutions-APIG4",
      reason:
        "The web console's static files (GET /console, /console/{proxy+}) are public by design: the login form is one of them and they hold no data. " +
        "Their function may write its own logs and nothing else (infra/console.ts); every data request goes to the authenticated API routes.",
    });
  }
  if (broker.notifications) {
    const { api, notifierFunction } = broker.notifications;
    for (const route of api.node.children.filter((c) => c.node.id.endsWith("-Route") && c.node.id !== "$connect-Route")) {
      Validations.of(route).acknowledge({
        id: "AwsSolutions-APIG4",
        reason:
          "API Gateway WebSocket APIs take an authorizer on $connect only; every other route runs on a connection $connect authenticated " +
          "(API key or SigV4), and subscribe checks the connection's principal against the ACLs (infra/notifications.ts).",
      });
    }
    const stack = Stack.of(api);
    const apiLogicalId = stack.resolve(stack.getLogicalId(api.node.defaultChild as CfnElement)) as string;
    const stageName = broker.notifications.stage.stageName;
    for (const [finding, reason] of [
      [
        `Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<${apiLogicalId}>/${stageName}/POST/@connections/*`,
        "Connection ids are created by API Gateway at runtime: ManageConnections is limited to this API's stage and POST @connections/*.",
      ],
      ["Resource::*", "dynamodb:ListStreams, which the Lambda event source mapping needs (added by the CDK); it has no resource-level permission."],
    ] as const) {
      Validations.of(notifierFunction.role!).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason });
    }
  }
}
