/**
 * History samples for the console's charts (shared/core/history.ts, docs/console.md, "History"),
 * in the producers table — the one table with a TTL attribute that nothing scans (the offsets
 * table is scanned by group listing and its `x` is a lease in ms, the security table by key
 * listing), so a day of samples costs nothing but their own writes, reads and storage:
 *
 *   pk "ht#<topic name>", sk "<bucket start, ms, 13 digits>"   one topic sample
 *     a  taken at (ms)     i  topic id      H  Σ high watermarks     B  Σ bytes written
 *     d  per partition, JSON {"h":[…],"b":[…]} (index = partition); absent past the item budget
 *     x  TTL, epoch seconds
 *   pk "hg#<group id>", sk "<bucket start>"                    one group sample
 *     a  taken at (ms)     L  total lag     o  topics left out of d (the smallest lags)
 *     d  JSON [[topic, topicId, lag, [[partition, committed offset, high watermark], …] | null], …]
 *     x  TTL
 *
 * Every write is a put conditional on the bucket's item not existing: two samplers in the same
 * bucket (a retried schedule, the local timer beside a test) write it once and never overwrite.
 * The "ht#"/"hg#" prefixes stay clear of the table's other keys ("<topicId>#<partition>", "pid#",
 * "txn#", "txr#", "txi#"), and let IAM limit the sampler's writes to them (dynamodb:LeadingKeys).
 * Padded sort keys keep the buckets in time order, so a window is one Query.
 */
import { PutCommand, paginateQuery, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { GroupSample, GroupTopicSample, HistoryStore, TopicSample } from "../core/ports.js";
import * as z from "../zod.js";
import { storageFailure, writeFailure } from "./dynamo-errors.js";
import type { TableNames } from "./tables.js";

export const TOPIC_HISTORY_PREFIX = "ht#";
export const GROUP_HISTORY_PREFIX = "hg#";

/**
 * Most bytes of per-partition detail (`d`) one item holds: every KB is a write unit, and an item
 * must stay far below DynamoDB's 400 KB. A 1,000-partition topic (MAX_PARTITIONS) fits (~26 KB);
 * past it only the totals are kept.
 */
export const HISTORY_DETAIL_BUDGET_BYTES = 32_000;

const bucketKey = (bucket: number) => String(bucket).padStart(13, "0");

const nonNegative = z.number().check(z.int(), z.nonnegative());
const topicDetailSchema = z.object({ h: z.array(nonNegative), b: z.array(nonNegative) });
const groupDetailSchema = z.array(z.tuple([z.string(), z.string(), nonNegative, z.nullable(z.array(z.tuple([nonNegative, nonNegative, nonNegative])))]));

type Item = Record<string, unknown>;

/** The item's `d` for a topic sample, or undefined when it would not fit the budget. */
export function topicDetail(sample: TopicSample): string | undefined {
  if (!sample.partitions) return undefined;
  const detail = JSON.stringify({ h: sample.partitions.map((p) => p.highWatermark), b: sample.partitions.map((p) => p.bytesWritten) });
  return Buffer.byteLength(detail) <= HISTORY_DETAIL_BUDGET_BYTES ? detail : undefined;
}

/**
 * The item's `d` for a group sample and how many topics it leaves out: per-partition detail
 * while it fits, else totals per topic, else the topics with the largest lag that fit.
 */
export function groupDetail(sample: GroupSample): { detail: string; omittedTopics: number } {
  const encode = (topics: readonly GroupTopicSample[], withPartitions: boolean) =>
    JSON.stringify(topics.map((t) => [t.topic, t.topicId, t.lag, withPartitions && t.partitions ? t.partitions.map((p) => [p.partition, p.committedOffset, p.highWatermark]) : null]));
  const full = encode(sample.topics, true);
  if (Buffer.byteLength(full) <= HISTORY_DETAIL_BUDGET_BYTES) return { detail: full, omittedTopics: sample.omittedTopics };
  const totals = encode(sample.topics, false);
  if (Buffer.byteLength(totals) <= HISTORY_DETAIL_BUDGET_BYTES) return { detail: totals, omittedTopics: sample.omittedTopics };
  const byLag = [...sample.topics].sort((a, b) => b.lag - a.lag);
  const kept: GroupTopicSample[] = [];
  let bytes = 2;
  for (const topic of byLag) {
    const size = Buffer.byteLength(encode([topic], false)) - 1; // minus the brackets, plus a comma
    if (bytes + size > HISTORY_DETAIL_BUDGET_BYTES) break;
    kept.push(topic);
    bytes += size;
  }
  return { detail: encode(kept, false), omittedTopics: sample.omittedTopics + sample.topics.length - kept.length };
}

function parseDetail<T>(schema: z.ZodMiniType<T>, raw: unknown): T | undefined {
  if (typeof raw !== "string") return undefined;
  try {
    const parsed = schema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** A stored topic sample, or undefined for an item that is not one (never trusted blindly). */
export function toTopicSample(item: Item): TopicSample | undefined {
  const at = item["a"], topicId = item["i"], hw = item["H"], bw = item["B"];
  if (typeof at !== "number" || typeof topicId !== "string" || typeof hw !== "number" || typeof bw !== "number") return undefined;
  const detail = parseDetail(topicDetailSchema, item["d"]);
  const partitions = detail && detail.h.length === detail.b.length ? detail.h.map((h, i) => ({ highWatermark: h, bytesWritten: detail.b[i]! })) : null;
  return { at, topicId, highWatermark: hw, bytesWritten: bw, partitions };
}

export function toGroupSample(item: Item): GroupSample | undefined {
  const at = item["a"], totalLag = item["L"];
  const detail = parseDetail(groupDetailSchema, item["d"]);
  if (typeof at !== "number" || typeof totalLag !== "number" || !detail) return undefined;
  return {
    at,
    totalLag,
    omittedTopics: typeof item["o"] === "number" ? item["o"] : 0,
    topics: detail.map(([topic, topicId, lag, partitions]) => ({
      topic,
      topicId,
      lag,
      partitions: partitions && partitions.map(([partition, committedOffset, highWatermark]) => ({ partition, committedOffset, highWatermark })),
    })),
  };
}

export function createDynamoHistoryStore(client: DynamoDBDocumentClient, tables: TableNames): HistoryStore {
  const table = tables.producers;

  const putOnce = async (item: Item, what: string): Promise<"written" | "exists"> => {
    try {
      await client.send(new PutCommand({ TableName: table, Item: item, ConditionExpression: "attribute_not_exists(pk)" }));
      return "written";
    } catch (error) {
      if (error instanceof Error && error.name === "ConditionalCheckFailedException") return "exists";
      throw writeFailure(error, `PutItem (${what} history sample)`);
    }
  };

  const query = async (pk: string, from: number, to: number): Promise<Item[]> => {
    const items: Item[] = [];
    try {
      // Eventually consistent: a chart decides nothing, and a sample written a moment ago shows next time.
      for await (const page of paginateQuery({ client }, {
        TableName: table,
        KeyConditionExpression: "pk = :pk AND sk BETWEEN :from AND :to",
        ExpressionAttributeValues: { ":pk": pk, ":from": bucketKey(Math.max(0, from)), ":to": bucketKey(Math.max(0, to)) },
      })) {
        items.push(...((page.Items ?? []) as Item[]));
      }
    } catch (error) {
      throw storageFailure(error, "Query (history samples)");
    }
    return items;
  };

  return {
    putTopicSample(topic, bucket, sample, expiresAt) {
      const detail = topicDetail(sample);
      return putOnce(
        { pk: TOPIC_HISTORY_PREFIX + topic, sk: bucketKey(bucket), a: sample.at, i: sample.topicId, H: sample.highWatermark, B: sample.bytesWritten, ...(detail !== undefined && { d: detail }), x: expiresAt },
        "topic",
      );
    },

    putGroupSample(group, bucket, sample, expiresAt) {
      const { detail, omittedTopics } = groupDetail(sample);
      return putOnce({ pk: GROUP_HISTORY_PREFIX + group, sk: bucketKey(bucket), a: sample.at, L: sample.totalLag, o: omittedTopics, d: detail, x: expiresAt }, "group");
    },

    async topicSamples(topic, from, to) {
      return (await query(TOPIC_HISTORY_PREFIX + topic, from, to)).flatMap((item) => toTopicSample(item) ?? []);
    },

    async groupSamples(group, from, to) {
      return (await query(GROUP_HISTORY_PREFIX + group, from, to)).flatMap((item) => toGroupSample(item) ?? []);
    },
  };
}
