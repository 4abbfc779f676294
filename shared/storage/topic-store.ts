/**
 * DynamoDB adapter for topic metadata. Item (topics table), key `name`:
 *   id, partitions, retentionMs (absent = forever), compression, timestampType, createdAt,
 *   cleanupPolicy (absent = delete), deleteRetentionMs (absent = the default), minCompactionLagMs (absent = 0),
 *   maxMessageBytes (absent = MAX_RECORD_BYTES)
 * Read consistency: `get` is strongly consistent; `list` (an admin Scan) is not — it decides nothing.
 */
import { DeleteCommand, GetCommand, PutCommand, type DynamoDBDocumentClient, paginateScan } from "@aws-sdk/lib-dynamodb";
import { DynalogError } from "../errors.js";
import type { CleanupPolicy, TimestampType, TopicRecord, TopicStore } from "../core/ports.js";
import { DEFAULT_DELETE_RETENTION_MS, MAX_RECORD_BYTES } from "../limits.js";
import type { CompressionCodec } from "../compression.js";
import { storageFailure } from "./dynamo-errors.js";
import type { TableNames } from "./tables.js";

type Item = Record<string, unknown>;

function toItem(topic: TopicRecord): Item {
  const item: Item = {
    name: topic.name,
    id: topic.topicId,
    partitions: topic.partitions,
    compression: topic.compression,
    timestampType: topic.timestampType,
    createdAt: topic.createdAt,
  };
  if (topic.retentionMs !== null) item["retentionMs"] = topic.retentionMs;
  // Written only when not the default, so topics that never use compaction keep their items as they were.
  if (topic.cleanupPolicy !== "delete") item["cleanupPolicy"] = topic.cleanupPolicy;
  if (topic.deleteRetentionMs !== DEFAULT_DELETE_RETENTION_MS) item["deleteRetentionMs"] = topic.deleteRetentionMs;
  if (topic.minCompactionLagMs !== 0) item["minCompactionLagMs"] = topic.minCompactionLagMs;
  if (topic.maxMessageBytes !== MAX_RECORD_BYTES) item["maxMessageBytes"] = topic.maxMessageBytes;
  return item;
}

function toTopic(item: Item): TopicRecord {
  return {
    name: String(item["name"]),
    topicId: String(item["id"]),
    partitions: Number(item["partitions"]),
    retentionMs: typeof item["retentionMs"] === "number" ? item["retentionMs"] : null,
    compression: String(item["compression"] ?? "none") as CompressionCodec,
    timestampType: String(item["timestampType"] ?? "CreateTime") as TimestampType,
    createdAt: Number(item["createdAt"] ?? 0),
    cleanupPolicy: String(item["cleanupPolicy"] ?? "delete") as CleanupPolicy,
    deleteRetentionMs: typeof item["deleteRetentionMs"] === "number" ? item["deleteRetentionMs"] : DEFAULT_DELETE_RETENTION_MS,
    minCompactionLagMs: typeof item["minCompactionLagMs"] === "number" ? item["minCompactionLagMs"] : 0,
    maxMessageBytes: typeof item["maxMessageBytes"] === "number" ? item["maxMessageBytes"] : MAX_RECORD_BYTES,
  };
}

export function createDynamoTopicStore(client: DynamoDBDocumentClient, tables: TableNames): TopicStore {
  return {
    async create(topic) {
      try {
        await client.send(
          new PutCommand({ TableName: tables.topics, Item: toItem(topic), ConditionExpression: "attribute_not_exists(#n)", ExpressionAttributeNames: { "#n": "name" } }),
        );
      } catch (error) {
        if (error instanceof Error && error.name === "ConditionalCheckFailedException") {
          throw new DynalogError("TOPIC_ALREADY_EXISTS", `Topic '${topic.name}' already exists`, { details: { topic: topic.name } });
        }
        throw storageFailure(error, "PutItem (create topic)");
      }
    },

    async get(name) {
      try {
        // Strongly consistent: the fresh look-up after a StaleTopicError must see the recreated (or
        // deleted) topic, and a topic must be usable right after its creation was answered.
        const result = await client.send(new GetCommand({ TableName: tables.topics, Key: { name }, ConsistentRead: true }));
        return result.Item ? toTopic(result.Item) : undefined;
      } catch (error) {
        throw storageFailure(error, "GetItem (topic)");
      }
    },

    async list() {
      const topics: TopicRecord[] = [];
      try {
        for await (const page of paginateScan({ client }, { TableName: tables.topics })) {
          topics.push(...(page.Items ?? []).map(toTopic));
        }
      } catch (error) {
        throw storageFailure(error, "Scan (topics)");
      }
      return topics.sort((a, b) => a.name.localeCompare(b.name));
    },

    async replace(topic, expected) {
      // Every field as read: a concurrent change of any of them (or a re-creation) makes this fail.
      // An absent attribute reads as its default (toTopic), so it matches that default too.
      const retention = expected.retentionMs === null ? "attribute_not_exists(#r)" : "#r = :r";
      const compression = expected.compression === "none" ? "(#c = :c OR attribute_not_exists(#c))" : "#c = :c";
      const timestampType = expected.timestampType === "CreateTime" ? "(#t = :t OR attribute_not_exists(#t))" : "#t = :t";
      const policy = expected.cleanupPolicy === "delete" ? "(#cp = :cp OR attribute_not_exists(#cp))" : "#cp = :cp";
      const deleteRetention = expected.deleteRetentionMs === DEFAULT_DELETE_RETENTION_MS ? "(#dr = :dr OR attribute_not_exists(#dr))" : "#dr = :dr";
      const lag = expected.minCompactionLagMs === 0 ? "(#lag = :lag OR attribute_not_exists(#lag))" : "#lag = :lag";
      const maxBytes = expected.maxMessageBytes === MAX_RECORD_BYTES ? "(#mb = :mb OR attribute_not_exists(#mb))" : "#mb = :mb";
      try {
        await client.send(
          new PutCommand({
            TableName: tables.topics,
            Item: toItem(topic),
            ConditionExpression: `#id = :id AND #p = :p AND ${compression} AND ${timestampType} AND ${retention} AND ${policy} AND ${deleteRetention} AND ${lag} AND ${maxBytes}`,
            ExpressionAttributeNames: {
              "#id": "id",
              "#p": "partitions",
              "#c": "compression",
              "#t": "timestampType",
              "#r": "retentionMs",
              "#cp": "cleanupPolicy",
              "#dr": "deleteRetentionMs",
              "#lag": "minCompactionLagMs",
              "#mb": "maxMessageBytes",
            },
            ExpressionAttributeValues: {
              ":id": expected.topicId,
              ":p": expected.partitions,
              ":c": expected.compression,
              ":t": expected.timestampType,
              ":cp": expected.cleanupPolicy,
              ":dr": expected.deleteRetentionMs,
              ":lag": expected.minCompactionLagMs,
              ":mb": expected.maxMessageBytes,
              ...(expected.retentionMs === null ? {} : { ":r": expected.retentionMs }),
            },
          }),
        );
        return true;
      } catch (error) {
        if (error instanceof Error && error.name === "ConditionalCheckFailedException") return false;
        throw storageFailure(error, "PutItem (replace topic)");
      }
    },

    async remove(name) {
      try {
        const result = await client.send(new DeleteCommand({ TableName: tables.topics, Key: { name }, ReturnValues: "ALL_OLD" }));
        return result.Attributes ? toTopic(result.Attributes) : undefined;
      } catch (error) {
        throw storageFailure(error, "DeleteItem (topic)");
      }
    },
  };
}
