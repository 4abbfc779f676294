/** `dynalog topics configs|alter|add-partitions|delete-records|compact` and `dynalog groups delete`, as a spawned process. */
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestBroker, createTestTables, serveApp, topicName, type Served, type TestBroker } from "../support/broker.js";
import { runProcess, type ProcessResult } from "../support/process.js";
import { uniqueName } from "../support/dynamodb.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const BIN = fileURLToPath(new URL("../../cli/dynalog.mjs", import.meta.url));

let served: Served;
let harness: TestBroker;

beforeAll(async () => {
  harness = createTestBroker(await createTestTables("cli-life"));
  served = await serveApp(harness.app);
});
afterAll(async () => served?.close());

function dynalog(args: string[]): Promise<ProcessResult> {
  return runProcess([process.execPath, BIN, ...args], { cwd: ROOT, env: { ...process.env, DYNALOG_URL: served.url, DYNALOG_TOKEN: "" } });
}

// Spawns the CLI about seven times: a hang guard for a loaded machine, not a speed check.
describe("dynalog topic lifecycle", { timeout: 120_000 }, () => {
  it("alters configs, adds partitions, deletes records and groups", async () => {
    const topic = topicName("cli-life");
    await harness.broker.createTopic({ name: topic, partitions: 1 });
    expect(await dynalog(["topics", "alter", topic, "--config", "retention.ms=-1", "--config", "compression.type=uncompressed"])).toMatchObject({ code: 0, stderr: "" });
    const configs = await dynalog(["topics", "configs", topic]);
    expect(configs.stdout).toContain("retention.ms=-1\ncompression.type=uncompressed\n");
    expect(await dynalog(["topics", "add-partitions", topic, "--count", "3"])).toMatchObject({ code: 0, stdout: `Topic ${topic} now has 3 partitions\n` });
    expect((await harness.broker.describeTopic(topic)).partitions).toHaveLength(3);
    const shrink = await dynalog(["topics", "add-partitions", topic, "--count", "2"]);
    expect(shrink.code).toBe(1);
    expect(shrink.stderr).toContain("INVALID_PARTITIONS");

    await harness.broker.produce({ topic, partitions: [{ partition: 0, records: [{ key: null, value: new Uint8Array([1]), headers: [] }, { key: null, value: new Uint8Array([2]), headers: [] }] }] });
    expect((await dynalog(["topics", "delete-records", topic, "--partition", "0", "--offset", "-1"])).code).toBe(0);
    expect((await harness.broker.describeTopic(topic)).partitions[0]).toMatchObject({ logStartOffset: 2, highWatermark: 2 });

    const group = uniqueName("cli-life-g");
    await harness.broker.commitOffsets(group, [{ topic, partition: 0, offset: 2 }]);
    expect(await dynalog(["groups", "delete", group])).toMatchObject({ code: 0, stdout: `Deleted group ${group}\n` });
    expect((await dynalog(["groups", "delete", group])).code).toBe(5);
  });

  it("creates a compacted topic, compacts it and describes its cleanup state", async () => {
    const topic = topicName("cli-cmp");
    expect(await dynalog(["topics", "create", topic, "--cleanup-policy", "compact"])).toMatchObject({ code: 0, stderr: "" });
    const key = new Uint8Array([7]);
    await harness.broker.produce({ topic, partitions: [{ partition: 0, records: [1, 2, 3].map((v) => ({ key, value: new Uint8Array([v]), headers: [] })) }] });
    expect(await dynalog(["topics", "compact", topic])).toMatchObject({
      code: 0,
      stdout: `Compacted ${topic}-0 up to offset 3: 2 of 3 records removed (0 tombstones), 1 batches rewritten\n`,
    });
    const described = await dynalog(["topics", "describe", topic]);
    expect(described.stdout).toContain("Cleanup compact  delete.retention.ms 86400000  min.compaction.lag.ms 0");
    expect(described.stdout).toMatch(/CLEANED-UP-TO[^\n]*\n0 +0 +3 +3 /);
    // The estimated size (compaction does not lower it: docs/api.md) is what the partition was written.
    expect(described.stdout).toMatch(/EST-SIZE\n0 +0 +3 +3 +\S+ +[1-9]\d* B\n/);
    const plain = topicName("cli-cmp-plain");
    await harness.broker.createTopic({ name: plain, partitions: 1 });
    const refused = await dynalog(["topics", "compact", plain]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("INVALID_CONFIG");
  });
});
