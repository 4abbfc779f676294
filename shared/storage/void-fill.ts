/**
 * Filling a dead writer's gap with voids (DESIGN.md §1.4): a reader that finds offsets reserved
 * but never written, older than the hole timeout, puts a void item on each so no late writer can
 * take them and the readers can pass. Every put is conditional on the offset being free
 * (`attribute_not_exists(o)`), so a void never replaces a batch: the fill stops at the first
 * offset that holds an item and tells the caller to read again. Void item (log table; the layout
 * is in log-store.ts): p, o, k = "V", c = 1, a, x (IAM's VOID_ATTRIBUTES in infra/permissions.ts).
 */
import { PutCommand, TransactWriteCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { FillResult, PartitionRef } from "../core/ports.js";
import { MAX_TRANSACTION_ACTIONS } from "../core/transaction-limits.js";
import { cancelledActions, isTransactionCanceled, storageFailure, type LabelledAction } from "./dynamo-errors.js";
import { partitionKey } from "./log-keys.js";
import type { TableNames } from "./tables.js";

type Item = Record<string, unknown>;

/** IAM refused the request (e.g. a condition it does not evaluate as expected inside a transaction). */
function isAccessDenied(error: unknown): boolean {
  return error instanceof Error && error.name === "AccessDeniedException";
}

function isConditionFailure(error: unknown): boolean {
  return error instanceof Error && error.name === "ConditionalCheckFailedException";
}

/** The log store's fillWithVoids: voids over [from, to) in order, at most MAX_TRANSACTION_ACTIONS per request. */
export function createVoidFiller(client: DynamoDBDocumentClient, tables: TableNames): (ref: PartitionRef, from: number, to: number, now: number, expiresAtSeconds?: number) => Promise<FillResult> {
  /**
   * Whether void fills go as one TransactWriteItems per ≤ 100 offsets (fast, and half the write
   * units' round trips) or as single PutItems. The readers' grant restricts void writes with IAM's
   * `dynamodb:Attributes`, which AWS documents for PutItem but not for the Puts inside a
   * TransactWriteItems: if IAM refuses the transaction, this instance switches to single puts for
   * good rather than leave every dead writer's gap unfilled (readers would stall at each one).
   */
  let voidsByTransaction = true;

  async function putVoids(ref: PartitionRef, from: number, to: number, now: number, expiresAtSeconds?: number): Promise<number | "done"> {
    // Returns the first offset that already holds an item, or "done".
    const actions: LabelledAction<number>[] = [];
    for (let offset = from; offset < to; offset++) {
      const item: Item = { p: partitionKey(ref), o: offset, k: "V", c: 1, a: now };
      if (expiresAtSeconds !== undefined) item["x"] = expiresAtSeconds;
      actions.push({ label: offset, action: { Put: { TableName: tables.log, Item: item, ConditionExpression: "attribute_not_exists(o)" } } });
    }
    if (!voidsByTransaction) return putVoidsOneByOne(actions);
    try {
      // One transaction: the voids land in order or not at all.
      await client.send(new TransactWriteCommand({ TransactItems: actions.map((a) => a.action) as never }));
      return "done";
    } catch (error) {
      if (isAccessDenied(error)) {
        voidsByTransaction = false;
        return putVoidsOneByOne(actions);
      }
      if (!isTransactionCanceled(error)) throw storageFailure(error, "TransactWriteItems (fill voids)");
      const blockers = cancelledActions(error, actions).filter((f) => f.code === "ConditionalCheckFailed");
      if (blockers.length === 0) throw storageFailure(error, "TransactWriteItems (fill voids)");
      return Math.min(...blockers.map((b) => b.label));
    }
  }

  /**
   * The same voids as single conditional puts, strictly one after another in increasing offset
   * order, stopping at the first offset that holds an item. Atomicity is not what keeps the fill
   * safe (DESIGN.md §1.4): order is. A batch keyed at base b covers [b, e); the put at b comes
   * before any put inside (b, e) and fails, so nothing is ever voided inside a real batch. A reader
   * that dies midway leaves voids on a prefix of the gap, a shorter gap the next reader fills from
   * its start; every offset voided is one no late writer can take, exactly as in a transaction.
   */
  async function putVoidsOneByOne(actions: readonly LabelledAction<number>[]): Promise<number | "done"> {
    for (const { label, action } of actions) {
      try {
        await client.send(new PutCommand((action as { Put: Item }).Put as never));
      } catch (error) {
        if (isConditionFailure(error)) return label;
        throw storageFailure(error, "PutItem (fill voids)");
      }
    }
    return "done";
  }

  return async function fillWithVoids(ref: PartitionRef, from: number, to: number, now: number, expiresAtSeconds?: number): Promise<FillResult> {
    let position = from;
    while (position < to) {
      const chunkEnd = Math.min(to, position + MAX_TRANSACTION_ACTIONS);
      const outcome = await putVoids(ref, position, chunkEnd, now, expiresAtSeconds);
      if (outcome === "done") {
        position = chunkEnd;
        continue;
      }
      // A real item sits at `outcome`: void what lies before it, then stop so the caller re-reads.
      if (outcome > position) {
        const retry = await putVoids(ref, position, outcome, now, expiresAtSeconds);
        if (retry !== "done") return { filledUpTo: retry, blocked: true };
      }
      return { filledUpTo: outcome, blocked: true };
    }
    return { filledUpTo: to, blocked: false };
  };
}
