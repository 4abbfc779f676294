/** HTTP handlers of the commit function: committed offsets and consumer-group membership. */
import { DynalogError } from "../errors.js";
import { authorize, group, topic } from "./authorization.js";
import type { Broker } from "../core/broker.js";
import type { Handler } from "./compose.js";
import { parseWith, readJson } from "./request-body.js";
import { commitBodySchema, heartbeatBodySchema, queryInteger } from "./schemas.js";

export type CommitRouteId = "commitOffsets" | "committedOffsets" | "groupHeartbeat" | "removeGroupMember";

/** The part of the broker these routes call. */
export type CommitCore = Pick<Broker, "commitOffsets" | "committedOffsets" | "heartbeat" | "removeMember">;

export const commitHandlers: Record<CommitRouteId, Handler<CommitCore>> = {
  async commitOffsets(c, broker) {
    const body = await readJson(c, commitBodySchema);
    const groupId = c.req.param("group")!;
    await authorize(c, group(groupId, "Read"), ...body.offsets.map((o) => topic(o.topic, "Read")));
    await broker.commitOffsets(groupId, body.offsets, { memberId: body.memberId, memberEpoch: body.memberEpoch });
    return c.json({ group: groupId, offsets: body.offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset })) });
  },

  async committedOffsets(c, broker) {
    const topicName = c.req.query("topic");
    if (topicName === undefined) throw new DynalogError("INVALID_REQUEST", "query.topic is required");
    const groupId = c.req.param("group")!;
    await authorize(c, group(groupId, "Describe"), topic(topicName, "Describe"));
    const reset = c.req.query("reset");
    if (reset !== undefined && reset !== "earliest" && reset !== "latest" && reset !== "none") {
      throw new DynalogError("INVALID_REQUEST", "query.reset must be earliest, latest or none");
    }
    const rawPartitions = c.req.query("partitions");
    const partitions = rawPartitions === undefined ? undefined : rawPartitions.split(",").map((p) => parseWith(queryInteger, p, "query.partitions"));
    const result = await broker.committedOffsets(groupId, topicName, { reset, partitions });
    return c.json({
      group: groupId,
      topic: topicName,
      partitions: result.map((p) => ({ ...p, committedAt: p.committedAt === null ? null : new Date(p.committedAt).toISOString() })),
    });
  },

  async groupHeartbeat(c, broker) {
    const body = await readJson(c, heartbeatBodySchema);
    await authorize(c, group(c.req.param("group")!, "Read"), ...(body.topics ?? []).map((t) => topic(t, "Describe")));
    const result = await broker.heartbeat(c.req.param("group")!, {
      ...body,
      instanceId: body.instanceId ?? undefined,
      serverAssignor: body.serverAssignor ?? undefined,
    });
    return c.json(result);
  },

  async removeGroupMember(c, broker) {
    const groupId = c.req.param("group")!;
    const memberId = c.req.param("memberId")!;
    await authorize(c, group(groupId, "Read"));
    const result = await broker.removeMember(groupId, memberId);
    return c.json({ group: groupId, memberId, removed: true, groupEpoch: result.groupEpoch });
  },
};
