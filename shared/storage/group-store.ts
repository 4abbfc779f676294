/**
 * DynamoDB adapter for consumer-group membership (shared/core/groups.ts and its group-*.ts modules
 * decide; this file only knows items). Everything of a group lives under ONE partition key of the
 * offsets table, next to its committed offsets (offset-store.ts), so one Query reads the whole
 * group and one transaction can check a member and write offsets:
 *
 *   pk "g#<group>", sk "#group"          the group item
 *     v    version (optimistic concurrency: every write of this item is conditional on it; every
 *          change of partition ownership checks it, so two members never take the same partition)
 *     ge   group epoch          ae   assignment epoch (the group epoch the target is for)
 *     asg  assignor ("uniform" | "range")
 *     tgt  target assignment: { memberId: { topic: "0-3,7" } }
 *     md   subscribed topics as of the last rebalance: { topic: [topicId, partitionCount] }
 *     ca, ua   created / updated (ms)
 *
 *   pk "g#<group>", sk "m#<memberId>"    one item per member (its lease)
 *     id   member id            iid  static instance id (absent for dynamic members)
 *     e    member epoch         pe   previous member epoch (accepted once after a lost response)
 *     sub  subscribed topics (list)               sa   requested server assignor (optional)
 *     a    assigned (owned) partitions { topic: "0-2" }
 *     r    partitions being revoked (still owned until the member confirms) { topic: "5" }
 *     st   session timeout ms   rt   rebalance timeout ms
 *     j    joined at            hb   last heartbeat (ms)
 *     x    expires at (ms): the member is gone from then on — the lease. Lazily enforced: any
 *          group call removes expired members; fenced commits check `x > now` themselves.
 *     rd   revocation deadline (ms, while revoking)
 *     lft  set when a static member left with epoch -2 (partitions reserved until x)
 *     v    version (optimistic concurrency)
 *
 *   pk "g#<group>", sk "o#<topicId>#<partition>"   committed offsets (offset-store.ts)
 *
 * Sort keys order "#group" < "m#…" < "o#…", so `sk BETWEEN "#group" AND "m$"` reads the group
 * item and the members without the offsets. The group item sorting FIRST matters: a consistent
 * Query reads it before the members, so a member change that committed before the group version
 * it reports is always seen (a Query is not a snapshot across items; see groups.ts on concurrency).
 *
 * The ConditionChecks that fence an offset commit by the group's state (a member's epoch and lease,
 * or a group still without members) are in group-fence.ts.
 */
import { PutCommand, TransactWriteCommand, type DynamoDBDocumentClient, paginateQuery, paginateScan } from "@aws-sdk/lib-dynamodb";
import type { GroupRecord, GroupStore, MemberRecord, StoredGroup, SubscribedTopic, TopicPartitions } from "../core/ports.js";
import { DynalogError } from "../errors.js";
import { cancelledActions, isTransactionCanceled, storageFailure } from "./dynamo-errors.js";
import type { TableNames } from "./tables.js";
import { batchDelete } from "./batch-write.js";

type Item = Record<string, unknown>;

export const GROUP_SK = "#group";
const MEMBER_PREFIX = "m#";
const OFFSET_PREFIX = "o#";
/** Sorts after every "m#…" key and before every "o#…" key. */
const MEMBERS_END = "m$";

export const groupPartitionKey = (group: string) => `g#${group}`;
export const memberSortKey = (memberId: string) => `${MEMBER_PREFIX}${memberId}`;

// ---- partition lists as compact strings ("0-3,7") ---------------------------------------------

export function encodePartitions(partitions: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < partitions.length; ) {
    let j = i;
    while (j + 1 < partitions.length && partitions[j + 1] === partitions[j]! + 1) j++;
    parts.push(j === i ? `${partitions[i]}` : `${partitions[i]}-${partitions[j]}`);
    i = j + 1;
  }
  return parts.join(",");
}

export function decodePartitions(text: string): number[] {
  if (text === "") return [];
  const partitions: number[] = [];
  for (const part of text.split(",")) {
    const [from, to] = part.split("-").map(Number) as [number, number | undefined];
    for (let p = from; p <= (to ?? from); p++) partitions.push(p);
  }
  return partitions;
}

function encodeTopicPartitions(assignment: TopicPartitions): Record<string, string> {
  const encoded: Record<string, string> = {};
  for (const [topic, partitions] of Object.entries(assignment)) if (partitions.length > 0) encoded[topic] = encodePartitions(partitions);
  return encoded;
}

function decodeTopicPartitions(value: unknown): Record<string, number[]> {
  const decoded: Record<string, number[]> = {};
  if (typeof value !== "object" || value === null) return decoded;
  for (const [topic, text] of Object.entries(value)) if (typeof text === "string" && text !== "") decoded[topic] = decodePartitions(text);
  return decoded;
}

// ---- items ------------------------------------------------------------------------------------

function groupItem(group: string, record: GroupRecord): Item {
  const target: Record<string, Record<string, string>> = {};
  for (const [memberId, assignment] of Object.entries(record.target)) target[memberId] = encodeTopicPartitions(assignment);
  const metadata: Record<string, [string, number]> = {};
  for (const [topic, m] of Object.entries(record.metadata)) metadata[topic] = [m.topicId, m.partitions];
  return {
    pk: groupPartitionKey(group),
    sk: GROUP_SK,
    v: record.version,
    ge: record.groupEpoch,
    ae: record.assignmentEpoch,
    asg: record.assignor,
    tgt: target,
    md: metadata,
    ca: record.createdAt,
    ua: record.updatedAt,
  };
}

function toGroupRecord(item: Item): GroupRecord {
  const target: Record<string, TopicPartitions> = {};
  for (const [memberId, assignment] of Object.entries((item["tgt"] as Item | undefined) ?? {})) target[memberId] = decodeTopicPartitions(assignment);
  const metadata: Record<string, SubscribedTopic> = {};
  for (const [topic, value] of Object.entries((item["md"] as Item | undefined) ?? {})) {
    if (Array.isArray(value) && typeof value[0] === "string" && typeof value[1] === "number") metadata[topic] = { topicId: value[0], partitions: value[1] };
  }
  return {
    version: Number(item["v"] ?? 0),
    groupEpoch: Number(item["ge"] ?? 0),
    assignmentEpoch: Number(item["ae"] ?? 0),
    assignor: String(item["asg"] ?? "uniform"),
    target,
    metadata,
    createdAt: Number(item["ca"] ?? 0),
    updatedAt: Number(item["ua"] ?? 0),
  };
}

function memberItem(group: string, m: MemberRecord): Item {
  return {
    pk: groupPartitionKey(group),
    sk: memberSortKey(m.memberId),
    id: m.memberId,
    iid: m.instanceId,
    e: m.memberEpoch,
    pe: m.previousMemberEpoch,
    sub: [...m.subscription],
    sa: m.serverAssignor,
    a: encodeTopicPartitions(m.assigned),
    r: encodeTopicPartitions(m.revoking),
    st: m.sessionTimeoutMs,
    rt: m.rebalanceTimeoutMs,
    j: m.joinedAt,
    hb: m.lastHeartbeatAt,
    x: m.expiresAt,
    rd: m.revocationDeadline,
    lft: m.leftAt,
    v: m.version,
  };
}

function toMemberRecord(item: Item): MemberRecord {
  const optionalNumber = (name: string) => (typeof item[name] === "number" ? (item[name] as number) : undefined);
  return {
    memberId: String(item["id"] ?? String(item["sk"]).slice(MEMBER_PREFIX.length)),
    instanceId: typeof item["iid"] === "string" ? item["iid"] : undefined,
    memberEpoch: Number(item["e"] ?? 0),
    previousMemberEpoch: Number(item["pe"] ?? 0),
    subscription: Array.isArray(item["sub"]) ? (item["sub"] as unknown[]).map(String) : [],
    serverAssignor: typeof item["sa"] === "string" ? item["sa"] : undefined,
    assigned: decodeTopicPartitions(item["a"]),
    revoking: decodeTopicPartitions(item["r"]),
    sessionTimeoutMs: Number(item["st"] ?? 0),
    rebalanceTimeoutMs: Number(item["rt"] ?? 0),
    joinedAt: Number(item["j"] ?? 0),
    lastHeartbeatAt: Number(item["hb"] ?? 0),
    expiresAt: Number(item["x"] ?? 0),
    revocationDeadline: optionalNumber("rd"),
    leftAt: optionalNumber("lft"),
    version: Number(item["v"] ?? 0),
  };
}

/** The condition of a conditional write of a group or member item: still at `expectedVersion` (null: still absent). */
export function versionCondition(expectedVersion: number | null): { ConditionExpression: string; ExpressionAttributeValues?: Item } {
  return expectedVersion === null
    ? { ConditionExpression: "attribute_not_exists(sk)" }
    : { ConditionExpression: "v = :expected", ExpressionAttributeValues: { ":expected": expectedVersion } };
}

function isConditionFailure(error: unknown): boolean {
  return error instanceof Error && error.name === "ConditionalCheckFailedException";
}

const MAX_TRANSACTION_ACTIONS = 100;

export function createDynamoGroupStore(client: DynamoDBDocumentClient, tables: TableNames): GroupStore {
  return {
    async load(group) {
      let groupRecord: GroupRecord | undefined;
      const members: MemberRecord[] = [];
      try {
        for await (const page of paginateQuery({ client }, {
              TableName: tables.offsets,
              KeyConditionExpression: "pk = :pk AND sk BETWEEN :from AND :to",
              ExpressionAttributeValues: { ":pk": groupPartitionKey(group), ":from": GROUP_SK, ":to": MEMBERS_END },
              ConsistentRead: true,
            })) {
          for (const item of page.Items ?? []) {
            const sk = String(item["sk"]);
            if (sk === GROUP_SK) groupRecord = toGroupRecord(item);
            else if (sk.startsWith(MEMBER_PREFIX)) members.push(toMemberRecord(item));
          }
        }
      } catch (error) {
        throw storageFailure(error, "Query (consumer group)");
      }
      return { group: groupRecord, members };
    },

    async write(group, write) {
      const actions: Item[] = [];
      if (write.group.kind === "put") {
        actions.push({ Put: { TableName: tables.offsets, Item: groupItem(group, write.group.record), ...versionCondition(write.group.expectedVersion) } });
      } else if (write.group.kind === "check") {
        actions.push({ ConditionCheck: { TableName: tables.offsets, Key: { pk: groupPartitionKey(group), sk: GROUP_SK }, ...versionCondition(write.group.expectedVersion) } });
      }
      for (const { record, expectedVersion } of write.putMembers) {
        actions.push({ Put: { TableName: tables.offsets, Item: memberItem(group, record), ...versionCondition(expectedVersion) } });
      }
      for (const { memberId, expectedVersion } of write.deleteMembers) {
        actions.push({ Delete: { TableName: tables.offsets, Key: { pk: groupPartitionKey(group), sk: memberSortKey(memberId) }, ...versionCondition(expectedVersion) } });
      }
      if (actions.length === 0) return "applied";
      if (actions.length > MAX_TRANSACTION_ACTIONS) {
        throw new DynalogError("UNKNOWN_SERVER_ERROR", `A group change needs ${actions.length} DynamoDB actions; at most ${MAX_TRANSACTION_ACTIONS} fit one transaction`);
      }
      try {
        if (actions.length === 1 && actions[0]!["Put"]) {
          await client.send(new PutCommand(actions[0]!["Put"] as never));
        } else {
          await client.send(new TransactWriteCommand({ TransactItems: actions as never }));
        }
        return "applied";
      } catch (error) {
        if (isConditionFailure(error)) return "conflict";
        if (isTransactionCanceled(error)) {
          const failed = cancelledActions(error, actions.map((action, index) => ({ label: index, action })));
          if (failed.length > 0 && failed.every((f) => f.code === "ConditionalCheckFailed" || f.code === "TransactionConflict")) return "conflict";
        }
        throw storageFailure(error, "TransactWriteItems (consumer group)");
      }
    },

    async remove(group, groupVersion, members) {
      const key = (sk: string) => ({ pk: groupPartitionKey(group), sk });
      const actions: Item[] = [
        // No group item: still none (a member joining creates one), so a group that came alive is not emptied.
        groupVersion === null
          ? { ConditionCheck: { TableName: tables.offsets, Key: key(GROUP_SK), ...versionCondition(null) } }
          : { Delete: { TableName: tables.offsets, Key: key(GROUP_SK), ...versionCondition(groupVersion) } },
        ...members.map((m) => ({ Delete: { TableName: tables.offsets, Key: key(memberSortKey(m.memberId)), ...versionCondition(m.expectedVersion) } })),
      ];
      if (actions.length > MAX_TRANSACTION_ACTIONS) {
        throw new DynalogError("UNKNOWN_SERVER_ERROR", `Deleting the group needs ${actions.length} DynamoDB actions; at most ${MAX_TRANSACTION_ACTIONS} fit one transaction`);
      }
      try {
        await client.send(new TransactWriteCommand({ TransactItems: actions as never }));
      } catch (error) {
        if (isConditionFailure(error)) return "conflict";
        if (isTransactionCanceled(error)) {
          const failed = cancelledActions(error, actions.map((action, index) => ({ label: index, action })));
          if (failed.length > 0 && failed.every((f) => f.code === "ConditionalCheckFailed" || f.code === "TransactionConflict")) return "conflict";
        }
        throw storageFailure(error, "TransactWriteItems (delete consumer group)");
      }
      try {
        for await (const page of paginateQuery({ client }, {
              TableName: tables.offsets,
              KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
              ExpressionAttributeValues: { ":pk": groupPartitionKey(group), ":prefix": OFFSET_PREFIX },
              ProjectionExpression: "pk, sk",
              ConsistentRead: true,
            })) {
          await batchDelete(client, tables.offsets, (page.Items ?? []) as Item[]);
        }
      } catch (error) {
        throw storageFailure(error, "delete committed offsets");
      }
      return "applied";
    },

    async list() {
      const byGroup = new Map<string, { group?: GroupRecord; members: MemberRecord[]; hasOffsets: boolean }>();
      try {
        // Eventually consistent on purpose: an admin listing decides nothing (docs/api.md, "Read consistency").
        for await (const page of paginateScan({ client }, { TableName: tables.offsets })) {
          for (const item of page.Items ?? []) {
            const pk = String(item["pk"]);
            if (!pk.startsWith("g#")) continue;
            const name = pk.slice(2);
            const entry = byGroup.get(name) ?? { members: [], hasOffsets: false };
            byGroup.set(name, entry);
            const sk = String(item["sk"]);
            if (sk === GROUP_SK) entry.group = toGroupRecord(item);
            else if (sk.startsWith(MEMBER_PREFIX)) entry.members.push(toMemberRecord(item));
            else if (sk.startsWith(OFFSET_PREFIX)) entry.hasOffsets = true;
          }
        }
      } catch (error) {
        throw storageFailure(error, "Scan (consumer groups)");
      }
      const groups: StoredGroup[] = [];
      for (const [group, entry] of byGroup) groups.push({ group, snapshot: { group: entry.group, members: entry.members }, hasOffsets: entry.hasOffsets });
      return groups.sort((a, b) => (a.group < b.group ? -1 : a.group > b.group ? 1 : 0));
    },
  };
}
