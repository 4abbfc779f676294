/**
 * Bundle size and cold import time of each Lambda handler, as CDK builds it — a measurement, not a
 * test. Synthesizes the broker twice (AWS SDK bundled into each function, and left to the Lambda
 * runtime), then imports each bundle in fresh Node processes and times the import: module
 * evaluation plus the handler's cold-start setup (config, DynamoDB client, broker, telemetry),
 * which is what a Lambda cold start adds on top of the runtime's own bootstrap.
 *
 *   npm run bench:bundles            (about a minute on 2 cores)
 *   npm run bench:bundles -- --runs=N
 *
 * Exports `measureBundles()` so another report (bench/run.ts) can include the table.
 *
 * Caveats: on Lambda the "runtime" variant loads the SDK from the runtime's own copy (its version,
 * not ours), and disk and CPU differ; the comparison between variants is what carries over.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync, statSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";
import { App } from "aws-cdk-lib";
import { FUNCTION_NAMES, type FunctionName } from "../shared/http/routes.js";
import { functionBundles, keyAuthorizerBundle } from "../infra/assets.js";
import { DynalogStack } from "../infra/dynalog-stack.js";
import type { AwsSdkSource } from "../infra/dynalog.js";
import { fmt, markdownTable, quantile } from "./stats.js";

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
// Inside the repository, so a bundle that leaves @aws-sdk/* external resolves it from node_modules.
const WORK_DIR = path.join(REPO_ROOT, "node_modules", ".cache", "dynalog-bench-bundles");

/** The API's functions: the route functions and the key API's authorizer (issue 17's budget covers them all). */
export type MeasuredFunction = FunctionName | "authorizer";

export interface BundleFigures {
  readonly fn: MeasuredFunction;
  readonly sdk: AwsSdkSource;
  readonly bytes: number;
  readonly gzipBytes: number;
  readonly mapBytes: number;
  /** Cold import times (ms), one per fresh process. */
  readonly importMs: readonly number[];
  /** The same with NODE_OPTIONS=--enable-source-maps (source-mapped stack traces). */
  readonly importWithSourceMapsMs: readonly number[];
}

/** Synthesizes the broker with `sdk` and returns each function's bundle file. */
function synthesize(sdk: AwsSdkSource): Record<MeasuredFunction, string> {
  const outdir = path.join(WORK_DIR, sdk);
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  const app = new App({ outdir });
  const stack = new DynalogStack(app, "DynalogBench", { broker: { awsSdk: sdk, alarms: false, dashboard: false } });
  const assembly = app.synth();
  return { ...functionBundles(assembly, stack.broker), authorizer: keyAuthorizerBundle(assembly, stack.broker) };
}

/** Milliseconds to import `file` in a fresh Node process. */
function coldImportMs(file: string, fn: MeasuredFunction, sourceMaps: boolean): number {
  const script = `const t = performance.now(); await import(${JSON.stringify(pathToFileURL(file).href)}); process.stdout.write(String(performance.now() - t));`;
  const result = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
    encoding: "utf8",
    env: {
      PATH: process.env.PATH,
      AWS_REGION: "us-east-1",
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
      DYNALOG_METRICS_ENABLED: "false",
      DYNALOG_SERVICE_NAME: `bench-${fn}`,
      ...(sourceMaps && { NODE_OPTIONS: "--enable-source-maps" }),
    },
  });
  if (result.status !== 0) throw new Error(`importing ${file} failed: ${result.stderr}`);
  return Number(result.stdout);
}

export function measureBundles(runs = 7): BundleFigures[] {
  const figures: BundleFigures[] = [];
  for (const sdk of ["bundled", "runtime"] as const) {
    const bundles = synthesize(sdk);
    for (const fn of [...FUNCTION_NAMES, "authorizer"] as const) {
      const file = bundles[fn];
      const code = readFileSync(file);
      const importMs: number[] = [];
      const importWithSourceMapsMs: number[] = [];
      // Interleaved, so a busy moment on the machine hits both columns alike.
      for (let i = 0; i < runs; i++) {
        importMs.push(coldImportMs(file, fn, false));
        importWithSourceMapsMs.push(coldImportMs(file, fn, true));
      }
      figures.push({ fn, sdk, bytes: code.length, gzipBytes: gzipSync(code).length, mapBytes: statSync(`${file}.map`).size, importMs, importWithSourceMapsMs });
    }
  }
  return figures;
}

export function bundleReport(figures: readonly BundleFigures[]): string {
  const kb = (bytes: number) => `${fmt(bytes / 1024)} KB`;
  const rows = figures.map((f) => [
    f.fn,
    f.sdk === "bundled" ? "bundled" : "runtime's",
    kb(f.bytes),
    kb(f.gzipBytes),
    kb(f.mapBytes),
    fmt(quantile(f.importMs, 0.5)),
    fmt(Math.min(...f.importMs)),
    fmt(quantile(f.importWithSourceMapsMs, 0.5)),
  ]);
  return markdownTable(
    ["function", "AWS SDK", "bundle", "≈ zipped", "source map", "cold import p50 (ms)", "min (ms)", "p50 with --enable-source-maps"],
    rows,
    ["l", "l", "r", "r", "r", "r", "r", "r"],
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const runsArg = process.argv.find((a) => a.startsWith("--runs="));
  const runs = runsArg ? Number(runsArg.slice("--runs=".length)) : 7;
  process.stdout.write(`## Lambda bundles: size and cold import time (${runs} fresh processes each, Node ${process.versions.node})\n\n`);
  process.stdout.write(`${bundleReport(measureBundles(runs))}\n`);
}
