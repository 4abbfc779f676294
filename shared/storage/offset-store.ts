/**
 * DynamoDB adapter for committed consumer-group offsets. Item (offsets table):
 *   pk "g#<group>", sk "o#<topicId>#<partition>": topic (name), offset, metadata, topicId, committedAt
 *
 * Keyed by topic INCARNATION (topicId), not by name: an instance that still caches a deleted topic
 * commits under the deleted incarnation's key, which nobody reads again — it can never overwrite
 * or erase the offsets of the topic recreated under the same name. Reading by name looks the
 * topic up first (its current topicId), then reads that incarnation's keys. (The converse case —
 * a consumer of the NEW incarnation committing through an instance whose cache still holds the old
 * one, for at most the topic cache TTL — lands under the old key too: the new incarnation keeps its
 * previous offset, so those records may be processed again, never skipped.)
 *
 * The group and member items (group-store.ts) live under the same pk, so every commit is ONE
 * TransactWriteItems per ≤ 99 offsets: a ConditionCheck plus the offset Puts, all or nothing.
 *   - with a member (memberId + memberEpoch): the member is current (memberFencingCheck);
 *   - without: the group item is still at the version the core read with no live member
 *     (emptyGroupCheck) — a member that joined meanwhile makes the commit fail, not lose its
 *     own commits. A commit of more than 99 offsets without a member (up to MAX_OFFSETS_PER_COMMIT)
 *     is applied as several such transactions, in order: each is atomic and checked; a failure
 *     after the first leaves the earlier ones applied (a retry rewrites them with the same values).
 *
 * Read consistency: both reads are strongly consistent. A committed offset is where a consumer, a
 * restarted copier or a new partition owner resumes; an eventually consistent read could return
 * the offset from before the last (transactional) commit and reprocess it.
 */
import { TransactWriteCommand, type DynamoDBDocumentClient, paginateQuery } from "@aws-sdk/lib-dynamodb";
import { DynalogError } from "../errors.js";
import type { CommittedOffset, OffsetCommit, OffsetCommitFence, OffsetStore } from "../core/ports.js";
import { MAX_FENCED_OFFSETS_PER_COMMIT } from "../limits.js";
import { cancelledActions, isTransactionCanceled, storageFailure } from "./dynamo-errors.js";
import { offsetFenceCheck, offsetFenceError } from "./group-fence.js";
import type { TableNames } from "./tables.js";

const groupKey = (group: string) => `g#${group}`;
const offsetPrefix = (topicId: string) => `o#${topicId}#`;
const offsetKey = (topicId: string, partition: number) => `${offsetPrefix(topicId)}${partition}`;

/** The item of one committed offset (used by plain and transactional commits). */
export function offsetItem(group: string, commit: OffsetCommit, now: number): Record<string, unknown> {
  return {
    pk: groupKey(group),
    sk: offsetKey(commit.topicId, commit.partition),
    topic: commit.topic,
    offset: commit.offset,
    metadata: commit.metadata,
    topicId: commit.topicId,
    committedAt: now,
  };
}

function toCommitted(item: Record<string, unknown>): CommittedOffset & { topicId: string } {
  // sk "o#<topicId>#<partition>": topic ids are UUIDs, without '#'.
  const [, topicId, partition] = String(item["sk"]).split("#");
  return {
    topic: String(item["topic"]),
    partition: Number(partition),
    offset: Number(item["offset"]),
    metadata: String(item["metadata"] ?? ""),
    committedAt: Number(item["committedAt"] ?? 0),
    topicId: topicId!,
  };
}

export function createDynamoOffsetStore(client: DynamoDBDocumentClient, tables: TableNames): OffsetStore {
  async function commitChunk(group: string, offsets: readonly OffsetCommit[], now: number, fence: OffsetCommitFence): Promise<void> {
    const check = { label: "fence" as const, action: offsetFenceCheck(tables, group, fence, now) };
    const actions = [check, ...offsets.map((o) => ({ label: "offset" as const, action: { Put: { TableName: tables.offsets, Item: offsetItem(group, o, now) } } }))];
    for (let attempt = 0; ; attempt++) {
      try {
        await client.send(new TransactWriteCommand({ TransactItems: actions.map((a) => a.action) as never }));
        return;
      } catch (error) {
        if (!isTransactionCanceled(error)) throw storageFailure(error, "TransactWriteItems (offset commit)");
        const failed = cancelledActions(error, actions);
        const refused = failed.find((f) => f.label === "fence" && f.code === "ConditionalCheckFailed");
        if (refused) throw offsetFenceError(refused.oldItem, group, fence, now);
        const conflict = failed.length > 0 && failed.every((f) => f.code === "TransactionConflict");
        if (conflict && attempt < 2) continue; // e.g. the member's own heartbeat wrote its item meanwhile
        if (conflict) throw new DynalogError("CONCURRENT_TRANSACTIONS", "The offset commit kept conflicting with writes to the group; nothing was written, retry");
        throw storageFailure(error, "TransactWriteItems (offset commit)");
      }
    }
  }

  async function query(group: string, prefix: string, operation: string): Promise<(CommittedOffset & { topicId: string })[]> {
    const committed: (CommittedOffset & { topicId: string })[] = [];
    try {
      for await (const page of paginateQuery({ client }, {
            TableName: tables.offsets,
            KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues: { ":pk": groupKey(group), ":prefix": prefix },
            ConsistentRead: true,
          })) {
        for (const item of page.Items ?? []) {
          // Items of the earlier layout (sk "o#<topic>#<partition>", no `topic` attribute) are not
          // read: they were keyed by name, which is exactly what let a deleted incarnation erase them.
          if (typeof item["topic"] !== "string") continue;
          committed.push(toCommitted(item));
        }
      }
    } catch (error) {
      throw storageFailure(error, operation);
    }
    return committed;
  }

  return {
    async commit(group, offsets, now, fence) {
      for (let from = 0; from < offsets.length; from += MAX_FENCED_OFFSETS_PER_COMMIT) {
        await commitChunk(group, offsets.slice(from, from + MAX_FENCED_OFFSETS_PER_COMMIT), now, fence);
      }
    },

    async read(group, topic, topicId) {
      const committed = await query(group, offsetPrefix(topicId), "Query (committed offsets)");
      return committed.map(({ topicId: _, ...c }) => ({ ...c, topic })).sort((a, b) => a.partition - b.partition);
    },

    async readAll(group) {
      return query(group, "o#", "Query (all committed offsets)");
    },
  };
}
