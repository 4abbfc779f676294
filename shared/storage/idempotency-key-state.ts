/**
 * State of writes named by an idempotency key (ProduceInput.idempotencyKey), in the producers table
 * beside the idempotent producers' state it mirrors:
 *
 *   pk "<topicId>#<partition>", sk "k#<sha-256 of principal \0 key, base64url>"
 *     e 0, q last sequence (record count - 1), r4 [0, 0, last sequence, base offset], t append time (ms),
 *     x expiry (epoch s)
 *
 * The item is written by the append's own TransactWriteItems (log-store.ts), with the batch: both
 * land or neither does, so a crash anywhere leaves either no record and no key (a retry writes) or
 * both (a retry is answered from r4). `x` is the table's TTL attribute; the condition also treats
 * an expired item as absent, so the window ends when it says even before DynamoDB deletes the item.
 * The "k#" sort keys never collide with producer ids' decimal ones; topic deletion purges them with
 * the partition (producer-store.ts purgePartition queries the whole partition key).
 */
import { createHash } from "node:crypto";
import type { AppendRequest } from "../core/ports.js";
import type { TableNames } from "./tables.js";

export function idempotencyKeySortKey(scopedKey: string): string {
  return `k#${createHash("sha256").update(scopedKey, "utf8").digest("base64url")}`;
}

/** The conditional Update (one TransactWriteItems action) claiming the key for this append's batch. */
export function idempotencyKeyStateUpdate(tables: TableNames, partitionKey: string, request: AppendRequest): Record<string, unknown> {
  const producer = request.producer!;
  const claim = producer.idempotencyKey!;
  return {
    TableName: tables.producers,
    Key: { pk: partitionKey, sk: idempotencyKeySortKey(claim.scopedKey) },
    UpdateExpression: "SET e = :zero, q = :last, r4 = :batch, t = :t, x = :x",
    ConditionExpression: "attribute_not_exists(pk) OR x < :now",
    ExpressionAttributeValues: {
      ":zero": 0,
      ":last": producer.lastSequence,
      ":batch": [0, 0, producer.lastSequence, request.batches[0]!.baseOffset],
      ":t": claim.appendTime,
      ":x": claim.expiresAtSeconds,
      ":now": Math.floor(request.appendTime / 1000),
    },
    ReturnValuesOnConditionCheckFailure: "ALL_OLD",
  };
}
