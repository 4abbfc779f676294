/**
 * DynamoDB adapter for notification connections and their subscriptions (shared/core/notifications.ts).
 * They live in the security table — a connection is an authenticated session, the table has TTL,
 * and the functions that read them check ACLs there anyway — under their own key prefix "ws", so
 * IAM can give the notifier these items only (dynamodb:LeadingKeys "ws*", infra/notifications.ts).
 * Items (security table, x = TTL epoch seconds):
 *   pk "wsc#<connectionId>", sk "#"                        pr principal, x
 *   pk "wsc#<connectionId>", sk "<topicId>#<partition>"   x   (what to delete when the connection goes)
 *   pk "wsp#<topicId>#<partition>", sk "<connectionId>"   t topic name, n partition, x   (the fan-out list)
 */
import { GetCommand, PutCommand, type DynamoDBDocumentClient, paginateQuery } from "@aws-sdk/lib-dynamodb";
import type { ConnectionStore, StoredSubscription } from "../core/notifications.js";
import { batchDelete, batchPut } from "./batch-write.js";
import { storageFailure } from "./dynamo-errors.js";
import type { TableNames } from "./tables.js";

type Item = Record<string, unknown>;

/** Every key of these items starts with it (IAM's dynamodb:LeadingKeys condition names it). */
export const CONNECTION_KEY_PREFIX = "ws";
const CONNECTION_ITEM_SK = "#";

const connectionKey = (connectionId: string) => `wsc#${connectionId}`;
const partitionKeyOf = (topicId: string, partition: number) => `wsp#${topicId}#${partition}`;

export function createDynamoConnectionStore(client: DynamoDBDocumentClient, tables: TableNames, now: () => number = Date.now): ConnectionStore {
  const table = tables.security;
  const expiry = (ttlSeconds: number) => Math.floor(now() / 1000) + ttlSeconds;

  async function query(pk: string): Promise<Item[]> {
    const items: Item[] = [];
    for await (const page of paginateQuery({ client }, { TableName: table, KeyConditionExpression: "pk = :pk", ExpressionAttributeValues: { ":pk": pk } })) {
      items.push(...((page.Items ?? []) as Item[]));
    }
    return items;
  }

  return {
    async putConnection(connectionId, principal, ttlSeconds) {
      try {
        await client.send(new PutCommand({ TableName: table, Item: { pk: connectionKey(connectionId), sk: CONNECTION_ITEM_SK, pr: principal, x: expiry(ttlSeconds) } }));
      } catch (error) {
        throw storageFailure(error, "PutItem (connection)");
      }
    },

    async getConnection(connectionId) {
      try {
        const result = await client.send(new GetCommand({ TableName: table, Key: { pk: connectionKey(connectionId), sk: CONNECTION_ITEM_SK }, ConsistentRead: true }));
        const item = result.Item;
        // TTL deletes lazily: an expired item may still be there.
        if (!item || (typeof item["x"] === "number" && item["x"] * 1000 <= now())) return undefined;
        return { principal: String(item["pr"]) };
      } catch (error) {
        throw storageFailure(error, "GetItem (connection)");
      }
    },

    async addSubscriptions(connectionId, subscriptions, ttlSeconds) {
      const x = expiry(ttlSeconds);
      const items = subscriptions.flatMap((s): Item[] => [
        { pk: connectionKey(connectionId), sk: `${s.topicId}#${s.partition}`, x },
        { pk: partitionKeyOf(s.topicId, s.partition), sk: connectionId, t: s.topic, n: s.partition, x },
      ]);
      try {
        await batchPut(client, table, items);
      } catch (error) {
        throw storageFailure(error, "BatchWriteItem (subscriptions)");
      }
    },

    async subscribers(topicId, partition) {
      try {
        const items = await query(partitionKeyOf(topicId, partition));
        const nowSeconds = now() / 1000;
        return items
          .filter((item) => typeof item["x"] !== "number" || item["x"] > nowSeconds)
          .map((item): StoredSubscription => ({ topic: String(item["t"]), partition: Number(item["n"]), topicId, connectionId: String(item["sk"]) }));
      } catch (error) {
        throw storageFailure(error, "Query (subscribers)");
      }
    },

    async removeConnection(connectionId) {
      try {
        const items = await query(connectionKey(connectionId));
        const keys = items.flatMap((item): Item[] => {
          const sk = String(item["sk"]);
          if (sk === CONNECTION_ITEM_SK) return [{ pk: item["pk"], sk }];
          const cut = sk.lastIndexOf("#");
          return [{ pk: item["pk"], sk }, { pk: partitionKeyOf(sk.slice(0, cut), Number(sk.slice(cut + 1))), sk: connectionId }];
        });
        if (keys.length > 0) await batchDelete(client, table, keys);
      } catch (error) {
        throw storageFailure(error, "BatchWriteItem (remove connection)");
      }
    },
  };
}
