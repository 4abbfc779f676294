/** Request parsing and response shaping that several route modules share. */
import type { Context } from "hono";
import type { ProduceRecord } from "../core/produce.js";
import type { TopicRecord } from "../core/ports.js";
import { decodeHeaders, decodeNullableBytes } from "./encoding.js";
import { parseWith } from "./request-body.js";
import { encodingSchema, queryInteger, type Encoding, type RecordBody } from "./schemas.js";

export function queryInt(c: Context, name: string): number | undefined {
  const raw = c.req.query(name);
  return raw === undefined ? undefined : parseWith(queryInteger, raw, `query.${name}`);
}

export function pathInt(c: Context, name: string): number {
  return parseWith(queryInteger, c.req.param(name), `path.${name}`);
}

export function queryEncoding(c: Context): Encoding {
  const raw = c.req.query("encoding");
  return raw === undefined ? "base64" : parseWith(encodingSchema, raw, "query.encoding");
}

export function toProduceRecord(record: Omit<RecordBody, "partition"> & { partition?: number }, encoding: Encoding, where: string): ProduceRecord {
  return {
    key: decodeNullableBytes(record.key, encoding, `${where}.key`),
    value: decodeNullableBytes(record.value, encoding, `${where}.value`),
    headers: decodeHeaders(record.headers, encoding, where),
    timestamp: record.timestamp,
    partition: record.partition,
  };
}

export function topicJson(topic: TopicRecord) {
  return {
    name: topic.name,
    topicId: topic.topicId,
    partitionCount: topic.partitions,
    retentionMs: topic.retentionMs,
    compression: topic.compression,
    timestampType: topic.timestampType,
    cleanupPolicy: topic.cleanupPolicy,
    deleteRetentionMs: topic.deleteRetentionMs,
    minCompactionLagMs: topic.minCompactionLagMs,
    maxMessageBytes: topic.maxMessageBytes,
    createdAt: new Date(topic.createdAt).toISOString(),
  };
}

export async function filterAsync<T>(items: readonly T[], keep: (item: T) => Promise<boolean>): Promise<T[]> {
  const verdicts = await Promise.all(items.map(keep));
  return items.filter((_, i) => verdicts[i]);
}
