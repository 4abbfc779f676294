/**
 * HTTP handlers for push subscriptions (docs/subscriptions.md). ACLs: a subscription reads a topic
 * as a group and hands the records to a target outside the broker, so creating one needs Read on
 * the topic and the group, Write on the dead-letter topic, and Alter on the cluster (like ACLs and
 * API keys: it changes where data may flow). Pausing, resuming and deleting need Alter on the
 * cluster; listing and describing need Describe on the topic (lists are filtered, never 403).
 */
import type { Context } from "hono";
import * as z from "../zod.js";
import type { Broker } from "../core/broker.js";
import type { SubscriptionRecord } from "../core/subscription-model.js";
import type { SubscriptionDescription } from "../core/subscriptions.js";
import { authorize, cluster, group, mayAccess, topic, type AuthEnv } from "./authorization.js";
import { readJson } from "./request-body.js";
import type { SubscriptionRouteId } from "./routes.js";

const integer = z.number().check(z.int());

/** Shapes only; ranges and rules are the core's (INVALID_SUBSCRIPTION with a clear message). */
const createSubscriptionBodySchema = z.strictObject({
  name: z.string().check(z.maxLength(1_000)),
  topic: z.string().check(z.maxLength(1_000)),
  group: z.optional(z.string().check(z.maxLength(1_000))),
  webhook: z.optional(z.string().check(z.maxLength(10_000))),
  function: z.optional(z.string().check(z.maxLength(10_000))),
  batchSize: z.optional(integer),
  maxBatchingWindowMs: z.optional(integer),
  startingPosition: z.optional(z.union([z.literal("earliest"), z.literal("latest"), integer])),
  maxRetries: z.optional(integer),
  deadLetterTopic: z.optional(z.nullable(z.string().check(z.maxLength(1_000)))),
  delivery: z.optional(z.enum(["at-least-once", "exactly-once"])),
  timeoutMs: z.optional(integer),
});

const rotateSecretBodySchema = z.strictObject({ gracePeriodMs: z.optional(integer) });

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** A subscription as the API shows it: everything but its secret (answered once, at create). */
export function subscriptionJson(s: SubscriptionRecord) {
  const target =
    s.target.kind === "webhook" ? { type: "webhook", url: s.target.url } : s.target.kind === "function" ? { type: "function", arn: s.target.arn } : { type: "module", path: s.target.path };
  const startingPosition = s.startingPosition.kind === "timestamp" ? s.startingPosition.timestamp : s.startingPosition.kind;
  return {
    name: s.name,
    topic: s.topic,
    topicId: s.topicId,
    group: s.group,
    target,
    batchSize: s.batchSize,
    maxBatchingWindowMs: s.maxBatchingWindowMs,
    startingPosition,
    maxRetries: s.maxRetries,
    deadLetterTopic: s.deadLetterTopic,
    delivery: s.delivery,
    timeoutMs: s.timeoutMs,
    state: s.state,
    createdAt: iso(s.createdAt),
    updatedAt: iso(s.updatedAt),
  };
}

function describeJson(d: SubscriptionDescription) {
  return {
    ...subscriptionJson(d.subscription),
    topicExists: d.topicExists,
    totalLag: d.totalLag,
    partitions: d.partitions.map((p) => ({
      partition: p.partition,
      committedOffset: p.committedOffset,
      highWatermark: p.highWatermark,
      lag: p.lag,
      delivered: p.delivered,
      failed: p.failed,
      deadLettered: p.deadLettered,
      lastError: p.lastError && { ...p.lastError, at: iso(p.lastError.at) },
      retry: p.retry && { ...p.retry, nextAttemptAt: iso(p.retry.nextAttemptAt) },
      lastDeliveredAt: iso(p.lastDeliveredAt),
      lastLatencyMs: p.lastLatencyMs,
      leased: p.leaseOwner !== null && p.leaseUntil > Date.now(),
    })),
  };
}

/** The part of the broker these routes call. */
export type SubscriptionCore = Pick<Broker, "createSubscription" | "listSubscriptions" | "getSubscription" | "describeSubscription" | "pauseSubscription" | "resumeSubscription" | "rotateSubscriptionSecret" | "deleteSubscription">;

type Handler = (c: Context<AuthEnv>, broker: SubscriptionCore) => Promise<Response>;

export const subscriptionHandlers: Record<SubscriptionRouteId, Handler> = {
  async createSubscription(c, broker) {
    const body = await readJson(c, createSubscriptionBodySchema);
    const groupId = body.group ?? `sub-${body.name}`;
    await authorize(c, cluster("Alter"), topic(body.topic, "Read"), group(groupId, "Read"), ...(body.deadLetterTopic ? [topic(body.deadLetterTopic, "Write")] : []));
    const created = await broker.createSubscription(body);
    return c.json({ ...subscriptionJson(created), secret: created.secret }, 201);
  },

  async listSubscriptions(c, broker) {
    const all = await broker.listSubscriptions();
    const verdicts = await Promise.all(all.map((s) => mayAccess(c, topic(s.topic, "Describe"))));
    return c.json({ subscriptions: all.filter((_, i) => verdicts[i]).map(subscriptionJson) });
  },

  async describeSubscription(c, broker) {
    const found = await broker.getSubscription(c.req.param("name")!);
    await authorize(c, topic(found.topic, "Describe"), group(found.group, "Describe"));
    return c.json(describeJson(await broker.describeSubscription(found.name)));
  },

  async pauseSubscription(c, broker) {
    await authorize(c, cluster("Alter"));
    return c.json(subscriptionJson(await broker.pauseSubscription(c.req.param("name")!)));
  },

  async resumeSubscription(c, broker) {
    await authorize(c, cluster("Alter"));
    return c.json(subscriptionJson(await broker.resumeSubscription(c.req.param("name")!)));
  },

  async rotateSubscriptionSecret(c, broker) {
    await authorize(c, cluster("Alter"));
    const body = c.req.header("content-type") ? await readJson(c, rotateSecretBodySchema) : {};
    const rotated = await broker.rotateSubscriptionSecret(c.req.param("name")!, body.gracePeriodMs);
    return c.json({ ...subscriptionJson(rotated), secret: rotated.secret, previousSecretExpiresAt: iso(rotated.previousSecret?.until ?? null) });
  },

  async deleteSubscription(c, broker) {
    await authorize(c, cluster("Alter"));
    const removed = await broker.deleteSubscription(c.req.param("name")!);
    return c.json({ deleted: removed.name, group: removed.group });
  },
};
