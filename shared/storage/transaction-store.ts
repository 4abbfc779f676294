/**
 * DynamoDB adapter for transactional ids and transaction commits (DESIGN.md §3).
 *
 * Transactional-id item (producers table), pk "txn#<transactionalId>", sk "#":
 *   pid  producer id        e  epoch (bumped by every init: older instances are fenced)
 *   pr   the principal the producer id was issued to (another principal's init gets a fresh id)
 *   s    sequence of the next transaction of this epoch
 *   lr   the last committed transaction's results, [[topic, partition, baseOffset, lastOffset], …],
 *        so a retry of it is answered with its original offsets
 *
 * An init writes the transactional-id item and the producer id's item ("pid#<id>", producer-store.ts)
 * in one TransactWriteItems, so the producer id is recorded as issued, with its epoch, exactly when
 * the transactional id moves to it.
 *
 * A commit is ONE TransactWriteItems: the transactional-id update (conditional on pid, epoch and
 * sequence — fencing and exactly-once retries beyond DynamoDB's 10-minute token window), every
 * batch item (write-once), and every committed offset with its group check (the member is
 * current, or — without a member — the group item is still at the version read empty). All or
 * nothing. With a transactional id it also puts the transaction's record and one input index item
 * per committed offset (transaction-trace-store.ts), and its batch items carry `tx`.
 *
 * A transaction too large for that (docs/transactions.md) stages its batches first
 * (staged-transaction-store.ts) and commits with the same TransactWriteItems minus the batch Puts
 * plus its commit record (`stagedCommit`).
 *
 * Read consistency: the transactional-id GetItem is strongly consistent (it decides fencing and
 * whether a retried transaction already committed).
 */
import { GetCommand, TransactWriteCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { DynalogError } from "../errors.js";
import type { ProducerStore, TransactionalState, TransactionPartitionResult, TransactionStore } from "../core/ports.js";
import { cancelledActions, describeCancellation, isTransactionCanceled, sentMoreThanOnce, storageFailure, writeFailure, type LabelledAction } from "./dynamo-errors.js";
import { offsetFenceCheck, offsetFenceError } from "./group-fence.js";
import { batchPutRequest } from "./append-store.js";
import { MAX_TRANSACTION_ACTIONS } from "./log-store.js";
import { issuedProducerIdItem, producerIdKey } from "./producer-store.js";
import { offsetItem } from "./offset-store.js";
import type { TableNames } from "./tables.js";
import { commitDecisionPut } from "./staged-transaction-store.js";
import { createTransactionTraceReader, transactionRecordPuts } from "./transaction-trace-store.js";

type Item = Record<string, unknown>;
type CommitLabel = "transactional-id" | "batch" | "decision" | "offset" | "group-fence" | "trace";

const INIT_ATTEMPTS = 5;

const transactionalKey = (transactionalId: string) => ({ pk: `txn#${transactionalId}`, sk: "#" });

function toState(item: Item | undefined): TransactionalState | undefined {
  if (!item || typeof item["pid"] !== "number" || typeof item["e"] !== "number") return undefined;
  const results = Array.isArray(item["lr"]) ? (item["lr"] as unknown[]) : [];
  const lastResult: TransactionPartitionResult[] = [];
  for (const entry of results) {
    if (!Array.isArray(entry) || entry.length !== 4) continue;
    const [topic, partition, baseOffset, lastOffset] = entry as [unknown, unknown, unknown, unknown];
    if (typeof topic === "string" && typeof partition === "number" && typeof baseOffset === "number" && typeof lastOffset === "number") {
      lastResult.push({ topic, partition, baseOffset, lastOffset });
    }
  }
  return { producerId: item["pid"], epoch: item["e"], nextSequence: typeof item["s"] === "number" ? item["s"] : 0, lastResult };
}

export function createDynamoTransactionStore(client: DynamoDBDocumentClient, tables: TableNames, producers: ProducerStore): TransactionStore {
  async function readItem(transactionalId: string): Promise<Item | undefined> {
    try {
      const result = await client.send(new GetCommand({ TableName: tables.producers, Key: transactionalKey(transactionalId), ConsistentRead: true }));
      return result.Item;
    } catch (error) {
      throw storageFailure(error, "GetItem (transactional id)");
    }
  }

  return {
    ...createTransactionTraceReader(client, tables),
    read: async (transactionalId) => toState(await readItem(transactionalId)),

    async initTransactional(transactionalId, principal, maxEpoch) {
      let freshId = false;
      for (let attempt = 0; attempt < INIT_ATTEMPTS; attempt++) {
        const current = await readItem(transactionalId);
        const state = toState(current);
        // Keep the producer id while its epoch can still rise (Kafka's rule) and the same principal
        // initializes it. A binding never changes, so another principal gets a fresh id — which
        // fences the older instances just as an epoch bump does.
        const reuse = !freshId && state !== undefined && state.epoch < maxEpoch && current?.["pr"] === principal;
        const producerId = reuse ? state.producerId : await producers.allocateProducerId();
        const epoch = reuse ? state.epoch + 1 : 0;
        const actions: LabelledAction<"transactional-id" | "producer-id">[] = [
          {
            label: "transactional-id",
            action: state
              ? {
                  Update: {
                    TableName: tables.producers,
                    Key: transactionalKey(transactionalId),
                    UpdateExpression: "SET pid = :pid, e = :e, s = :zero, pr = :pr REMOVE lr",
                    ConditionExpression: "pid = :oldPid AND e = :oldEpoch",
                    ExpressionAttributeValues: { ":pid": producerId, ":e": epoch, ":zero": 0, ":pr": principal, ":oldPid": state.producerId, ":oldEpoch": state.epoch },
                  },
                }
              : {
                  Put: {
                    TableName: tables.producers,
                    Item: { ...transactionalKey(transactionalId), pid: producerId, e: 0, s: 0, pr: principal },
                    ConditionExpression: "attribute_not_exists(pk)",
                  },
                },
          },
          {
            label: "producer-id",
            // The id as issued, in the same transaction: an epoch is never recorded unless the
            // transactional id got it, and never lowered.
            action: reuse
              ? {
                  Update: {
                    TableName: tables.producers,
                    Key: producerIdKey(producerId),
                    UpdateExpression: "SET e = :e",
                    ConditionExpression: "pr = :pr AND tid = :tid AND e < :e",
                    ExpressionAttributeValues: { ":e": epoch, ":pr": principal, ":tid": transactionalId },
                  },
                }
              : { Put: { TableName: tables.producers, Item: issuedProducerIdItem(producerId, principal, transactionalId, 0), ConditionExpression: "attribute_not_exists(pk)" } },
          },
        ];
        try {
          await client.send(new TransactWriteCommand({ TransactItems: actions.map((a) => a.action) as never }));
          return { producerId, epoch };
        } catch (error) {
          if (!isTransactionCanceled(error)) throw storageFailure(error, "TransactWriteItems (init transactional id)");
          const failed = cancelledActions(error, actions);
          // The transactional id held but the producer id's record disagrees with it (it should
          // not): move on to a fresh id rather than fail every init.
          const failedOn = (label: string) => failed.some((f) => f.label === label && f.code === "ConditionalCheckFailed");
          if (failedOn("producer-id") && !failedOn("transactional-id")) freshId = true;
          // Otherwise another instance initialized at the same moment: read again and bump past it.
          if (!failed.every((f) => f.code === "ConditionalCheckFailed" || f.code === "TransactionConflict")) {
            throw storageFailure(error, "TransactWriteItems (init transactional id)");
          }
        }
      }
      throw new DynalogError("CONCURRENT_TRANSACTIONS", `Transactional id '${transactionalId}' is being initialized concurrently; retry`);
    },

    async commit(write) {
      const actions: LabelledAction<CommitLabel>[] = [];
      const t = write.transactional;
      if (t) {
        actions.push({
          label: "transactional-id",
          action: {
            Update: {
              TableName: tables.producers,
              Key: transactionalKey(t.transactionalId),
              UpdateExpression: "SET s = :next, lr = :result",
              ConditionExpression: "pid = :pid AND e = :e AND s = :seq",
              ExpressionAttributeValues: {
                ":next": t.sequence + 1,
                ":result": t.result.map((r) => [r.topic, r.partition, r.baseOffset, r.lastOffset]),
                ":pid": t.producerId,
                ":e": t.epoch,
                ":seq": t.sequence,
              },
              ReturnValuesOnConditionCheckFailure: "ALL_OLD",
            },
          },
        });
      }
      for (const partition of write.partitions) {
        for (const batch of partition.batches) {
          actions.push({ label: "batch", action: { Put: batchPutRequest(tables, partition.ref, batch, write.appendTime, partition.expiresAtSeconds, { transaction: t }) } });
        }
      }
      // A large transaction's batches are staged already: its commit record makes them count,
      // unless an abort was written first (docs/transactions.md).
      if (write.stagedCommit) actions.push({ label: "decision", action: { Put: commitDecisionPut(tables, write.stagedCommit.attempt, write.stagedCommit.expiresAtSeconds) } });
      // The offsets' group check: the member is current, or (no member) the group is still empty.
      const offsets = write.offsets;
      if (offsets) actions.push({ label: "group-fence", action: offsetFenceCheck(tables, offsets.group, offsets.fence, write.appendTime) });
      for (const commit of write.offsets?.commits ?? []) {
        actions.push({ label: "offset", action: { Put: { TableName: tables.offsets, Item: offsetItem(write.offsets!.group, commit, write.appendTime) } } });
      }
      // The transaction's record and input index (transaction-trace-store.ts): committed with it or
      // not at all — and only when they fit the actions left: a trace is for looking, so a
      // transaction too wide for it commits without one rather than being refused.
      if (t) {
        const record = { ...t, committedAt: write.appendTime, group: offsets?.group, inputs: offsets?.commits ?? [], outputs: t.result };
        const puts = transactionRecordPuts(tables, record);
        if (actions.length + puts.length <= MAX_TRANSACTION_ACTIONS) for (const put of puts) actions.push({ label: "trace", action: { Put: put } });
      }
      try {
        await client.send(new TransactWriteCommand({ TransactItems: actions.map((a) => a.action) as never, ClientRequestToken: write.token }));
        return { status: "committed" };
      } catch (error) {
        if (!isTransactionCanceled(error)) throw writeFailure(error, "TransactWriteItems (commit transaction)");
        const failed = cancelledActions(error, actions);
        const retried = sentMoreThanOnce(error);
        const stateMismatch = failed.find((f) => f.label === "transactional-id" && f.code === "ConditionalCheckFailed");
        if (stateMismatch) return { status: "transaction-state-mismatch", state: toState(stateMismatch.oldItem), retried };
        const fenced = failed.find((f) => f.label === "group-fence" && f.code === "ConditionalCheckFailed");
        if (fenced && offsets) return { status: "member-fenced", error: offsetFenceError(fenced.oldItem, offsets.group, offsets.fence, write.appendTime), retried };
        if (failed.some((f) => f.label === "batch" && f.code === "ConditionalCheckFailed")) return { status: "slot-taken", retried };
        if (failed.some((f) => f.label === "decision" && f.code === "ConditionalCheckFailed")) return { status: "aborted", retried };
        if (failed.length > 0 && failed.every((f) => f.code === "TransactionConflict")) return { status: "conflict", retried };
        const mapped = writeFailure(error, "TransactWriteItems (commit transaction)");
        if (mapped.code !== "STORAGE_ERROR") throw mapped;
        throw new DynalogError("STORAGE_ERROR", `transaction cancelled: ${describeCancellation(failed)}`, { cause: error });
      }
    },
  };
}
