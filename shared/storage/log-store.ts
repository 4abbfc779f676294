/**
 * DynamoDB adapter for the partition log (DESIGN.md §1-2).
 *
 * Log table item (batch or void), key `p` = "<topicId>#<partition>", sort key `o` = base offset:
 *   k  "B" batch | "V" void        c  record count (offsets covered)
 *   d  record blob (binary)        z  compression codec, absent = none
 *   t  max record timestamp (ms)   a  append time (ms, writer's clock)
 *   x  TTL, epoch seconds (absent = keep forever)
 *   od record offsets of a compacted batch (absent = dense; record-offsets.ts)
 *   cv compaction version (absent = 0)   dh delete horizon of its tombstones (ms; compaction-store.ts)
 *   tx [producerId, epoch, sequence] of the transaction that wrote it (transaction-trace-store.ts)
 *   pi producer id of the idempotent producer that wrote it (absent for plain appends)
 *   st, sa  staging attempt and its start: a large transaction's batch not yet finalized
 *         (staged-transaction-store.ts, docs/transactions.md)
 * Counter item (partitions table), key `p`:
 *   next  first unreserved offset  ra  time of the latest reservation (ms)
 *   bw    bytes written: record-blob bytes of every reservation, added by the reservation's own
 *         UpdateItem (no extra request) and taken off when a reservation is given back
 *   hw    high-watermark hint      ls  log-start hint
 *   rt    token of the latest reservation: an SDK retry of a reservation whose response was lost
 *         finds its own token and gets its range back instead of reserving a second one
 *   cc, cr, ck, ch, cn  compaction checkpoint: cleaned-up-to offset, time, completeness, next tombstone horizon, records kept (compaction-store.ts)
 * Batch items are written by append-store.ts, voids over a dead writer's gap by void-fill.ts;
 * idempotent producer state and idempotency keys live in the producers table (producer-state.ts,
 * idempotency-key-state.ts).
 * Attribute names are one or two letters because every byte of an item is billed.
 */
import { compactionCheckpoint } from "./compaction-store.js";
import { randomUUID } from "node:crypto";
import {
  BatchGetCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient, paginateQuery } from "@aws-sdk/lib-dynamodb";
import type {
  LogEntry,
  LogStore,
  PartitionHead,
  PartitionRef,
  TransactionRef,
} from "../core/ports.js";
import type { CompressionCodec } from "../compression.js";
import { plainItem, storageFailure } from "./dynamo-errors.js";
import type { TableNames } from "./tables.js";
import { batchDelete, batchPut } from "./batch-write.js";
import { createAppender } from "./append-store.js";
import { createVoidFiller } from "./void-fill.js";
import { partitionKey } from "./log-keys.js";
import { decodeRecordOffsets } from "./record-offsets.js";
import { parseTransactionRef } from "./transaction-trace-store.js";

/** DynamoDB's limit on actions in one TransactWriteItems. */
export const MAX_TRANSACTION_ACTIONS = 100;
const BATCH_GET_LIMIT = 100;

export { partitionKey } from "./log-keys.js";

type Item = Record<string, unknown>;

function num(item: Item, name: string, fallback = 0): number {
  const value = item[name];
  return typeof value === "number" ? value : fallback;
}

/** Who wrote a batch (append-store.ts): `tx` for a transaction (its producer id included), `pi` for an idempotent producer. */
function writerOf(item: Item): { transaction?: TransactionRef; producerId?: number } {
  const transaction = parseTransactionRef(item["tx"]);
  if (transaction) return { transaction, producerId: transaction.producerId };
  return typeof item["pi"] === "number" ? { producerId: item["pi"] } : {};
}

function toEntry(item: Item): LogEntry {
  const baseOffset = num(item, "o");
  const count = num(item, "c", 1);
  const appendTime = num(item, "a");
  if (item["k"] === "V") return { kind: "void", baseOffset, count, appendTime };
  const blob = item["d"];
  const offsets = item["od"];
  return {
    kind: "batch",
    baseOffset,
    count,
    appendTime,
    codec: (typeof item["z"] === "string" ? item["z"] : "none") as CompressionCodec,
    blob: blob instanceof Uint8Array ? blob : new Uint8Array(0),
    maxTimestamp: num(item, "t"),
    // Compacted batches only (compaction-store.ts): everything else stays as it was written.
    ...(offsets instanceof Uint8Array ? { recordOffsets: decodeRecordOffsets(baseOffset, count, offsets) } : {}),
    ...(typeof item["cv"] === "number" ? { compactionVersion: item["cv"] } : {}),
    ...(typeof item["dh"] === "number" ? { deleteHorizon: item["dh"] } : {}),
    ...writerOf(item),
    // A large transaction's staged batch (staged-transaction-store.ts): not a batch until decided.
    ...(typeof item["st"] === "string" ? { staged: { attempt: item["st"], startedAt: num(item, "sa") } } : {}),
  };
}

function toHead(item: Item | undefined): PartitionHead {
  return {
    exists: item !== undefined,
    nextOffset: item ? num(item, "next") : 0,
    reservedAt: item ? num(item, "ra") : 0,
    highWatermarkHint: item ? num(item, "hw") : 0,
    logStartHint: item ? num(item, "ls") : 0,
    bytesWritten: item ? num(item, "bw") : 0,
    ...(item && typeof item["cc"] === "number" ? { compaction: compactionCheckpoint(item, item["cc"]) } : {}),
  };
}

function isConditionFailure(error: unknown): boolean {
  return error instanceof Error && error.name === "ConditionalCheckFailedException";
}

/** The item a failed condition saw (ReturnValuesOnConditionCheckFailure: ALL_OLD), plain. */
function conditionFailureItem(error: unknown): Item | undefined {
  const item = (error as { Item?: Record<string, unknown> }).Item;
  return item === undefined ? undefined : plainItem(item);
}

export function createDynamoLogStore(client: DynamoDBDocumentClient, tables: TableNames): LogStore {
  const counterKey = (ref: PartitionRef) => ({ p: partitionKey(ref) });

  const append = createAppender(client, tables);

  const fillWithVoids = createVoidFiller(client, tables);

  return {
    async readHead(ref) {
      try {
        // Strongly consistent: a consumer's next offset is at most the stored high-watermark hint
        // only if the hint read is not stale (log-reader.ts). The item is tiny: 1 read unit.
        const result = await client.send(new GetCommand({ TableName: tables.partitions, Key: counterKey(ref), ConsistentRead: true }));
        return toHead(result.Item);
      } catch (error) {
        throw storageFailure(error, "GetItem (partition head)");
      }
    },

    async readHeads(refs) {
      const byKey = new Map<string, Item>();
      try {
        for (let i = 0; i < refs.length; i += BATCH_GET_LIMIT) {
          let keys: Item[] = refs.slice(i, i + BATCH_GET_LIMIT).map(counterKey);
          while (keys.length > 0) {
            const result = await client.send(new BatchGetCommand({ RequestItems: { [tables.partitions]: { Keys: keys, ConsistentRead: true } } }));
            for (const item of result.Responses?.[tables.partitions] ?? []) byKey.set(String(item["p"]), item);
            keys = (result.UnprocessedKeys?.[tables.partitions]?.Keys ?? []) as Item[];
          }
        }
      } catch (error) {
        throw storageFailure(error, "BatchGetItem (partition heads)");
      }
      return refs.map((ref) => toHead(byKey.get(partitionKey(ref))));
    },

    async createPartitions(refs) {
      try {
        await batchPut(client, tables.partitions, refs.map((ref) => ({ ...counterKey(ref), next: 0, ra: 0, hw: 0, ls: 0 })));
      } catch (error) {
        throw storageFailure(error, "BatchWriteItem (create partitions)");
      }
    },

    async addPartitions(refs) {
      // One conditional put each: a blind put over a counter that exists would reset its offsets.
      await Promise.all(refs.map(async (ref) => {
        try {
          await client.send(new PutCommand({
            TableName: tables.partitions,
            Item: { ...counterKey(ref), next: 0, ra: 0, hw: 0, ls: 0 },
            ConditionExpression: "attribute_not_exists(p)",
          }));
        } catch (error) {
          if (error instanceof Error && error.name === "ConditionalCheckFailedException") return;
          throw storageFailure(error, "PutItem (add partition)");
        }
      }));
    },

    async reserve(ref, count, now, bytes = 0) {
      const token = randomUUID();
      const addBytes = bytes > 0;
      try {
        const result = await client.send(
          new UpdateCommand({
            TableName: tables.partitions,
            Key: counterKey(ref),
            // The counter must exist: a writer holding a deleted topic's id (a stale cache) must
            // not recreate it and append records nobody can see. The token makes the ADD
            // idempotent across the SDK's own retries: a retry after a lost response fails here
            // and reads its range from the item as it is.
            ConditionExpression: "attribute_exists(p) AND (attribute_not_exists(rt) OR rt <> :token)",
            UpdateExpression: `ADD #next :n${addBytes ? ", bw :bytes" : ""} SET ra = :now, rt = :token`,
            ExpressionAttributeNames: { "#next": "next" },
            ExpressionAttributeValues: { ":n": count, ":now": now, ":token": token, ...(addBytes ? { ":bytes": bytes } : {}) },
            ReturnValues: "UPDATED_NEW",
            ReturnValuesOnConditionCheckFailure: "ALL_OLD",
          }),
        );
        return num(result.Attributes ?? {}, "next") - count;
      } catch (error) {
        if (!isConditionFailure(error)) throw storageFailure(error, "UpdateItem (reserve offsets)");
        const counter = conditionFailureItem(error);
        if (counter === undefined) return undefined; // the partition is gone
        // Our own earlier attempt was applied and is still the latest reservation.
        return num(counter, "next") - count;
      }
    },

    async releaseReservation(ref, baseOffset, count, bytes = 0) {
      const takeBytes = bytes > 0;
      try {
        await client.send(
          new UpdateCommand({
            TableName: tables.partitions,
            Key: counterKey(ref),
            // Only while no later reservation exists: then nobody else knows these offsets.
            UpdateExpression: `SET #next = :base${takeBytes ? " ADD bw :bytes" : ""}`,
            ConditionExpression: "#next = :end",
            ExpressionAttributeNames: { "#next": "next" },
            ExpressionAttributeValues: { ":base": baseOffset, ":end": baseOffset + count, ...(takeBytes ? { ":bytes": -bytes } : {}) },
          }),
        );
        return true;
      } catch (error) {
        if (isConditionFailure(error)) return false;
        throw storageFailure(error, "UpdateItem (release reservation)");
      }
    },

    append,

    async voidOwnReservation(ref, baseOffset, count, now, expiresAtSeconds) {
      const item: Item = { p: partitionKey(ref), o: baseOffset, k: "V", c: count, a: now };
      if (expiresAtSeconds !== undefined) item["x"] = expiresAtSeconds;
      try {
        await client.send(new PutCommand({ TableName: tables.log, Item: item, ConditionExpression: "attribute_not_exists(o)" }));
        return true;
      } catch (error) {
        if (isConditionFailure(error)) return false;
        throw storageFailure(error, "PutItem (void own reservation)");
      }
    },

    async entryAt(ref, offset) {
      try {
        const result = await client.send(
          new GetCommand({ TableName: tables.log, Key: { p: partitionKey(ref), o: offset }, ConsistentRead: true }),
        );
        return result.Item ? toEntry(result.Item) : undefined;
      } catch (error) {
        throw storageFailure(error, "GetItem (log entry)");
      }
    },

    async entryBefore(ref, offset) {
      try {
        const result = await client.send(
          new QueryCommand({
            TableName: tables.log,
            KeyConditionExpression: "p = :p AND o < :o",
            ExpressionAttributeValues: { ":p": partitionKey(ref), ":o": offset },
            ScanIndexForward: false,
            Limit: 1,
            // Consistent: missing the batch that holds a mid-batch position would make that position
            // look like a gap, and an old gap is filled with voids — inside the batch.
            ConsistentRead: true,
          }),
        );
        const item = result.Items?.[0];
        return item ? toEntry(item) : undefined;
      } catch (error) {
        throw storageFailure(error, "Query (entry before)");
      }
    },

    async entriesFrom(ref, from, limit, below) {
      try {
        // Eventually consistent on purpose: a batch not yet visible is just a gap for a moment,
        // and readers never pass a gap (DESIGN.md §1.5). Half the read cost.
        const bounded = below !== undefined && below > from;
        const result = await client.send(
          new QueryCommand({
            TableName: tables.log,
            KeyConditionExpression: bounded ? "p = :p AND o BETWEEN :o AND :last" : "p = :p AND o >= :o",
            ExpressionAttributeValues: { ":p": partitionKey(ref), ":o": from, ...(bounded ? { ":last": below - 1 } : {}) },
            Limit: limit,
          }),
        );
        return { entries: (result.Items ?? []).map(toEntry), more: result.LastEvaluatedKey !== undefined };
      } catch (error) {
        throw storageFailure(error, "Query (log entries)");
      }
    },

    fillWithVoids,

    async raiseHints(ref, hints) {
      const raise = async (attribute: "hw" | "ls", value: number) => {
        try {
          await client.send(
            new UpdateCommand({
              TableName: tables.partitions,
              Key: counterKey(ref),
              UpdateExpression: `SET ${attribute} = :v`,
              ConditionExpression: `attribute_exists(p) AND (attribute_not_exists(${attribute}) OR ${attribute} < :v)`,
              ExpressionAttributeValues: { ":v": value },
            }),
          );
        } catch (error) {
          if (error instanceof Error && error.name === "ConditionalCheckFailedException") return;
          throw storageFailure(error, "UpdateItem (raise hint)");
        }
      };
      await Promise.all([
        hints.highWatermark !== undefined ? raise("hw", hints.highWatermark) : undefined,
        hints.logStart !== undefined ? raise("ls", hints.logStart) : undefined,
      ]);
    },

    async purge(ref) {
      try {
        await batchDelete(client, tables.partitions, [counterKey(ref)]);
        for await (const page of paginateQuery({ client }, {
              TableName: tables.log,
              KeyConditionExpression: "p = :p",
              ExpressionAttributeValues: { ":p": partitionKey(ref) },
              ProjectionExpression: "p, o",
            })) {
          await batchDelete(client, tables.log, (page.Items ?? []) as Item[]);
        }
      } catch (error) {
        throw storageFailure(error, "purge partition");
      }
    },
  };
}
