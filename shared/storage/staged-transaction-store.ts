/**
 * Staged batches and decision records of transactions larger than one TransactWriteItems
 * (docs/transactions.md).
 *
 * Staged batch item (log table): a batch item (log-store.ts) with two more attributes
 *   st  the staging attempt's id          sa  when the attempt began (ms, the writer's clock)
 * Readers take it for a batch only once its attempt's decision says "committed", and it stays
 * staged (rewriting it as a plain batch would bill its size again); a writer that gives up its own
 * attempt replaces its staged items with voids over the same ranges.
 *
 * Decision record (log table), p "txd#<attempt>", o 0 — in the log table so that readers, which may
 * write only void-shaped items there (infra/permissions.ts: p, o, k, c, a, x), can write an abort
 * and never a commit:
 *   committed: d = "C" (d is the record-data attribute, which readers may not write)
 *   aborted:   k = "A"
 *   x  TTL (epoch seconds; absent = keep)
 * Put with attribute_not_exists(o) both by the commit (inside the commit's TransactWriteItems) and
 * by an abort, so exactly one decision is ever written per attempt. No partition key of the log
 * starts with "txd#" (those are "<topicId>#<partition>"), so no reader or purge ever meets one.
 *
 * Read consistency: decisions are read strongly consistently (an undecided answer from a stale read
 * would only stall a reader, but a missing commit must never lead to an abort being assumed: aborts
 * are written, never inferred).
 */
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { StagedDecision, StagedTransactionStore } from "../core/ports.js";
import { batchPutRequest } from "./append-store.js";
import { plainItem, storageFailure, writeFailure } from "./dynamo-errors.js";
import { partitionKey } from "./log-keys.js";
import type { TableNames } from "./tables.js";

type Item = Record<string, unknown>;

const decisionKey = (attempt: string) => ({ p: `txd#${attempt}`, o: 0 });

function isConditionFailure(error: unknown): boolean {
  return error instanceof Error && error.name === "ConditionalCheckFailedException";
}

function toDecision(item: Item | undefined): StagedDecision | undefined {
  if (item?.["d"] === "C") return "committed";
  if (item?.["k"] === "A") return "aborted";
  return undefined;
}

/** The commit record's Put, for the commit's TransactWriteItems (transaction-store.ts). */
export function commitDecisionPut(tables: TableNames, attempt: string, expiresAtSeconds: number | undefined): Item {
  const item: Item = { ...decisionKey(attempt), d: "C" };
  if (expiresAtSeconds !== undefined) item["x"] = expiresAtSeconds;
  return { TableName: tables.log, Item: item, ConditionExpression: "attribute_not_exists(o)" };
}

export function createDynamoStagedTransactionStore(client: DynamoDBDocumentClient, tables: TableNames): StagedTransactionStore {
  async function readDecision(attempt: string): Promise<StagedDecision | undefined> {
    try {
      const result = await client.send(new GetCommand({ TableName: tables.log, Key: decisionKey(attempt), ConsistentRead: true }));
      return toDecision(result.Item);
    } catch (error) {
      throw storageFailure(error, "GetItem (staged transaction decision)");
    }
  }

  return {
    async stage(ref, batch, appendTime, expiresAtSeconds, mark, transaction) {
      const put = batchPutRequest(tables, ref, batch, appendTime, expiresAtSeconds, { transaction });
      const item = { ...(put["Item"] as Item), st: mark.attempt, sa: mark.startedAt };
      try {
        await client.send(new PutCommand({ ...put, Item: item, ReturnValuesOnConditionCheckFailure: "ALL_OLD" } as never));
        return "staged";
      } catch (error) {
        if (!isConditionFailure(error)) throw writeFailure(error, "PutItem (stage batch)");
        // Our own put, applied by an earlier try inside the SDK's retries whose response was lost.
        const old = (error as { Item?: Item }).Item;
        return old !== undefined && plainItem(old)["st"] === mark.attempt ? "staged" : "slot-taken";
      }
    },

    readDecision,

    async abort(attempt, expiresAtSeconds) {
      const item: Item = { ...decisionKey(attempt), k: "A" };
      if (expiresAtSeconds !== undefined) item["x"] = expiresAtSeconds;
      try {
        // Void-shaped (p, o, k, x) and without ReturnValues: what a reader's grant allows.
        await client.send(new PutCommand({ TableName: tables.log, Item: item, ConditionExpression: "attribute_not_exists(o)" }));
        return "aborted";
      } catch (error) {
        if (!isConditionFailure(error)) throw writeFailure(error, "PutItem (abort staged transaction)");
        // A decision was there first (the commit, another abort, or our own abort resent by the SDK).
        return (await readDecision(attempt)) ?? "aborted";
      }
    },

    async voidStaged(ref, baseOffset, count, attempt, now, expiresAtSeconds) {
      const item: Item = { p: partitionKey(ref), o: baseOffset, k: "V", c: count, a: now };
      if (expiresAtSeconds !== undefined) item["x"] = expiresAtSeconds;
      try {
        await client.send(
          new PutCommand({
            TableName: tables.log,
            Item: item,
            // The attempt's own staged item, or nothing yet (a put still in flight then fails).
            ConditionExpression: "attribute_not_exists(o) OR st = :attempt",
            ExpressionAttributeValues: { ":attempt": attempt },
          }),
        );
      } catch (error) {
        if (isConditionFailure(error)) return;
        throw storageFailure(error, "PutItem (void staged batch)");
      }
    },
  };
}
