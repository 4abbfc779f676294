/**
 * `dynalog smoke` against the local broker (the deployed handlers behind the local API Gateway
 * stand-in): the same command a deployer runs after `npm run deploy`.
 */
import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { runSmoke } from "../../cli/commands/smoke.js";
import { main } from "../../cli/main.js";
import { startLocalBroker, type LocalBroker } from "../../local/local-broker.js";
import { createTestBroker, createTestTables, serveApp, type Served } from "../support/broker.js";
import { testEndpoint, uniqueName } from "../support/dynamodb.js";

let secured: LocalBroker;
/** Without auth: the broker app served directly (the local broker's handlers are loaded once per process, with auth). */
let open: Served;

beforeAll(async () => {
  secured = await startLocalBroker({ dynamodbEndpoint: testEndpoint(), tablePrefix: uniqueName("smoke-auth"), port: 0, auth: true });
  open = await serveApp(createTestBroker(await createTestTables("smoke")).app);
});
afterAll(async () => {
  await secured?.stop();
  await open?.close();
});

const CHECKS = [
  "topics: create",
  "topics: describe and list",
  "produce: idempotent",
  "fetch: the records come back in order",
  "fetch: an empty long poll waits",
  "fetch: a long poll wakes up on a produce",
  "groups: join, commit",
  "transactions: records and an offset commit at once",
  "security: a key without a Read ACL is refused",
  "cleanup: delete the topic",
];

describe("dynalog smoke", () => {
  it("passes every check against a broker with authentication on, as its super-user; only the void fill is skipped, with the reason", async () => {
    const lines: string[] = [];
    const summary = await runSmoke({ url: `${secured.url}/`, token: secured.adminToken!, print: (line) => lines.push(line) });
    expect(lines.filter((l) => l.startsWith("✗")), lines.join("\n")).toEqual([]);
    for (const name of CHECKS) expect(lines.some((l) => l.startsWith(`✓ ${name}`) && /\(\d+ ms\)$/.test(l)), `${name}\n${lines.join("\n")}`).toBe(true);
    expect(lines.filter((l) => l.startsWith("- "))).toEqual([expect.stringMatching(/^- log: a dead writer's gap is filled with voids: skipped: not reachable through the public API/)]);
    expect(summary).toEqual({ passed: CHECKS.length, failed: 0, skipped: 1 });
    expect(lines.at(-1)).toBe(`${CHECKS.length} passed, 0 failed, 1 skipped`);

    // It cleaned up: its topic, API key and ACL rule are gone (the key revoked).
    const auth = { authorization: `Bearer ${secured.adminToken!}` };
    const topics = (await (await fetch(`${secured.url}/v1/topics`, { headers: auth })).json()) as { topics: { name: string }[] };
    expect(topics.topics.filter((t) => t.name.startsWith("smoke-"))).toEqual([]);
    const keys = (await (await fetch(`${secured.url}/v1/api-keys`, { headers: auth })).json()) as { apiKeys: { principal: string; revokedAt: string | null }[] };
    expect(keys.apiKeys.filter((k) => k.principal.startsWith("User:smoke-") && k.revokedAt === null)).toEqual([]);
    const acls = (await (await fetch(`${secured.url}/v1/acls`, { headers: auth })).json()) as { acls: { principal: string }[] };
    expect(acls.acls.filter((a) => a.principal.startsWith("User:smoke-"))).toEqual([]);
  });

  it("as a CLI command: exits 0 against a broker without auth (`npm start`), saying the ACL check cannot run there", async () => {
    const written: string[] = [];
    const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => (written.push(String(chunk)), true));
    let code: number;
    try {
      code = await main(["node", "dynalog", "--url", open.url, "smoke"]);
    } finally {
      spy.mockRestore();
    }
    const output = written.join("");
    expect(code, output).toBe(0);
    expect(output).toMatch(/^- security: .*skipped: this broker has authentication off/m);
    expect(output).toMatch(/^✓ transactions: records and an offset commit at once \(\d+ ms\)$/m);
    expect(output).toMatch(/^9 passed, 0 failed, 2 skipped$/m);
  });

  it("exits non-zero, with ✗ lines, when a check fails (nothing listening at the URL)", async () => {
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, "127.0.0.1", () => {
        const address = server.address() as { port: number };
        server.close(() => resolve(address.port));
      });
    });
    const written: string[] = [];
    const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => (written.push(String(chunk)), true));
    try {
      expect(await main(["node", "dynalog", "--url", `http://127.0.0.1:${port}`, "smoke"])).toBe(1);
    } finally {
      spy.mockRestore();
    }
    expect(written.join("")).toMatch(/^✗ topics: create \(\d+ ms\): /m);
    expect(written.join("")).toMatch(/^0 passed, 1 failed, 9 skipped$/m);
  });
});
