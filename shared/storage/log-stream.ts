/**
 * The log table's DynamoDB Stream as the deployed dispatcher sees it (keys only: docs/subscriptions.md,
 * "Deployed design"): which topic partitions a batch of stream records touched. The key layout
 * (`p` = "<topicId>#<partition>", `o` = offset) is the log store's, so it is decoded here.
 */
import type { PartitionRef } from "../core/ports.js";

/** The part of a DynamoDB Stream record this reads (aws-lambda's DynamoDBRecord, structurally). */
export interface LogStreamRecord {
  readonly eventName?: string;
  readonly dynamodb?: { readonly Keys?: Readonly<Record<string, { readonly S?: string; readonly N?: string } | undefined>> };
}

/** "<topicId>#<partition>" → the partition, or undefined for a key that is not a log partition's. */
export function partitionOfLogKey(key: string): PartitionRef | undefined {
  const hash = key.lastIndexOf("#");
  if (hash <= 0) return undefined;
  const partition = Number(key.slice(hash + 1));
  if (!Number.isSafeInteger(partition) || partition < 0 || key.slice(hash + 1) !== String(partition)) return undefined;
  return { topicId: key.slice(0, hash), partition };
}

/** The distinct partitions that inserts in `records` wrote to, in first-seen order. */
export function partitionsInsertedInto(records: readonly LogStreamRecord[]): PartitionRef[] {
  const seen = new Map<string, PartitionRef>();
  for (const record of records) {
    if (record.eventName !== undefined && record.eventName !== "INSERT") continue;
    const key = record.dynamodb?.Keys?.["p"]?.S;
    const ref = key === undefined ? undefined : partitionOfLogKey(key);
    if (ref && !seen.has(key!)) seen.set(key!, ref);
  }
  return [...seen.values()];
}
