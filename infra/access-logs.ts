/**
 * The HTTP APIs' access logs: where they go and what one line holds.
 */
import { Names, Stack } from "aws-cdk-lib";
import { AccessLogFormat } from "aws-cdk-lib/aws-apigateway";
import type { Construct } from "constructs";

/**
 * Access-log groups are named under /aws/vendedlogs/: CloudWatch Logs covers that prefix with one
 * wildcard resource-policy entry, while a generated name adds an entry per log group to the
 * account's resource policy (5,120 characters at most), which eventually fails deploys
 * (docs/deploy.md, "What is created"). Unique per stack and construct (account and region are implied).
 */
export function vendedLogGroupName(scope: Construct, purpose: string): string {
  return `/aws/vendedlogs/apigateway/${Stack.of(scope).stackName}-${Names.uniqueId(scope)}-${purpose}`;
}

/**
 * HTTP API access log: one JSON line per request, with who called (the SigV4 identity, or on the
 * key API the key's principal from the authorizer) and how it ended.
 */
export function accessLogFormat(options: { withKeyPrincipal?: boolean } = {}): AccessLogFormat {
  return AccessLogFormat.custom(
    JSON.stringify({
      requestId: "$context.requestId",
      time: "$context.requestTimeEpoch",
      route: "$context.routeKey",
      method: "$context.httpMethod",
      path: "$context.path",
      status: "$context.status",
      responseLength: "$context.responseLength",
      latencyMs: "$context.responseLatency",
      integrationLatencyMs: "$context.integrationLatency",
      integrationError: "$context.integrationErrorMessage",
      sourceIp: "$context.identity.sourceIp",
      caller: "$context.identity.userArn",
      authError: "$context.authorizer.error",
      ...(options.withKeyPrincipal && { principal: "$context.authorizer.principal" }),
    }),
  );
}

