/**
 * The SDK under Bun and Deno: the SDK compiled as the package ships it (one ESM file per module,
 * dist/client's layout), imported by a small script each runtime runs against a broker over HTTP —
 * create a topic, produce, consume through a group, and sign AWS's SigV4 get-vanilla vector with
 * the runtime's Web Crypto.
 *
 * The runtimes come from node_modules/.bin (the `bun` and `deno` npm packages), or from
 * DYNALOG_TEST_BUN / DYNALOG_TEST_DENO; a runtime that is not there is skipped, and says so.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { transform } from "esbuild";
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

/** What each runtime runs: arguments are the broker URL, a topic and a group. */
const SCRIPT = `
import { Dynalog, logLevel, sigv4Signer } from "./client/index.js";
const [url, topic, groupId] = globalThis.Deno ? Deno.args : process.argv.slice(2);
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
console.log(JSON.stringify({ partitions: sent.map((s) => s.partition), seen, authorization: signed.authorization }));
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
  writeFileSync(path.join(dir, "check.mjs"), SCRIPT);
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

for (const [name, { binary, argv }] of Object.entries(RUNTIMES)) {
  describe.skipIf(!existsSync(binary))(`the SDK under ${name} (${binary})`, () => {
    it("creates a topic, produces, consumes through a group and signs SigV4 with the runtime's Web Crypto", async () => {
      const topic = topicName(`rt-${name}`);
      const result = await runProcess([binary, ...argv(path.join(dir, "check.mjs")), env.url, topic, topicName(`rt-${name}-group`)], {
        cwd: dir,
        env: { PATH: process.env["PATH"], HOME: process.env["HOME"], NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1", DENO_DIR: path.join(dir, ".deno") },
      });
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      const output = JSON.parse(result.stdout.trim().split("\n").at(-1)!);
      expect(output.partitions).toHaveLength(1);
      expect(output.seen).toEqual([
        { offset: 0, value: "héllo", bytes: [...new TextEncoder().encode("héllo")], header: "v" },
        { offset: 1, value: "\u0000\ufffd", bytes: [0, 255], header: undefined },
      ]);
      expect(output.authorization).toMatch(/Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31$/);
    }, 120_000);
  });
}
