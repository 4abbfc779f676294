/**
 * Consumer groups in the style of Kafka's KIP-848 ("the next generation of the consumer rebalance
 * protocol"), built for a serverless broker: no connections, no timers, no coordinator process.
 *
 * - A member JOINS by heartbeating with memberEpoch 0 and its subscription, HEARTBEATS with its
 *   current epoch, and LEAVES with epoch -1 (a static member may leave with -2: its partitions stay
 *   reserved for its instance id until its session timeout). Every heartbeat answers with the
 *   member's epoch and current assignment.
 * - The BROKER assigns (server-side assignors: uniform and range, in group-assignors.ts). The group
 *   epoch is bumped when members join, leave or expire, when subscriptions change, and when a
 *   subscribed topic's partitions change; the target assignment is recomputed for it.
 * - SAFE HANDOVER (reconciliation): a member moves toward its target on its own heartbeats. A
 *   partition it must give up stays its own ("revoking") until a heartbeat's `ownedPartitions`
 *   no longer lists it; a partition it should get is handed over only when no other member owns
 *   or is revoking it. A member that does not release within its rebalance timeout, or stops
 *   heartbeating for its session timeout, is removed — and only then are its partitions free.
 * - EXPIRY IS LAZY: every group call compares leases (`expiresAt`) with the broker's clock and
 *   removes expired members in the same conditional write as the rebalance it causes. Fenced
 *   commits check the lease themselves (`x > now` in the ConditionCheck), so an expired member is
 *   refused even before anyone has noticed it expired.
 * - CONCURRENCY: the group item carries a version; a change of membership or of anyone's
 *   ownership is a TransactWriteItems conditional on it (and on each touched member's version).
 *   Concurrent calls retry on a fresh read; ten members joining at once converge to one group
 *   epoch, one target assignment and one owner per partition. A plain heartbeat (nothing changes
 *   but the lease) writes only its own member item. Why taking a partition is safe: it is in the
 *   caller's target of group version v only, the read showed no other member owning it, and the
 *   write checks v is still current. Another member could only have taken it under a different
 *   version's target, whose write was serialized (on the group item) before version v existed —
 *   and the Query reads the group item before the members, so that write was visible to it.
 *   Releases only shrink ownership, so they need no check.
 * - FENCING: a member's epoch changes when its assignment moves to a new target (after it has
 *   released what it had to). Offset commits carrying memberId + memberEpoch are accepted only
 *   while that member is current (storage checks it in the commit's own transaction). Commits
 *   without a member are refused while the group has live members (NON_EMPTY_GROUP); their write
 *   is conditional on the group item's version that showed no live member (a join writes it).
 *
 * The modules, from the bottom up (each imports only those above it):
 * - group-partitions.ts: partition keys ("topic#partition") and the set helpers the others share.
 * - group-assignors.ts: the assignors (pure).
 * - group-members.ts: the membership state machine (pure): the workspace a decision edits, lazy
 *   expiry, settling (epoch bump and reassignment), reconciliation, member and group states.
 * - group-heartbeat.ts: the heartbeat protocol (pure): request/response types, validation, and
 *   `decideHeartbeat` with the conditional write it builds.
 * - group-membership.ts: the heartbeat service — read → decide → conditional write, retried on
 *   conflicts (only the functions that serve heartbeats carry it and the modules above).
 * - this file: describe, list and offset commits.
 */
import { DynalogError } from "../errors.js";
import { MAX_FENCED_OFFSETS_PER_COMMIT, MEMBER_ID_PATTERN } from "../limits.js";
import type { BrokerContext } from "./context.js";
import { groupState, liveMembers, memberState, settledView, type GroupState, type MemberState } from "./group-members.js";
import { byString, keySet, partitionKey, toPartitionList, type TopicPartitionList } from "./group-partitions.js";
import type { LogReader } from "./log-reader.js";
import { partitionLag, validateGroupId, validateOffsetCommits, type OffsetCommitInput } from "./offsets.js";
import { isMemberFence, type MemberFence, type OffsetCommitFence, type TopicRecord } from "./ports.js";
import { mapWithConcurrency, partitionRefs, requirePartition, validateTopicName, type TopicCatalog } from "./topics.js";

// ================================================================================================
// The service: read → decide → conditional write, retried on conflicts
// ================================================================================================

/** A commit without a member re-reads the group this often when the group changed under it. */
const MAX_COMMIT_ATTEMPTS = 4;

export type OffsetReset = "earliest" | "latest" | "none";

export interface CommittedPartitionOffset {
  readonly partition: number;
  /** -1 when the group has committed nothing for this partition (Kafka's convention). */
  readonly offset: number;
  readonly metadata: string;
  readonly committedAt: number | null;
  /** With a reset policy: where to start consuming (the committed offset, or the reset position). */
  readonly position?: number;
  /** Set when `position` came from the reset policy (no committed offset). */
  readonly resetTo?: "earliest" | "latest";
}

export interface MemberDescription {
  readonly memberId: string;
  readonly instanceId: string | null;
  readonly memberEpoch: number;
  readonly state: MemberState;
  readonly subscription: readonly string[];
  readonly serverAssignor: string | null;
  readonly assignment: readonly TopicPartitionList[];
  readonly revoking: readonly TopicPartitionList[];
  readonly targetAssignment: readonly TopicPartitionList[];
  readonly sessionTimeoutMs: number;
  readonly rebalanceTimeoutMs: number;
  readonly joinedAt: number;
  readonly lastHeartbeatAt: number;
  readonly expiresAt: number;
}

export interface PartitionLag {
  readonly partition: number;
  readonly committedOffset: number | null;
  readonly highWatermark: number;
  /** High watermark − committed offset (never below 0); null when nothing is committed. */
  readonly lag: number | null;
  /** The member that owns the partition now (assigned or revoking), if any. */
  readonly memberId: string | null;
}

export interface GroupDescription {
  readonly group: string;
  readonly state: GroupState;
  readonly groupEpoch: number;
  readonly assignmentEpoch: number;
  readonly assignor: string;
  readonly members: readonly MemberDescription[];
  readonly topics: readonly { readonly topic: string; readonly partitions: readonly PartitionLag[]; readonly lag: number }[];
  readonly totalLag: number;
}

export interface GroupListing {
  readonly group: string;
  readonly state: GroupState;
  readonly groupEpoch: number;
  readonly members: number;
}

export class ConsumerGroups {
  constructor(
    private readonly ctx: BrokerContext,
    private readonly topics: TopicCatalog,
    private readonly reader: LogReader,
  ) {}

  async describe(group: string): Promise<GroupDescription> {
    validateGroupId(group);
    const [snapshot, committed] = await Promise.all([this.ctx.storage.groups.load(group), this.ctx.storage.offsets.readAll(group)]);
    if (!snapshot.group && snapshot.members.length === 0 && committed.length === 0) {
      throw new DynalogError("GROUP_ID_NOT_FOUND", `Group '${group}' does not exist: nobody joined it or committed offsets for it`, { details: { group } });
    }
    const names = new Set<string>(committed.map((c) => c.topic));
    for (const m of snapshot.members) for (const t of m.subscription) names.add(t);
    const records = await this.lookupTopics(names);
    const metadata = new Map([...records].map(([name, t]) => [name, t && { topicId: t.topicId, partitions: t.partitions }]));
    const view = settledView(snapshot, this.ctx.clock(), metadata);
    const owners = new Map<string, string>();
    for (const m of view.members) for (const k of [...keySet(m.assigned), ...keySet(m.revoking)]) owners.set(k, m.memberId);

    const topics: GroupDescription["topics"][number][] = [];
    for (const name of [...names].sort(byString)) {
      const topic = records.get(name);
      if (!topic) continue;
      const stored = new Map(committed.filter((c) => c.topic === name && c.topicId === topic.topicId).map((c) => [c.partition, c.offset]));
      const partitions = await this.highWatermarks(topic);
      const rows: PartitionLag[] = partitions.map((highWatermark, partition) => {
        const committedOffset = stored.get(partition) ?? null;
        return {
          partition,
          committedOffset,
          highWatermark,
          lag: committedOffset === null ? null : partitionLag(highWatermark, committedOffset),
          memberId: owners.get(partitionKey(name, partition)) ?? null,
        };
      });
      topics.push({ topic: name, partitions: rows, lag: rows.reduce((sum, r) => sum + (r.lag ?? 0), 0) });
    }
    return {
      group,
      state: groupState(view.group, view.members),
      groupEpoch: view.group?.groupEpoch ?? 0,
      assignmentEpoch: view.group?.assignmentEpoch ?? 0,
      assignor: view.group?.assignor ?? "uniform",
      members: view.members
        .sort((a, b) => byString(a.memberId, b.memberId))
        .map((m) => ({
          memberId: m.memberId,
          instanceId: m.instanceId ?? null,
          memberEpoch: m.memberEpoch,
          state: memberState(m, view.group),
          subscription: m.subscription,
          serverAssignor: m.serverAssignor ?? null,
          assignment: toPartitionList(m.assigned),
          revoking: toPartitionList(m.revoking),
          targetAssignment: toPartitionList(view.group?.target[m.memberId]),
          sessionTimeoutMs: m.sessionTimeoutMs,
          rebalanceTimeoutMs: m.rebalanceTimeoutMs,
          joinedAt: m.joinedAt,
          lastHeartbeatAt: m.lastHeartbeatAt,
          expiresAt: m.expiresAt,
        })),
      topics,
      totalLag: topics.reduce((sum, t) => sum + t.lag, 0),
    };
  }

  async list(): Promise<GroupListing[]> {
    const now = this.ctx.clock();
    return (await this.ctx.storage.groups.list()).map(({ group, snapshot }) => {
      const members = liveMembers(snapshot, now);
      // Members that expired but were not yet removed make a rebalance pending.
      const pending = members.length < snapshot.members.length;
      const state = groupState(snapshot.group, members);
      return { group, state: pending && state === "Stable" ? "Reconciling" : state, groupEpoch: snapshot.group?.groupEpoch ?? 0, members: members.length };
    });
  }

  /**
   * Commit offsets. With a member (memberId + memberEpoch): one transaction, refused unless that
   * member is current. Without: refused while the group has live members (NON_EMPTY_GROUP).
   */
  async commitOffsets(group: string, offsets: readonly OffsetCommitInput[], member?: { readonly memberId?: string; readonly memberEpoch?: number }): Promise<void> {
    const commits = await validateOffsetCommits(this.topics, group, offsets);
    for (let attempt = 0; ; attempt++) {
      const fence = await this.offsetCommitFence(group, member);
      if (isMemberFence(fence) && commits.length > MAX_FENCED_OFFSETS_PER_COMMIT) {
        throw new DynalogError("REQUEST_TOO_LARGE", `A commit with memberId carries at most ${MAX_FENCED_OFFSETS_PER_COMMIT} partitions (one DynamoDB transaction), got ${commits.length}; split it`, {
          details: { limit: MAX_FENCED_OFFSETS_PER_COMMIT, actual: commits.length },
        });
      }
      try {
        await this.ctx.storage.offsets.commit(group, commits, this.ctx.clock(), fence);
        return;
      } catch (error) {
        // Without a member: the group changed after it was read empty. Read it again — a member
        // that joined makes this NON_EMPTY_GROUP; anything else (an expired member removed) retries.
        const groupChanged = !isMemberFence(fence) && error instanceof DynalogError && error.code === "CONCURRENT_TRANSACTIONS";
        if (!groupChanged || attempt >= MAX_COMMIT_ATTEMPTS - 1) throw error;
      }
    }
  }

  /**
   * How offsets of `group` may be committed (plain or inside a transaction, KIP-447): with a member,
   * fenced by that member's epoch; without one, only while the group has no live members
   * (NON_EMPTY_GROUP) — fenced by the version of the group item read here, so that a member joining
   * before the commit lands makes it fail. The storage checks either fence in the commit's own
   * DynamoDB transaction.
   */
  async offsetCommitFence(group: string, member?: { readonly memberId?: string; readonly memberEpoch?: number }): Promise<OffsetCommitFence> {
    if (member && (member.memberId !== undefined || member.memberEpoch !== undefined)) return validateFence(member);
    const snapshot = await this.ctx.storage.groups.load(group);
    const live = liveMembers(snapshot, this.ctx.clock());
    if (live.length > 0) {
      throw new DynalogError("NON_EMPTY_GROUP", `Group '${group}' has ${live.length} live member(s); its offsets are committed by its members, with memberId and memberEpoch`, {
        details: { group, members: live.length },
      });
    }
    return { emptyGroupVersion: snapshot.group?.version ?? null };
  }

  async committedOffsets(group: string, topicName: string, options: { readonly reset?: OffsetReset; readonly partitions?: readonly number[] } = {}): Promise<CommittedPartitionOffset[]> {
    validateGroupId(group);
    validateTopicName(topicName);
    const topic = await this.topics.require(topicName);
    const wanted = options.partitions ?? Array.from({ length: topic.partitions }, (_, p) => p);
    for (const p of wanted) requirePartition(topic, p);
    const stored = new Map((await this.ctx.storage.offsets.read(group, topic.name, topic.topicId)).map((c) => [c.partition, c]));
    const rows: CommittedPartitionOffset[] = [...new Set(wanted)]
      .sort((a, b) => a - b)
      .map((partition) => {
        const committed = stored.get(partition);
        return committed
          ? { partition, offset: committed.offset, metadata: committed.metadata, committedAt: committed.committedAt }
          : { partition, offset: -1, metadata: "", committedAt: null };
      });
    const reset = options.reset;
    if (reset === undefined) return rows;
    const missing = rows.filter((r) => r.offset === -1).map((r) => r.partition);
    if (reset === "none" && missing.length > 0) {
      throw new DynalogError("NO_OFFSET_FOR_PARTITION", `Group '${group}' has no committed offset for ${topic.name} partition(s) ${missing.join(", ")} and the reset policy is 'none'`, {
        details: { group, topic: topic.name, partitions: missing },
      });
    }
    return mapWithConcurrency(rows, 16, async (row) => {
      if (row.offset !== -1 || reset === "none") return { ...row, position: row.offset };
      const ref = requirePartition(topic, row.partition);
      const position = reset === "earliest" ? await this.reader.refreshLogStart(topic, ref) : await this.reader.highWatermark(topic, ref);
      return { ...row, position, resetTo: reset };
    });
  }

  private lookupTopics(names: Iterable<string>): Promise<Map<string, TopicRecord | undefined>> {
    return lookupTopics(this.topics, names);
  }

  private async highWatermarks(topic: TopicRecord): Promise<number[]> {
    const refs = partitionRefs(topic);
    const heads = await this.ctx.storage.log.readHeads(refs);
    return mapWithConcurrency(refs, 16, (ref, i) => this.reader.highWatermark(topic, ref, heads[i]));
  }
}

function validateFence(member: { readonly memberId?: string; readonly memberEpoch?: number }): MemberFence {
  const { memberId, memberEpoch } = member;
  if (memberId === undefined || memberEpoch === undefined) throw new DynalogError("INVALID_REQUEST", "memberId and memberEpoch go together");
  if (!MEMBER_ID_PATTERN.test(memberId)) throw new DynalogError("INVALID_REQUEST", "memberId must be 1-64 characters of a-z, A-Z, 0-9, '.', '_', '-', ':' and '@'", { details: { field: "memberId" } });
  if (!Number.isInteger(memberEpoch) || memberEpoch < 0) throw new DynalogError("INVALID_REQUEST", `memberEpoch of a commit must be a non-negative integer, got ${memberEpoch}`);
  return { memberId, memberEpoch };
}

/** The named topics' records; undefined for topics that do not exist. */
export async function lookupTopics(topics: TopicCatalog, names: Iterable<string>): Promise<Map<string, TopicRecord | undefined>> {
  const list = [...names];
  const found = await mapWithConcurrency(list, 8, async (name) => {
    try {
      return await topics.require(name);
    } catch (error) {
      if (error instanceof DynalogError && error.code === "UNKNOWN_TOPIC_OR_PARTITION") return undefined;
      throw error;
    }
  });
  return new Map(list.map((name, i) => [name, found[i]]));
}
