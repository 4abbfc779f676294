/**
 * DynamoDB adapter for producer ids. Items (producers table):
 *   pk "#producer-ids", sk "#"  next  — the allocation counter
 *   pk "pid#<producerId>", sk "#" — the id as issued: pr principal, tid transactional id (absent for
 *       an idempotent producer), e highest epoch issued. Written when the id is issued; only `e`
 *       ever changes (raised by re-initializing the transactional id).
 *   pk "<topicId>#<partition>", sk "<producerId>" — idempotent producer state (producer-state.ts)
 * (Topic ids are UUIDs, so "pid#…" and "txn#…" never collide with partition keys.)
 */
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient, paginateQuery } from "@aws-sdk/lib-dynamodb";
import type { ProducerIdIssue, ProducerStore } from "../core/ports.js";
import { storageFailure } from "./dynamo-errors.js";
import { batchDelete } from "./batch-write.js";
import { partitionKey } from "./log-keys.js";
import { createProducerStateStore } from "./producer-state.js";
import type { TableNames } from "./tables.js";

export const producerIdKey = (producerId: number) => ({ pk: `pid#${producerId}`, sk: "#" });

/** The item recording a freshly issued producer id (put with `attribute_not_exists(pk)`). */
export function issuedProducerIdItem(producerId: number, principal: string, transactionalId: string | undefined, epoch: number): Record<string, unknown> {
  return { ...producerIdKey(producerId), pr: principal, ...(transactionalId === undefined ? {} : { tid: transactionalId }), e: epoch };
}

function toIssue(producerId: number, item: Record<string, unknown> | undefined): ProducerIdIssue | undefined {
  if (!item || typeof item["pr"] !== "string" || typeof item["e"] !== "number") return undefined;
  return { producerId, principal: item["pr"], transactionalId: typeof item["tid"] === "string" ? item["tid"] : undefined, maxEpoch: item["e"] };
}

export function createDynamoProducerStore(client: DynamoDBDocumentClient, tables: TableNames): ProducerStore {
  async function allocateProducerId(): Promise<number> {
    try {
      const result = await client.send(
        new UpdateCommand({
          TableName: tables.producers,
          Key: { pk: "#producer-ids", sk: "#" },
          UpdateExpression: "ADD #next :one",
          ExpressionAttributeNames: { "#next": "next" },
          ExpressionAttributeValues: { ":one": 1 },
          ReturnValues: "UPDATED_NEW",
        }),
      );
      // Ids start at 1: 0 would look like an unset field to careless clients.
      return Number(result.Attributes?.["next"]);
    } catch (error) {
      throw storageFailure(error, "UpdateItem (allocate producer id)");
    }
  }

  return {
    ...createProducerStateStore(client, tables),
    allocateProducerId,

    async issueIdempotent(principal) {
      const producerId = await allocateProducerId();
      try {
        // The counter never hands out an id twice, so the condition only guards against a bug.
        await client.send(new PutCommand({ TableName: tables.producers, Item: issuedProducerIdItem(producerId, principal, undefined, 0), ConditionExpression: "attribute_not_exists(pk)" }));
      } catch (error) {
        throw storageFailure(error, "PutItem (issue producer id)");
      }
      return producerId;
    },

    async readIssue(producerId) {
      try {
        const result = await client.send(new GetCommand({ TableName: tables.producers, Key: producerIdKey(producerId), ConsistentRead: true }));
        return toIssue(producerId, result.Item);
      } catch (error) {
        throw storageFailure(error, "GetItem (producer id)");
      }
    },

    async purgePartition(ref) {
      try {
        for await (const page of paginateQuery({ client }, {
              TableName: tables.producers,
              KeyConditionExpression: "pk = :pk",
              ExpressionAttributeValues: { ":pk": partitionKey(ref) },
              ProjectionExpression: "pk, sk",
            })) {
          await batchDelete(client, tables.producers, page.Items ?? []);
        }
      } catch (error) {
        throw storageFailure(error, "purge producer state");
      }
    },
  };
}
