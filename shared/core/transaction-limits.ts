/**
 * How a transaction is written, decided before anything is (docs/transactions.md):
 *   - "one-request": everything fits ONE TransactWriteItems (100 actions, 4 MB): today's path;
 *   - "staged": the batch items do not fit, so they are staged first and a small commit
 *     TransactWriteItems (transactional id, commit record, group check, offsets) makes them count;
 *   - refused (TRANSACTION_TOO_LARGE): even that commit would not fit (too many offsets).
 */
import { DynalogError } from "../errors.js";
import type { EncodedPartition } from "./batches.js";
import type { OffsetCommit } from "./ports.js";

/** DynamoDB's limits on one TransactWriteItems. */
export const MAX_TRANSACTION_ACTIONS = 100;
export const MAX_TRANSACTION_BYTES = 4_000_000; // 4 MB, with room for DynamoDB's own accounting
/** Bytes an item adds beyond its record blob: keys, attribute names, numbers (generous). */
const BATCH_ITEM_OVERHEAD_BYTES = 200;
const OFFSET_ITEM_OVERHEAD_BYTES = 300;

export type TransactionShape = "one-request" | "staged";

/**
 * The trace items (transaction record + one index item per offset, transaction-trace-store.ts) are
 * not counted as actions: they ride along only when they fit, so tracing never shrinks what a
 * transaction can hold (their bytes, a few hundred per offset, are in the byte estimate).
 */
export function transactionShape(transactional: boolean, partitions: readonly EncodedPartition[], offsets: readonly OffsetCommit[], groupCheck: boolean): TransactionShape {
  const batchItems = partitions.reduce((sum, p) => sum + p.chunks.length, 0);
  const commitActions = (transactional ? 1 : 0) + offsets.length + (groupCheck ? 1 : 0);
  const offsetBytes =
    offsets.reduce((sum, o) => sum + OFFSET_ITEM_OVERHEAD_BYTES + Buffer.byteLength(o.metadata, "utf8") + o.topic.length, 0) +
    (transactional ? OFFSET_ITEM_OVERHEAD_BYTES + partitions.length * 300 : 0) +
    // The transaction record repeats the outputs and inputs; each index item is small.
    (transactional ? OFFSET_ITEM_OVERHEAD_BYTES + partitions.length * 300 + offsets.reduce((sum, o) => sum + 2 * OFFSET_ITEM_OVERHEAD_BYTES + o.topic.length, 0) : 0);
  const batchBytes = partitions.reduce((sum, p) => sum + p.chunks.reduce((s, c) => s + c.blob.length + BATCH_ITEM_OVERHEAD_BYTES, 0), 0);
  if (commitActions + batchItems <= MAX_TRANSACTION_ACTIONS && offsetBytes + batchBytes <= MAX_TRANSACTION_BYTES) return "one-request";
  if (batchItems === 0) {
    // Only offsets, and too many of them: staging records does not help.
    throw tooLarge(commitActions, offsetBytes, offsets.length, transactional, groupCheck, { batchItems, partitions: partitions.length });
  }
  // Staged: the commit carries the commit record instead of the batch items.
  if (commitActions + 1 <= MAX_TRANSACTION_ACTIONS && offsetBytes + OFFSET_ITEM_OVERHEAD_BYTES <= MAX_TRANSACTION_BYTES) return "staged";
  throw tooLarge(commitActions + 1, offsetBytes, offsets.length, transactional, groupCheck, { batchItems, partitions: partitions.length });
}

function tooLarge(actions: number, bytes: number, offsets: number, transactional: boolean, groupCheck: boolean, facts: { batchItems: number; partitions: number }): DynalogError {
  const details = { ...facts, offsets };
  if (actions > MAX_TRANSACTION_ACTIONS) {
    const parts = [`${offsets} offsets`, ...(transactional ? ["1 transactional id"] : []), ...(groupCheck ? ["1 group check"] : []), ...(facts.batchItems > 0 ? ["1 commit record"] : [])];
    return new DynalogError(
      "TRANSACTION_TOO_LARGE",
      `The transaction's commit needs ${actions} DynamoDB actions (${parts.join(", ")}); one commit holds at most ${MAX_TRANSACTION_ACTIONS}. Records of any size are staged, but the offsets must fit one commit: commit at most ${MAX_TRANSACTION_ACTIONS - (actions - offsets)} offsets per transaction`,
      { details: { ...details, limit: "actions", actions, maxActions: MAX_TRANSACTION_ACTIONS } },
    );
  }
  return new DynalogError("TRANSACTION_TOO_LARGE", `The transaction's offsets are about ${bytes} bytes stored; one commit holds at most ${MAX_TRANSACTION_BYTES}`, {
    details: { ...details, limit: "bytes", bytes, maxBytes: MAX_TRANSACTION_BYTES },
  });
}
