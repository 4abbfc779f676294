/**
 * Group membership (KIP-848): the heartbeat loop joins (memberEpoch 0), heartbeats every
 * `heartbeatInterval` reporting what it owns, and reconciles with the assignment the broker sends
 * back. Newly assigned partitions start at their committed offset (or earliest/latest per
 * `fromBeginning`); revoked ones stop being fetched, the batch in progress finishes, their
 * processed offsets are committed (at-least-once), and only then are they released by the next
 * heartbeat. Fenced or expired: everything is dropped WITHOUT committing and the member joins again.
 * A standalone consumer (no groupId) simply owns every partition of its topics.
 */
import type { ConsumerContext } from "./consumer-context.js";
import { OwnedPartition } from "./consumer-context.js";
import type { OffsetCommitter } from "./consumer-offsets.js";
import { FENCED, isFatal, printable, toTopicPartitions, tpKey } from "./consumer-types.js";
import { DynalogError, clientStateError } from "./errors.js";
import type { TopicDescription } from "./metadata.js";

interface HeartbeatAnswer {
  memberId: string;
  memberEpoch: number;
  groupEpoch: number;
  heartbeatIntervalMs: number;
  memberState: string;
  assignment: { topic: string; partitions: number[] }[];
}

export interface HeartbeatOptions {
  /** Throw refusals retrying cannot fix (else they are logged). */
  readonly throwFatal: boolean;
  /** The first join of run(): retried per the retry policy, and its failure is thrown. */
  readonly joinRetries: boolean;
}

const RECONCILE_POLL_MS = 500;

export class GroupMembership {
  private heartbeatInFlight: Promise<void> | undefined;

  constructor(
    private readonly ctx: ConsumerContext,
    private readonly offsets: OffsetCommitter,
  ) {}

  /** Matches the subscriptions (names and patterns) against the broker's topics. */
  async resolveTopics(subscriptions: readonly { pattern: string | RegExp; fromBeginning: boolean }[]): Promise<void> {
    const ctx = this.ctx;
    const names = new Set<string>();
    let listed: string[] | undefined;
    ctx.fromBeginning.clear();
    for (const { pattern, fromBeginning } of subscriptions) {
      if (typeof pattern === "string") {
        names.add(pattern);
        ctx.fromBeginning.set(pattern, fromBeginning);
        continue;
      }
      listed ??= (await ctx.transport.request<{ topics: { name: string }[] }>({ method: "GET", path: "/v1/topics", idempotent: true })).topics.map((t) => t.name);
      for (const name of listed) {
        if (pattern.test(name)) {
          names.add(name);
          ctx.fromBeginning.set(name, fromBeginning);
        }
      }
    }
    if (names.size === 0) throw clientStateError("No topic matches the subscription");
    ctx.topics = [...names].sort();
  }

  async assignStandalone(): Promise<void> {
    const ctx = this.ctx;
    for (const topic of ctx.topics) {
      const described = await ctx.transport.request<TopicDescription>({ method: "GET", path: `/v1/topics/${encodeURIComponent(topic)}`, idempotent: true });
      for (const { partition, logStartOffset, highWatermark } of described.partitions) {
        const owned = new OwnedPartition(topic, partition);
        owned.position = ctx.pendingSeeks.get(owned.key) ?? (ctx.fromBeginning.get(topic) ? logStartOffset : highWatermark);
        ctx.pendingSeeks.delete(owned.key);
        ctx.owned.set(owned.key, owned);
      }
    }
    ctx.instrumentation.emit("consumer.group_join", { groupId: null, memberId: null, memberAssignment: ctx.assignmentObject() });
  }

  async heartbeatLoop(): Promise<void> {
    const ctx = this.ctx;
    while (ctx.running) {
      const interval = ctx.memberState === "Stable" ? ctx.heartbeatIntervalMs : Math.min(ctx.heartbeatIntervalMs, RECONCILE_POLL_MS);
      await ctx.heartbeatWake.wait(ctx.memberEpoch === 0 ? 0 : interval);
      if (!ctx.running) break;
      try {
        await this.heartbeat({ throwFatal: true, joinRetries: false });
      } catch (error) {
        ctx.crash(error, false);
        break;
      }
    }
  }

  /** One heartbeat at a time; a caller arriving while one is in flight shares it. */
  heartbeat(options: HeartbeatOptions): Promise<void> {
    if (!this.heartbeatInFlight) {
      this.heartbeatInFlight = this.doHeartbeat(options).finally(() => {
        this.heartbeatInFlight = undefined;
      });
    }
    return this.heartbeatInFlight;
  }

  /** Leaves the group (memberEpoch -1, or -2 for a static member, which keeps its partitions for a session). */
  async leave(): Promise<void> {
    const ctx = this.ctx;
    try {
      await ctx.transport.request({
        method: "POST",
        path: ctx.groupPath("/heartbeat"),
        body: { memberId: ctx.memberId, memberEpoch: ctx.config.groupInstanceId ? -2 : -1 },
        idempotent: true,
        retry: { ...ctx.retry, retries: 2 },
      });
    } catch (error) {
      ctx.log.warn("Leaving the group failed; the broker will expire the member after its session timeout", { error: (error as Error).message });
    }
  }

  private async doHeartbeat({ throwFatal, joinRetries }: HeartbeatOptions): Promise<void> {
    const ctx = this.ctx;
    const config = ctx.config;
    const joining = ctx.memberEpoch === 0;
    const body: Record<string, unknown> = joining
      ? {
          memberId: ctx.memberId,
          memberEpoch: 0,
          topics: ctx.topics,
          sessionTimeoutMs: config.sessionTimeout ?? 30_000,
          rebalanceTimeoutMs: config.rebalanceTimeout ?? 60_000,
          ...(config.groupInstanceId ? { instanceId: config.groupInstanceId } : {}),
          ...(config.serverAssignor ? { serverAssignor: config.serverAssignor } : {}),
        }
      : { memberId: ctx.memberId, memberEpoch: ctx.memberEpoch, ownedPartitions: this.ownedPartitions() };
    const sentAt = Date.now();
    let answer: HeartbeatAnswer;
    try {
      answer = await ctx.transport.request<HeartbeatAnswer>({
        method: "POST",
        path: ctx.groupPath("/heartbeat"),
        body,
        // A join retried after a lost answer stays one member (same memberId); a repeated epoch is accepted once.
        idempotent: true,
        retry: joinRetries ? ctx.retry : { ...ctx.retry, retries: 1, maxRetryTime: Math.min(ctx.retry.maxRetryTime, 2_000) },
      });
    } catch (error) {
      if (!ctx.running && !joinRetries) return;
      if (error instanceof DynalogError && FENCED.has(error.code)) {
        ctx.lose(`heartbeat refused: ${error.code}`);
        ctx.heartbeatWake.notify();
        return;
      }
      if (throwFatal && isFatal(error)) throw error;
      if (joinRetries) throw error;
      ctx.log.warn("Heartbeat failed", { groupId: ctx.groupId, error: (error as Error).message });
      if (ctx.memberEpoch > 0 && Date.now() - ctx.lastHeartbeatOk > (config.sessionTimeout ?? 30_000)) {
        ctx.lose("no successful heartbeat for a session timeout");
      }
      return;
    }
    if (!ctx.running && !joinRetries) return;
    if (ctx.memberEpoch !== body["memberEpoch"] && !joining) return; // lost meanwhile
    ctx.lastHeartbeatOk = sentAt;
    ctx.memberEpoch = answer.memberEpoch;
    ctx.memberState = answer.memberState;
    const brokerInterval = answer.heartbeatIntervalMs > 0 ? answer.heartbeatIntervalMs : ctx.heartbeatIntervalMs;
    ctx.heartbeatIntervalMs = Math.min(config.heartbeatInterval ?? 3_000, brokerInterval);
    // KafkaJS's groupGenerationId is the classic protocol's generation, which fences commits; under
    // KIP-848 the member epoch does that (Kafka's Java client reports it as the generation too).
    ctx.instrumentation.emit("consumer.heartbeat", { groupId: ctx.groupId, memberId: ctx.memberId, groupGenerationId: ctx.memberEpoch, memberEpoch: ctx.memberEpoch, groupEpoch: answer.groupEpoch, memberState: ctx.memberState });
    await this.reconcile(answer.assignment, joining);
  }

  private ownedPartitions(): { topic: string; partitions: number[] }[] {
    const ctx = this.ctx;
    const pairs: [string, number][] = [...ctx.owned.values()].map((p) => [p.topic, p.partition]);
    for (const key of ctx.assigning) {
      const [topic, partition] = key.split("\u0000") as [string, string];
      if (!ctx.owned.has(key)) pairs.push([topic, Number(partition)]);
    }
    return toTopicPartitions(pairs);
  }

  private async reconcile(assignment: HeartbeatAnswer["assignment"], joined: boolean): Promise<void> {
    const ctx = this.ctx;
    const target = new Set(assignment.flatMap((tp) => tp.partitions.map((p) => tpKey(tp.topic, p))));
    const revoked = [...ctx.owned.values()].filter((p) => !target.has(p.key) && !p.revoking);
    if (revoked.length > 0) void this.revoke(revoked);
    const added = [...target].filter((k) => !ctx.owned.has(k) && !ctx.assigning.has(k));
    if (added.length > 0) await this.assign(added);
    else if (joined) ctx.instrumentation.emit("consumer.group_join", { groupId: ctx.groupId, memberId: ctx.memberId, memberEpoch: ctx.memberEpoch, memberAssignment: ctx.assignmentObject() });
  }

  private async assign(keys: string[]): Promise<void> {
    const ctx = this.ctx;
    for (const k of keys) ctx.assigning.add(k);
    const epochAtStart = ctx.memberEpoch;
    try {
      const byTopic = new Map<string, number[]>();
      for (const k of keys) {
        const [topic, partition] = k.split("\u0000") as [string, string];
        byTopic.set(topic, [...(byTopic.get(topic) ?? []), Number(partition)]);
      }
      for (const [topic, partitions] of byTopic) {
        const answer = await ctx.transport.request<{ partitions: { partition: number; offset: number; position: number }[] }>({
          method: "GET",
          path: ctx.groupPath("/offsets"),
          query: { topic, partitions: partitions.join(","), reset: ctx.fromBeginning.get(topic) ? "earliest" : "latest" },
          idempotent: true,
        });
        if (ctx.memberEpoch === 0 || !ctx.running || epochAtStart === 0) return; // lost meanwhile
        for (const { partition, offset, position } of answer.partitions) {
          const owned = new OwnedPartition(topic, partition);
          owned.committed = offset >= 0 ? offset : undefined;
          const seek = ctx.pendingSeeks.get(owned.key);
          ctx.pendingSeeks.delete(owned.key);
          owned.position = seek ?? position;
          if (seek !== undefined && ctx.run.autoCommit) owned.resolved = seek;
          ctx.owned.set(owned.key, owned);
        }
      }
      ctx.log.info("Partitions assigned", { groupId: ctx.groupId, memberId: ctx.memberId, memberEpoch: ctx.memberEpoch, assigned: keys.map(printable) });
      ctx.instrumentation.emit("consumer.group_join", { groupId: ctx.groupId, memberId: ctx.memberId, memberEpoch: ctx.memberEpoch, memberAssignment: ctx.assignmentObject() });
      ctx.fetchWake.notify();
      ctx.fetchAbort?.abort(); // a long poll without the new partitions: start over
    } catch (error) {
      ctx.log.warn("Could not read the positions of newly assigned partitions; will retry", { error: (error as Error).message });
    } finally {
      for (const k of keys) ctx.assigning.delete(k);
    }
  }

  /** Stop fetching, let the batch in progress finish, commit (at-least-once), then release. */
  private async revoke(partitions: OwnedPartition[]): Promise<void> {
    const ctx = this.ctx;
    for (const p of partitions) p.revoking = true;
    ctx.instrumentation.emit("consumer.rebalancing", { groupId: ctx.groupId, memberId: ctx.memberId, revoked: toTopicPartitions(partitions.map((p) => [p.topic, p.partition])) });
    ctx.fetchAbort?.abort();
    await ctx.processing?.catch(() => undefined);
    const still = partitions.filter((p) => ctx.owned.get(p.key) === p);
    if (ctx.run.autoCommit && still.length > 0 && ctx.memberEpoch > 0) {
      try {
        await this.offsets.commitResolved(still);
      } catch (error) {
        ctx.log.warn("Committing revoked partitions failed", { error: (error as Error).message });
      }
    }
    for (const p of still) if (ctx.owned.get(p.key) === p) ctx.owned.delete(p.key);
    ctx.log.info("Partitions released", { groupId: ctx.groupId, memberId: ctx.memberId, released: still.map((p) => printable(p.key)) });
    ctx.heartbeatWake.notify();
  }
}
