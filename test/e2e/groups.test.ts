/**
 * Consumer groups over HTTP: join/heartbeat/leave, describe and list with lag, fenced commits and
 * their refusals (status, code, retriable, outcome), auto offset reset, removing a member, and bad
 * input. Session expiry uses the broker's TestClock.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestBroker, createTestTables, serveApp, TestClock, topicName, type Served, type TestBroker } from "../support/broker.js";
import { uniqueName } from "../support/dynamodb.js";
import { jsonClient, type JsonClient } from "../support/http.js";

let served: Served;
let api: JsonClient;
let harness: TestBroker;
const clock = new TestClock();

beforeAll(async () => {
  harness = createTestBroker(await createTestTables("e2e-groups"), { clock });
  served = await serveApp(harness.app);
  api = jsonClient(served.url);
});
afterAll(async () => served?.close());

async function createTopic(partitions: number): Promise<string> {
  const name = topicName("gt");
  expect((await api.post("/v1/topics", { name, partitions })).status).toBe(201);
  return name;
}

const heartbeat = (group: string, body: Record<string, unknown>) => api.post(`/v1/groups/${group}/heartbeat`, body);

describe("consumer groups over HTTP", () => {
  it("join, heartbeat, commit with the member's epoch, describe with lag, list, leave", async () => {
    const topic = await createTopic(4);
    const group = uniqueName("g");
    await api.post(`/v1/topics/${topic}/records`, { encoding: "utf8", records: Array.from({ length: 5 }, (_, i) => ({ value: `v${i}`, partition: 0 })) });

    // Without a memberId the broker makes one.
    const joined = await heartbeat(group, { memberEpoch: 0, topics: [topic], sessionTimeoutMs: 9_000 });
    expect(joined.status).toBe(200);
    expect(joined.body).toEqual({
      memberId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      memberEpoch: 1,
      groupEpoch: 1,
      heartbeatIntervalMs: 3_000,
      memberState: "Stable",
      assignment: [{ topic, partitions: [0, 1, 2, 3] }],
    });
    const a = joined.body.memberId as string;

    const b = uniqueName("member");
    const bJoined = await heartbeat(group, { memberId: b, memberEpoch: 0, topics: [topic], instanceId: null, serverAssignor: "uniform" });
    expect(bJoined.body).toMatchObject({ memberId: b, memberEpoch: 2, groupEpoch: 2, memberState: "UnreleasedPartitions", assignment: [] });

    const told = await heartbeat(group, { memberId: a, memberEpoch: 1, ownedPartitions: [{ topic, partitions: [0, 1, 2, 3] }] });
    expect(told.body).toMatchObject({ memberEpoch: 1, memberState: "UnrevokedPartitions" });
    const kept = told.body.assignment as { topic: string; partitions: number[] }[];
    expect(kept[0]!.partitions).toHaveLength(2);
    const released = await heartbeat(group, { memberId: a, memberEpoch: 1, ownedPartitions: kept });
    expect(released.body).toMatchObject({ memberEpoch: 2, memberState: "Stable", assignment: kept });
    const bNow = await heartbeat(group, { memberId: b, memberEpoch: 2, ownedPartitions: [] });
    expect(bNow.body.memberState).toBe("Stable");
    const owner0 = kept[0]!.partitions.includes(0) ? a : b;
    const other = owner0 === a ? b : a;

    const committed = await api.post(`/v1/groups/${group}/offsets`, { memberId: owner0, memberEpoch: 2, offsets: [{ topic, partition: 0, offset: 3 }] });
    expect(committed.status).toBe(200);

    const described = await api.get(`/v1/groups/${group}`);
    expect(described.status).toBe(200);
    expect(described.body).toMatchObject({ group, state: "Stable", groupEpoch: 2, assignmentEpoch: 2, assignor: "uniform", totalLag: 2 });
    expect(described.body.topics).toEqual([
      {
        topic,
        lag: 2,
        partitions: [0, 1, 2, 3].map((partition) => ({
          partition,
          committedOffset: partition === 0 ? 3 : null,
          highWatermark: partition === 0 ? 5 : 0,
          lag: partition === 0 ? 2 : null,
          memberId: expect.any(String),
        })),
      },
    ]);
    expect(described.body.topics[0].partitions[0].memberId).toBe(owner0);
    const members = described.body.members as any[];
    expect(members.map((m) => m.memberId).sort()).toEqual([a, b].sort());
    const described0 = members.find((m) => m.memberId === owner0);
    expect(described0).toMatchObject({ memberEpoch: 2, state: "Stable", subscription: [topic], instanceId: null, revoking: [], sessionTimeoutMs: expect.any(Number) });
    expect(Date.parse(described0.expiresAt)).toBeGreaterThan(Date.parse(described0.lastHeartbeatAt));

    const listed = await api.get("/v1/groups");
    expect(listed.status).toBe(200);
    expect(listed.body.groups.find((g: any) => g.group === group)).toEqual({ group, state: "Stable", groupEpoch: 2, members: 2 });

    const left = await heartbeat(group, { memberId: other, memberEpoch: -1 });
    expect(left.body).toMatchObject({ memberId: other, memberEpoch: -1, memberState: "Left", assignment: [] });
    expect((await heartbeat(group, { memberId: owner0, memberEpoch: 2, ownedPartitions: kept })).body).toMatchObject({ memberEpoch: 3, assignment: [{ topic, partitions: [0, 1, 2, 3] }] });
  });

  it("refuses stale, fenced, unknown and memberless commits with Kafka's codes", async () => {
    const topic = await createTopic(2);
    const group = uniqueName("g");
    const member = uniqueName("member");
    expect((await heartbeat(group, { memberId: member, memberEpoch: 0, topics: [topic], sessionTimeoutMs: 6_000 })).status).toBe(200);
    const commit = (body: Record<string, unknown>) => api.post(`/v1/groups/${group}/offsets`, { offsets: [{ topic, partition: 1, offset: 1 }], ...body });

    const fenced = await commit({ memberId: member, memberEpoch: 5 });
    expect(fenced.status).toBe(409);
    expect(fenced.body.error).toMatchObject({ code: "FENCED_MEMBER_EPOCH", retriable: false, outcome: "definite", memberId: member, memberEpoch: 5, currentMemberEpoch: 1 });
    const memberless = await commit({});
    expect(memberless.status).toBe(409);
    expect(memberless.body.error).toMatchObject({ code: "NON_EMPTY_GROUP", members: 1 });
    expect((await commit({ memberId: member })).status).toBe(400);
    expect((await commit({ memberId: "someone-else", memberEpoch: 1 })).body.error.code).toBe("UNKNOWN_MEMBER_ID");
    expect((await commit({ memberId: member, memberEpoch: 1 })).status).toBe(200);

    clock.advance(6_000); // the member's session timeout
    const late = await commit({ memberId: member, memberEpoch: 1 });
    expect(late.status).toBe(409);
    expect(late.body.error).toMatchObject({ code: "UNKNOWN_MEMBER_ID", retriable: false, outcome: "definite" });
    const lateHeartbeat = await heartbeat(group, { memberId: member, memberEpoch: 1 });
    expect(lateHeartbeat.status).toBe(409);
    expect(lateHeartbeat.body.error.code).toBe("UNKNOWN_MEMBER_ID");
    // Expired members do not count: a plain (admin) commit works again.
    expect((await commit({})).status).toBe(200);
  });

  it("static membership: a second instance with a live holder's instance id is told to retry", async () => {
    const topic = await createTopic(2);
    const group = uniqueName("g");
    expect((await heartbeat(group, { memberId: uniqueName("m"), memberEpoch: 0, instanceId: "host-1", topics: [topic] })).status).toBe(200);
    const twin = await heartbeat(group, { memberId: uniqueName("m"), memberEpoch: 0, instanceId: "host-1", topics: [topic] });
    expect(twin.status).toBe(409);
    expect(twin.body.error).toMatchObject({ code: "UNRELEASED_INSTANCE_ID", retriable: true, instanceId: "host-1" });
  });

  it("removes a member by URL; the group rebalances", async () => {
    const topic = await createTopic(2);
    const group = uniqueName("g");
    const [x, y] = [uniqueName("m"), uniqueName("m")];
    await heartbeat(group, { memberId: x, memberEpoch: 0, topics: [topic] });
    await heartbeat(group, { memberId: y, memberEpoch: 0, topics: [topic] });
    const removed = await api.delete(`/v1/groups/${group}/members/${x}`);
    expect(removed.status).toBe(200);
    expect(removed.body).toEqual({ group, memberId: x, removed: true, groupEpoch: 3 });
    const again = await api.delete(`/v1/groups/${group}/members/${x}`);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe("UNKNOWN_MEMBER_ID");
    expect((await heartbeat(group, { memberId: y, memberEpoch: 2, ownedPartitions: [] })).body).toMatchObject({ memberEpoch: 3, assignment: [{ topic, partitions: [0, 1] }] });
    expect((await heartbeat(group, { memberId: x, memberEpoch: 2 })).body.error.code).toBe("UNKNOWN_MEMBER_ID");
  });

  it("auto offset reset on the committed-offsets route", async () => {
    const topic = await createTopic(2);
    const group = uniqueName("g");
    await api.post(`/v1/topics/${topic}/records`, { encoding: "utf8", records: [{ value: "a", partition: 1 }, { value: "b", partition: 1 }] });
    const earliest = await api.get(`/v1/groups/${group}/offsets?topic=${topic}&reset=earliest`);
    expect(earliest.body.partitions.map((p: any) => [p.partition, p.offset, p.position, p.resetTo])).toEqual([
      [0, -1, 0, "earliest"],
      [1, -1, 0, "earliest"],
    ]);
    const latest = await api.get(`/v1/groups/${group}/offsets?topic=${topic}&reset=latest&partitions=1`);
    expect(latest.body.partitions).toEqual([{ partition: 1, offset: -1, metadata: "", committedAt: null, position: 2, resetTo: "latest" }]);
    const none = await api.get(`/v1/groups/${group}/offsets?topic=${topic}&reset=none`);
    expect(none.status).toBe(404);
    expect(none.body.error).toMatchObject({ code: "NO_OFFSET_FOR_PARTITION", partitions: [0, 1], topic });
    expect((await api.get(`/v1/groups/${group}/offsets?topic=${topic}&reset=sometimes`)).status).toBe(400);
    expect((await api.get(`/v1/groups/${group}/offsets?topic=${topic}&partitions=0,x`)).status).toBe(400);
    expect((await api.get(`/v1/groups/${group}/offsets?topic=${topic}&partitions=7`)).body.error.code).toBe("UNKNOWN_TOPIC_OR_PARTITION");
  });

  it("refuses bad heartbeats and unknown groups", async () => {
    const topic = await createTopic(1);
    const group = uniqueName("g");
    const cases: [unknown, number, string][] = [
      [{ topics: [topic] }, 400, "INVALID_REQUEST"],
      [{ memberEpoch: 0 }, 400, "INVALID_REQUEST"],
      [{ memberEpoch: 0, topics: [topic], generation: 1 }, 400, "INVALID_REQUEST"],
      [{ memberEpoch: "0", topics: [topic] }, 400, "INVALID_REQUEST"],
      [{ memberEpoch: 3 }, 400, "INVALID_REQUEST"],
      [{ memberEpoch: 0, topics: [topic], sessionTimeoutMs: 1_000 }, 400, "INVALID_SESSION_TIMEOUT"],
      [{ memberEpoch: 0, topics: [topic], rebalanceTimeoutMs: 999_999_999 }, 400, "INVALID_SESSION_TIMEOUT"],
      [{ memberEpoch: 0, topics: [topic], serverAssignor: "cooperative-sticky" }, 400, "UNSUPPORTED_ASSIGNOR"],
      [{ memberEpoch: 0, topics: ["no/slash"] }, 400, "INVALID_TOPIC_EXCEPTION"],
      [{ memberEpoch: 0, topics: [topic], memberId: "x".repeat(65) }, 400, "INVALID_REQUEST"],
      [{ memberEpoch: 0, topics: [topic], ownedPartitions: [{ topic, partitions: [-1] }] }, 400, "INVALID_REQUEST"],
      [{ memberEpoch: 4, memberId: "nobody" }, 409, "UNKNOWN_MEMBER_ID"],
    ];
    harness.writes.reset();
    for (const [body, status, code] of cases) {
      const response = await heartbeat(group, body as Record<string, unknown>);
      expect(response.status, JSON.stringify(body)).toBe(status);
      expect(response.body.error.code, JSON.stringify(body)).toBe(code);
    }
    expect(harness.writes.total).toBe(0);
    expect((await heartbeat(encodeURIComponent("bad group!"), { memberEpoch: 0, topics: [topic] })).body.error.code).toBe("INVALID_GROUP_ID");
    expect((await heartbeat(encodeURIComponent("bad#group"), { memberEpoch: 0, topics: [topic] })).body.error.code).toBe("INVALID_GROUP_ID");
    const unknown = await api.get(`/v1/groups/${uniqueName("nobody")}`);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe("GROUP_ID_NOT_FOUND");
    const wrongMethod = await api.get(`/v1/groups/${group}/heartbeat`);
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get("allow")).toBe("POST");
    // Leaving a group nobody joined is a no-op success (a retried leave must not fail).
    expect((await heartbeat(group, { memberId: "ghost", memberEpoch: -1 })).body).toMatchObject({ memberEpoch: -1, assignment: [] });
  });
});
