/**
 * Finds the exact handler files a synthesized broker deploys (the NodejsFunction bundles in the
 * cloud assembly), so tests and the bench run what ships rather than a rebuild of it.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { Stack, type CfnElement } from "aws-cdk-lib";
import type { Function as LambdaFunction } from "aws-cdk-lib/aws-lambda";
import type { CloudAssembly } from "aws-cdk-lib/cx-api";
import { FUNCTION_NAMES, type FunctionName } from "../shared/http/routes.js";
import type { Dynalog } from "./dynalog.js";

interface TemplateResource {
  readonly Type: string;
  readonly Properties?: { readonly Code?: { readonly S3Key?: unknown } };
}

/** Function → absolute path of its bundled `index.mjs` in `assembly`. */
export function functionBundles(assembly: CloudAssembly, broker: Dynalog): Record<FunctionName, string> {
  const files = {} as Record<FunctionName, string>;
  for (const fn of FUNCTION_NAMES) files[fn] = bundleOf(assembly, broker.functions[fn], fn);
  return files;
}

/** Absolute path of the key API authorizer's bundled `index.mjs` (auth mode `iam-and-api-keys`). */
export function keyAuthorizerBundle(assembly: CloudAssembly, broker: Dynalog): string {
  if (!broker.keyAuthorizer) throw new Error("This broker has no key API (auth mode iam)");
  return bundleOf(assembly, broker.keyAuthorizer, "authorizer");
}

/** Absolute path of the scheduled compactor's bundled `index.mjs` (unless `compaction: false`). */
export function compactorBundle(assembly: CloudAssembly, broker: Dynalog): string {
  if (!broker.compactor) throw new Error("This broker has no scheduled compactor (compaction: false)");
  return bundleOf(assembly, broker.compactor, "compactor");
}

/** Absolute path of the history sampler's bundled `index.mjs` (unless `history: false`). */
export function historyBundle(assembly: CloudAssembly, broker: Dynalog): string {
  if (!broker.history) throw new Error("This broker has no history sampler (history: false)");
  return bundleOf(assembly, broker.history, "history");
}

/** Absolute path of the console function's bundled `index.mjs` (its `console/` folder lies beside it). */
export function consoleFunctionBundle(assembly: CloudAssembly, broker: Dynalog): string {
  if (!broker.console) throw new Error("This broker serves no console (auth mode iam, or console: false)");
  return bundleOf(assembly, broker.console.function, "console");
}

/** Absolute path of the push-subscription dispatcher's bundled `index.mjs`. */
export function dispatcherBundle(assembly: CloudAssembly, broker: Dynalog): string {
  return bundleOf(assembly, broker.dispatcher, "dispatcher");
}

function bundleOf(assembly: CloudAssembly, fn: LambdaFunction, name: string): string {
  const stack = Stack.of(fn);
  const template = assembly.getStackArtifact(stack.artifactId).template as { Resources: Record<string, TemplateResource> };
  const logicalId = stack.resolve(stack.getLogicalId(fn.node.defaultChild as CfnElement)) as string;
  const key = template.Resources[logicalId]?.Properties?.Code?.S3Key;
  // The default synthesizer names a file asset `<hash>.zip` in S3 and stages it as `asset.<hash>`.
  const hash = typeof key === "string" ? /^([0-9a-f]{64})\.zip$/.exec(key)?.[1] : undefined;
  if (!hash) throw new Error(`No file asset found for the ${name} function (S3Key ${JSON.stringify(key)}); was bundling skipped?`);
  const file = path.join(assembly.directory, `asset.${hash}`, "index.mjs");
  if (!existsSync(file)) throw new Error(`The ${name} function's bundle is missing: ${file}`);
  return file;
}
