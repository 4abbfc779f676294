/**
 * DynamoDB adapter for committed consumer-group offsets. Item (offsets table):
 *   pk "g#<group>", sk "o#<topic>#<partition>": offset, metadata, topicId, committedAt
 * The group item (membership, generation) will live under the same pk, so a commit can be made
 * conditional on the generation with one ConditionCheck in the same transaction.
 */
import { BatchWriteCommand, QueryCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { CommittedOffset, OffsetCommit, OffsetStore } from "../core/ports.js";
import { storageFailure } from "./dynamo-errors.js";
import type { TableNames } from "./tables.js";

const BATCH_WRITE_LIMIT = 25;

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
    async commit(group, offsets, now) {
      const puts = offsets.map((o) => ({ PutRequest: { Item: offsetItem(group, o, now) } }));
      try {
        for (let i = 0; i < puts.length; i += BATCH_WRITE_LIMIT) {
          let requests: unknown[] = puts.slice(i, i + BATCH_WRITE_LIMIT);
          while (requests.length > 0) {
            const result = await client.send(new BatchWriteCommand({ RequestItems: { [tables.offsets]: requests as never } }));
            requests = result.UnprocessedItems?.[tables.offsets] ?? [];
          }
        }
      } catch (error) {
        throw storageFailure(error, "BatchWriteItem (commit offsets)");
      }
    },

    async read(group, topic, topicId) {
      const committed: CommittedOffset[] = [];
      try {
        let startKey: Record<string, unknown> | undefined;
        do {
          const page = await client.send(
            new QueryCommand({
              TableName: tables.offsets,
              KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
              ExpressionAttributeValues: { ":pk": groupKey(group), ":prefix": `o#${topic}#` },
              ExclusiveStartKey: startKey,
            }),
          );
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
          startKey = page.LastEvaluatedKey;
        } while (startKey);
      } catch (error) {
        throw storageFailure(error, "Query (committed offsets)");
      }
      return committed.sort((a, b) => a.partition - b.partition);
    },
  };
}
