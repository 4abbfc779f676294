/**
 * Transaction records for tracing a message (docs/console.md, "Tracing a message"), producers table.
 * Written by a transactional commit IN its TransactWriteItems (transaction-store.ts), so a record
 * exists exactly when its transaction committed:
 *
 * Record item, pk "txr#<producerId>", sk "<epoch>#<sequence>" (both zero-padded, so they sort):
 *   tid  transactional id     ca  committedAt (ms)      g  the group whose offsets it committed
 *   in   inputs  [[topic, topicId, partition, offset], …] (the committed offsets)
 *   out  outputs [[topic, partition, baseOffset, lastOffset], …]
 *   x    TTL (epoch seconds): TRANSACTION_RECORD_TTL_SECONDS after the commit
 * Keyed by producer id rather than transactional id: the batch items it wrote carry only
 * tx = [producerId, epoch, sequence] (a few bytes), and that is all a reader needs to get here.
 *
 * Input index item, one per committed offset, pk "txi#<group>#<topicId>#<partition>",
 * sk "<committed offset>#<producerId>.<epoch>.<sequence>" (offset zero-padded), holding the record's
 * key (pid, e, s) and the same TTL. The transaction that consumed record o of that partition for
 * the group is the first index item with committed offset > o: one Query, Limit 1.
 */
import { GetCommand, QueryCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { OffsetCommit, TransactionPartitionResult, TransactionRecord, TransactionRef } from "../core/ports.js";
import { storageFailure } from "./dynamo-errors.js";
import type { TableNames } from "./tables.js";

type Item = Record<string, unknown>;

/** Transaction records live 7 days: long enough to trace today's copies, short enough to cost little. */
export const TRANSACTION_RECORD_TTL_SECONDS = 7 * 24 * 3600;

const pad = (n: number, width: number) => String(n).padStart(width, "0");
const recordKey = (ref: TransactionRef) => ({ pk: `txr#${ref.producerId}`, sk: `${pad(ref.epoch, 5)}#${pad(ref.sequence, 16)}` });
const indexPk = (group: string, topicId: string, partition: number) => `txi#${group}#${topicId}#${partition}`;
const offsetSk = (offset: number) => pad(offset, 16);

/** The compact reference a batch item carries (attribute `tx`). */
export function transactionRefAttribute(ref: TransactionRef): number[] {
  return [ref.producerId, ref.epoch, ref.sequence];
}

export function parseTransactionRef(value: unknown): TransactionRef | undefined {
  if (!Array.isArray(value) || value.length !== 3 || !value.every((v) => typeof v === "number")) return undefined;
  const [producerId, epoch, sequence] = value as [number, number, number];
  return { producerId, epoch, sequence };
}

export interface TransactionRecordInput extends TransactionRef {
  readonly transactionalId: string;
  readonly committedAt: number;
  readonly group?: string;
  readonly inputs: readonly OffsetCommit[];
  readonly outputs: readonly TransactionPartitionResult[];
}

/** The Puts a transactional commit adds to its TransactWriteItems: the record and one index item per input. */
export function transactionRecordPuts(tables: TableNames, record: TransactionRecordInput): Item[] {
  const expiresAt = Math.floor(record.committedAt / 1000) + TRANSACTION_RECORD_TTL_SECONDS;
  const recordItem: Item = {
    ...recordKey(record),
    tid: record.transactionalId,
    ca: record.committedAt,
    in: record.inputs.map((i) => [i.topic, i.topicId, i.partition, i.offset]),
    out: record.outputs.map((o) => [o.topic, o.partition, o.baseOffset, o.lastOffset]),
    x: expiresAt,
  };
  if (record.group !== undefined) recordItem["g"] = record.group;
  const puts: Item[] = [{ TableName: tables.producers, Item: recordItem }];
  if (record.group !== undefined) {
    for (const input of record.inputs) {
      puts.push({
        TableName: tables.producers,
        Item: {
          pk: indexPk(record.group, input.topicId, input.partition),
          sk: `${offsetSk(input.offset)}#${record.producerId}.${record.epoch}.${record.sequence}`,
          pid: record.producerId,
          e: record.epoch,
          s: record.sequence,
          x: expiresAt,
        },
      });
    }
  }
  return puts;
}

function toRecord(item: Item | undefined): TransactionRecord | undefined {
  if (!item || typeof item["tid"] !== "string") return undefined;
  const [epoch, sequence] = String(item["sk"]).split("#").map(Number) as [number, number];
  const producerId = Number(String(item["pk"]).slice("txr#".length));
  const rows = (name: string) => (Array.isArray(item[name]) ? (item[name] as unknown[][]) : []);
  return {
    transactionalId: item["tid"],
    producerId,
    epoch,
    sequence,
    committedAt: typeof item["ca"] === "number" ? item["ca"] : 0,
    ...(typeof item["g"] === "string" ? { group: item["g"] } : {}),
    inputs: rows("in").map(([topic, topicId, partition, offset]) => ({ topic: String(topic), topicId: String(topicId), partition: Number(partition), offset: Number(offset) })),
    outputs: rows("out").map(([topic, partition, baseOffset, lastOffset]) => ({ topic: String(topic), partition: Number(partition), baseOffset: Number(baseOffset), lastOffset: Number(lastOffset) })),
  };
}

export function createTransactionTraceReader(client: DynamoDBDocumentClient, tables: TableNames) {
  async function readRecord(ref: TransactionRef): Promise<TransactionRecord | undefined> {
    try {
      const result = await client.send(new GetCommand({ TableName: tables.producers, Key: recordKey(ref) }));
      return toRecord(result.Item);
    } catch (error) {
      throw storageFailure(error, "GetItem (transaction record)");
    }
  }

  async function consumedBy(group: string, topicId: string, partition: number, offset: number): Promise<TransactionRecord | undefined> {
    let first: Item | undefined;
    try {
      const result = await client.send(
        new QueryCommand({
          TableName: tables.producers,
          // sk >= "<offset + 1>": committed offsets past `offset` (whatever follows the "#").
          KeyConditionExpression: "pk = :pk AND sk >= :from",
          ExpressionAttributeValues: { ":pk": indexPk(group, topicId, partition), ":from": offsetSk(offset + 1) },
          Limit: 1,
        }),
      );
      first = result.Items?.[0];
    } catch (error) {
      throw storageFailure(error, "Query (transaction input index)");
    }
    const ref = parseTransactionRef(first && [first["pid"], first["e"], first["s"]]);
    return ref && readRecord(ref);
  }

  return { readRecord, consumedBy };
}
