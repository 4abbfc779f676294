/**
 * DynamoDB adapter for committed consumer-group offsets. Item (offsets table):
 *   pk "g#<group>", sk "o#<topic>#<partition>": offset, metadata, topicId, committedAt
 * The group and member items (group-store.ts) live under the same pk: a commit that names a member
 * (memberId + memberEpoch) is ONE TransactWriteItems of a ConditionCheck on the member item and the
 * offset Puts — all or nothing, refused when the member is not current.
 */
import { TransactWriteCommand, type DynamoDBDocumentClient, paginateQuery } from "@aws-sdk/lib-dynamodb";
import { DynalogError } from "../errors.js";
import type { CommittedOffset, OffsetCommit, OffsetStore } from "../core/ports.js";
import { cancelledActions, isTransactionCanceled, storageFailure } from "./dynamo-errors.js";
import { memberFencingCheck, memberFencingError } from "./group-store.js";
import type { TableNames } from "./tables.js";
import { batchPut } from "./batch-write.js";


const groupKey = (group: string) => `g#${group}`;
const offsetKey = (topic: string, partition: number) => `o#${topic}#${partition}`;

/** The item of one committed offset (used by plain and transactional commits). */
export function offsetItem(group: string, commit: OffsetCommit, now: number): Record<string, unknown> {
  return {
    pk: groupKey(group),
    sk: offsetKey(commit.topic, commit.partition),
    offset: commit.offset,
    metadata: commit.metadata,
    topicId: commit.topicId,
    committedAt: now,
  };
}

export function createDynamoOffsetStore(client: DynamoDBDocumentClient, tables: TableNames): OffsetStore {
  return {
    async commit(group, offsets, now, fence) {
      if (fence) {
        const check = { label: "member" as const, action: memberFencingCheck(tables, { group, ...fence }, now) };
        const actions = [check, ...offsets.map((o) => ({ label: "offset" as const, action: { Put: { TableName: tables.offsets, Item: offsetItem(group, o, now) } } }))];
        for (let attempt = 0; ; attempt++) {
          try {
            await client.send(new TransactWriteCommand({ TransactItems: actions.map((a) => a.action) as never }));
            return;
          } catch (error) {
            if (!isTransactionCanceled(error)) throw storageFailure(error, "TransactWriteItems (fenced offset commit)");
            const failed = cancelledActions(error, actions);
            const member = failed.find((f) => f.label === "member" && f.code === "ConditionalCheckFailed");
            if (member) throw memberFencingError(member.oldItem, { group, ...fence }, now);
            const conflict = failed.length > 0 && failed.every((f) => f.code === "TransactionConflict");
            if (conflict && attempt < 2) continue; // the member's own heartbeat wrote its item meanwhile
            if (conflict) throw new DynalogError("CONCURRENT_TRANSACTIONS", "The offset commit kept conflicting with writes to the member; nothing was written, retry");
            throw storageFailure(error, "TransactWriteItems (fenced offset commit)");
          }
        }
      }
      try {
        await batchPut(client, tables.offsets, offsets.map((o) => offsetItem(group, o, now)));
      } catch (error) {
        throw storageFailure(error, "BatchWriteItem (commit offsets)");
      }
    },

    async read(group, topic, topicId) {
      const committed: CommittedOffset[] = [];
      try {
        for await (const page of paginateQuery({ client }, {
              TableName: tables.offsets,
              KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
              ExpressionAttributeValues: { ":pk": groupKey(group), ":prefix": `o#${topic}#` },
            })) {
          for (const item of page.Items ?? []) {
            // Commits made for an earlier incarnation of a deleted-and-recreated topic do not count.
            if (item["topicId"] !== topicId) continue;
            committed.push({
              topic,
              partition: Number(String(item["sk"]).slice(`o#${topic}#`.length)),
              offset: Number(item["offset"]),
              metadata: String(item["metadata"] ?? ""),
              committedAt: Number(item["committedAt"] ?? 0),
            });
          }
        }
      } catch (error) {
        throw storageFailure(error, "Query (committed offsets)");
      }
      return committed.sort((a, b) => a.partition - b.partition);
    },

    async readAll(group) {
      const committed: (CommittedOffset & { topicId: string })[] = [];
      try {
        for await (const page of paginateQuery({ client }, {
              TableName: tables.offsets,
              KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
              ExpressionAttributeValues: { ":pk": groupKey(group), ":prefix": "o#" },
            })) {
          for (const item of page.Items ?? []) {
            // sk "o#<topic>#<partition>": topic names never contain '#'.
            const [, topic, partition] = String(item["sk"]).split("#");
            committed.push({
              topic: topic!,
              partition: Number(partition),
              offset: Number(item["offset"]),
              metadata: String(item["metadata"] ?? ""),
              committedAt: Number(item["committedAt"] ?? 0),
              topicId: String(item["topicId"] ?? ""),
            });
          }
        }
      } catch (error) {
        throw storageFailure(error, "Query (all committed offsets)");
      }
      return committed;
    },
  };
}
