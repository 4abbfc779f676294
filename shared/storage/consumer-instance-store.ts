/**
 * Upstash-dialect consumer instances (shared/core/consumer-instances.ts), in the offsets table
 * beside the consumer groups they join but under their own partition-key prefix:
 *
 *   pk "u#<group>", sk "i#<instance>"   one item per instance: the whole record as attributes
 *
 * The "u#" prefix keeps them out of the groups' "g#" items (group-store.ts lists groups by that
 * prefix), so neither store ever reads the other's items. Writes are conditional on `v`, the
 * record's version, so two concurrent calls for one instance cannot both advance its positions.
 */
import { DeleteCommand, GetCommand, PutCommand, paginateScan, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { ConsumerInstanceRecord, ConsumerInstanceStore } from "../core/consumer-instances.js";
import { storageFailure, writeFailure } from "./dynamo-errors.js";
import type { TableNames } from "./tables.js";

const PK_PREFIX = "u#";
const SK_PREFIX = "i#";

function key(group: string, instance: string) {
  return { pk: `${PK_PREFIX}${group}`, sk: `${SK_PREFIX}${instance}` };
}

function fromItem(item: Record<string, unknown>): ConsumerInstanceRecord {
  return {
    group: String(item["group"]),
    instance: String(item["instance"]),
    memberId: String(item["memberId"]),
    memberEpoch: Number(item["memberEpoch"]),
    topics: (item["topics"] as string[] | undefined) ?? [],
    assignment: (item["assignment"] as ConsumerInstanceRecord["assignment"] | undefined) ?? [],
    positions: (item["positions"] as ConsumerInstanceRecord["positions"] | undefined) ?? [],
    autoCommit: item["autoCommit"] === true,
    autoCommitIntervalMs: Number(item["autoCommitIntervalMs"]),
    autoOffsetReset: item["autoOffsetReset"] as ConsumerInstanceRecord["autoOffsetReset"],
    lastCommitAt: Number(item["lastCommitAt"]),
    lastSeenAt: Number(item["lastSeenAt"]),
    version: Number(item["v"]),
  };
}

export function createDynamoConsumerInstanceStore(client: DynamoDBDocumentClient, tables: TableNames): ConsumerInstanceStore {
  return {
    async get(group, instance) {
      try {
        const result = await client.send(new GetCommand({ TableName: tables.offsets, Key: key(group, instance), ConsistentRead: true }));
        return result.Item ? fromItem(result.Item) : undefined;
      } catch (error) {
        throw storageFailure(error, "GetItem (consumer instance)");
      }
    },

    async put(record) {
      const { version, ...fields } = record;
      try {
        await client.send(
          new PutCommand({
            TableName: tables.offsets,
            Item: { ...key(record.group, record.instance), ...fields, v: version + 1 },
            ConditionExpression: version === 0 ? "attribute_not_exists(pk)" : "v = :v",
            ...(version === 0 ? {} : { ExpressionAttributeValues: { ":v": version } }),
          }),
        );
        return true;
      } catch (error) {
        if (error instanceof Error && error.name === "ConditionalCheckFailedException") return false;
        throw writeFailure(error, "PutItem (consumer instance)");
      }
    },

    async delete(group, instance) {
      try {
        const result = await client.send(new DeleteCommand({ TableName: tables.offsets, Key: key(group, instance), ReturnValues: "ALL_OLD" }));
        return result.Attributes !== undefined;
      } catch (error) {
        throw writeFailure(error, "DeleteItem (consumer instance)");
      }
    },

    async list() {
      const found: ConsumerInstanceRecord[] = [];
      try {
        for await (const page of paginateScan({ client }, { TableName: tables.offsets, FilterExpression: "begins_with(pk, :u)", ExpressionAttributeValues: { ":u": PK_PREFIX } })) {
          for (const item of page.Items ?? []) found.push(fromItem(item));
        }
      } catch (error) {
        throw storageFailure(error, "Scan (consumer instances)");
      }
      return found;
    },
  };
}
