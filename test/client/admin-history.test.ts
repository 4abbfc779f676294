/** The SDK's history calls (admin.topicHistory, admin.groupHistory, admin.topicsHistory) against a served broker. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isDynalogError, type Admin } from "../../client/index.js";
import { uniqueName } from "../support/dynamodb.js";
import { client, startBroker, type ClientTestEnv } from "./support.js";

let env: ClientTestEnv;
let admin: Admin;

beforeAll(async () => {
  env = await startBroker("sdk-history");
  admin = client(env.url).admin();
});
afterAll(async () => env?.close());

const codeOf = (promise: Promise<unknown>) =>
  promise.then(
    () => "ok",
    (error: unknown) => (isDynalogError(error) ? error.code : String(error)),
  );

describe("admin history", { timeout: 60_000 }, () => {
  it("answers the samples taken before, typed, and refuses bad windows and unknown names", async () => {
    const topic = uniqueName("sdk-hist");
    const groupId = uniqueName("sdk-hist-g");
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
    const { broker } = env.harness;
    const value = new TextEncoder().encode("v");
    await broker.produce({ topic, partitions: [{ partition: 0, records: [{ key: null, value, headers: [] }, { key: null, value, headers: [] }] }] });
    await broker.commitOffsets(groupId, [{ topic, partition: 0, offset: 1 }]);
    const taken = Date.now() - 2 * 60_000;
    await broker.sampleHistory(taken);

    const history = await admin.topicHistory(topic, { minutes: 5 });
    expect(history.topic).toBe(topic);
    expect(history.samples).toHaveLength(1);
    expect(Date.parse(history.samples[0]!.at)).toBe(taken);
    expect(history.samples[0]!.highWatermark).toBe(2);
    expect(history.samples[0]!.partitions?.map((p) => p.highWatermark)).toEqual([2, 0]);
    const lag = await admin.groupHistory(groupId);
    expect(lag.samples.map((s) => s.totalLag)).toEqual([1]);
    expect(lag.samples[0]!.topics[0]!.partitions).toEqual([{ partition: 0, committedOffset: 1, highWatermark: 2, lag: 1 }]);
    const all = await admin.topicsHistory({ minutes: 5 });
    expect(all.stride).toBe(1);
    expect(all.topics.find((t) => t.topic === topic)?.samples).toEqual([{ at: history.samples[0]!.at, highWatermark: 2, bytesWritten: history.samples[0]!.bytesWritten }]);

    expect(await codeOf(admin.topicHistory(topic, { minutes: 0 }))).toBe("INVALID_REQUEST");
    expect(await codeOf(admin.groupHistory(groupId, { minutes: 2000 }))).toBe("INVALID_REQUEST");
    expect(await codeOf(admin.topicsHistory({ minutes: 0 }))).toBe("INVALID_REQUEST");
    expect(await codeOf(admin.topicHistory(uniqueName("sdk-hist-none")))).toBe("UNKNOWN_TOPIC_OR_PARTITION");
    expect(await codeOf(admin.groupHistory(uniqueName("sdk-hist-none-g")))).toBe("GROUP_ID_NOT_FOUND");
  });
});
