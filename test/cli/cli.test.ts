/** The `dynalog` CLI end to end: a spawned process against a broker served over HTTP. */
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestBroker, createTestTables, serveApp, topicName, type Served, type TestBroker } from "../support/broker.js";
import { runProcess, type ProcessResult } from "../support/process.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const BIN = fileURLToPath(new URL("../../cli/dynalog.mjs", import.meta.url));

let open: Served;
let secured: Served;
let securedHarness: TestBroker;

beforeAll(async () => {
  const tables = await createTestTables("cli");
  open = await serveApp(createTestBroker(tables).app);
  securedHarness = createTestBroker(tables, { security: { enabled: true, superUsers: ["User:admin"] } });
  secured = await serveApp(securedHarness.app);
});
afterAll(async () => {
  await open?.close();
  await secured?.close();
});

type Run = ProcessResult;

/** Runs `dynalog …` as a child process (the same entry point `npx dynalog` runs). */
function dynalog(args: string[], options: { input?: string; url?: string; env?: Record<string, string>; command?: string[] } = {}): Promise<Run> {
  const command = options.command ?? [process.execPath, BIN];
  return runProcess([...command, ...args], {
    cwd: ROOT,
    env: { ...process.env, DYNALOG_URL: options.url ?? open.url, DYNALOG_TOKEN: "", ...options.env },
    input: options.input ?? "",
  });
}

// Each test spawns the CLI several times (~1-2 s each through tsx); the bound is a hang guard for a loaded 2-core machine, not a speed check.
describe("dynalog CLI", { timeout: 120_000 }, () => {
  it("topics create | list | describe | delete, with one-line errors and exit codes", async () => {
    const topic = topicName("cli");
    const created = await dynalog(["topics", "create", topic, "--partitions", "3", "--retention-ms", "forever"]);
    expect(created).toMatchObject({ stderr: "", code: 0, stdout: `Created topic ${topic} with 3 partitions\n` });
    const again = await dynalog(["topics", "create", topic]);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(`dynalog: topic '${topic}' already exists\n`);

    const list = await dynalog(["topics", "list"]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`^${topic}\\s+3\\s+forever\\s+brotli\\s+CreateTime$`, "m"));

    const described = await dynalog(["topics", "describe", topic]);
    expect(described.code).toBe(0);
    expect(described.stdout).toContain(`Topic ${topic}`);
    expect(described.stdout.trim().split("\n").slice(1)).toEqual([
      "PARTITION  LOG-START  HIGH-WATERMARK  EST-SIZE  BYTES-WRITTEN",
      "0          0          0               0 B       0 B",
      "1          0          0               0 B       0 B",
      "2          0          0               0 B       0 B",
    ]);

    expect(await dynalog(["topics", "delete", topic])).toMatchObject({ code: 0, stdout: `Deleted topic ${topic}\n` });
    const missing = await dynalog(["topics", "describe", topic]);
    expect(missing.code).toBe(5);
    expect(missing.stderr).toBe(`dynalog: Topic '${topic}' does not exist (UNKNOWN_TOPIC_OR_PARTITION)\n`);
  });

  it("produce from stdin, consume --max (standalone and in a group), groups lag, offsets reset", async () => {
    const topic = topicName("cli");
    expect((await dynalog(["topics", "create", topic])).code).toBe(0);
    const lines = Array.from({ length: 25 }, (_, i) => `line-${i}`);
    const produced = await dynalog(["produce", topic, "--key", "k1", "--header", "source=cli", "-H", "n=1"], { input: `${lines.join("\n")}\n` });
    expect(produced.code).toBe(0);
    expect(produced.stderr).toMatch(new RegExp(`^Produced 25 messages to ${topic} \\(\\d+/s\\)\\n$`));

    // Without a group: from the beginning, as JSON, stop after 25.
    const all = await dynalog(["consume", topic, "--from-beginning", "--format", "json", "--max", "25"]);
    expect(all.code).toBe(0);
    const records = all.stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(records.map((r) => r.value)).toEqual(lines);
    expect(records[0]).toMatchObject({ topic, partition: 0, offset: 0, key: "k1", headers: { source: "cli", n: "1" } });

    // In a group: prints 10, commits what it printed, and the next run continues there.
    const group = topicName("cli-g");
    const first = await dynalog(["consume", topic, "--group", group, "--from-beginning", "--max", "10"]);
    expect(first).toMatchObject({ code: 0, stdout: `${lines.slice(0, 10).join("\n")}\n` });
    const lag = await dynalog(["groups", "lag", group]);
    expect(lag.code).toBe(0);
    expect(lag.stdout).toMatch(new RegExp(`^${topic}\\s+0\\s+10\\s+25\\s+15\\s+-$`, "m"));
    expect(lag.stdout).toContain("Total lag: 15");
    const next = await dynalog(["consume", topic, "--group", group, "--max", "5"]);
    expect(next.stdout).toBe(`${lines.slice(10, 15).join("\n")}\n`);

    expect((await dynalog(["groups", "list"])).stdout).toMatch(new RegExp(`^${group}\\s+Empty\\s+0`, "m"));
    expect((await dynalog(["groups", "describe", group])).stdout).toContain(`Group ${group}  state Empty`);

    const reset = await dynalog(["offsets", "reset", group, "--topic", topic, "--to-earliest"]);
    expect(reset.code).toBe(0);
    expect(reset.stdout).toMatch(new RegExp(`^${topic}\\s+0\\s+0$`, "m"));
    const replay = await dynalog(["consume", topic, "--group", group, "--max", "2"]);
    expect(replay.stdout).toBe("line-0\nline-1\n");
    const usage = await dynalog(["offsets", "reset", group, "--topic", topic]);
    expect(usage.code).toBe(2);
  });

  it("explains an unreachable broker and a failed authentication in one line, with distinct exit codes", async () => {
    const port = await closedPort();
    const unreachable = await dynalog(["topics", "list"], { url: `http://127.0.0.1:${port}` });
    expect(unreachable.code).toBe(3);
    expect(unreachable.stderr.trim().split("\n")).toHaveLength(1);
    expect(unreachable.stderr).toMatch(new RegExp(`^dynalog: Cannot reach Dynalog at http://127\\.0\\.0\\.1:${port} \\(connection refused\\) — check --url / DYNALOG_URL\\n$`));

    const noKey = await dynalog(["topics", "list"], { url: secured.url });
    expect(noKey.code).toBe(4);
    expect(noKey.stderr).toMatch(/^dynalog: authentication failed: .* — pass an API key with --token or DYNALOG_TOKEN\n$/);
    const token = (await securedHarness.security.createApiKey("User:admin")).token;
    const topic = topicName("cli-auth");
    await securedHarness.broker.createTopic({ name: topic, partitions: 2 });
    const withKey = await dynalog(["topics", "list", "--json"], { url: secured.url, env: { DYNALOG_TOKEN: token } });
    expect(withKey.code).toBe(0);
    expect(JSON.parse(withKey.stdout).find((t: any) => t.name === topic)).toMatchObject({ partitionCount: 2, retentionMs: 604_800_000 });
  });

  it("manages API keys and ACL rules: issue a key, grant it a topic, use it, revoke it", async () => {
    const admin = { url: secured.url, env: { DYNALOG_TOKEN: (await securedHarness.security.createApiKey("User:admin")).token } };
    const topic = topicName("cli-acl");
    await securedHarness.broker.createTopic({ name: topic, partitions: 1 });
    const issued = await dynalog(["api-keys", "create", "User:erin", "--description", "cli test"], admin);
    expect(issued.code).toBe(0);
    const token = issued.stdout.trim();
    expect(token).toMatch(/^dlk_/);
    const erin = { url: secured.url, env: { DYNALOG_TOKEN: token } };
    const refused = await dynalog(["topics", "describe", topic], erin); // no rule yet
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(/^dynalog: not allowed: /);

    const added = await dynalog(["acls", "add", "--principal", "User:erin", "--resource-type", "Topic", "--resource", "cli-acl", "--prefixed", "--operation", "Describe"], admin);
    expect(added.code).toBe(0);
    const ruleId = added.stdout.trim().split(" ").pop()!;
    expect((await dynalog(["topics", "describe", topic], erin)).code).toBe(0);
    const rules = JSON.parse((await dynalog(["acls", "list", "--json"], admin)).stdout);
    expect(rules).toContainEqual(expect.objectContaining({ id: ruleId, principal: "User:erin", patternType: "PREFIXED", operation: "Describe" }));

    const keys = JSON.parse((await dynalog(["api-keys", "list", "--json"], admin)).stdout);
    const key = keys.find((k: { principal: string }) => k.principal === "User:erin");
    // dlk_<keyId>_<secret>: the secret is base64url and may itself contain "_".
    const secret = token.split("_").slice(2).join("_");
    expect(JSON.stringify(keys)).not.toContain(secret);
    expect((await dynalog(["acls", "delete", ruleId], admin)).code).toBe(0);
    expect((await dynalog(["api-keys", "revoke", key.keyId], admin)).code).toBe(0);
    const revoked = await dynalog(["topics", "describe", topic], erin);
    expect(revoked.code).toBe(4);
    expect(revoked.stderr).toMatch(/^dynalog: authentication failed: /);
  });

  it("is what `npx dynalog` runs (the package's bin)", async () => {
    const npx = await dynalog(["--version"], { command: ["npx", "--no-install", "dynalog"] });
    expect(npx).toMatchObject({ code: 0, stdout: "0.1.0\n" });
  });
});

/** A local port nobody listens on. */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
