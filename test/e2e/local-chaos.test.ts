/**
 * `npm start -- --chaos <profile>`: the local broker serves with DynamoDB faults injected into its
 * handlers' clients, and an unknown profile is refused before anything starts.
 */
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHAOS_PROFILE_NAMES } from "../../local/faults/profiles.js";
import { startLocalBroker, type LocalBroker } from "../../local/local-broker.js";
import { testEndpoint, uniqueName } from "../support/dynamodb.js";
import { jsonClient } from "../support/http.js";
import { runProcess, type ProcessResult } from "../support/process.js";

const ROOT = path.resolve(import.meta.dirname, "../..");

// Its own test file: handler modules (and so their DynamoDB clients) are created once per process.
let broker: LocalBroker;
beforeAll(async () => {
  broker = await startLocalBroker({ dynamodbEndpoint: testEndpoint(), tablePrefix: uniqueName("chaos"), port: 0, chaos: { profile: "light", seed: 1 } });
});
afterAll(async () => broker?.stop());

function start(args: string[]): Promise<ProcessResult> {
  return runProcess([process.execPath, "--import", "tsx", "local/start.ts", ...args], { cwd: ROOT });
}

describe("chaos mode", () => {
  it("--chaos light: the broker serves a produce → fetch round trip while faults are injected", async () => {
    const api = jsonClient(broker.url);
    const topic = uniqueName("chaos-topic");
    expect((await api.post("/v1/topics", { name: topic, partitions: 1 })).status).toBe(201);
    const { body: producer } = await api.post("/v1/producers", {});
    const produced = await api.post(`/v1/topics/${topic}/records`, {
      encoding: "utf8",
      producerId: producer.producerId,
      producerEpoch: 0,
      partitions: [{ partition: 0, baseSequence: 0, records: [{ value: "a" }, { value: "b" }] }],
    });
    expect(produced.status).toBe(200);
    // Fetches read the log eventually consistently, and the profile makes 5% of such reads stale:
    // a stale answer is a prefix of the log, and a later fetch sees everything.
    const seen: string[][] = [];
    for (let attempt = 0; attempt < 10 && seen.at(-1)?.length !== 2; attempt++) {
      const fetched = await api.get(`/v1/topics/${topic}/partitions/0/records?offset=0&encoding=utf8`);
      expect(fetched.status).toBe(200);
      seen.push(fetched.body.records.map((r: { value: string }) => r.value));
    }
    for (const values of seen) expect(values).toEqual(["a", "b"].slice(0, values.length));
    expect(seen.at(-1)).toEqual(["a", "b"]);

    expect(broker.chaos).toMatchObject({ profile: "light", seed: 1 });
    const injected = new Set(broker.chaos!.faults.decisions.map((d) => d.action));
    expect(injected.has("delay")).toBe(true);
  });

  it("an unknown profile is refused with the list of profiles, before anything starts", async () => {
    const run = await start(["--chaos", "nope"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('Unknown chaos profile "nope". Choose one of:');
    for (const name of CHAOS_PROFILE_NAMES) expect(run.stderr).toContain(name);
    expect(run.stdout).toBe("");
  });

  it("--help lists the profiles", async () => {
    const run = await start(["--help"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("--chaos <profile>");
    expect(run.stdout).toContain("--history-interval-ms 60000");
    for (const name of CHAOS_PROFILE_NAMES) expect(run.stdout).toContain(name);
  });

  it("npm start refuses a history interval under a second (0 = off) before anything starts", async () => {
    const run = await start(["--history-interval-ms", "500"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("--history-interval-ms must be 0 (never) or a whole number of milliseconds from 1000, got 500");
    expect(run.stdout).toBe("");
  });
});
