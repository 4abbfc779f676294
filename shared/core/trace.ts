/**
 * Tracing a message (docs/console.md, "Tracing a message"): from one record, the groups that have
 * committed past it, the transactions that consumed it (copiers: what they wrote), and — when a
 * transaction wrote it — that transaction and its inputs. Reads only: the record's batch item, each
 * group's committed offsets of the topic, and the transaction records (TransactionStore).
 */
import { DynalogError } from "../errors.js";
import type { BrokerContext } from "./context.js";
import type { ConsumerGroups } from "./groups.js";
import type { TransactionRecord } from "./ports.js";
import { mapWithConcurrency, requirePartition, validateTopicName, type TopicCatalog } from "./topics.js";

export interface RecordTrace {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  /** The stored batch that holds the record. */
  readonly batch: { readonly baseOffset: number; readonly count: number; readonly appendTime: number; readonly maxTimestamp: number };
  readonly transactional: boolean;
  /** The producer id that wrote the record, when the batch names one (idempotent producers, transactional commits). */
  readonly producerId: number | null;
  /** Groups whose committed offset for the partition is past the record: they consumed it. */
  readonly groups: readonly { readonly group: string; readonly committedOffset: number; readonly committedAt: number }[];
  /** For each such group, the transaction that committed past the record (copiers), when its record is still kept. */
  readonly consumedBy: readonly TransactionRecord[];
  /** The transaction that wrote the record, when one did and its record is still kept. */
  readonly producedBy: TransactionRecord | null;
}

export async function traceRecord(ctx: BrokerContext, topics: TopicCatalog, groups: ConsumerGroups, topicName: string, partition: number, offset: number): Promise<RecordTrace> {
  validateTopicName(topicName);
  const topic = await topics.require(topicName, { fresh: true });
  const ref = requirePartition(topic, partition);
  const noRecord = () =>
    new DynalogError("OFFSET_OUT_OF_RANGE", `Topic '${topic.name}' partition ${partition} has no record at offset ${offset}`, { details: { topic: topic.name, partition, offset } });
  if (!Number.isSafeInteger(offset) || offset < 0) throw noRecord();
  const entry = await ctx.storage.log.entryBefore(ref, offset + 1);
  if (!entry || entry.kind !== "batch" || offset >= entry.baseOffset + entry.count || (entry.recordOffsets && !entry.recordOffsets.includes(offset))) throw noRecord();
  // A large transaction's staged batch is a record only once its attempt committed (docs/transactions.md).
  if (entry.staged && (await ctx.storage.staged.readDecision(entry.staged.attempt)) !== "committed") throw noRecord();

  const listed = await groups.list();
  const committed = await mapWithConcurrency(listed, 8, async ({ group }) => {
    const offsets = await ctx.storage.offsets.read(group, topic.name, topic.topicId);
    const mine = offsets.find((o) => o.partition === partition);
    return mine && mine.offset > offset ? { group, committedOffset: mine.offset, committedAt: mine.committedAt } : undefined;
  });
  const past = committed.filter((g): g is NonNullable<typeof g> => g !== undefined);
  const consumers = await mapWithConcurrency(past, 8, ({ group }) => ctx.storage.transactions.consumedBy(group, topic.topicId, partition, offset));
  const producedBy = entry.transaction ? await ctx.storage.transactions.readRecord(entry.transaction) : undefined;
  return {
    topic: topic.name,
    partition,
    offset,
    batch: { baseOffset: entry.baseOffset, count: entry.count, appendTime: entry.appendTime, maxTimestamp: entry.maxTimestamp },
    transactional: entry.transaction !== undefined,
    producerId: entry.producerId ?? null,
    groups: past,
    consumedBy: consumers.filter((c): c is TransactionRecord => c !== undefined),
    producedBy: producedBy ?? null,
  };
}
