/**
 * Upstash consumer instances over the consumer-group core: each (group, instance) is one group
 * member (shared/core/groups.ts) heartbeating with every consume call, and a stored record
 * (shared/core/consumer-instances.ts) keeps what a Kafka consumer keeps in memory — subscription,
 * member epoch, assignment, positions, auto-commit settings. See docs/upstash.md for the rules.
 */
import { createHash } from "node:crypto";
import type { Context } from "hono";
import type { z } from "zod";
import type { Broker } from "../../core/broker.js";
import type { ConsumerInstanceRecord, InstancePosition } from "../../core/consumer-instances.js";
import type { HeartbeatResult } from "../../core/group-heartbeat.js";
import { DynalogError } from "../../errors.js";
import { INSTANCE_ID_PATTERN } from "../../limits.js";
import { validateGroupId } from "../../core/offsets.js";
import { authorize, group, mayAccess, topic, type AuthEnv } from "../authorization.js";
import { parseWith, readJson } from "../request-body.js";
import { fetchMessages, type UpstashHandler } from "./mapping.js";
import { autoOffsetResetSchema, booleanHeaderSchema, nonNegativeIntegerText, upstashCommitBodySchema, upstashConsumeBodySchema, upstashTopicPartitionsSchema } from "./schemas.js";

export type ConsumerRouteId = "upstashConsume" | "upstashCommit" | "upstashCommitted" | "upstashConsumers" | "upstashDeleteConsumer";

/** The part of the broker the consumer-instance routes call (the commit function). */
export type ConsumerCore = Pick<Broker, "consumerInstances" | "heartbeat" | "removeMember" | "commitOffsets" | "committedOffsets" | "fetch">;

/** An instance not called for this long is gone: its record is ignored and its member's session ends. */
export const INSTANCE_IDLE_TIMEOUT_MS = 300_000;
/** Kafka's defaults (enable.auto.commit, auto.commit.interval.ms, auto.offset.reset). */
export const DEFAULT_AUTO_COMMIT = true;
export const DEFAULT_AUTO_COMMIT_INTERVAL_MS = 5_000;
export const DEFAULT_AUTO_OFFSET_RESET = "latest";

const REJOIN_CODES = new Set(["UNKNOWN_MEMBER_ID", "FENCED_MEMBER_EPOCH", "STALE_MEMBER_EPOCH"]);

/** A member id valid for any instance name (member ids are capped at 64 characters). */
function memberIdFor(instance: string): string {
  return `upstash-${createHash("sha256").update(instance).digest("hex").slice(0, 40)}`;
}

export function instanceParams(c: Context): { groupId: string; instance: string } {
  const groupId = c.req.param("group")!;
  validateGroupId(groupId);
  const instance = c.req.param("instance")!;
  if (!INSTANCE_ID_PATTERN.test(instance)) throw new DynalogError("INVALID_REQUEST", `Invalid instance id: 1-255 characters of a-z A-Z 0-9 . _ : @ -`);
  return { groupId, instance };
}

function isLive(record: ConsumerInstanceRecord | undefined, now: number): record is ConsumerInstanceRecord {
  return record !== undefined && record.lastSeenAt + INSTANCE_IDLE_TIMEOUT_MS > now;
}

async function requireInstance(broker: Pick<Broker, "consumerInstances">, groupId: string, instance: string, now: number): Promise<ConsumerInstanceRecord> {
  const record = await broker.consumerInstances.get(groupId, instance);
  if (!isLive(record, now)) throw new DynalogError("UNKNOWN_MEMBER_ID", `No consumer instance ${instance} in group ${groupId} (never consumed, removed, or idle for over ${INSTANCE_IDLE_TIMEOUT_MS} ms)`);
  return record;
}

async function save(broker: Pick<Broker, "consumerInstances">, record: ConsumerInstanceRecord): Promise<void> {
  if (!(await broker.consumerInstances.put(record))) {
    throw new DynalogError("CONCURRENT_TRANSACTIONS", `Another call for consumer instance ${record.instance} of group ${record.group} ran at the same time; retry`);
  }
}

function headerSetting<T>(c: Context, name: string, parse: (raw: string) => T): T | undefined {
  const raw = c.req.header(name);
  return raw === undefined ? undefined : parse(raw);
}

/** Heartbeats the instance's member; a member the group no longer knows (expired, fenced) rejoins. */
async function heartbeat(broker: Pick<Broker, "heartbeat" | "removeMember">, groupId: string, previous: ConsumerInstanceRecord | undefined, memberId: string, topics: readonly string[]): Promise<HeartbeatResult> {
  const join = () => broker.heartbeat(groupId, { memberId, memberEpoch: 0, topics, sessionTimeoutMs: INSTANCE_IDLE_TIMEOUT_MS });
  if (!previous) return join();
  const sameTopics = previous.topics.length === topics.length && previous.topics.every((t, i) => t === topics[i]);
  try {
    return await broker.heartbeat(groupId, { memberId, memberEpoch: previous.memberEpoch, ownedPartitions: previous.assignment, ...(sameTopics ? {} : { topics }) });
  } catch (error) {
    if (!(error instanceof DynalogError) || !REJOIN_CODES.has(error.code)) throw error;
    await broker.removeMember(groupId, memberId).catch(() => undefined);
    return join();
  }
}

/** Commits positions under the member's fence; the caller decides what a refusal means. */
async function commitPositions(broker: Pick<Broker, "commitOffsets">, record: ConsumerInstanceRecord, positions: readonly InstancePosition[]): Promise<void> {
  if (positions.length === 0) return;
  await broker.commitOffsets(record.group, positions, { memberId: record.memberId, memberEpoch: record.memberEpoch });
}

/** What a consume call asks for: the topics (one or several) and the long-poll wait (ms). */
export type ConsumeRequest = z.infer<typeof upstashConsumeBodySchema>;

/**
 * One consume call of instance (group, instance): heartbeat, auto-commit, fetch from the positions.
 * Shared by `POST /consume/{group}/{instance}` and the curl form `GET /consume/{group}/{instance}/{topic}`.
 */
export async function consume(c: Context<AuthEnv>, broker: ConsumerCore, body: ConsumeRequest): Promise<Response> {
  const { groupId, instance } = instanceParams(c);
  const autoCommit = headerSetting(c, "kafka-enable-auto-commit", (v) => parseWith(booleanHeaderSchema, v, "header Kafka-Enable-Auto-Commit") === "true");
  const interval = headerSetting(c, "kafka-auto-commit-interval", (v) => Number(parseWith(nonNegativeIntegerText, v, "header Kafka-Auto-Commit-Interval")));
  const reset = headerSetting(c, "kafka-auto-offset-reset", (v) => parseWith(autoOffsetResetSchema, v, "header Kafka-Auto-Offset-Reset"));
  const topics = [...new Set(body.topics ?? [body.topic!])].sort();
  await authorize(c, group(groupId, "Read"), ...topics.map((t) => topic(t, "Read")));
  const now = Date.now();
  const stored = await broker.consumerInstances.get(groupId, instance);
  const previous = isLive(stored, now) ? stored : undefined;
  const memberId = memberIdFor(instance);
  const settings = {
    autoCommit: autoCommit ?? previous?.autoCommit ?? DEFAULT_AUTO_COMMIT,
    autoCommitIntervalMs: interval ?? previous?.autoCommitIntervalMs ?? DEFAULT_AUTO_COMMIT_INTERVAL_MS,
    autoOffsetReset: reset ?? previous?.autoOffsetReset ?? DEFAULT_AUTO_OFFSET_RESET,
  };
  // Auto-commit, emulated: at the first call after the interval, what earlier calls returned.
  // Before the heartbeat, so partitions about to be revoked are committed while still owned.
  let lastCommitAt = previous?.lastCommitAt ?? now;
  if (previous && settings.autoCommit && now - previous.lastCommitAt >= settings.autoCommitIntervalMs) {
    await commitPositions(broker, previous, previous.positions).catch((error: unknown) => {
      // A fenced member lost its partitions: another member consumes them again (at least once).
      if (!(error instanceof DynalogError) || !REJOIN_CODES.has(error.code)) throw error;
    });
    lastCommitAt = now;
  }
  const membership = await heartbeat(broker, groupId, previous, memberId, topics);
  const owned = membership.assignment.flatMap((a) => a.partitions.map((partition) => ({ topic: a.topic, partition })));
  const known = new Map((previous?.positions ?? []).map((p) => [`${p.topic}\u0000${p.partition}`, p.offset]));
  const positions: InstancePosition[] = [];
  for (const assigned of membership.assignment) {
    const missing = assigned.partitions.filter((p) => !known.has(`${assigned.topic}\u0000${p}`));
    if (missing.length > 0) {
      const committed = await broker.committedOffsets(groupId, assigned.topic, { reset: settings.autoOffsetReset, partitions: missing });
      for (const p of committed) known.set(`${assigned.topic}\u0000${p.partition}`, p.position ?? p.offset);
    }
  }
  for (const p of owned) positions.push({ ...p, offset: known.get(`${p.topic}\u0000${p.partition}`)! });
  const { messages, next } = await fetchMessages(broker, positions, body.timeout);
  await save(broker, {
    group: groupId,
    instance,
    memberId,
    memberEpoch: membership.memberEpoch,
    topics,
    assignment: membership.assignment.map((a) => ({ topic: a.topic, partitions: [...a.partitions] })),
    positions: next,
    ...settings,
    lastCommitAt,
    lastSeenAt: now,
    version: stored?.version ?? 0,
  });
  return c.json(messages);
}

/** The commit function's consumer-instance routes. */
export function consumerHandlers(): Record<Exclude<ConsumerRouteId, "upstashConsumers">, UpstashHandler<ConsumerCore>> {
  return {
    async upstashConsume(c, broker) {
      instanceParams(c);
      return consume(c, broker, await readJson(c, upstashConsumeBodySchema));
    },

    /** One offset, an array, or no body: everything this instance consumed so far. */
    async upstashCommit(c, broker) {
      const { groupId, instance } = instanceParams(c);
      const body = await readJson(c, upstashCommitBodySchema);
      await authorize(c, group(groupId, "Read"));
      const now = Date.now();
      const record = await requireInstance(broker, groupId, instance, now);
      const offsets: readonly InstancePosition[] = Array.isArray(body) ? (body as InstancePosition[]) : "topic" in body ? [body as InstancePosition] : record.positions;
      await authorize(c, group(groupId, "Read"), ...offsets.map((o) => topic(o.topic, "Read")));
      await commitPositions(broker, record, offsets);
      await save(broker, { ...record, lastCommitAt: now, lastSeenAt: now });
      return c.json(offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset })));
    },

    /** Committed offsets (-1: none) of the given partitions, or of every partition the instance is assigned. */
    async upstashCommitted(c, broker) {
      const { groupId, instance } = instanceParams(c);
      const body = await readJson(c, upstashTopicPartitionsSchema);
      await authorize(c, group(groupId, "Describe"));
      const wanted = Array.isArray(body)
        ? body
        : (await requireInstance(broker, groupId, instance, Date.now())).assignment.flatMap((a) => a.partitions.map((partition) => ({ topic: a.topic, partition })));
      await authorize(c, group(groupId, "Describe"), ...wanted.map((p) => topic(p.topic, "Describe")));
      const byTopic = new Map<string, number[]>();
      for (const p of wanted) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p.partition]);
      const found = new Map<string, number>();
      for (const [name, partitions] of byTopic) {
        for (const p of await broker.committedOffsets(groupId, name, { partitions })) found.set(`${name}\u0000${p.partition}`, p.offset);
      }
      return c.json(wanted.map((p) => ({ topic: p.topic, partition: p.partition, offset: found.get(`${p.topic}\u0000${p.partition}`) ?? -1 })));
    },

    /** Leaves the group (its partitions go to the others) and forgets the instance. */
    async upstashDeleteConsumer(c, broker) {
      const { groupId, instance } = instanceParams(c);
      await authorize(c, group(groupId, "Read"));
      const record = await requireInstance(broker, groupId, instance, Date.now());
      await broker.removeMember(groupId, record.memberId).catch((error: unknown) => {
        if (!(error instanceof DynalogError) || !REJOIN_CODES.has(error.code)) throw error;
      });
      await broker.consumerInstances.delete(groupId, instance);
      return c.json({ group: groupId, instance, removed: true });
    },
  };
}

/** The admin function's listing of live instances (it reads the stored records only). */
export function consumerListingHandlers(): Record<"upstashConsumers", UpstashHandler<Pick<Broker, "consumerInstances">>> {
  return {
    /** Live instances by group, each with the partitions the group assigned it. */
    async upstashConsumers(c, broker) {
      const now = Date.now();
      const live = (await broker.consumerInstances.list()).filter((r) => isLive(r, now));
      const groups = new Map<string, ConsumerInstanceRecord[]>();
      for (const r of live) groups.set(r.group, [...(groups.get(r.group) ?? []), r]);
      const answer = [];
      for (const [name, instances] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
        if (!(await mayAccess(c, group(name, "Describe")))) continue;
        answer.push({
          name,
          instances: instances
            .sort((a, b) => a.instance.localeCompare(b.instance))
            .map((r) => ({ name: r.instance, topics: r.assignment.map((a) => ({ topic: a.topic, partitions: [...a.partitions] })) })),
        });
      }
      return c.json(answer);
    },
  };
}
