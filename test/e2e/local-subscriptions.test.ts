/**
 * Push subscriptions on the local broker (what `npm start` runs), driven by the CLI as a user
 * would: `dynalog subscriptions create --function ./handler.mjs` (a module path relative to the
 * CLI's directory), the in-process dispatcher delivering in the background, then describe, list,
 * pause, resume and delete — and refusals with their exit codes.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalBroker, type LocalBroker } from "../../local/local-broker.js";
import { testEndpoint, uniqueName } from "../support/dynamodb.js";
import { jsonClient, type JsonClient } from "../support/http.js";
import { runProcess, type ProcessResult } from "../support/process.js";

const BIN = fileURLToPath(new URL("../../cli/dynalog.mjs", import.meta.url));
const PARTITIONS = 3;
const PER_PARTITION = 100;

let broker: LocalBroker;
let api: JsonClient;
let dir: string;

type Seen = [key: string, offset: number];
const state = globalThis as { __dynalogLocalSub?: { seen: Seen[]; onRecord?: () => void } };

beforeAll(async () => {
  broker = await startLocalBroker({ dynamodbEndpoint: testEndpoint(), tablePrefix: uniqueName("lsub"), port: 0 });
  api = jsonClient(broker.url);
  dir = mkdtempSync(path.join(tmpdir(), "dynalog-local-sub-"));
  // The module the subscription names: it runs in the broker's process and tells the test what it saw.
  writeFileSync(
    path.join(dir, "handler.mjs"),
    `export async function handler(event) {
  const s = (globalThis.__dynalogLocalSub ??= { seen: [] });
  for (const [key, records] of Object.entries(event.records)) for (const r of records) s.seen.push([key, r.offset]);
  s.onRecord?.();
}
`,
  );
}, 120_000);
afterAll(async () => broker?.stop());

function dynalog(args: string[]): Promise<ProcessResult> {
  return runProcess([process.execPath, BIN, ...args], { cwd: dir, env: { ...process.env, DYNALOG_URL: broker.url, DYNALOG_TOKEN: "" } });
}

/** Resolves once the handler has seen `count` records (the dispatcher calls it in the background). */
function handlerSees(count: number): Promise<void> {
  const s = (state.__dynalogLocalSub ??= { seen: [] });
  return new Promise((resolve) => {
    s.onRecord = () => {
      if (s.seen.length >= count) resolve();
    };
    s.onRecord();
  });
}

describe("subscriptions on the local broker, through the CLI", { timeout: 120_000 }, () => {
  it("delivers to a local module in the background, in order, and is managed by the CLI", async () => {
    const topic = uniqueName("lsub-t");
    const name = uniqueName("lsub");
    expect((await api.post("/v1/topics", { name: topic, partitions: PARTITIONS })).status).toBe(201);

    const created = await dynalog(["subscriptions", "create", name, "--topic", topic, "--function", "./handler.mjs", "--batch-size", "40"]);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toContain(`Created subscription ${name}: ${topic} → module:${path.join(dir, "handler.mjs")}`);
    expect(created.stdout).toMatch(/\ndlsub_[A-Za-z0-9_-]{43}\n/);

    const delivered = handlerSees(PARTITIONS * PER_PARTITION);
    for (let p = 0; p < PARTITIONS; p++) {
      const records = Array.from({ length: PER_PARTITION }, (_, i) => ({ value: `${p}:${i}` }));
      expect((await api.post(`/v1/topics/${topic}/records`, { encoding: "utf8", partitions: [{ partition: p, records }] })).status).toBe(200);
    }
    await delivered;
    // Let the round in flight finish (its commits and counters), then nothing is left to do.
    await broker.subscriptions!.dispatcher.stop();
    expect((await broker.subscriptions!.dispatcher.drain()).invocations).toBe(0);

    const seen = state.__dynalogLocalSub!.seen;
    for (let p = 0; p < PARTITIONS; p++) {
      expect(seen.filter(([key]) => key === `${topic}-${p}`).map(([, offset]) => offset)).toEqual(Array.from({ length: PER_PARTITION }, (_, i) => i));
    }

    const described = await dynalog(["subscriptions", "describe", name]);
    expect(described.code, described.stderr).toBe(0);
    expect(described.stdout).toContain(`Subscription ${name} (active): ${topic}`);
    expect(described.stdout).toContain("total lag 0");
    for (let p = 0; p < PARTITIONS; p++) expect(described.stdout).toMatch(new RegExp(`\\n${p} +100 +100 +0 +100 +0 +0 `));

    expect((await dynalog(["subscriptions", "list"])).stdout).toMatch(new RegExp(`${name} +${topic} +module:`));
    expect(await dynalog(["subscriptions", "pause", name])).toMatchObject({ code: 0, stdout: `Paused subscription ${name}\n` });
    expect((await api.get(`/v1/subscriptions/${name}`)).body.state).toBe("paused");
    expect(await dynalog(["subscriptions", "resume", name])).toMatchObject({ code: 0, stdout: `Resumed subscription ${name}\n` });
    expect(await dynalog(["subscriptions", "delete", name])).toMatchObject({ code: 0, stdout: `Deleted subscription ${name}\n` });
    expect((await dynalog(["subscriptions", "describe", name])).code).toBe(5);
  });

  it("refuses bad input with a clear message and exit code", async () => {
    const topic = uniqueName("lsub-bad");
    expect((await api.post("/v1/topics", { name: topic, partitions: 1 })).status).toBe(201);
    const both = await dynalog(["subscriptions", "create", uniqueName("lsub"), "--topic", topic, "--webhook", "http://127.0.0.1:1/x", "--function", "./handler.mjs"]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("exactly one of --webhook and --function");
    const notAllowed = await dynalog(["subscriptions", "create", uniqueName("lsub"), "--topic", topic, "--function", "arn:aws:lambda:us-east-1:123456789012:function:nope"]);
    expect(notAllowed.code).toBe(1);
    expect(notAllowed.stderr).toContain("SUBSCRIPTION_TARGET_NOT_ALLOWED");
    const unknownTopic = await dynalog(["subscriptions", "create", uniqueName("lsub"), "--topic", uniqueName("nope"), "--webhook", "http://127.0.0.1:1/x"]);
    expect(unknownTopic.code).toBe(5);
    expect((await api.get("/v1/subscriptions")).body.subscriptions).toEqual([]);
  });
});
