/**
 * How every Lambda function is bundled, in one place: the repo's own stack bundles the TypeScript
 * sources at synthesis (NodejsFunction, infra/dynalog.ts), and `npm run build` prebuilds the same
 * bundles into dist/lambda/ for the published package (scripts/build-lambdas.ts), whose construct
 * deploys them as they are (a user's app has no sources to bundle, nor Docker to bundle them in).
 * No CDK import here: the local broker reads prebuiltBundleDir without aws-cdk-lib installed.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { FunctionName } from "../shared/http/routes.js";

/** Whether the functions carry the AWS SDK in their bundle or use the one in the Lambda runtime. */
export type AwsSdkSource = "bundled" | "runtime";

/** Every deployed function: the broker's route functions, the key API's authorizer, the subscription dispatcher, the scheduled compactor and history sampler, the web console's static files and the notification functions (infra/notifications.ts). */
export type LambdaFunctionName = FunctionName | "authorizer" | "dispatcher" | "compactor" | "history" | "console" | "notify-connect" | "notifier";

/** esbuild settings (the subset NodejsFunction exposes, with esbuild's names). */
export interface LambdaBuildSettings {
  readonly format: "esm";
  readonly platform: "node";
  readonly target: string;
  readonly minify: boolean;
  readonly sourcemap: "linked";
  readonly sourcesContent: boolean;
  readonly mainFields: readonly string[];
  readonly banner: string;
  readonly external: readonly string[];
  /** Module → file substitutions (absolute paths). */
  readonly alias: Readonly<Record<string, string>>;
}

/** The repository (this file is infra/lambda-build.ts; only the repo builds bundles). */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** `fn`: the function bundled (the dispatcher keeps the SDK's event streams, for its Lambda client). */
export function lambdaBuildSettings(awsSdk: AwsSdkSource, fn: LambdaFunctionName): LambdaBuildSettings {
  return {
    format: "esm",
    platform: "node",
    target: "node22",
    minify: true,
    // A separate .map file, linked from the bundle.
    sourcemap: "linked",
    // Stack traces need names and line numbers, not the sources: a smaller map.
    sourcesContent: false,
    // Prefer the ESM builds of dependencies (smaller, tree-shakeable).
    mainFields: ["module", "main"],
    // Some dependencies are CommonJS and call require() for Node builtins; an ESM bundle needs a
    // real require for that.
    banner: "import { createRequire as __dynalogRequire } from 'node:module'; const require = __dynalogRequire(import.meta.url);",
    // [] bundles the AWS SDK too; the runtime's SDK is used otherwise (see AwsSdkSource).
    external: awsSdk === "bundled" ? [] : ["@aws-sdk/*"],
    // Lambda's credentials are in the environment: the default chain's other providers (and the
    // STS/SSO clients they bundle) go (shared/runtime/lambda-credentials.ts). DynamoDB has no
    // event-stream operation: the SDK's codec for them goes too (shared/runtime/no-event-streams.ts),
    // except from the dispatcher, whose Lambda client uses it; and the endpoint-discovery cache is
    // a Map instead of mnemonist's LRU (shared/runtime/endpoint-cache.ts). With the runtime's SDK
    // its own modules are used.
    alias:
      awsSdk === "bundled"
        ? {
            "@aws-sdk/credential-provider-node": path.join(ROOT, "shared", "runtime", "lambda-credentials.ts"),
            "@aws-sdk/endpoint-cache": path.join(ROOT, "shared", "runtime", "endpoint-cache.ts"),
            ...(fn !== "dispatcher" && { "@smithy/core/event-streams": path.join(ROOT, "shared", "runtime", "no-event-streams.ts") }),
          }
        : {},
  };
}

/** Where the package keeps its prebuilt bundles: `<dist>/lambda/<sdk>/<fn>/index.mjs`. */
export function prebuiltBundlesDir(distRoot: string, awsSdk: AwsSdkSource): string {
  return path.join(distRoot, "lambda", awsSdk);
}

/** The directory of one function's prebuilt `index.mjs` (and its source map). */
export function prebuiltBundleDir(distRoot: string, awsSdk: AwsSdkSource, fn: LambdaFunctionName): string {
  return path.join(prebuiltBundlesDir(distRoot, awsSdk), fn);
}
