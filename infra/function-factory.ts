/**
 * One Dynalog Lambda function as the construct creates every one of them: its own role holding only
 * its DynamoDB grants (infra/permissions.ts) and its own log group, arm64 on LAMBDA_RUNTIME, bundled
 * from the sources in this repository or deployed from the package's prebuilt bundles.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { RemovalPolicy } from "aws-cdk-lib";
import type { Table } from "aws-cdk-lib/aws-dynamodb";
import { Effect, PolicyStatement, Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { Architecture, Code, Function as LambdaFunction, Runtime } from "aws-cdk-lib/aws-lambda";
import { NodejsFunction } from "aws-cdk-lib/aws-lambda-nodejs";
import { LogGroup, type RetentionDays } from "aws-cdk-lib/aws-logs";
import type { Construct } from "constructs";
import type { TableId } from "../shared/storage/tables.js";
import { bundlingOptions } from "./bundling.js";
import type { FunctionSettings } from "./functions.js";
import { prebuiltBundleDir, type AwsSdkSource, type LambdaFunctionName } from "./lambda-build.js";
import { ATTRIBUTE_RESTRICTED_RETURN_VALUES, type FunctionAccess, type TableGrant } from "./permissions.js";

/**
 * The functions' runtime. nodejs22.x is what the project builds for (esbuild target node22) and
 * tests; aws-cdk-lib 2.276 has NODEJS_24_X, and cdk-nag's L1 rule wants the newest (acknowledged in
 * nag-suppressions.ts). The move is planned, not forced: docs/deploy.md, "Runtime".
 */
export const LAMBDA_RUNTIME = Runtime.NODEJS_22_X;

/** The repository (sources) or, in the published package, dist/ (compiled, with dist/lambda/). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

export function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export function createDynalogFunction(
scope: Construct,
tables: Readonly<Record<TableId, Table>>,
  fn: LambdaFunctionName,
  access: FunctionAccess,
  settings: FunctionSettings,
  options: {
    environment: Record<string, string>;
    logRetention: RetentionDays;
    memorySize: number;
    reservedConcurrency: number | undefined;
    awsSdk: AwsSdkSource;
    restrictAttributes: boolean;
  },
): LambdaFunction {
  const id = capitalize(fn);
  // A role per function with only its own statements (no AWS managed policy: the basic execution
  // role allows writing to every log group in the account).
  const role = new Role(scope, `${id}Role`, { assumedBy: new ServicePrincipal("lambda.amazonaws.com"), description: `Dynalog ${fn} function` });
  for (const [table, grants] of Object.entries(access) as [TableId, readonly TableGrant[]][]) {
    for (const grant of grants) role.addToPolicy(dynamoStatement(tables[table].tableArn, grant, options.restrictAttributes));
  }
  const logGroup = new LogGroup(scope, `${id}Logs`, { retention: options.logRetention, removalPolicy: RemovalPolicy.DESTROY });
  role.addToPolicy(new PolicyStatement({ actions: ["logs:CreateLogStream", "logs:PutLogEvents"], resources: [logGroup.logGroupArn] }));

  const common = {
    description: settings.description,
    runtime: LAMBDA_RUNTIME,
    architecture: Architecture.ARM_64,
    memorySize: options.memorySize,
    timeout: settings.timeout,
    ...(options.reservedConcurrency !== undefined && { reservedConcurrentExecutions: options.reservedConcurrency }),
    role,
    logGroup,
    environment: options.environment,
  };
  // In this repository the sources are bundled at synthesis; the published package has no
  // sources (nor, in a user's app, the lock file and esbuild NodejsFunction needs) and deploys
  // the bundles `npm run build` made with the same settings (infra/lambda-build.ts).
  const entry = path.join(REPO_ROOT, "functions", `${fn}.ts`);
  if (existsSync(entry)) {
    return new NodejsFunction(scope, `${id}Function`, {
      ...common,
      entry,
      handler: "handler",
      projectRoot: REPO_ROOT,
      depsLockFilePath: path.join(REPO_ROOT, "package-lock.json"),
      bundling: bundlingOptions(options.awsSdk, fn),
    });
  }
  const bundleDir = prebuiltBundleDir(REPO_ROOT, options.awsSdk, fn);
  if (!existsSync(path.join(bundleDir, "index.mjs"))) throw new Error(`Dynalog: no prebuilt ${fn} function at ${bundleDir} (run npm run build)`);
  return new LambdaFunction(scope, `${id}Function`, { ...common, code: Code.fromAsset(bundleDir), handler: "index.handler" });
}

function dynamoStatement(tableArn: string, grant: TableGrant, restrictAttributes: boolean): PolicyStatement {
  const conditions: Record<string, Record<string, string[]>> = {
    ...(restrictAttributes &&
      grant.onlyAttributes && {
        "ForAllValues:StringEquals": { "dynamodb:Attributes": [...grant.onlyAttributes] },
        // As AWS's fine-grained access examples do: a write restricted to some attributes must
        // not return the others (ALL_OLD / ALL_NEW would).
        "StringEqualsIfExists": { "dynamodb:ReturnValues": [...ATTRIBUTE_RESTRICTED_RETURN_VALUES] },
      }),
    // Key prefixes are not an attribute restriction: always applied.
    ...(grant.leadingKeys && { "ForAllValues:StringLike": { "dynamodb:LeadingKeys": [...grant.leadingKeys] } }),
  };
  return new PolicyStatement({
    effect: Effect.ALLOW,
    actions: grant.actions.map((a) => `dynamodb:${a}`),
    resources: [tableArn],
    ...(Object.keys(conditions).length > 0 && { conditions }),
  });
}
