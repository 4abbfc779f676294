/**
 * Committing a consumer's offsets: auto-commit (per batch, or per `autoCommitInterval` /
 * `autoCommitThreshold`) and explicit commits, always fenced by the member id and epoch.
 */
import type { ConsumerContext, OwnedPartition } from "./consumer-context.js";
import { FENCED, toTopicOffsets, tpKey } from "./consumer-types.js";
import { DynalogError } from "./errors.js";

export interface CommitOffset {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly metadata?: string;
}

export class OffsetCommitter {
  /** Messages marked processed since the last commit (for autoCommitThreshold). */
  uncommittedCount = 0;
  private lastCommitAt = Date.now();

  /** `refreshMembership`: one heartbeat, to learn the current epoch after STALE_MEMBER_EPOCH. */
  constructor(
    private readonly ctx: ConsumerContext,
    private readonly refreshMembership: () => Promise<void>,
  ) {}

  async maybeAutoCommit(inBatch: boolean): Promise<void> {
    const ctx = this.ctx;
    if (!ctx.run.autoCommit || ctx.memberEpoch === 0) return;
    const { autoCommitInterval, autoCommitThreshold } = ctx.run;
    const byInterval = typeof autoCommitInterval === "number" && Date.now() - this.lastCommitAt >= autoCommitInterval;
    const byThreshold = typeof autoCommitThreshold === "number" && this.uncommittedCount >= autoCommitThreshold;
    const perBatch = !inBatch && (autoCommitInterval === undefined || autoCommitInterval === null) && (autoCommitThreshold === undefined || autoCommitThreshold === null);
    if (byInterval || byThreshold || perBatch) await this.commitResolved([...ctx.owned.values()]);
  }

  async commitResolved(partitions: OwnedPartition[]): Promise<void> {
    const due = partitions.filter((p) => p.resolved !== undefined && p.resolved !== p.committed);
    if (due.length === 0) return;
    await this.commit(due.map((p) => ({ topic: p.topic, partition: p.partition, offset: p.resolved! })));
    this.uncommittedCount = 0;
  }

  /** Fenced commit (memberId + memberEpoch) in chunks of 99; STALE_MEMBER_EPOCH → heartbeat, retry once. */
  async commit(offsets: readonly CommitOffset[]): Promise<void> {
    const ctx = this.ctx;
    if (offsets.length === 0) return;
    const groupPath = ctx.groupPath("/offsets");
    for (let i = 0; i < offsets.length; i += 99) {
      const chunk = offsets.slice(i, i + 99);
      for (let attempt = 0; ; attempt++) {
        const member = ctx.memberEpoch > 0 ? { memberId: ctx.memberId, memberEpoch: ctx.memberEpoch } : undefined;
        // A group member commits fenced; without membership only a consumer that is not running
        // (an admin-style commit for a stopped group) may commit unfenced.
        if (!member && (ctx.running || ctx.stopping)) throw new DynalogError({ code: "UNKNOWN_MEMBER_ID", message: "The consumer is not a member of its group right now; nothing was committed", retriable: false, outcome: "definite" });
        try {
          await ctx.transport.request({ method: "POST", path: groupPath, body: { ...member, offsets: chunk }, idempotent: true });
          break;
        } catch (error) {
          if (error instanceof DynalogError && error.code === "STALE_MEMBER_EPOCH" && attempt === 0) {
            await this.refreshMembership();
            continue;
          }
          if (error instanceof DynalogError && FENCED.has(error.code)) {
            ctx.lose(`commit refused: ${error.code}`);
            ctx.heartbeatWake.notify();
          }
          throw error;
        }
      }
      for (const o of chunk) {
        const owned = ctx.owned.get(tpKey(o.topic, o.partition));
        if (owned) owned.committed = o.offset;
      }
    }
    this.lastCommitAt = Date.now();
    ctx.instrumentation.emit("consumer.commit_offsets", { groupId: ctx.groupId, memberId: ctx.memberId, groupGenerationId: ctx.memberEpoch, memberEpoch: ctx.memberEpoch, topics: toTopicOffsets(offsets.map((o) => [o.topic, o.partition, o.offset])) });
  }
}
