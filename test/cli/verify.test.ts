/**
 * `dynalog verify` end to end: the spawned CLI runs its workload against a broker served over HTTP
 * and must pass there (also under the `light` chaos profile), and must FAIL, naming the right
 * anomaly kinds, behind a faulty proxy that loses or alters records in fetch answers.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatDuration, parseDuration } from "../../cli/verify/duration.js";
import { TOPIC_PREFIX_PATTERN } from "../../cli/verify/workload.js";
import { CHAOS_PROFILES } from "../../local/faults/profiles.js";
import { createTestBroker, createTestTables, serveApp, type Served, type TestBroker } from "../support/broker.js";
import { runProcess, type ProcessResult } from "../support/process.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const BIN = fileURLToPath(new URL("../../cli/dynalog.mjs", import.meta.url));
/**
 * Short runs with small counts: the whole file must stay quick on a loaded machine. The faulty
 * proxies target "p0-0" and "p1-0", the first send of each producer: sent in every run, however slow.
 */
const SHORT = ["--duration", "2s", "--producers", "2", "--partitions", "2", "--rate", "5", "--seed", "7"];

let plain: Served;
let chaotic: Served;
let chaosHarness: TestBroker;

beforeAll(async () => {
  const tables = await createTestTables("verify");
  plain = await serveApp(createTestBroker(tables).app);
  // A second broker instance on the same tables whose DynamoDB client has the light chaos profile (seeded).
  chaosHarness = createTestBroker(tables);
  for (const rule of CHAOS_PROFILES.light.rules) chaosHarness.chaos.addRule(rule);
  chaosHarness.chaos.setStaleReads(CHAOS_PROFILES.light.staleReads);
  chaotic = await serveApp(chaosHarness.app);
});
afterAll(async () => {
  await plain?.close();
  await chaotic?.close();
});

type Run = ProcessResult;

function dynalog(args: string[], url = plain.url): Promise<Run> {
  return runProcess([process.execPath, BIN, ...args], { cwd: ROOT, env: { ...process.env, DYNALOG_URL: url, DYNALOG_TOKEN: "" } });
}

interface JsonVerdict {
  valid: boolean;
  anomalies: Record<string, { count: number; examples: { message: string }[] }>;
  stats: { valuesAcknowledged: number; drained?: number; copy?: { inputs: number; due: number; outputs: number } };
  run: { seed: number; topics: { input: string; output: string }; requests: number };
}

interface WireRecord {
  offset: number;
  value: string | null;
  valueEncoding?: string;
}

/**
 * An HTTP proxy in front of `target` that passes everything through, except that it hands the
 * records of every fetch answer (POST /v1/fetch, as the SDK's consumers use) to `rewrite`.
 */
async function faultyProxy(target: string, rewrite: (records: { offset: number; value: string }[]) => { offset: number; value: string }[]): Promise<Served> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      void (async () => {
        const body = Buffer.concat(chunks);
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string" && !["host", "connection", "content-length"].includes(k)) headers[k] = v;
        // Fetches go upstream without the SDK's Accept (the binary format), so the broker answers
        // JSON, whose records this proxy can rewrite — and the SDK reads JSON as it would from a
        // broker without the binary format.
        if (req.url?.startsWith("/v1/fetch")) delete headers["accept"];
        const upstream = await fetch(`${target}${req.url}`, { method: req.method, headers, body: body.length > 0 ? body : undefined });
        let text = await upstream.text();
        if (req.method === "POST" && req.url?.startsWith("/v1/fetch") && upstream.status === 200) {
          const requested = JSON.parse(body.toString("utf8")) as { encoding?: string };
          const base64 = (requested.encoding ?? "base64") === "base64";
          const answer = JSON.parse(text) as { partitions: { records?: WireRecord[] }[] };
          for (const partition of answer.partitions) {
            if (!partition.records) continue;
            const decode = (r: WireRecord) => (r.value === null ? "" : base64 || r.valueEncoding === "base64" ? Buffer.from(r.value, "base64").toString("utf8") : r.value);
            const byOffset = new Map(partition.records.map((r) => [r.offset, r]));
            const rewritten = rewrite(partition.records.map((r) => ({ offset: r.offset, value: decode(r) })));
            partition.records = rewritten.map(({ offset, value }) => ({ ...byOffset.get(offset)!, offset, value: base64 ? Buffer.from(value).toString("base64") : value }));
          }
          text = JSON.stringify(answer);
        }
        res.writeHead(upstream.status, { "content-type": upstream.headers.get("content-type") ?? "application/json" });
        res.end(text);
      })().catch((error: Error) => {
        res.writeHead(502, { "content-type": "text/plain" });
        res.end(error.message);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// Generous timeouts: each run takes ~10 s, but the machine running the suite may be loaded.
describe("dynalog verify", { timeout: 120_000 }, () => {
  it("passes against a correct broker: exit 0, a verdict with zero anomalies, topics cleaned up", async () => {
    const run = await dynalog(["verify", "--url", plain.url, ...SHORT, "--topic-prefix", "vt-clean-"]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^VALID: no anomalies found$/m);
    expect(run.stdout).toMatch(/^copy: (\d+) input records, \1 committed by the copier, \1 output records$/m);
    expect(run.stdout).toMatch(/run: seed 7, topics vt-clean-\S+-in and vt-clean-\S+-out \(deleted\)/);
    // In a pipe: no progress line, one final summary on stderr.
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
    expect(run.stderr).toMatch(/^verify done: .* \d+ sent, \d+ acked .* \d+ consumed .* \d+ copied .* \d+ requests\n$/);
    const topics = await dynalog(["topics", "list"]);
    expect(topics.stdout).not.toContain("vt-clean-");
    // Its consumer groups are deleted too (they had committed offsets, so they were listed).
    const groups = await dynalog(["groups", "list"]);
    expect(groups.code).toBe(0);
    expect(groups.stdout).not.toContain("vt-clean-");
  });

  it("still passes with the light chaos profile on the broker's DynamoDB client", async () => {
    const run = await dynalog(["verify", ...SHORT, "--format", "json", "--keep"], chaotic.url);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const verdict = JSON.parse(run.stdout) as JsonVerdict;
    expect(verdict.valid).toBe(true);
    expect(verdict.anomalies).toEqual({});
    expect(verdict.stats.valuesAcknowledged).toBeGreaterThan(0);
    expect(verdict.stats.copy?.due).toBe(verdict.stats.copy?.outputs);
    // The faults did happen (not just delays).
    expect(chaosHarness.chaos.decisions.some((d) => d.action !== "delay"), "no fault injected").toBe(true);
    // --keep left the topics, holding what the drain saw.
    const described = await dynalog(["topics", "describe", verdict.run.topics.input]);
    expect(described.code).toBe(0);
  });

  it("fails behind a proxy that drops a record from fetch answers: the loss is named, exit 1", async () => {
    const proxy = await faultyProxy(plain.url, (records) => records.filter((r) => r.value !== "p0-0"));
    try {
      const run = await dynalog(["verify", "--url", proxy.url, ...SHORT, "--format", "json"]);
      expect(run.code, run.stdout + run.stderr).toBe(1);
      const verdict = JSON.parse(run.stdout) as JsonVerdict;
      expect(verdict.valid).toBe(false);
      const kinds = Object.keys(verdict.anomalies);
      expect(kinds.some((k) => k === "lost-write" || k === "unseen"), run.stdout).toBe(true);
      expect(kinds.every((k) => ["lost-write", "unseen", "poll-skip"].includes(k)), run.stdout).toBe(true);
      expect(JSON.stringify(verdict.anomalies)).toContain('\\"p0-0\\"');
    } finally {
      await proxy.close();
    }
  });

  it("fails behind a proxy that alters a record's value: the offset disagreement and the duplicate are named, exit 1", async () => {
    const proxy = await faultyProxy(plain.url, (records) => records.map((r) => (r.value === "p0-0" ? { ...r, value: "p1-0" } : r)));
    try {
      const run = await dynalog(["verify", "--url", proxy.url, ...SHORT]);
      expect(run.code, run.stdout + run.stderr).toBe(1);
      expect(run.stdout).toMatch(/^INVALID: \d+ anomalies$/m);
      expect(run.stdout).toMatch(/^inconsistent-offset: \d+ /m);
      expect(run.stdout).toMatch(/^duplicate: \d+ /m);
      expect(run.stdout).toContain('held "p0-0" and "p1-0"');
    } finally {
      await proxy.close();
    }
  });

  it("rejects bad options with a usage error (exit 2) and an unreachable broker with exit 3", async () => {
    const [badDuration, badCount, unreachable, help] = await Promise.all([
      dynalog(["verify", "--duration", "soon"]),
      dynalog(["verify", "--producers", "0", "--topic-prefix", "no spaces"]),
      dynalog(["verify", "--url", "http://127.0.0.1:9", "--duration", "1s"]),
      dynalog(["--help"]),
    ]);
    expect(badDuration.code).toBe(2);
    expect(badDuration.stderr).toContain("expected a duration such as 500ms, 30s or 2m");
    expect(badCount.code).toBe(2);
    expect(badCount.stderr).toContain("expected an integer from 1 to 32");
    expect(unreachable.code).toBe(3);
    expect(help.stdout).toMatch(/^\s+verify \[options\]\s+audit a deployment/m);
  });
});

describe("verify's option parsing", () => {
  it("reads durations as 500ms, 3s, 2m, 1h or bare seconds, and refuses anything else", () => {
    expect(["500ms", "3s", "2m", "1h", "1.5s", "60"].map(parseDuration)).toEqual([500, 3_000, 120_000, 3_600_000, 1_500, 60_000]);
    expect(["", "soon", "3 days", "-1s", "1e3s", "2mm"].map(parseDuration)).toEqual([undefined, undefined, undefined, undefined, undefined, undefined]);
    expect([800, 1_500, 60_000, 61_500].map(formatDuration)).toEqual(["800ms", "1.5s", "1m", "1m1.5s"]);
  });

  it("accepts topic prefixes made of topic-name characters only", () => {
    expect(["", "dynalog-verify-", "team_a.audit-"].every((p) => TOPIC_PREFIX_PATTERN.test(p))).toBe(true);
    expect(["no spaces", "slash/", "ü-", "x".repeat(201)].some((p) => TOPIC_PREFIX_PATTERN.test(p))).toBe(false);
  });
});
