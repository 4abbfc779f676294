/** `dynalog topics history` and `dynalog groups history`, as a spawned process against a served broker with samples taken before. */
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestBroker, createTestTables, serveApp, TestClock, topicName, type Served, type TestBroker } from "../support/broker.js";
import { uniqueName } from "../support/dynamodb.js";
import { runProcess, type ProcessResult } from "../support/process.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const BIN = fileURLToPath(new URL("../../cli/dynalog.mjs", import.meta.url));
const MINUTE = 60_000;

let served: Served;
let harness: TestBroker;

beforeAll(async () => {
  // A minute-aligned clock: the sample times the tables print are known.
  harness = createTestBroker(await createTestTables("cli-hist"), { clock: new TestClock(Math.floor(Date.now() / MINUTE) * MINUTE) });
  served = await serveApp(harness.app);
});
afterAll(async () => served?.close());

function dynalog(args: string[]): Promise<ProcessResult> {
  return runProcess([process.execPath, BIN, ...args], { cwd: ROOT, env: { ...process.env, DYNALOG_URL: served.url, DYNALOG_TOKEN: "" } });
}

const records = (n: number) => Array.from({ length: n }, (_, i) => ({ key: null, value: new TextEncoder().encode(`v${i}`), headers: [] }));
/** How the CLI prints a sample time: ISO 8601 to the second. */
const shown = (ms: number) => new Date(ms).toISOString().replace(".000Z", "Z");

// Spawns the CLI about eight times (~1-2 s each through tsx): a hang guard for a loaded machine, not a speed check.
describe("dynalog history", { timeout: 120_000 }, () => {
  it("prints a topic's and a group's samples as tables and JSON; refuses bad windows; says when there are none", async () => {
    const { broker, clock } = harness;
    const topic = topicName("cli-hist");
    const group = uniqueName("cli-hist-g");
    await broker.createTopic({ name: topic, partitions: 2 });
    const t = [4, 3, 2].map((m) => clock.now() - m * MINUTE);
    // High watermarks [3, 2] → [3, 8] → [3, 8]; the group's lag 2 + 2 → 2 + 8 → 2 + 0.
    await broker.produce({ topic, partitions: [{ partition: 0, records: records(3) }, { partition: 1, records: records(2) }] });
    await broker.commitOffsets(group, [{ topic, partition: 0, offset: 1 }, { topic, partition: 1, offset: 0 }]);
    await broker.sampleHistory(t[0]);
    await broker.produce({ topic, partitions: [{ partition: 1, records: records(6) }] });
    await broker.sampleHistory(t[1]);
    await broker.commitOffsets(group, [{ topic, partition: 1, offset: 8 }]);
    await broker.sampleHistory(t[2]);

    const totals = await dynalog(["topics", "history", topic, "--minutes", "10"]);
    expect(totals).toMatchObject({ code: 0, stderr: "" });
    expect(totals.stdout.trimEnd().split("\n").map((l) => l.split(/ {2,}/))).toEqual([
      ["TIME", "HIGH-WATERMARK", "RECORDS/S"],
      [shown(t[0]!), "5", "-"],
      [shown(t[1]!), "11", "0.10"],
      [shown(t[2]!), "11", "0.00"],
    ]);
    const perPartition = await dynalog(["topics", "history", topic, "--minutes", "10", "--partitions"]);
    expect(perPartition.stdout.trimEnd().split("\n").map((l) => l.split(/ {2,}/))).toEqual([
      ["TIME", "PARTITION", "HIGH-WATERMARK", "RECORDS/S"],
      [shown(t[0]!), "0", "3", "-"],
      [shown(t[0]!), "1", "2", "-"],
      [shown(t[1]!), "0", "3", "0.00"],
      [shown(t[1]!), "1", "8", "0.10"],
      [shown(t[2]!), "0", "3", "0.00"],
      [shown(t[2]!), "1", "8", "0.00"],
    ]);
    const json = await dynalog(["topics", "history", topic, "--json"]);
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout) as { topic: string; samples: { at: string; highWatermark: number }[] };
    expect(parsed.topic).toBe(topic);
    expect(parsed.samples.map((s) => [Date.parse(s.at), s.highWatermark])).toEqual([
      [t[0], 5],
      [t[1], 11],
      [t[2], 11],
    ]);

    const lag = await dynalog(["groups", "history", group, "--minutes", "10"]);
    expect(lag).toMatchObject({ code: 0, stderr: "" });
    expect(lag.stdout.trimEnd().split("\n").map((l) => l.split(/ {2,}/))).toEqual([
      ["TIME", "TOTAL-LAG", "CHANGE", "TOPICS"],
      [shown(t[0]!), "4", "-", "1"],
      [shown(t[1]!), "10", "+6", "1"],
      [shown(t[2]!), "2", "-8", "1"],
    ]);
    const lagJson = JSON.parse((await dynalog(["groups", "history", group, "--json"])).stdout) as { samples: { totalLag: number }[]; stride: number };
    expect(lagJson).toMatchObject({ stride: 1, samples: [{ totalLag: 4 }, { totalLag: 10 }, { totalLag: 2 }] });

    // The last sample is two minutes old: a minute's window holds none.
    expect(await dynalog(["topics", "history", topic, "--minutes", "1"])).toMatchObject({ code: 0, stdout: expect.stringContaining(`No samples of topic ${topic} in the last 1 minutes`) });
  });

  it("refuses a window outside 1-1440 minutes as a usage error, and unknown names as not found", async () => {
    for (const minutes of ["0", "1441", "x"]) {
      const refused = await dynalog(["topics", "history", "any-topic", "--minutes", minutes]);
      expect(refused.code, minutes).toBe(2);
      expect(refused.stderr).toMatch(/--minutes/);
    }
    const unknownTopic = await dynalog(["topics", "history", topicName("cli-hist-none")]);
    expect(unknownTopic.code).toBe(5);
    expect(unknownTopic.stderr).toContain("UNKNOWN_TOPIC_OR_PARTITION");
    const unknownGroup = await dynalog(["groups", "history", uniqueName("cli-hist-none-g")]);
    expect(unknownGroup.code).toBe(5);
    expect(unknownGroup.stderr).toContain("GROUP_ID_NOT_FOUND");
  });
});
