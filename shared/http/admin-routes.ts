/** HTTP handlers of the admin function's topic and group routes (lifecycle, ACL and key routes have their own modules). */
import { parseCompression } from "../core/batches.js";
import { parseCleanupPolicy, parseTimestampType } from "../core/topics.js";
import { authorize, authorizeAny, cluster, group, mayAccess, topic } from "./authorization.js";
import type { Broker } from "../core/broker.js";
import type { Handler } from "./compose.js";
import { readJson } from "./request-body.js";
import { filterAsync, topicJson } from "./route-helpers.js";
import { createTopicBodySchema } from "./schemas.js";

export type AdminRouteId = "createTopic" | "listTopics" | "describeTopic" | "deleteTopic" | "listGroups" | "describeGroup";

/** The part of the broker these routes call (function-routes/admin.ts builds it). */
export type AdminCore = Pick<Broker, "createTopic" | "listTopics" | "describeTopic" | "deleteTopic" | "listGroups" | "describeGroup">;

export const adminHandlers: Record<AdminRouteId, Handler<AdminCore>> = {
  async createTopic(c, broker) {
    const body = await readJson(c, createTopicBodySchema);
    await authorizeAny(c, topic(body.name, "Create"), cluster("Create"));
    const created = await broker.createTopic({
      ...body,
      compression: parseCompression(body.compression),
      timestampType: parseTimestampType(body.timestampType),
      cleanupPolicy: parseCleanupPolicy(body.cleanupPolicy),
    });
    return c.json(topicJson(created), 201);
  },

  async listTopics(c, broker) {
    const topics = await broker.listTopics();
    const visible = await filterAsync(topics, (t) => mayAccess(c, topic(t.name, "Describe")));
    return c.json({ topics: visible.map(topicJson) });
  },

  async describeTopic(c, broker) {
    await authorize(c, topic(c.req.param("topic")!, "Describe"));
    const description = await broker.describeTopic(c.req.param("topic")!);
    return c.json({ ...topicJson(description.topic), partitions: description.partitions });
  },

  async deleteTopic(c, broker) {
    await authorize(c, topic(c.req.param("topic")!, "Delete"));
    const removed = await broker.deleteTopic(c.req.param("topic")!);
    return c.json({ deleted: removed.name, topicId: removed.topicId });
  },

  async listGroups(c, broker) {
    const groups = await broker.listGroups();
    return c.json({ groups: await filterAsync(groups, (g) => mayAccess(c, group(g.group, "Describe"))) });
  },

  async describeGroup(c, broker) {
    await authorize(c, group(c.req.param("group")!, "Describe"));
    const description = await broker.describeGroup(c.req.param("group")!);
    const iso = (ms: number) => new Date(ms).toISOString();
    // Offsets, high watermarks and lag are topic data: shown only for topics the caller may describe.
    const topics = await filterAsync(description.topics, (t) => mayAccess(c, topic(t.topic, "Describe")));
    return c.json({
      ...description,
      topics,
      totalLag: topics.reduce((sum, t) => sum + t.lag, 0),
      members: description.members.map((m) => ({ ...m, joinedAt: iso(m.joinedAt), lastHeartbeatAt: iso(m.lastHeartbeatAt), expiresAt: iso(m.expiresAt) })),
    });
  },
};
