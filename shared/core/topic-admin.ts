/**
 * Topic lifecycle after creation, as Kafka's admin API: alter configs, add partitions, delete
 * records (move a partition's log start forward), and delete consumer groups. Every operation
 * validates everything it was asked before its first write, so a refusal writes nothing.
 *
 * When changes take effect (docs/api.md, "Topic configs"): the topic item is the source of truth,
 * cached per warm instance for `topicCacheTtlMs` (5 s), so other instances see a change within that.
 *   - retentionMs: evaluated at read time against each batch's append time, so a shorter (or longer)
 *     retention applies to old records at once. The DynamoDB TTL stamped on items already written
 *     cannot change: a longer retention keeps records readable only until that TTL deletes them.
 *   - compression, timestampType: apply to batches appended after the change; written ones keep theirs.
 *   - maxMessageBytes: checked against records produced after the change (stored ones stay).
 *   - cleanupPolicy, deleteRetentionMs, minCompactionLagMs: apply from the next compaction pass
 *     (docs/compaction.md); "compact" alone also stops retention from deleting records at once.
 */
import { DynalogError } from "../errors.js";
import { MAX_PARTITIONS } from "../limits.js";
import type { BrokerContext } from "./context.js";
import { liveMembers } from "./group-members.js";
import type { LogReader } from "./log-reader.js";
import { validateGroupId } from "./offsets.js";
import type { TopicRecord } from "./ports.js";
import { mapWithConcurrency, requirePartition, unknownTopic, validateTopicConfig, validateTopicName, type TopicCatalog, type TopicConfigs } from "./topics.js";

/** The configs alterConfigs may change; omitted = unchanged; retentionMs null = keep forever. */
export type TopicConfigChanges = TopicConfigs;

export interface DeleteRecordsInput {
  readonly partition: number;
  /** Records below this offset are deleted; -1 = the high watermark (everything), as Kafka. */
  readonly offset: number;
}

export interface DeletedRecords {
  readonly partition: number;
  /** The partition's log start offset afterwards (Kafka's low watermark). */
  readonly lowWatermark: number;
}

/** Re-reads of the topic item when a concurrent change of it wins the conditional write. */
const MAX_ATTEMPTS = 5;

export class TopicAdmin {
  constructor(
    private readonly ctx: BrokerContext,
    private readonly topics: TopicCatalog,
    private readonly reader: LogReader,
  ) {}

  async alterConfigs(name: string, changes: TopicConfigChanges): Promise<TopicRecord> {
    validateTopicName(name);
    validateTopicConfig(changes);
    return this.replaceTopic(name, (current) => ({
      ...current,
      ...(changes.retentionMs !== undefined ? { retentionMs: changes.retentionMs } : {}),
      ...(changes.compression !== undefined ? { compression: changes.compression } : {}),
      ...(changes.timestampType !== undefined ? { timestampType: changes.timestampType } : {}),
      ...(changes.cleanupPolicy !== undefined ? { cleanupPolicy: changes.cleanupPolicy } : {}),
      ...(changes.deleteRetentionMs !== undefined ? { deleteRetentionMs: changes.deleteRetentionMs } : {}),
      ...(changes.minCompactionLagMs !== undefined ? { minCompactionLagMs: changes.minCompactionLagMs } : {}),
      ...(changes.maxMessageBytes !== undefined ? { maxMessageBytes: changes.maxMessageBytes } : {}),
    }));
  }

  /** Kafka's CreatePartitions: increase only. Counter items first, then the topic item's count. */
  async createPartitions(name: string, count: number): Promise<TopicRecord> {
    validateTopicName(name);
    if (!Number.isInteger(count) || count < 1 || count > MAX_PARTITIONS) {
      throw new DynalogError("INVALID_PARTITIONS", `Partition count must be an integer from 1 to ${MAX_PARTITIONS}, got ${count}`, { details: { count, max: MAX_PARTITIONS } });
    }
    return this.replaceTopic(name, async (current) => {
      if (count <= current.partitions) {
        throw new DynalogError("INVALID_PARTITIONS", `Topic '${name}' has ${current.partitions} partitions; the count can only be increased (to more than ${current.partitions})`, {
          details: { topic: name, partitions: current.partitions, count },
        });
      }
      const added = Array.from({ length: count - current.partitions }, (_, i) => ({ topicId: current.topicId, partition: current.partitions + i }));
      // Once the topic item shows the new count, every new partition can be appended to.
      await this.ctx.storage.log.addPartitions(added);
      return { ...current, partitions: count };
    });
  }

  /** Kafka's DeleteRecords: every partition is checked (offset ≤ high watermark) before any hint moves. */
  async deleteRecords(name: string, partitions: readonly DeleteRecordsInput[]): Promise<DeletedRecords[]> {
    validateTopicName(name);
    const topic = await this.topics.require(name, { fresh: true });
    const seen = new Set<number>();
    for (const p of partitions) {
      requirePartition(topic, p.partition);
      if (seen.has(p.partition)) throw new DynalogError("INVALID_REQUEST", `Partition ${p.partition} is listed more than once`, { details: { partition: p.partition } });
      seen.add(p.partition);
      if (!Number.isInteger(p.offset) || p.offset < -1) {
        throw new DynalogError("OFFSET_OUT_OF_RANGE", `Offset ${p.offset} is not a valid offset (use -1 for the high watermark)`, { details: { topic: name, partition: p.partition, offset: p.offset } });
      }
    }
    const plans = await mapWithConcurrency(partitions, 16, async (p) => {
      const ref = requirePartition(topic, p.partition);
      const head = await this.ctx.storage.log.readHead(ref);
      if (!head.exists) throw unknownTopic(name);
      const highWatermark = await this.reader.highWatermark(topic, ref, head, false);
      const target = p.offset === -1 ? highWatermark : p.offset;
      if (target > highWatermark) {
        throw new DynalogError("OFFSET_OUT_OF_RANGE", `Offset ${target} is above the high watermark ${highWatermark} of ${name}-${p.partition}`, {
          details: { topic: name, partition: p.partition, offset: target, highWatermark },
        });
      }
      return { ref, head, highWatermark, target };
    });
    return mapWithConcurrency(plans, 16, async ({ ref, head, highWatermark, target }) => {
      // Below the current log start: nothing to delete (Kafka answers the current low watermark).
      if (target > head.logStartHint) {
        await this.ctx.storage.log.raiseHints(ref, { logStart: target, ...(highWatermark > head.highWatermarkHint ? { highWatermark } : {}) });
      }
      return { partition: ref.partition, lowWatermark: Math.max(target, head.logStartHint) };
    });
  }

  /** Kafka's DeleteGroups: refused while the group has live members (NON_EMPTY_GROUP). */
  async deleteGroup(group: string): Promise<void> {
    validateGroupId(group);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const [snapshot, committed] = await Promise.all([this.ctx.storage.groups.load(group), this.ctx.storage.offsets.readAll(group)]);
      if (!snapshot.group && snapshot.members.length === 0 && committed.length === 0) {
        throw new DynalogError("GROUP_ID_NOT_FOUND", `Group '${group}' does not exist: nobody joined it or committed offsets for it`, { details: { group } });
      }
      const live = liveMembers(snapshot, this.ctx.clock());
      if (live.length > 0) {
        throw new DynalogError("NON_EMPTY_GROUP", `Group '${group}' has ${live.length} live member(s); it can be deleted once they have left or expired`, {
          details: { group, members: live.length },
        });
      }
      // Conditional on the versions read: a member joining meanwhile makes this a conflict, re-read.
      const members = snapshot.members.map((m) => ({ memberId: m.memberId, expectedVersion: m.version }));
      if ((await this.ctx.storage.groups.remove(group, snapshot.group?.version ?? null, members)) === "applied") return;
    }
    throw new DynalogError("CONCURRENT_TRANSACTIONS", `Group '${group}' kept changing while being deleted; retry`, { details: { group } });
  }

  /** Read the topic item, compute its replacement, write it conditionally; re-read on a lost race. */
  private async replaceTopic(name: string, change: (current: TopicRecord) => TopicRecord | Promise<TopicRecord>): Promise<TopicRecord> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const current = await this.topics.require(name, { fresh: true });
      const next = await change(current);
      const replaced = await this.ctx.storage.topics.replace(next, current);
      this.topics.forget(name);
      if (replaced) return next;
    }
    throw new DynalogError("CONCURRENT_TRANSACTIONS", `Topic '${name}' kept changing while being altered; retry`, { details: { topic: name } });
  }
}
