/**
 * Group membership (KIP-848 style, groups.ts): heartbeats — join, stay, reconcile, leave — as
 * read → decide (group-heartbeat.ts, pure) → conditional write, retried on conflicts. Apart from
 * ConsumerGroups (describe, list, offset commits) so the functions that never serve a heartbeat
 * (admin, transactions) leave the protocol and the assignors out of their bundles (issue 17).
 */
import { randomUUID } from "node:crypto";
import { DynalogError } from "../errors.js";
import type { BrokerContext } from "./context.js";
import { decideHeartbeat, LEAVE_EPOCH, validateHeartbeat, type HeartbeatInput, type HeartbeatResult } from "./group-heartbeat.js";
import { lookupTopics } from "./groups.js";
import { validateGroupId } from "./offsets.js";
import type { SubscribedTopic } from "./ports.js";
import type { TopicCatalog } from "./topics.js";

const MAX_ATTEMPTS = 30;

export class GroupMembership {
  constructor(
    private readonly ctx: BrokerContext,
    private readonly topics: TopicCatalog,
  ) {}

  async heartbeat(group: string, request: HeartbeatInput): Promise<HeartbeatResult> {
    validateGroupId(group);
    const input = validateHeartbeat(request);
    const newMemberId = randomUUID();
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const snapshot = await this.ctx.storage.groups.load(group);
      const names = new Set(input.topics ?? []);
      for (const m of snapshot.members) for (const t of m.subscription) names.add(t);
      const metadata = await this.lookup(names);
      const decision = decideHeartbeat(group, snapshot, input, { now: this.ctx.clock(), metadata, newMemberId });
      if (!decision.write) return decision.result;
      if ((await this.ctx.storage.groups.write(group, decision.write)) === "applied") return decision.result;
      await this.ctx.sleep(Math.min(100, 2 * 2 ** Math.min(attempt, 6)) * (0.5 + this.ctx.random()));
    }
    throw new DynalogError("CONCURRENT_TRANSACTIONS", `Group '${group}' kept changing under this request; nothing was written, retry`, { details: { group } });
  }

  /** Remove a member (an admin's kick, or a leave by URL): a heartbeat with epoch -1. */
  async removeMember(group: string, memberId: string): Promise<HeartbeatResult> {
    validateGroupId(group);
    const snapshot = await this.ctx.storage.groups.load(group);
    if (!snapshot.members.some((m) => m.memberId === memberId)) {
      throw new DynalogError("UNKNOWN_MEMBER_ID", `Member '${memberId.slice(0, 100)}' is not in group '${group}'`, { details: { group, memberId: memberId.slice(0, 100) } });
    }
    return this.heartbeat(group, { memberId, memberEpoch: LEAVE_EPOCH });
  }

  /** Topic metadata for group decisions; undefined for topics that do not exist. */
  private async lookup(names: Iterable<string>): Promise<Map<string, SubscribedTopic | undefined>> {
    const topics = await lookupTopics(this.topics, names);
    return new Map([...topics].map(([name, t]) => [name, t && { topicId: t.topicId, partitions: t.partitions }]));
  }
}
