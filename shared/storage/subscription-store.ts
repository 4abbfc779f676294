/**
 * Push subscriptions (shared/core/subscription-model.ts) in the offsets table, beside the consumer
 * group each one commits as, under their own partition-key prefixes:
 *
 *   pk "subscriptions", sk "<name>"     one item per subscription: the record's fields as attributes
 *                                        (target and startingPosition as maps), `v` = version
 *   pk "s#<name>", sk "p#<partition>"   the dispatcher's state of one partition:
 *     lo   lease owner        lu   lease until (ms)
 *     dl   delivered (count)  fl   failed invocations  dq   dead-lettered records
 *     le   last error { message, offset, at }          rt   pending retry { offset, attempts, nextAttemptAt }
 *     la   last delivered at (ms)                      lat  last invocation latency (ms)
 *
 * All subscriptions share one partition key, so listing them (what every dispatcher poll does) is
 * one Query, not a Scan of the offsets table; subscriptions are admin-rate, so the key is never hot.
 * The "subscriptions" and "s#" keys stay clear of the groups' "g#" and consumer instances' "u#"
 * (group-store.ts lists groups by its prefix). Writes of partition state are conditional on the
 * lease owner, so a dispatcher whose lease lapsed cannot overwrite its successor's state.
 */
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand, paginateQuery, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { DynalogError } from "../errors.js";
import type { PartitionProgress, SubscriptionPartitionState, SubscriptionRecord, SubscriptionStore } from "../core/subscription-model.js";
import { batchDelete } from "./batch-write.js";
import { storageFailure, writeFailure } from "./dynamo-errors.js";
import type { TableNames } from "./tables.js";

type Item = Record<string, unknown>;

const LIST_PK = "subscriptions";
const statePk = (name: string) => `s#${name}`;
const stateSk = (partition: number) => `p#${partition}`;

function isConditionFailure(error: unknown): boolean {
  return error instanceof Error && error.name === "ConditionalCheckFailedException";
}

function toItem(record: SubscriptionRecord): Item {
  const { version, ...fields } = record;
  return { pk: LIST_PK, sk: record.name, ...fields, v: version };
}

function fromItem(item: Item): SubscriptionRecord {
  return {
    name: String(item["name"]),
    topic: String(item["topic"]),
    topicId: String(item["topicId"]),
    group: String(item["group"]),
    target: item["target"] as SubscriptionRecord["target"],
    batchSize: Number(item["batchSize"]),
    maxBatchingWindowMs: Number(item["maxBatchingWindowMs"]),
    startingPosition: item["startingPosition"] as SubscriptionRecord["startingPosition"],
    maxRetries: Number(item["maxRetries"]),
    deadLetterTopic: typeof item["deadLetterTopic"] === "string" ? item["deadLetterTopic"] : null,
    delivery: item["delivery"] as SubscriptionRecord["delivery"],
    timeoutMs: Number(item["timeoutMs"]),
    state: item["state"] as SubscriptionRecord["state"],
    secret: String(item["secret"]),
    previousSecret: (item["previousSecret"] as SubscriptionRecord["previousSecret"] | undefined) ?? null,
    createdAt: Number(item["createdAt"]),
    updatedAt: Number(item["updatedAt"]),
    version: Number(item["v"]),
  };
}

function stateFromItem(item: Item): SubscriptionPartitionState {
  const n = (key: string) => (typeof item[key] === "number" ? (item[key] as number) : 0);
  return {
    partition: Number(String(item["sk"]).slice(2)),
    leaseOwner: typeof item["lo"] === "string" ? item["lo"] : null,
    leaseUntil: n("lu"),
    delivered: n("dl"),
    failed: n("fl"),
    deadLettered: n("dq"),
    lastError: (item["le"] as SubscriptionPartitionState["lastError"] | undefined) ?? null,
    retry: (item["rt"] as SubscriptionPartitionState["retry"] | undefined) ?? null,
    lastDeliveredAt: typeof item["la"] === "number" ? item["la"] : null,
    lastLatencyMs: typeof item["lat"] === "number" ? item["lat"] : null,
  };
}

export function createDynamoSubscriptionStore(client: DynamoDBDocumentClient, tables: TableNames): SubscriptionStore {
  const table = tables.offsets;
  return {
    async create(record) {
      try {
        await client.send(new PutCommand({ TableName: table, Item: toItem(record), ConditionExpression: "attribute_not_exists(pk)" }));
      } catch (error) {
        if (isConditionFailure(error)) {
          throw new DynalogError("SUBSCRIPTION_ALREADY_EXISTS", `Subscription '${record.name}' already exists`, { details: { subscription: record.name } });
        }
        throw writeFailure(error, "PutItem (subscription)");
      }
    },

    async get(name) {
      try {
        const result = await client.send(new GetCommand({ TableName: table, Key: { pk: LIST_PK, sk: name }, ConsistentRead: true }));
        return result.Item ? fromItem(result.Item) : undefined;
      } catch (error) {
        throw storageFailure(error, "GetItem (subscription)");
      }
    },

    async list() {
      const found: SubscriptionRecord[] = [];
      try {
        for await (const page of paginateQuery({ client }, { TableName: table, KeyConditionExpression: "pk = :pk", ExpressionAttributeValues: { ":pk": LIST_PK }, ConsistentRead: true })) {
          for (const item of page.Items ?? []) found.push(fromItem(item));
        }
      } catch (error) {
        throw storageFailure(error, "Query (subscriptions)");
      }
      return found;
    },

    async replace(record, expectedVersion) {
      try {
        await client.send(new PutCommand({ TableName: table, Item: toItem(record), ConditionExpression: "v = :v", ExpressionAttributeValues: { ":v": expectedVersion } }));
        return true;
      } catch (error) {
        if (isConditionFailure(error)) return false;
        throw writeFailure(error, "PutItem (subscription)");
      }
    },

    async remove(name) {
      let removed: SubscriptionRecord | undefined;
      try {
        const result = await client.send(new DeleteCommand({ TableName: table, Key: { pk: LIST_PK, sk: name }, ReturnValues: "ALL_OLD" }));
        removed = result.Attributes ? fromItem(result.Attributes) : undefined;
        // Partition states go after the definition: once it is gone no dispatcher starts a batch.
        const keys: Item[] = [];
        for await (const page of paginateQuery({ client }, { TableName: table, KeyConditionExpression: "pk = :pk", ExpressionAttributeValues: { ":pk": statePk(name) }, ProjectionExpression: "pk, sk" })) {
          for (const item of page.Items ?? []) keys.push({ pk: item["pk"], sk: item["sk"] });
        }
        if (keys.length > 0) await batchDelete(client, table, keys);
      } catch (error) {
        throw writeFailure(error, "DeleteItem (subscription)");
      }
      return removed;
    },

    async partitions(name) {
      try {
        const result = await client.send(new QueryCommand({ TableName: table, KeyConditionExpression: "pk = :pk", ExpressionAttributeValues: { ":pk": statePk(name) }, ConsistentRead: true }));
        return (result.Items ?? []).map(stateFromItem).sort((a, b) => a.partition - b.partition);
      } catch (error) {
        throw storageFailure(error, "Query (subscription partitions)");
      }
    },

    async acquireLease(name, partition, owner, now, until) {
      try {
        const result = await client.send(
          new UpdateCommand({
            TableName: table,
            Key: { pk: statePk(name), sk: stateSk(partition) },
            UpdateExpression: "SET lo = :owner, lu = :until",
            ConditionExpression: "attribute_not_exists(lo) OR lo = :owner OR lu <= :now",
            ExpressionAttributeValues: { ":owner": owner, ":until": until, ":now": now },
            ReturnValues: "ALL_NEW",
          }),
        );
        return stateFromItem(result.Attributes ?? { sk: stateSk(partition), lo: owner, lu: until });
      } catch (error) {
        if (isConditionFailure(error)) return undefined;
        throw writeFailure(error, "UpdateItem (subscription lease)");
      }
    },

    async saveProgress(name, partition, owner, progress: PartitionProgress) {
      const set: string[] = [];
      const remove: string[] = [];
      const values: Item = { ":owner": owner, ":dl": progress.delivered, ":fl": progress.failed, ":dq": progress.deadLettered };
      if (progress.retry === null) remove.push("rt");
      else (set.push("rt = :rt"), (values[":rt"] = progress.retry));
      if (progress.lastError === null) remove.push("le");
      else if (progress.lastError !== undefined) (set.push("le = :le"), (values[":le"] = progress.lastError));
      if (progress.lastDeliveredAt !== undefined) (set.push("la = :la"), (values[":la"] = progress.lastDeliveredAt));
      if (progress.lastLatencyMs !== undefined) (set.push("lat = :lat"), (values[":lat"] = progress.lastLatencyMs));
      const expression = `ADD dl :dl, fl :fl, dq :dq${set.length ? ` SET ${set.join(", ")}` : ""}${remove.length ? ` REMOVE ${remove.join(", ")}` : ""}`;
      try {
        await client.send(
          new UpdateCommand({ TableName: table, Key: { pk: statePk(name), sk: stateSk(partition) }, UpdateExpression: expression, ConditionExpression: "lo = :owner", ExpressionAttributeValues: values }),
        );
        return true;
      } catch (error) {
        if (isConditionFailure(error)) return false;
        throw writeFailure(error, "UpdateItem (subscription progress)");
      }
    },

    async releaseLease(name, partition, owner) {
      try {
        await client.send(
          new UpdateCommand({
            TableName: table,
            Key: { pk: statePk(name), sk: stateSk(partition) },
            UpdateExpression: "SET lu = :zero",
            ConditionExpression: "lo = :owner",
            ExpressionAttributeValues: { ":owner": owner, ":zero": 0 },
          }),
        );
      } catch (error) {
        if (isConditionFailure(error)) return;
        throw writeFailure(error, "UpdateItem (subscription lease release)");
      }
    },
  };
}
