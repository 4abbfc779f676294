/**
 * The published package, as a user gets it: `npm pack` (which builds dist/ through `prepack`), the
 * tarball installed into a fresh app OUTSIDE the repository, and every entry point used from there
 * with plain Node — no tsx, no sources:
 *   dynalog/client       the SDK against a broker, and a browser bundle free of Node and DynamoDB code
 *   dynalog/client/node  the Node credential helpers
 *   dynalog/local        startLocalBroker() (embedded DynamoDB Local) running the prebuilt handlers
 *   bin dynalog          `npx dynalog --help` and a real command against that broker
 *   dynalog/cdk          a user's CDK app embedding the construct, synthesized offline without Docker
 *
 * Installing: the tarball is unpacked into node_modules/dynalog exactly as npm lays it out (only
 * what `files` ships), and each dependency and peer the package DECLARES is linked from the repo's
 * node_modules — no network and no npm cache needed, and an import of anything undeclared fails.
 * (`npm install <tgz> --offline` would need every dependency's tarball in the npm cache, which a
 * machine whose node_modules came from elsewhere does not have.)
 */
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const NPM = process.platform === "win32" ? "npm.cmd" : "npm";
/** The user's environment: no NODE_OPTIONS or loaders of the test runner, no AWS credentials. */
const USER_ENV = Object.fromEntries(["PATH", "HOME", "TMPDIR", "JAVA_HOME"].flatMap((k) => (process.env[k] ? [[k, process.env[k]!]] : [])));

let app: string;
let broker: { process: ChildProcessWithoutNullStreams; url: string } | undefined;

/** Runs `node <args>` (or a bin) in the user's app; resolves with its output, rejects on failure. */
function run(command: string, args: readonly string[], options: { timeoutMs?: number } = {}): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: app, env: USER_ENV });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d));
    child.stderr.on("data", (d: Buffer) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      if (code === 0) resolve({ stdout, stderr });
      else reject(new Error(`${command} ${args.join(" ")} exited with ${code}\n${stderr}\n${stdout}`));
    });
  });
}

function linkFromRepo(name: string): void {
  const target = path.join(REPO, "node_modules", name);
  if (!existsSync(target)) throw new Error(`${name} is declared by the package but not installed in the repository`);
  const link = path.join(app, "node_modules", name);
  mkdirSync(path.dirname(link), { recursive: true });
  symlinkSync(target, link, "dir");
}

beforeAll(async () => {
  app = mkdtempSync(path.join(os.tmpdir(), "dynalog-package-"));
  expect(app.startsWith(REPO)).toBe(false);
  // What `npm pack` runs as `prepack`, separately so its output stays out of pack's JSON.
  execFileSync(NPM, ["run", "build"], { cwd: REPO, stdio: "ignore" });
  const packed = JSON.parse(execFileSync(NPM, ["pack", "--ignore-scripts", "--json", "--pack-destination", app], { cwd: REPO, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 })) as { filename: string }[];
  const tarball = path.join(app, packed[0]!.filename);

  writeFileSync(path.join(app, "package.json"), JSON.stringify({ name: "user-app", private: true, type: "module" }));
  const installed = path.join(app, "node_modules", "dynalog");
  mkdirSync(installed, { recursive: true });
  execFileSync("tar", ["-xzf", tarball, "-C", installed, "--strip-components=1"]);
  const manifest = JSON.parse(readFileSync(path.join(installed, "package.json"), "utf8")) as { dependencies: Record<string, string>; peerDependencies: Record<string, string>; bin: Record<string, string> };
  for (const name of [...Object.keys(manifest.dependencies), ...Object.keys(manifest.peerDependencies)]) linkFromRepo(name);
  // What npm does for `bin`: node_modules/.bin/dynalog, executable.
  mkdirSync(path.join(app, "node_modules", ".bin"));
  const bin = path.join(installed, manifest.bin["dynalog"]!);
  chmodSync(bin, 0o755);
  symlinkSync(bin, path.join(app, "node_modules", ".bin", "dynalog"));

  // The embedded broker, started from the installed package; it prints its URL and stops when its
  // stdin closes.
  writeFileSync(
    path.join(app, "broker.mjs"),
    `import { startLocalBroker } from "dynalog/local";
const broker = await startLocalBroker();
process.stdout.write(JSON.stringify({ url: broker.url }) + "\\n");
process.stdin.on("end", async () => { await broker.stop(); process.exit(0); });
process.stdin.resume();
`,
  );
  const child = spawn(process.execPath, ["broker.mjs"], { cwd: app, env: USER_ENV });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d));
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d;
      const line = out.split("\n")[0];
      if (out.includes("\n") && line) resolve((JSON.parse(line) as { url: string }).url);
    });
    child.on("exit", (code) => reject(new Error(`the local broker exited with ${code}: ${stderr}`)));
  });
  broker = { process: child, url };
}, 300_000);

afterAll(async () => {
  if (broker) {
    const exited = new Promise((resolve) => broker!.process.on("exit", resolve));
    broker.process.stdin.end();
    await exited;
  }
  if (app) rmSync(app, { recursive: true, force: true });
}, 60_000);

describe("the npm package, installed in a fresh app", () => {
  it("ships compiled JavaScript with types and source maps, the prebuilt Lambda bundles, and no TypeScript sources", () => {
    const root = path.join(app, "node_modules", "dynalog");
    for (const file of ["dist/client/index.js", "dist/client/index.d.ts", "dist/client/index.js.map", "dist/client/node.js", "dist/local/index.js", "dist/infra/index.js", "dist/cli/main.js"]) {
      expect(existsSync(path.join(root, file)), file).toBe(true);
    }
    for (const fn of ["admin", "produce", "fetch", "commit", "transactions", "subscriptions", "authorizer", "dispatcher", "compactor", "history", "console", "notify-connect", "notifier"]) expect(existsSync(path.join(root, "dist/lambda/bundled", fn, "index.mjs")), fn).toBe(true);
    // The console function's asset carries the console bundle it serves (functions/console.ts).
    expect(existsSync(path.join(root, "dist/lambda/runtime/console/console/index.html"))).toBe(true);
    const shipped = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? shipped(path.join(dir, e.name)) : [path.join(dir, e.name)]));
    const files = shipped(root).map((f) => path.relative(root, f));
    expect(files.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))).toEqual([]);
    expect(files.filter((f) => /^(test|bench|examples)\//.test(f) || f.includes("/test/"))).toEqual([]);
    expect(existsSync(path.join(app, "node_modules", "tsx"))).toBe(false);
  });

  it("ships the prebuilt web console, and the installed local broker serves it", async () => {
    const root = path.join(app, "node_modules", "dynalog");
    expect(existsSync(path.join(root, "dist/console/index.html"))).toBe(true);
    expect(readdirSync(path.join(root, "dist/console/assets")).some((f) => /^main-[A-Z0-9]+\.js$/.test(f))).toBe(true);
    const page = await fetch(`${broker!.url}/console/topics/orders`);
    expect(page.status).toBe(200);
    const html = await page.text();
    const script = /src="(\/console\/assets\/main-[A-Z0-9]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    expect((await fetch(`${broker!.url}${script}`)).headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
  });

  it("dynalog/client round-trips a record through the embedded broker (plain node), and dynalog/client/node loads", async () => {
    const topic = `package-${Date.now().toString(36)}`;
    writeFileSync(
      path.join(app, "sdk.mjs"),
      `import { Dynalog } from "dynalog/client";
import { sigv4FromEnvironment } from "dynalog/client/node";
const [url, topic] = process.argv.slice(2);
const dynalog = new Dynalog({ url });
await dynalog.admin().createTopics({ topics: [{ topic, numPartitions: 1 }] });
const producer = dynalog.producer();
await producer.connect();
await producer.send({ topic, messages: [{ key: "k", value: "hello from the package" }] });
await producer.disconnect();
const consumer = dynalog.consumer({ maxWaitTimeInMs: 500 });
await consumer.subscribe({ topics: [topic], fromBeginning: true });
const value = await new Promise((resolve) => consumer.run({ eachMessage: async ({ message }) => resolve(message.value.toString()) }));
await consumer.disconnect();
process.stdout.write(JSON.stringify({ value, sigv4: typeof sigv4FromEnvironment }));
`,
    );
    const { stdout } = await run(process.execPath, ["sdk.mjs", broker!.url, topic]);
    expect(JSON.parse(stdout)).toEqual({ value: "hello from the package", sigv4: "function" });

    // The CLI, compiled, with plain node: the topic the SDK created is listed.
    const listed = await run(path.join(app, "node_modules", ".bin", "dynalog"), ["topics", "list", "--url", broker!.url]);
    expect(listed.stdout).toContain(topic);
  }, 120_000);

  it("`npx dynalog --help` runs the compiled CLI without tsx", async () => {
    const { stdout } = await run("npx", ["--no", "--", "dynalog", "--help"]);
    expect(stdout).toMatch(/^Usage: dynalog /);
    expect(stdout).toContain("produce");
  }, 60_000);

  it("dynalog/client bundles for the browser with no Node built-in and nothing of the broker", async () => {
    const result = await build({
      stdin: { contents: `import { Dynalog } from "dynalog/client"; globalThis.client = new Dynalog({ url: "https://example.com" });`, resolveDir: app, loader: "js" },
      bundle: true,
      platform: "browser",
      format: "esm",
      write: false,
      metafile: true,
      logLevel: "silent",
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.some((i) => i.includes("node_modules/dynalog/dist/client/"))).toBe(true);
    expect(inputs.filter((i) => /@aws-sdk\/|dynamodb|node:|\/(local|infra|shared\/storage|shared\/core)\//.test(i))).toEqual([]);
    expect(result.outputFiles[0]!.text).not.toMatch(/from\s*["']node:|require\(["']node:/);
  }, 60_000);

  it("dynalog/cdk synthesizes in a user's CDK app, offline, deploying the prebuilt bundles, with grantProduce/grantConsume", async () => {
    writeFileSync(
      path.join(app, "cdk-app.mjs"),
      `import { App, Stack, RemovalPolicy } from "aws-cdk-lib";
import { Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { Dynalog } from "dynalog/cdk";
const app = new App({ outdir: process.argv[2] });
const stack = new Stack(app, "UserStack", { env: { account: "123456789012", region: "eu-west-1" } });
const broker = new Dynalog(stack, "Broker", { removalPolicy: RemovalPolicy.DESTROY, dashboard: false });
const producer = new Role(stack, "Producer", { assumedBy: new ServicePrincipal("lambda.amazonaws.com") });
broker.grantProduce(producer, "orders");
broker.grantConsume(new Role(stack, "Consumer", { assumedBy: new ServicePrincipal("lambda.amazonaws.com") }));
const assembly = app.synth();
const template = assembly.getStackArtifact(stack.artifactId).template;
process.stdout.write(JSON.stringify({ template, tables: Object.keys(broker.tables), functions: Object.keys(broker.functions), url: typeof broker.url }));
`,
    );
    const outdir = path.join(app, "cdk.out");
    const { stdout } = await run(process.execPath, ["cdk-app.mjs", outdir], { timeoutMs: 120_000 });
    const synthesized = JSON.parse(stdout) as { template: { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> }; tables: string[]; functions: string[]; url: string };
    expect(synthesized.functions.sort()).toEqual(["admin", "commit", "fetch", "produce", "subscriptions", "transactions"]);
    expect(synthesized.tables.length).toBeGreaterThan(0);
    const resources = Object.values(synthesized.template.Resources);
    const functions = resources.filter((r) => r.Type === "AWS::Lambda::Function");
    expect(functions).toHaveLength(11); // six broker functions, the key API's authorizer, the subscription dispatcher, the scheduled compactor, the history sampler and the console's
    for (const fn of functions) expect(fn.Properties).toMatchObject({ Handler: "index.handler", Runtime: "nodejs22.x" });
    // Each asset staged is a prebuilt bundle from the package (nothing was bundled at synthesis).
    const staged = readdirSync(outdir).filter((d) => d.startsWith("asset."));
    expect(staged.length).toBeGreaterThanOrEqual(7);
    const contents = staged.map((dir) => readdirSync(path.join(outdir, dir)).sort().join(","));
    // The console function's asset also has its console/ folder (the static files it serves).
    expect(contents.filter((c) => c === "console,index.mjs,index.mjs.map")).toHaveLength(1);
    for (const c of contents) expect(["index.mjs,index.mjs.map", "console,index.mjs,index.mjs.map"]).toContain(c);
    const statements = resources
      .filter((r) => r.Type === "AWS::IAM::Policy")
      .flatMap((r) => (r.Properties["PolicyDocument"] as { Statement: { Action: unknown; Resource: unknown }[] }).Statement)
      .filter((s) => s.Action === "execute-api:Invoke");
    const text = JSON.stringify(statements);
    expect(text).toContain("/POST/v1/topics/orders/records");
    expect(text).toContain("/POST/v1/fetch");
    expect(text).not.toContain("/v1/acls");
  }, 180_000);
});
