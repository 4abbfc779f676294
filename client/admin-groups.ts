/**
 * The admin client's consumer-group calls in KafkaJS's shapes (listGroups, describeGroups,
 * fetchOffsets, setOffsets, resetOffsets) plus Dynalog's describeGroup, fetchGroupLag and
 * removeGroupMember, over /v1/groups. Offsets are numbers. The Admin class (admin.ts) exposes
 * these as methods; deleteGroups is in admin-lifecycle.ts.
 */
import { fetchTopicOffsets } from "./admin-topics.js";
import type { Transport } from "./transport.js";

export interface GroupOverview {
  readonly groupId: string;
  readonly protocolType: "consumer";
  readonly state: string;
  readonly groupEpoch: number;
  readonly members: number;
}

export interface PartitionLag {
  readonly partition: number;
  readonly committedOffset: number | null;
  readonly highWatermark: number;
  readonly lag: number | null;
  readonly memberId: string | null;
}

export interface GroupDescription {
  readonly groupId: string;
  readonly state: string;
  readonly groupEpoch: number;
  readonly assignmentEpoch: number;
  /** The assignor in use (KafkaJS's `protocol`). */
  readonly protocol: string;
  readonly protocolType: "consumer";
  readonly members: readonly {
    readonly memberId: string;
    readonly instanceId: string | null;
    readonly memberEpoch: number;
    readonly state: string;
    readonly subscription: readonly string[];
    readonly assignment: readonly { topic: string; partitions: number[] }[];
    readonly revoking: readonly { topic: string; partitions: number[] }[];
    readonly [key: string]: unknown;
  }[];
  readonly topics: readonly { readonly topic: string; readonly lag: number; readonly partitions: readonly PartitionLag[] }[];
  readonly totalLag: number;
}

export interface GroupLag {
  readonly groupId: string;
  readonly totalLag: number;
  readonly topics: readonly { readonly topic: string; readonly lag: number; readonly partitions: readonly PartitionLag[] }[];
}

const groupPath = (groupId: string) => `/v1/groups/${encodeURIComponent(groupId)}`;

/** One request per topic; every topic the group knows when `topics` is undefined. An empty metadata string reads as null (KafkaJS). */
export async function fetchOffsets(transport: Transport, groupId: string, topics: readonly string[] | undefined): Promise<{ topic: string; partitions: { partition: number; offset: number; metadata: string | null }[] }[]> {
  const names = topics ?? (await describeGroup(transport, groupId)).topics.map((t) => t.topic);
  const result = [];
  for (const topic of names) {
    const answer = await transport.request<{ partitions: { partition: number; offset: number; metadata: string }[] }>({
      method: "GET",
      path: `${groupPath(groupId)}/offsets`,
      query: { topic },
      idempotent: true,
    });
    result.push({ topic, partitions: answer.partitions.map((p) => ({ partition: p.partition, offset: p.offset, metadata: p.metadata === "" ? null : p.metadata })) });
  }
  return result;
}

/** In requests of at most 1,000 offsets; the same offsets again change nothing (safe to retry). */
export async function setOffsets(transport: Transport, groupId: string, topic: string, partitions: readonly { partition: number; offset: number | string; metadata?: string }[]): Promise<void> {
  if (partitions.length === 0) return;
  const offsets = partitions.map((p) => ({ topic, partition: p.partition, offset: Number(p.offset), ...(p.metadata ? { metadata: p.metadata } : {}) }));
  for (let i = 0; i < offsets.length; i += 1000) {
    await transport.request({ method: "POST", path: `${groupPath(groupId)}/offsets`, body: { offsets: offsets.slice(i, i + 1000) }, idempotent: true });
  }
}

/** The topic's log starts (earliest) or high watermarks, stored as real offsets (not KafkaJS's -1/-2 markers). */
export async function resetOffsets(transport: Transport, groupId: string, topic: string, earliest: boolean): Promise<{ partition: number; offset: number }[]> {
  const offsets = (await fetchTopicOffsets(transport, topic)).map((p) => ({ partition: p.partition, offset: earliest ? p.low : p.high }));
  await setOffsets(transport, groupId, topic, offsets);
  return offsets;
}

export async function listGroups(transport: Transport): Promise<{ groups: GroupOverview[] }> {
  const answer = await transport.request<{ groups: { group: string; state: string; groupEpoch: number; members: number }[] }>({ method: "GET", path: "/v1/groups", idempotent: true });
  return { groups: answer.groups.map((g) => ({ groupId: g.group, protocolType: "consumer", state: g.state, groupEpoch: g.groupEpoch, members: g.members })) };
}

/** The broker's answer in KafkaJS's names (groupId, protocol, protocolType). */
export async function describeGroup(transport: Transport, groupId: string): Promise<GroupDescription> {
  const g = await transport.request<{ group: string; state: string; groupEpoch: number; assignmentEpoch: number; assignor: string; members: GroupDescription["members"]; topics: GroupDescription["topics"]; totalLag: number }>({
    method: "GET",
    path: groupPath(groupId),
    idempotent: true,
  });
  return { groupId: g.group, state: g.state, groupEpoch: g.groupEpoch, assignmentEpoch: g.assignmentEpoch, protocol: g.assignor, protocolType: "consumer", members: g.members, topics: g.topics, totalLag: g.totalLag };
}

/** describeGroup's lag, narrowed to `topics` (all when undefined) and totalled again. */
export async function fetchGroupLag(transport: Transport, groupId: string, topics: readonly string[] | undefined): Promise<GroupLag> {
  const described = await describeGroup(transport, groupId);
  const selected = topics ? described.topics.filter((t) => topics.includes(t.topic)) : described.topics;
  return { groupId, totalLag: selected.reduce((n, t) => n + t.lag, 0), topics: selected };
}

export async function removeGroupMember(transport: Transport, groupId: string, memberId: string): Promise<void> {
  await transport.request({ method: "DELETE", path: `${groupPath(groupId)}/members/${encodeURIComponent(memberId)}`, idempotent: true });
}
