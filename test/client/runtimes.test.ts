/**
 * The SDK under Bun, Deno and workerd: the SDK compiled as the package ships it (one ESM file per module,
 * dist/client's layout), imported by a small script each runtime runs against a broker over HTTP —
 * create a topic, produce, consume through a group, and sign AWS's SigV4 get-vanilla vector with
 * the runtime's Web Crypto.
 *
 * The same round trip runs in a Cloudflare Worker: bundled as wrangler bundles one, served by
 * workerd (Cloudflare's Workers runtime) and called over HTTP.
 *
 * The runtimes come from node_modules/.bin (the `bun`, `deno` and `workerd` npm packages), or
 * from DYNALOG_TEST_BUN / DYNALOG_TEST_DENO / DYNALOG_TEST_WORKERD; a runtime that is not there
 * is skipped, and says so.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { spawn } from "node:child_process";
import { createServer as createNetServer, type AddressInfo } from "node:net";
import { build, transform } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { topicName } from "../support/broker.js";
import { uniqueName } from "../support/dynamodb.js";
import { runProcess } from "../support/process.js";
import { startBroker, type ClientTestEnv } from "./support.js";

const REPO = path.resolve(import.meta.dirname, "../..");

function runtime(name: "bun" | "deno"): string {
  return process.env[`DYNALOG_TEST_${name.toUpperCase()}`] ?? path.join(REPO, "node_modules", ".bin", name);
}

const RUNTIMES = {
  bun: { binary: runtime("bun"), argv: (script: string) => ["run", script] },
  // Only the network (the broker) and reading the SDK's files; nothing else is granted.
  deno: { binary: runtime("deno"), argv: (script: string) => ["run", "--no-prompt", "--allow-net=127.0.0.1", `--allow-read=${path.dirname(script)},${path.join(REPO, "node_modules")}`, script] },
} as const;

/** The round trip each runtime runs: create a topic, produce, consume through a group, sign SigV4. */
const ROUND_TRIP = `
import { Dynalog, logLevel, sigv4Signer } from "./client/index.js";
export async function roundTrip(url, topic, groupId) {
  const dynalog = new Dynalog({ url, logLevel: logLevel.NOTHING });
  await dynalog.admin().createTopics({ topics: [{ topic, numPartitions: 2 }] });
  const producer = dynalog.producer();
  const sent = await producer.send({ topic, messages: [{ key: "k", value: "héllo", headers: { h: "v" } }, { key: "k", value: new Uint8Array([0, 255]) }] });
  await producer.disconnect();
  const consumer = dynalog.consumer({ groupId, heartbeatInterval: 200, maxWaitTimeInMs: 200 });
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const seen = [];
  await new Promise((resolve, reject) => {
    consumer.on(consumer.events.STOP, resolve);
    consumer.run({ eachMessage: async ({ message }) => {
      seen.push({ offset: message.offset, value: message.value.toString(), bytes: Array.from(message.value), header: message.headers.h?.toString() });
      if (seen.length === 2) await consumer.stop();
    } }).catch(reject);
  });
  const sign = sigv4Signer(
    { region: "us-east-1", service: "service", credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" } },
    () => new Date("2015-08-30T12:36:00Z"),
  );
  const signed = await sign({ method: "GET", url: "https://example.amazonaws.com/", headers: {}, body: undefined });
  return { partitions: sent.map((s) => s.partition), seen, authorization: signed.authorization };
}
`;

/** Bun and Deno run this: arguments are the broker URL, a topic and a group. */
const SCRIPT = `
import { roundTrip } from "./round-trip.mjs";
const [url, topic, groupId] = globalThis.Deno ? Deno.args : process.argv.slice(2);
console.log(JSON.stringify(await roundTrip(url, topic, groupId)));
`;

/** A Cloudflare Worker (workerd) runs this on each request: ?url=…&topic=…&group=… */
const WORKER = `
import { roundTrip } from "./round-trip.mjs";
export default {
  async fetch(request) {
    const q = new URL(request.url).searchParams;
    return Response.json(await roundTrip(q.get("url"), q.get("topic"), q.get("group")));
  },
};
`;

/**
 * client/ and the shared module it imports, each compiled to its own ESM .js next to the others
 * (as tsc emits dist/), inside the repository so the signer's lazy import resolves from node_modules.
 */
async function compileSdk(dir: string): Promise<void> {
  const files = [...readdirSync(path.join(REPO, "client")).filter((f) => f.endsWith(".ts")).map((f) => `client/${f}`), "shared/partitioner.ts"];
  for (const file of files) {
    const { code } = await transform(readFileSync(path.join(REPO, file), "utf8"), { loader: "ts", format: "esm", target: "es2022", sourcefile: file });
    const out = path.join(dir, file.replace(/\.ts$/, ".js"));
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(out, code);
  }
  writeFileSync(path.join(dir, "package.json"), JSON.stringify({ type: "module" }));
  writeFileSync(path.join(dir, "round-trip.mjs"), ROUND_TRIP);
  writeFileSync(path.join(dir, "check.mjs"), SCRIPT);
  writeFileSync(path.join(dir, "worker.src.mjs"), WORKER);
}

let env: ClientTestEnv;
let dir: string;

beforeAll(async () => {
  env = await startBroker("sdk-runtimes");
  dir = path.join(REPO, "node_modules", ".cache", uniqueName("dynalog-runtimes"));
  await compileSdk(dir);
}, 120_000);

afterAll(async () => {
  await env?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** What every runtime must have done (the output of roundTrip). */
function expectRoundTrip(output: { partitions: unknown[]; seen: unknown[]; authorization: string }): void {
  expect(output.partitions).toHaveLength(1);
  expect(output.seen).toEqual([
    { offset: 0, value: "héllo", bytes: [...new TextEncoder().encode("héllo")], header: "v" },
    { offset: 1, value: "\u0000\ufffd", bytes: [0, 255], header: undefined },
  ]);
  expect(output.authorization).toMatch(/Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31$/);
}

for (const [name, { binary, argv }] of Object.entries(RUNTIMES)) {
  describe.skipIf(!existsSync(binary))(`the SDK under ${name} (${binary})`, () => {
    it("creates a topic, produces, consumes through a group and signs SigV4 with the runtime's Web Crypto", async () => {
      const result = await runProcess([binary, ...argv(path.join(dir, "check.mjs")), env.url, topicName(`rt-${name}`), topicName(`rt-${name}-group`)], {
        cwd: dir,
        env: { PATH: process.env["PATH"], HOME: process.env["HOME"], NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1", DENO_DIR: path.join(dir, ".deno") },
      });
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      expectRoundTrip(JSON.parse(result.stdout.trim().split("\n").at(-1)!));
    }, 120_000);
  });
}

const WORKERD = process.env["DYNALOG_TEST_WORKERD"] ?? path.join(REPO, "node_modules", ".bin", "workerd");

/** A free local port for workerd's socket (its config names one). */
async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe.skipIf(!existsSync(WORKERD))(`the SDK in a Cloudflare Worker (workerd, ${WORKERD})`, () => {
  it("creates a topic, produces, consumes through a group and signs SigV4, bundled as a Worker is", async () => {
    // Bundled for the browser platform as wrangler does; workerd may reach only local addresses.
    await build({ entryPoints: [path.join(dir, "worker.src.mjs")], outfile: path.join(dir, "worker.mjs"), bundle: true, format: "esm", platform: "browser", logLevel: "warning" });
    const port = await freePort();
    writeFileSync(
      path.join(dir, "workerd.capnp"),
      `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .worker), (name = "internet", network = (allow = ["local"])) ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);
const worker :Workerd.Worker = (modules = [ (name = "worker", esModule = embed "worker.mjs") ], compatibilityDate = "2026-11-01");
`,
    );
    const child = spawn(WORKERD, ["serve", path.join(dir, "workerd.capnp")], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
    let log = "";
    child.stdout.on("data", (d) => (log += d));
    child.stderr.on("data", (d) => (log += d));
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    try {
      const query = new URLSearchParams({ url: env.url, topic: topicName("rt-workerd"), group: topicName("rt-workerd-group") });
      let response: Response | undefined;
      // Until workerd listens (or exits, which fails the test with its log).
      while (response === undefined) {
        response = await fetch(`http://127.0.0.1:${port}/?${query}`).catch(async () => {
          if (child.exitCode !== null) throw new Error(`workerd exited: ${log}`);
          await new Promise((resolve) => setTimeout(resolve, 100));
          return undefined;
        });
      }
      expect(response.status, log).toBe(200);
      expectRoundTrip((await response.json()) as Parameters<typeof expectRoundTrip>[0]);
    } finally {
      child.kill();
      await exited;
    }
  }, 120_000);
});
