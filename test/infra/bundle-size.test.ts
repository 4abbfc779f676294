/**
 * Each Lambda function bundles only what its routes need: built with the deployed esbuild settings
 * (infra/lambda-build.ts) and measured from esbuild's metafile. Guards the split (a function's
 * entry reaching another's route modules, or every route through createApi) and the imports that
 * silently pull whole libraries in (`import { z } from "zod"` keeps all of zod's locales; any classic
 * zod import keeps its untree-shakable API).
 */
import path from "node:path";
import { build, type Metafile } from "esbuild";
import { beforeAll, describe, expect, it } from "vitest";
import { lambdaBuildSettings, type LambdaFunctionName } from "../../infra/lambda-build.js";
import { FUNCTION_NAMES } from "../../shared/http/routes.js";

const REPO = path.resolve(import.meta.dirname, "../..");
const FUNCTIONS: readonly LambdaFunctionName[] = [...FUNCTION_NAMES, "authorizer", "dispatcher", "compactor", "history", "console", "notify-connect", "notifier"];

/**
 * The API's route functions, bundled AWS SDK (the default): issue 17's ≤ 400 KB. Measured 351-376 KB
 * (docs/deploy.md; admin the largest, with topics, groups, lifecycle, compaction, traces and
 * history; push subscriptions are their own function since admin reached 411 KB), after per-area
 * core composition, the in-house logger/EMF writer and the SDK substitutes (infra/lambda-build.ts).
 * A whole library or a core area crossing into a function breaks it (classic zod was 60 KB,
 * Powertools 28 KB, the transactions area ~25 KB, subscriptions with the webhook guard ~29 KB).
 */
const API_BUDGET_BYTES = 400 * 1024;
/** The background functions (scheduled compactor and history sampler, notifications) and the console: 291-296 KB measured (the console 27). */
const BUDGET_BYTES = 520 * 1024;
/** The authorizer sits in front of every API-key request: 232 KB measured. */
const AUTHORIZER_BUDGET_BYTES = 300 * 1024;
/**
 * The subscription dispatcher also carries @aws-sdk/client-lambda (~125 KB, for function targets).
 * It serves no request (a stream or the schedule wakes it), so its cold start delays a delivery,
 * never an API call.
 */
const DISPATCHER_BUDGET_BYTES = 700 * 1024;

/** Route modules only some functions may include (shared/http/function-routes/<fn>.ts). */
const ROUTE_MODULES: Readonly<Record<string, readonly LambdaFunctionName[]>> = {
  "shared/http/app.ts": [],
  "shared/http/admin-routes.ts": ["admin"],
  "shared/http/lifecycle-routes.ts": ["admin"],
  "shared/http/security-routes.ts": ["admin"],
  "shared/http/produce-routes.ts": ["produce"],
  "shared/http/fetch-routes.ts": ["fetch"],
  "shared/http/commit-routes.ts": ["commit"],
  "shared/http/transaction-routes.ts": ["transactions"],
  // admin for its listing of consumer instances; produce's curl forms no longer reach it.
  "shared/http/upstash/consumers.ts": ["admin", "commit"],
  "shared/http/upstash/curl-routes.ts": ["produce", "commit"],
  "shared/http/subscription-routes.ts": ["subscriptions"],
  "shared/http/history-routes.ts": ["admin"],
};

/** Each bundle's size and the files that contribute code to it (esbuild also lists emptied ones). */
const bundles = new Map<LambdaFunctionName, { bytes: number; inputs: string[]; inputBytes: Map<string, number> }>();

beforeAll(async () => {
  for (const fn of FUNCTIONS) {
    const settings = lambdaBuildSettings("bundled", fn);
    const result = await build({
      entryPoints: [path.join(REPO, "functions", `${fn}.ts`)],
      outfile: `${fn}.mjs`,
      write: false,
      metafile: true,
      bundle: true,
      format: settings.format,
      platform: settings.platform,
      target: settings.target,
      minify: settings.minify,
      mainFields: [...settings.mainFields],
      banner: { js: settings.banner },
      external: [...settings.external],
      alias: { ...settings.alias },
      logLevel: "silent",
    });
    const output = Object.values((result.metafile as Metafile).outputs)[0]!;
    const inputs = Object.entries(output.inputs).filter(([, input]) => input.bytesInOutput > 0);
    const relative = (file: string) => path.relative(REPO, path.resolve(REPO, file));
    bundles.set(fn, { bytes: output.bytes, inputs: inputs.map(([file]) => relative(file)), inputBytes: new Map(inputs.map(([file, input]) => [relative(file), input.bytesInOutput])) });
  }
}, 180_000);

describe("the Lambda bundles", () => {
  it(`stay within ${API_BUDGET_BYTES / 1024} KB each for the API's functions (the authorizer ${AUTHORIZER_BUDGET_BYTES / 1024} KB; the others ${BUDGET_BYTES / 1024} KB, the dispatcher ${DISPATCHER_BUDGET_BYTES / 1024} KB), the AWS SDK included`, () => {
    const budget = (fn: LambdaFunctionName) =>
      fn === "authorizer" ? AUTHORIZER_BUDGET_BYTES : fn === "dispatcher" ? DISPATCHER_BUDGET_BYTES : (FUNCTION_NAMES as readonly string[]).includes(fn) ? API_BUDGET_BYTES : BUDGET_BYTES;
    for (const fn of FUNCTIONS) expect(bundles.get(fn)!.bytes, fn).toBeLessThanOrEqual(budget(fn));
  });

  it("carry only their own routes' modules", () => {
    for (const fn of FUNCTIONS) {
      const inputs = bundles.get(fn)!.inputs;
      for (const [module, allowed] of Object.entries(ROUTE_MODULES)) expect(inputs.includes(module), `${fn} bundles ${module}`).toBe(allowed.includes(fn));
    }
  });

  it("the console function (public routes) carries no AWS SDK, no storage and no broker code: static files only", () => {
    const inputs = bundles.get("console")!.inputs;
    expect(inputs.filter((f) => f.includes("@aws-sdk/") || f.startsWith("shared/storage/") || f.startsWith("shared/core/") || f.startsWith("shared/security/"))).toEqual([]);
    expect(inputs).toContain("shared/http/console-routes.ts");
    expect(bundles.get("console")!.bytes).toBeLessThan(64 * 1024);
  });

  it("carry none of zod's locales, nor its classic API (schemas use zod/mini through shared/zod.ts)", () => {
    for (const fn of FUNCTIONS.filter((f) => f !== "console")) {
      const zod = bundles.get(fn)!.inputs.filter((f) => f.includes("node_modules/zod/"));
      expect(zod.length, fn).toBeGreaterThan(0);
      expect(zod.filter((f) => /\/locales\/(?!en\.js)/.test(f)), fn).toEqual([]);
      expect(zod.filter((f) => f.includes("/zod/v4/classic/")), fn).toEqual([]);
    }
  });

  it("carry only the core areas their routes call (shared/core/broker-areas.ts, function-routes/<fn>.ts)", () => {
    // Each area's service module, and the functions whose routes call it.
    const AREAS: Readonly<Record<string, readonly LambdaFunctionName[]>> = {
      // produce.ts itself also holds helpers transactions share; its appender is the area.
      "shared/core/idempotent-append.ts": ["produce", "dispatcher"],
      "shared/core/fetch.ts": ["fetch", "commit", "dispatcher"],
      "shared/core/transactions.ts": ["transactions", "dispatcher"],
      "shared/core/group-membership.ts": ["commit", "dispatcher"],
      "shared/core/groups.ts": ["admin", "commit", "transactions", "subscriptions", "dispatcher"],
      "shared/core/topic-admin.ts": ["admin", "dispatcher"],
      "shared/core/subscriptions.ts": ["subscriptions", "dispatcher"],
      "shared/core/trace.ts": ["admin", "dispatcher"],
    };
    for (const fn of FUNCTION_NAMES) {
      // More than a hoisted `import … from "node:crypto"` (~25 bytes), which esbuild keeps from any module reached.
      const code = bundles.get(fn)!.inputBytes;
      for (const [module, allowed] of Object.entries(AREAS)) expect((code.get(module) ?? 0) > 100, `${fn} bundles ${module}`).toBe(allowed.includes(fn));
    }
  });

  it("carry no Powertools, and the SDK's event-stream codec, mnemonist and ipaddr.js only where used", () => {
    for (const fn of FUNCTIONS) {
      const inputs = bundles.get(fn)!.inputs;
      expect(inputs.filter((f) => f.includes("@aws-lambda-powertools/")), fn).toEqual([]);
      expect(inputs.filter((f) => f.includes("node_modules/mnemonist/")), fn).toEqual([]);
      // The dispatcher's Lambda client streams events (InvokeWithResponseStream).
      expect(inputs.some((f) => f.includes("@smithy/core/dist-es/submodules/event-streams/")), fn).toBe(fn === "dispatcher");
      // The webhook guard: where subscriptions are created (subscriptions) and delivered (dispatcher).
      expect(inputs.some((f) => f.includes("node_modules/ipaddr.js/")), fn).toBe(fn === "subscriptions" || fn === "dispatcher");
    }
  });

  it("keep the authorizer off the HTTP runtime (Hono, the route table)", () => {
    const inputs = bundles.get("authorizer")!.inputs;
    expect(inputs.filter((f) => f.includes("node_modules/hono/") || f === "shared/http/routes.ts" || f === "shared/runtime/lambda.ts")).toEqual([]);
  });
});
