/** A consumer-group member as an SDK would drive one, for tests that run the broker core directly. */
import { expect } from "vitest";
import type { Broker } from "../../shared/core/broker.js";
import type { HeartbeatResult } from "../../shared/core/group-heartbeat.js";
import type { TopicPartitionList } from "../../shared/core/group-partitions.js";
import { DynalogError } from "../../shared/errors.js";
import { uniqueName } from "./dynamodb.js";

export const SESSION = 10_000;

/** "topic-partition" keys, sorted. */
export const flat = (assignment: readonly TopicPartitionList[]) => assignment.flatMap((tp) => tp.partitions.map((p) => `${tp.topic}-${p}`)).sort();
export const enc = (text: string) => new TextEncoder().encode(text);
export const dec = (bytes: Uint8Array | null) => new TextDecoder().decode(bytes ?? new Uint8Array());

/** The error code a call fails with, or "ok". */
export async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return "ok";
  } catch (error) {
    if (error instanceof DynalogError) return error.code;
    throw error;
  }
}

export interface MemberOptions {
  readonly instanceId?: string;
  readonly sessionTimeoutMs?: number;
  readonly rebalanceTimeoutMs?: number;
  /** Called with the partitions the broker took away, before they are released (commit them here). */
  readonly onRevoke?: (member: Member, keys: string[]) => Promise<void>;
}

/** Heartbeats carry what it owns; revoked partitions are handed to onRevoke, then released. */
export class Member {
  readonly memberId = uniqueName("m");
  epoch = 0;
  owned: TopicPartitionList[] = [];
  last?: HeartbeatResult;

  constructor(
    readonly broker: Broker,
    readonly group: string,
    readonly topics: string[],
    readonly options: MemberOptions = {},
  ) {}

  /** `release: false` plays a member that hears of a revocation but has not let go yet. */
  async heartbeat(extra: { release?: boolean } = { release: true }): Promise<HeartbeatResult> {
    const joining = this.epoch === 0;
    const result = await this.broker.heartbeat(this.group, {
      memberId: this.memberId,
      memberEpoch: this.epoch,
      instanceId: this.options.instanceId,
      topics: joining ? this.topics : undefined,
      sessionTimeoutMs: this.options.sessionTimeoutMs ?? SESSION,
      rebalanceTimeoutMs: this.options.rebalanceTimeoutMs,
      ownedPartitions: joining ? undefined : this.owned,
    });
    const revoked = flat(this.owned).filter((k) => !flat(result.assignment).includes(k));
    if (revoked.length > 0) await this.options.onRevoke?.(this, revoked);
    this.epoch = result.memberEpoch;
    if (extra.release) this.owned = [...result.assignment];
    this.last = result;
    return result;
  }

  commit(topic: string, partition: number, offset: number, epoch = this.epoch): Promise<void> {
    return this.broker.commitOffsets(this.group, [{ topic, partition, offset }], { memberId: this.memberId, memberEpoch: epoch });
  }
}

/** No partition is owned by two members. */
export function expectDisjoint(members: readonly Member[]): void {
  const seen = new Map<string, string>();
  for (const m of members) {
    for (const key of flat(m.owned)) {
      expect(seen.get(key), `${key} owned by ${seen.get(key)} and ${m.memberId}`).toBeUndefined();
      seen.set(key, m.memberId);
    }
  }
}

/** Heartbeat everyone (in order) until the group is stable; checks nobody ever shares a partition. */
export async function settle(members: readonly Member[], rounds = 8): Promise<void> {
  for (let round = 0; round < rounds; round++) {
    for (const m of members) {
      await m.heartbeat();
      expectDisjoint(members);
    }
    const epochs = new Set(members.map((m) => m.last!.memberEpoch));
    if (members.every((m) => m.last!.memberState === "Stable") && epochs.size === 1 && [...epochs][0] === members[0]!.last!.groupEpoch) return;
  }
  throw new Error(`group did not settle: ${JSON.stringify(members.map((m) => m.last))}`);
}
