/** BatchWriteItem helpers: 25 requests per call, and what DynamoDB leaves unprocessed is retried. */
import { BatchWriteCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";

const BATCH_WRITE_LIMIT = 25;

type Item = Record<string, unknown>;
type WriteRequest = { readonly PutRequest: { readonly Item: Item } } | { readonly DeleteRequest: { readonly Key: Item } };

export async function batchWrite(client: DynamoDBDocumentClient, table: string, requests: readonly WriteRequest[]): Promise<void> {
  for (let i = 0; i < requests.length; i += BATCH_WRITE_LIMIT) {
    let pending: readonly unknown[] = requests.slice(i, i + BATCH_WRITE_LIMIT);
    for (let attempt = 0; pending.length > 0; attempt++) {
      // DynamoDB returns unprocessed items when it throttles: back off before asking again.
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1_000, 20 * 2 ** attempt)));
      const result = await client.send(new BatchWriteCommand({ RequestItems: { [table]: pending as never } }));
      pending = result.UnprocessedItems?.[table] ?? [];
    }
  }
}

export function batchPut(client: DynamoDBDocumentClient, table: string, items: readonly Item[]): Promise<void> {
  return batchWrite(client, table, items.map((Item) => ({ PutRequest: { Item } })));
}

export function batchDelete(client: DynamoDBDocumentClient, table: string, keys: readonly Item[]): Promise<void> {
  return batchWrite(client, table, keys.map((Key) => ({ DeleteRequest: { Key } })));
}
