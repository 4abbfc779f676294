/**
 * The topics' list history (History.topicsHistory, behind GET /v1/history/topics) on DynamoDB
 * Local, in tables of its own so the listing holds only this file's topics: totals per topic in
 * listing order, a topic without samples listed with none, an earlier topic of the same name left
 * out, the `visible` filter, and the bound on the answer (every n-th sample, the latest kept).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { MAX_HISTORY_LIST_SAMPLES } from "../../shared/core/history.js";
import { createTestBroker, createTestTables, TestClock, topicName, type TestBroker } from "../support/broker.js";

const MINUTE = 60_000;
let harness: TestBroker;

const records = (n: number) => Array.from({ length: n }, (_, i) => ({ key: null, value: new TextEncoder().encode(`v${i}`), headers: [] }));

beforeAll(async () => {
  harness = createTestBroker(await createTestTables("topics-history"), { clock: new TestClock(Math.floor(Date.now() / MINUTE) * MINUTE) });
});

describe("topics' list history", { timeout: 120_000 }, () => {
  it("answers every visible topic's totals, in listing order, none for a topic sampled before it existed", async () => {
    const { broker, clock } = harness;
    const busy = await broker.createTopic({ name: topicName("lh-busy"), partitions: 2 });
    const hidden = await broker.createTopic({ name: topicName("lh-hidden"), partitions: 1 });
    await broker.produce({ topic: busy.name, partitions: [{ partition: 0, records: records(3) }, { partition: 1, records: records(2) }] });
    await broker.sampleHistory(clock.now() - 3 * MINUTE);
    await broker.produce({ topic: busy.name, partitions: [{ partition: 1, records: records(4) }] });
    await broker.sampleHistory(clock.now() - 2 * MINUTE);
    // Created after the samples: listed, with none.
    const quiet = await broker.createTopic({ name: topicName("lh-quiet"), partitions: 1 });

    const all = await broker.topicsHistory(10);
    expect(all.stride).toBe(1);
    expect(all.to - all.from).toBe(10 * MINUTE);
    expect(all.topics.map((t) => t.topic)).toEqual((await broker.listTopics()).map((t) => t.name));
    const byName = new Map(all.topics.map((t) => [t.topic, t]));
    expect(byName.get(busy.name)).toEqual({
      topic: busy.name,
      topicId: busy.topicId,
      samples: [
        { at: clock.now() - 3 * MINUTE, highWatermark: 5, bytesWritten: expect.any(Number) },
        { at: clock.now() - 2 * MINUTE, highWatermark: 9, bytesWritten: expect.any(Number) },
      ],
    });
    expect(byName.get(busy.name)!.samples[0]!.bytesWritten).toBeLessThan(byName.get(busy.name)!.samples[1]!.bytesWritten);
    expect(byName.get(hidden.name)!.samples.map((s) => s.highWatermark)).toEqual([0, 0]);
    expect(byName.get(quiet.name)!.samples).toEqual([]);

    // The caller's rights: only what `visible` keeps.
    const seen = await broker.topicsHistory(10, async (name) => name !== hidden.name);
    expect(seen.topics.map((t) => t.topic)).not.toContain(hidden.name);
    expect(seen.topics.map((t) => t.topic)).toContain(busy.name);
    // The window: a minute back holds neither sample.
    expect((await broker.topicsHistory(1)).topics.find((t) => t.topic === busy.name)!.samples).toEqual([]);

    // Deleted and created again: the earlier topic's samples are not the new one's.
    await broker.deleteTopic(hidden.name);
    const again = await broker.createTopic({ name: hidden.name, partitions: 1 });
    const after = (await broker.topicsHistory(10)).topics.find((t) => t.topic === hidden.name)!;
    expect(after).toEqual({ topic: hidden.name, topicId: again.topicId, samples: [] });
  });

  it("answers every n-th sample of each topic past its bound, the latest included", async () => {
    const { broker, clock } = harness;
    const base = clock.now() - 30 * MINUTE;
    for (let i = 0; i < 5; i++) await broker.sampleHistory(base + i * MINUTE);
    const full = await broker.topicsHistory(40);
    const counts = full.topics.map((t) => t.samples.length);
    const total = counts.reduce((a, b) => a + b, 0);
    expect(full.stride).toBe(1);
    expect(total).toBeLessThanOrEqual(MAX_HISTORY_LIST_SAMPLES);
    // A bound of a third of the samples: every third of each topic, counted back from its latest.
    const bound = Math.ceil(total / 3);
    const strided = await broker.topicsHistory(40, undefined, bound);
    expect(strided.stride).toBe(3);
    for (const [i, topic] of strided.topics.entries()) {
      const samples = full.topics[i]!.samples;
      expect(topic.samples).toEqual(samples.filter((_, j) => (samples.length - 1 - j) % 3 === 0));
      if (samples.length > 0) expect(topic.samples.at(-1)).toEqual(samples.at(-1));
    }
    expect(strided.topics.reduce((sum, t) => sum + t.samples.length, 0)).toBeLessThanOrEqual(bound + strided.topics.length);
  });

  it("refuses a bad window", async () => {
    for (const minutes of [0, 1441, 1.5]) await expect(harness.broker.topicsHistory(minutes)).rejects.toMatchObject({ code: "INVALID_REQUEST", status: 400 });
  });
});
