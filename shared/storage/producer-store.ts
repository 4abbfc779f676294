/**
 * DynamoDB adapter for producer ids. Items (producers table):
 *   pk "#producer-ids", sk "#"  next  — the allocation counter
 *   pk "<topicId>#<partition>", sk "<producerId>" — idempotent producer state (written by the log store's append)
 */
import { UpdateCommand, type DynamoDBDocumentClient, paginateQuery } from "@aws-sdk/lib-dynamodb";
import type { ProducerStore } from "../core/ports.js";
import { storageFailure } from "./dynamo-errors.js";
import { batchDelete } from "./batch-write.js";
import { partitionKey } from "./log-store.js";
import type { TableNames } from "./tables.js";

export function createDynamoProducerStore(client: DynamoDBDocumentClient, tables: TableNames): ProducerStore {
  return {
    async allocateProducerId() {
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
