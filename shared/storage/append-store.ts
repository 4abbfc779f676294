/**
 * Writing a reservation's batch items (log table; item layout in log-store.ts) — docs/append.md:
 *   - one batch: a conditional PutItem (`attribute_not_exists`), the common case;
 *   - several batches of one request: one TransactWriteItems of Puts (readers never see part of it);
 *   - a write named by an idempotency key (Upstash dialect): one TransactWriteItems of the batch
 *     Put(s) and the key's state Update (idempotency-key-state.ts), so key and batch land together.
 * Idempotent producer ids never come here with state: they claim sequences by a plain write first
 * (producer-state.ts).
 */
import { createHash } from "node:crypto";
import { PutCommand, TransactWriteCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { AppendRequest, AppendResult, EncodedBatch, PartitionRef, TransactionRef } from "../core/ports.js";
import { DynalogError } from "../errors.js";
import { cancelledActions, describeCancellation, isTransactionCanceled, plainItem, sentMoreThanOnce, writeFailure, type LabelledAction } from "./dynamo-errors.js";
import { idempotencyKeyStateUpdate } from "./idempotency-key-state.js";
import { partitionKey } from "./log-keys.js";
import { toProducerState } from "./producer-state.js";
import { transactionRefAttribute } from "./transaction-trace-store.js";
import type { TableNames } from "./tables.js";

type Item = Record<string, unknown>;

type AppendLabel = { kind: "batch"; baseOffset: number } | { kind: "idempotency-key" };

function isConditionFailure(error: unknown): boolean {
  return error instanceof Error && error.name === "ConditionalCheckFailedException";
}

/** DynamoDB idempotency tokens are 1-36 characters; derive one per (partition, reservation, attempt). */
function requestToken(parts: string): string {
  return createHash("sha256").update(parts).digest("base64url").slice(0, 36);
}

/** The write-once Put of one batch item (used by appends and by transactions; a transactional commit names itself in `tx`). */
export function batchPutRequest(
  tables: TableNames,
  ref: PartitionRef,
  batch: EncodedBatch,
  appendTime: number,
  expiresAtSeconds: number | undefined,
  writer: { readonly producerId?: number; readonly transaction?: TransactionRef } = {},
): Item {
  const item: Item = {
    p: partitionKey(ref),
    o: batch.baseOffset,
    k: "B",
    c: batch.count,
    d: batch.blob,
    t: batch.maxTimestamp,
    a: appendTime,
  };
  if (batch.codec !== "none") item["z"] = batch.codec;
  if (expiresAtSeconds !== undefined) item["x"] = expiresAtSeconds;
  // Who wrote it, for tracing (a few bytes; docs/api.md "Trace a record"): a transaction's reference holds its producer id.
  if (writer.transaction !== undefined) item["tx"] = transactionRefAttribute(writer.transaction);
  else if (writer.producerId !== undefined) item["pi"] = writer.producerId;
  return { TableName: tables.log, Item: item, ConditionExpression: "attribute_not_exists(o)" };
}

/** LogStore.append: the batch items of one reservation, all or nothing. */
export function createAppender(client: DynamoDBDocumentClient, tables: TableNames): (request: AppendRequest) => Promise<AppendResult> {
  const batchItemPut = (request: AppendRequest, batch: EncodedBatch): Item => batchPutRequest(tables, request.ref, batch, request.appendTime, request.expiresAtSeconds, { producerId: request.producerId });

  async function appendWithPut(request: AppendRequest): Promise<AppendResult> {
    const put = batchItemPut(request, request.batches[0]!);
    try {
      await client.send(new PutCommand({ ...put, ReturnValuesOnConditionCheckFailure: "ALL_OLD" } as never));
      return { status: "appended" };
    } catch (error) {
      if (!isConditionFailure(error)) throw writeFailure(error, "PutItem (append)");
      // Only this writer puts a batch at its base offset: a batch already there is our own, put by
      // an earlier attempt of this very request whose response was lost inside the SDK's retries.
      const item = (error as { Item?: Item }).Item;
      if (item !== undefined && plainItem(item)["k"] === "B") return { status: "appended" };
      return { status: "slot-taken" };
    }
  }

  async function appendWithTransaction(request: AppendRequest): Promise<AppendResult> {
    // Several batches of one request, or a keyed write: all or nothing.
    const actions: LabelledAction<AppendLabel>[] = request.batches.map((batch) => ({
      label: { kind: "batch", baseOffset: batch.baseOffset },
      action: { Put: batchItemPut(request, batch) },
    }));
    if (request.idempotencyKey) actions.push({ label: { kind: "idempotency-key" }, action: { Update: idempotencyKeyStateUpdate(tables, partitionKey(request.ref), request) } });
    const first = request.batches[0]!;
    try {
      await client.send(
        new TransactWriteCommand({
          TransactItems: actions.map((a) => a.action) as never,
          // Offsets can be handed out again (a released reservation), so the token also carries the
          // request's own id: a token reused with other parameters would be refused by DynamoDB.
          ClientRequestToken: requestToken(`${partitionKey(request.ref)}#${first.baseOffset}#${request.requestId ?? ""}#${request.attempt}`),
        }),
      );
      return { status: "appended" };
    } catch (error) {
      if (!isTransactionCanceled(error)) throw writeFailure(error, "TransactWriteItems (append)");
      const failed = cancelledActions(error, actions);
      const retried = sentMoreThanOnce(error);
      const keyTaken = failed.find((f) => f.label.kind === "idempotency-key" && f.code === "ConditionalCheckFailed");
      if (keyTaken) return { status: "key-taken", state: toProducerState(keyTaken.oldItem), retried };
      if (failed.some((f) => f.label.kind === "batch" && f.code === "ConditionalCheckFailed")) return { status: "slot-taken" };
      if (failed.length > 0 && failed.every((f) => f.code === "TransactionConflict")) return { status: "conflict", retried };
      const mapped = writeFailure(error, "TransactWriteItems (append)");
      if (mapped.code !== "STORAGE_ERROR") throw mapped;
      throw new DynalogError("STORAGE_ERROR", `append cancelled: ${describeCancellation(failed)}`, { cause: error });
    }
  }

  return async (request) => {
    if (request.batches.length === 0) throw new Error("append needs at least one batch");
    return request.batches.length === 1 && !request.idempotencyKey ? appendWithPut(request) : appendWithTransaction(request);
  };
}
