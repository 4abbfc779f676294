/**
 * `npm run build` (after tsc): prebuilds every Lambda function into dist/lambda/<sdk>/<fn>/index.mjs
 * with the settings the repo's stack bundles with (infra/lambda-build.ts), for both AwsSdkSource
 * variants, so the published construct deploys them without bundling anything, and the published
 * local broker runs exactly what deploys. The console function's asset also carries the web
 * console's bundle (`<fn dir>/console/`, read at cold start: functions/console.ts).
 */
import { rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { FUNCTION_NAMES } from "../shared/http/routes.js";
import { lambdaBuildSettings, prebuiltBundleDir, type AwsSdkSource, type LambdaFunctionName } from "../infra/lambda-build.js";
import { CONSOLE_ASSET_FOLDER } from "../shared/runtime/console-bundle.js";
import { buildConsole, writeConsoleBundle } from "./build-console.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const DIST = path.join(ROOT, "dist");
const FUNCTIONS: readonly LambdaFunctionName[] = [...FUNCTION_NAMES, "authorizer", "dispatcher", "compactor", "history", "console", "notify-connect", "notifier"];

rmSync(path.join(DIST, "lambda"), { recursive: true, force: true });
const builds = (["bundled", "runtime"] as const).flatMap((sdk: AwsSdkSource) =>
  FUNCTIONS.map(async (fn) => {
    const settings = lambdaBuildSettings(sdk, fn);
    const outfile = path.join(prebuiltBundleDir(DIST, sdk, fn), "index.mjs");
    const result = await build({
      entryPoints: [path.join(ROOT, "functions", `${fn}.ts`)],
      outfile,
      bundle: true,
      format: settings.format,
      platform: settings.platform,
      target: settings.target,
      minify: settings.minify,
      sourcemap: settings.sourcemap,
      sourcesContent: settings.sourcesContent,
      mainFields: [...settings.mainFields],
      banner: { js: settings.banner },
      external: [...settings.external],
      alias: { ...settings.alias },
      logLevel: "warning",
      metafile: true,
    });
    const output = Object.entries(result.metafile.outputs).find(([file]) => file.endsWith(".mjs"))![1];
    return { sdk, fn, kb: Math.round(output.bytes / 1024) };
  }),
);
const sizes = await Promise.all(builds);
const consoleBundle = await buildConsole();
for (const sdk of ["bundled", "runtime"] as const) writeConsoleBundle(consoleBundle, path.join(prebuiltBundleDir(DIST, sdk, "console"), CONSOLE_ASSET_FOLDER));
process.stdout.write(`Built ${builds.length} Lambda bundles into ${path.relative(ROOT, path.join(DIST, "lambda"))}/ (minified, from esbuild's metafile)\n`);
for (const sdk of ["bundled", "runtime"] as const) {
  const line = sizes.filter((s) => s.sdk === sdk).map((s) => `${s.fn} ${s.kb} KB`);
  process.stdout.write(`  AWS SDK ${sdk === "bundled" ? "bundled" : "left to the runtime"}: ${line.join(", ")}\n`);
}
