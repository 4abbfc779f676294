/**
 * DynamoDB adapter for security state. Items (security table):
 *   pk "key#<keyId>", sk "#"           principal, secretHash, description, createdAt, revokedAt
 *   pk "acl", sk "<id>"                 principal, resourceType, patternType, resourceName, operation, permission, createdAt
 *   pk "quota#<kind>#<principal>", sk "<window>"   requests, bytes, x (TTL)
 * ACL rules share one partition key so one Query loads them all (they are few and cached).
 */
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient, paginateQuery, paginateScan } from "@aws-sdk/lib-dynamodb";
import type { SecurityStore, StoredAcl, StoredApiKey } from "../security/ports.js";
import type { AclRule } from "../security/acl.js";
import { storageFailure } from "./dynamo-errors.js";
import type { TableNames } from "./tables.js";

type Item = Record<string, unknown>;

/**
 * DynamoDB refuses a request whose key is over these sizes (UTF-8 bytes) with a ValidationException;
 * no stored item can have such a key, so a lookup by one finds nothing without asking DynamoDB.
 */
const MAX_PARTITION_KEY_BYTES = 2048;
const MAX_SORT_KEY_BYTES = 1024;

function keyFits(pk: string, sk: string): boolean {
  return Buffer.byteLength(pk, "utf8") <= MAX_PARTITION_KEY_BYTES && Buffer.byteLength(sk, "utf8") <= MAX_SORT_KEY_BYTES;
}

function toKey(item: Item): StoredApiKey {
  return {
    keyId: String(item["pk"]).slice("key#".length),
    principal: String(item["principal"]),
    secretHash: String(item["secretHash"]),
    description: String(item["description"] ?? ""),
    createdAt: Number(item["createdAt"] ?? 0),
    revokedAt: typeof item["revokedAt"] === "number" ? item["revokedAt"] : null,
  };
}

function toAcl(item: Item): StoredAcl {
  return {
    id: String(item["sk"]),
    principal: String(item["principal"]),
    resourceType: item["resourceType"] as AclRule["resourceType"],
    patternType: item["patternType"] as AclRule["patternType"],
    resourceName: String(item["resourceName"]),
    operation: item["operation"] as AclRule["operation"],
    permission: item["permission"] as AclRule["permission"],
    createdAt: Number(item["createdAt"] ?? 0),
  };
}

async function queryAll(client: DynamoDBDocumentClient, table: string, pk: string): Promise<Item[]> {
  const items: Item[] = [];
  for await (const page of paginateQuery({ client }, { TableName: table, KeyConditionExpression: "pk = :pk", ExpressionAttributeValues: { ":pk": pk }, ConsistentRead: true })) {
    items.push(...((page.Items ?? []) as Item[]));
  }
  return items;
}

export function createDynamoSecurityStore(client: DynamoDBDocumentClient, tables: TableNames): SecurityStore {
  const table = tables.security;
  return {
    async getApiKey(keyId) {
      if (!keyFits(`key#${keyId}`, "#")) return undefined;
      try {
        const result = await client.send(new GetCommand({ TableName: table, Key: { pk: `key#${keyId}`, sk: "#" }, ConsistentRead: true }));
        return result.Item ? toKey(result.Item) : undefined;
      } catch (error) {
        throw storageFailure(error, "GetItem (API key)");
      }
    },

    async putApiKey(key) {
      try {
        await client.send(
          new PutCommand({
            TableName: table,
            Item: { pk: `key#${key.keyId}`, sk: "#", principal: key.principal, secretHash: key.secretHash, description: key.description, createdAt: key.createdAt },
            ConditionExpression: "attribute_not_exists(pk)",
          }),
        );
      } catch (error) {
        throw storageFailure(error, "PutItem (API key)");
      }
    },

    async revokeApiKey(keyId, at) {
      if (!keyFits(`key#${keyId}`, "#")) return undefined;
      try {
        const result = await client.send(
          new UpdateCommand({
            TableName: table,
            Key: { pk: `key#${keyId}`, sk: "#" },
            UpdateExpression: "SET revokedAt = if_not_exists(revokedAt, :at)",
            ConditionExpression: "attribute_exists(pk)",
            ExpressionAttributeValues: { ":at": at },
            ReturnValues: "ALL_NEW",
          }),
        );
        return result.Attributes ? toKey(result.Attributes) : undefined;
      } catch (error) {
        if (error instanceof Error && error.name === "ConditionalCheckFailedException") return undefined;
        throw storageFailure(error, "UpdateItem (revoke API key)");
      }
    },

    async listApiKeys() {
      try {
        const keys: StoredApiKey[] = [];
        for await (const page of paginateScan({ client }, { TableName: table, FilterExpression: "begins_with(pk, :prefix)", ExpressionAttributeValues: { ":prefix": "key#" } })) {
          keys.push(...((page.Items ?? []) as Item[]).map(toKey));
        }
        return keys.sort((a, b) => a.createdAt - b.createdAt);
      } catch (error) {
        throw storageFailure(error, "Scan (API keys)");
      }
    },

    async listAcls() {
      try {
        return (await queryAll(client, table, "acl")).map(toAcl);
      } catch (error) {
        throw storageFailure(error, "Query (ACLs)");
      }
    },

    async putAcl(acl) {
      try {
        const { id, ...rule } = acl;
        await client.send(new PutCommand({ TableName: table, Item: { pk: "acl", sk: id, ...rule } }));
      } catch (error) {
        throw storageFailure(error, "PutItem (ACL)");
      }
    },

    async deleteAcl(id) {
      if (!keyFits("acl", id)) return undefined;
      try {
        const result = await client.send(new DeleteCommand({ TableName: table, Key: { pk: "acl", sk: id }, ConditionExpression: "attribute_exists(pk)", ReturnValues: "ALL_OLD" }));
        return result.Attributes ? toAcl(result.Attributes) : undefined;
      } catch (error) {
        if (error instanceof Error && error.name === "ConditionalCheckFailedException") return undefined;
        throw storageFailure(error, "DeleteItem (ACL)");
      }
    },

    async addUsage(principal, kind, window, delta, expiresAtSeconds) {
      try {
        const result = await client.send(
          new UpdateCommand({
            TableName: table,
            Key: { pk: `quota#${kind}#${principal}`, sk: String(window) },
            UpdateExpression: "ADD requests :r, bytes :b SET x = :x",
            ExpressionAttributeValues: { ":r": delta.requests, ":b": delta.bytes, ":x": expiresAtSeconds },
            ReturnValues: "UPDATED_NEW",
          }),
        );
        return { requests: Number(result.Attributes?.["requests"] ?? 0), bytes: Number(result.Attributes?.["bytes"] ?? 0) };
      } catch (error) {
        throw storageFailure(error, "UpdateItem (quota usage)");
      }
    },
  };
}
