/**
 * The SDK is isomorphic: it bundles for the browser with no Node built-ins and none of the
 * broker's DynamoDB code, and the browser bundle runs a produce → consume round trip in a V8
 * context that has only web-standard globals (no Buffer, no process, no require).
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import vm from "node:vm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { topicName } from "../support/broker.js";
import { bundleSdk } from "./sdk-bundle.js";
import { startBroker, type ClientTestEnv } from "./support.js";

const bundle = bundleSdk;

describe("the browser bundle", () => {
  it("builds with no Node built-ins and no DynamoDB or broker code", async () => {
    const { code, metafile } = await bundle("esm");
    const inputs = Object.keys(metafile.inputs);
    const output = Object.values(metafile.outputs)[0]!;
    expect(output.imports).toEqual([]); // nothing left to resolve: no node:*, no external package
    expect(inputs.filter((f) => f.startsWith("node:") || /(^|\/)node_modules\/(@types\/node|undici)\//.test(f))).toEqual([]);
    // The SDK's own files, the shared partitioner, and the SigV4 signer (Web Crypto) — nothing else of the repo.
    expect(inputs.filter((f) => !f.includes("node_modules/")).every((f) => f.startsWith("client/") || f === "shared/partitioner.ts")).toBe(true);
    expect(inputs).not.toContain("client/node.ts");
    expect(inputs.some((f) => f.includes("client-dynamodb") || f.includes("lib-dynamodb") || f.includes("credential-provider"))).toBe(false);
    expect(code).not.toMatch(/from\s*["']node:|import\(\s*["']node:|require\(/);
    // Minified (comments gone, which may mention DynamoDB): no DynamoDB client code, no Buffer use.
    const minified = (await bundle("esm", true)).code;
    expect(minified).not.toMatch(/@aws-sdk\/client-dynamodb|DynamoDB|PutItem|TransactWriteItems|Buffer\.from|process\.env/);
    expect(minified.length).toBeLessThan(120_000); // ~70 KB today, the SigV4 signer ~15 KB of it
  });

  it("the main entry has no import of a Node built-in, and Buffer/process appear only feature-detected", () => {
    // Every file but node.ts (the Node-only helpers, outside the main entry).
    const files = readdirSync("client").filter((f) => f.endsWith(".ts") && f !== "node.ts");
    expect(files).toContain("consumer-runner.ts");
    for (const name of files) {
      const source = readFileSync(`client/${name}`, "utf8");
      expect(source, name).not.toMatch(/from "node:|import\("node:|\bBuffer\.|\bprocess\.|setImmediate\(|NodeJS\./);
    }
  });
});

describe("the SDK's modules", () => {
  it("import each other without cycles (type imports included) and stay small", () => {
    const files = readdirSync("client").filter((f) => f.endsWith(".ts"));
    const imports = new Map<string, string[]>();
    for (const file of files) {
      const source = readFileSync(`client/${file}`, "utf8");
      const deps = [...source.matchAll(/(?:import|export)[^;]*?from\s+"\.\/([^"]+)\.js"|import\("\.\/([^"]+)\.js"\)/g)].map((m) => `${m[1] ?? m[2]}.ts`);
      imports.set(file, deps);
      expect(source.split("\n").length, file).toBeLessThan(500);
    }
    const cycles: string[] = [];
    const state = new Map<string, "open" | "done">();
    const visit = (file: string, path: string[]): void => {
      state.set(file, "open");
      for (const dep of imports.get(file) ?? []) {
        if (state.get(dep) === "open") cycles.push([...path.slice(path.indexOf(dep)), dep].join(" → "));
        else if (!state.has(dep)) visit(dep, [...path, dep]);
      }
      state.set(file, "done");
    };
    for (const file of files) if (!state.has(file)) visit(file, [file]);
    expect(cycles).toEqual([]);
    expect(imports.get("transaction.ts")).not.toContain("producer.ts");
  });
});

describe("the types", () => {
  it("compile for a web project: DOM types, no Node types; consumed values are TextBytes there", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dynalog-web-types-"));
    const index = resolve("client/index.ts");
    writeFileSync(
      join(dir, "usage.mts"),
      `import { Dynalog, decodeText, type KafkaMessage, type TextBytes } from ${JSON.stringify(index.replace(/\.ts$/, ".js"))};
export const dynalog = new Dynalog({ url: "https://example.invalid", auth: { sigv4: { region: "eu-west-1", credentials: { accessKeyId: "a", secretAccessKey: "b" } } } });
export function read(message: KafkaMessage): string {
  const value: TextBytes | null = message.value;
  return (value?.toString() ?? "") + decodeText(new Uint8Array([104, 105]));
}
// @ts-expect-error Buffer does not exist without Node's types: the SDK's types must not need it.
export const nodeBuffer = typeof Buffer;
`,
    );
    const compilerOptions = { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", lib: ["ES2024", "DOM", "DOM.Iterable"], types: [], strict: true, noUncheckedIndexedAccess: true, noImplicitOverride: true, skipLibCheck: true, isolatedModules: true, verbatimModuleSyntax: true, noEmit: true };
    writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions, files: [index, join(dir, "usage.mts")] }));
    const tsc = resolve("node_modules/typescript/bin/tsc");
    const result = await promisify(execFile)(process.execPath, [tsc, "-p", join(dir, "tsconfig.json")]).then(
      () => ({ code: 0, stdout: "" }),
      (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }),
    );
    rmSync(dir, { recursive: true, force: true });
    expect(result).toEqual({ code: 0, stdout: "" });
  }, 180_000);
});

describe("running without Node's globals", () => {
  let env: ClientTestEnv;
  let sdk: any;
  let context: vm.Context;
  beforeAll(async () => {
    env = await startBroker("sdk-isomorphic");
    const { code } = await bundle("iife");
    // Only what browsers and workers have (the V8 context brings the language built-ins).
    context = vm.createContext({
      fetch,
      Request,
      Response,
      Headers,
      URL,
      URLSearchParams,
      AbortController,
      AbortSignal,
      DOMException,
      Event,
      EventTarget,
      TextEncoder,
      TextDecoder,
      crypto: globalThis.crypto,
      atob,
      btoa,
      setTimeout,
      clearTimeout,
      setInterval,
      clearInterval,
      queueMicrotask,
      console,
    });
    vm.runInContext(`${code}\nglobalThis.DynalogSDK = DynalogSDK;`, context);
    sdk = context["DynalogSDK"];
  });
  afterAll(async () => env?.close());

  it("has no Buffer, process or require there", () => {
    expect(vm.runInContext("[typeof Buffer, typeof process, typeof require, typeof setImmediate]", context)).toEqual(["undefined", "undefined", "undefined", "undefined"]);
  });

  it("produces and consumes strings, binary and headers; values decode with toString() like Buffers", async () => {
    const dynalog = new sdk.Dynalog({ url: env.url, logLevel: sdk.logLevel.NOTHING });
    const topic = topicName("iso");
    await dynalog.admin().createTopics({ topics: [{ topic, numPartitions: 2 }] });
    const binary = vm.runInContext("new Uint8Array([0, 255, 1, 254, 128])", context);
    const producer = dynalog.producer();
    const sent = await producer.send({
      topic,
      messages: [
        { key: "k1", value: "héllo wörld", headers: { trace: "abc", bin: binary } },
        { key: "k1", value: binary },
        { key: "k1", value: null },
      ],
    });
    expect(sent).toHaveLength(1);
    // The key landed where the broker's own murmur2 puts it (the SDK sent no partition).
    const { partitionForKey } = await import("../../shared/partitioner.js");
    expect(sent[0].partition).toBe(partitionForKey(new TextEncoder().encode("k1"), 2));

    const consumer = dynalog.consumer({ groupId: topicName("g"), heartbeatInterval: 200, maxWaitTimeInMs: 200 });
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    const seen: any[] = [];
    let stopped!: () => void;
    const stop = new Promise<void>((resolve) => (stopped = resolve));
    consumer.on(consumer.events.STOP, () => stopped());
    await consumer.run({
      eachMessage: async ({ message }: any) => {
        seen.push(message);
        // Without AsyncLocalStorage this must still not deadlock.
        if (seen.length === 3) await consumer.stop();
      },
    });
    await stop;
    expect(seen.map((m) => m.offset)).toEqual([0, 1, 2]);
    const [first, second, third] = seen;
    expect(first.value.toString()).toBe("héllo wörld");
    expect(first.key.toString()).toBe("k1");
    expect(first.headers.trace.toString()).toBe("abc");
    expect(Array.from(first.headers.bin)).toEqual([0, 255, 1, 254, 128]);
    expect(first.value.constructor.name).toBe("TextBytes");
    expect(vm.runInContext("(v) => v instanceof Uint8Array", context)(first.value)).toBe(true);
    expect(Array.from(second.value)).toEqual([0, 255, 1, 254, 128]);
    expect(second.value.toString("base64")).toBe("AP8B/oA=");
    expect(second.value.toString("hex")).toBe("00ff01fe80");
    expect(sdk.decodeText(first.value)).toBe("héllo wörld");
    expect(third.value).toBeNull();
    expect(first.size).toBe(new TextEncoder().encode("k1héllo wörldtraceabcbin").length + 5);

    // UTF-8 sizes without Buffer: 3-byte chars over the record limit are refused before sending;
    // surrogate pairs count 4 bytes (379,920 bytes: under the limit, accepted by the SDK and the broker).
    const tooLarge = await producer.send({ topic, messages: [{ value: "€".repeat(126_646) }] }).catch((e: Error) => e.message);
    expect(tooLarge).toMatch(/379944 bytes encoded.*RECORD_TOO_LARGE/);
    const [atLimit] = await producer.send({ topic, messages: [{ partition: sent[0].partition, value: "😀".repeat(94_980) }] });
    expect(atLimit.baseOffset).toBe(3);
    await producer.disconnect();
  });

  it("signs SigV4 there too (Web Crypto): AWS's get-vanilla vector", async () => {
    const sign = sdk.sigv4Signer(
      { region: "us-east-1", service: "service", credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" } },
      () => new Date("2015-08-30T12:36:00Z"),
    );
    const headers = await sign({ method: "GET", url: "https://example.amazonaws.com/", headers: {}, body: undefined });
    expect(headers.authorization).toMatch(/Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31$/);
  });

  it("sends Basic credentials as UTF-8 base64 (no Buffer needed)", async () => {
    let sent: Record<string, string> | undefined;
    const fakeFetch = async (_url: string, init: { headers: Record<string, string> }) => {
      sent = init.headers;
      return new Response(JSON.stringify({ topics: [] }), { headers: { "content-type": "application/json" } });
    };
    await new sdk.Dynalog({ url: "http://broker.invalid", fetch: fakeFetch, auth: { type: "basic", username: "key-1", password: "pässwörd" } }).admin().listTopics();
    expect(sent?.["authorization"]).toBe(`Basic ${Buffer.from("key-1:pässwörd", "utf8").toString("base64")}`);
  });
});
