/**
 * HTTP handlers for the topic lifecycle (admin function): topic configs, adding partitions,
 * deleting records and deleting consumer groups. Kafka's ACL operations: describing configs needs
 * Describe on the topic; altering configs and adding partitions need Alter on the topic; deleting
 * records needs Delete on the topic; deleting a group needs Delete on the group; compacting a topic
 * needs Alter on the topic (docs/compaction.md).
 */
import type { Context } from "hono";
import * as z from "../zod.js";
import type { Broker } from "../core/broker.js";
import type { TopicRecord } from "../core/ports.js";
import { parseCompression } from "../core/batches.js";
import { parseCleanupPolicy, parseTimestampType } from "../core/topics.js";
import { DynalogError } from "../errors.js";
import { MAX_PARTITIONS, MAX_RECORD_BYTES } from "../limits.js";
import { authorize, group, topic, type AuthEnv } from "./authorization.js";
import { readJson } from "./request-body.js";
import { alterConfigsBodySchema, TOPIC_CONFIG_NAMES } from "./schemas.js";

export type LifecycleRouteId = "describeTopicConfigs" | "alterTopicConfigs" | "createPartitions" | "deleteRecords" | "deleteGroup" | "compactTopic";

const integer = z.number().check(z.int());

/** Optional: which partitions to compact (default all). */
const compactBodySchema = z.strictObject({
  partitions: z.optional(z.array(integer).check(z.minLength(1), z.maxLength(MAX_PARTITIONS))),
});

const createPartitionsBodySchema = z.strictObject({ count: integer });

const deleteRecordsBodySchema = z.strictObject({
  partitions: z.array(z.strictObject({ partition: integer, offset: integer })).check(z.minLength(1), z.maxLength(MAX_PARTITIONS)),
});

/** A topic's configs, every one settable (maxMessageBytes up to MAX_RECORD_BYTES, the most a batch item holds). */
export function topicConfigsJson(t: TopicRecord) {
  return {
    topic: t.name,
    topicId: t.topicId,
    partitionCount: t.partitions,
    configs: {
      retentionMs: t.retentionMs,
      compression: t.compression,
      timestampType: t.timestampType,
      cleanupPolicy: t.cleanupPolicy,
      deleteRetentionMs: t.deleteRetentionMs,
      minCompactionLagMs: t.minCompactionLagMs,
      maxMessageBytes: t.maxMessageBytes,
    },
    /** The largest maxMessageBytes may be set to. */
    limits: { maxMessageBytes: MAX_RECORD_BYTES },
  };
}

/** The part of the broker these routes call. */
export type LifecycleCore = Pick<Broker, "topicConfigs" | "alterTopicConfigs" | "createPartitions" | "deleteRecords" | "compactTopic" | "deleteGroup">;

type Handler = (c: Context<AuthEnv>, broker: LifecycleCore) => Promise<Response>;

export const lifecycleHandlers: Record<LifecycleRouteId, Handler> = {
  async describeTopicConfigs(c, broker) {
    const name = c.req.param("topic")!;
    await authorize(c, topic(name, "Describe"));
    return c.json(topicConfigsJson(await broker.topicConfigs(name)));
  },

  async alterTopicConfigs(c, broker) {
    const body = await readJson(c, alterConfigsBodySchema);
    const name = c.req.param("topic")!;
    await authorize(c, topic(name, "Alter"));
    if (TOPIC_CONFIG_NAMES.every((config) => body[config] === undefined)) {
      throw new DynalogError("INVALID_REQUEST", `Name at least one config to change: ${TOPIC_CONFIG_NAMES.join(", ")}`);
    }
    const altered = await broker.alterTopicConfigs(name, {
      retentionMs: body.retentionMs,
      compression: parseCompression(body.compression),
      timestampType: parseTimestampType(body.timestampType),
      cleanupPolicy: parseCleanupPolicy(body.cleanupPolicy),
      deleteRetentionMs: body.deleteRetentionMs,
      minCompactionLagMs: body.minCompactionLagMs,
      maxMessageBytes: body.maxMessageBytes,
    });
    return c.json(topicConfigsJson(altered));
  },

  async createPartitions(c, broker) {
    const body = await readJson(c, createPartitionsBodySchema);
    const name = c.req.param("topic")!;
    await authorize(c, topic(name, "Alter"));
    const updated = await broker.createPartitions(name, body.count);
    return c.json({ topic: updated.name, topicId: updated.topicId, partitionCount: updated.partitions });
  },

  async deleteRecords(c, broker) {
    const body = await readJson(c, deleteRecordsBodySchema);
    const name = c.req.param("topic")!;
    await authorize(c, topic(name, "Delete"));
    const partitions = await broker.deleteRecords(name, body.partitions);
    return c.json({ topic: name, partitions });
  },

  async compactTopic(c, broker) {
    // An empty body reads as {}: compact every partition.
    const body = await readJson(c, compactBodySchema);
    const name = c.req.param("topic")!;
    await authorize(c, topic(name, "Alter"));
    const result = await broker.compactTopic(name, body.partitions);
    return c.json({ topic: result.topic.name, topicId: result.topic.topicId, cleanupPolicy: result.topic.cleanupPolicy, partitions: result.partitions });
  },

  async deleteGroup(c, broker) {
    const groupId = c.req.param("group")!;
    await authorize(c, group(groupId, "Delete"));
    await broker.deleteGroup(groupId);
    return c.json({ deleted: groupId });
  },
};
