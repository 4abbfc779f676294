/**
 * Between Dynalog's core types and the Upstash dialect's JSON: messages, timestamps, errors.
 */
import type { Context } from "hono";
import type { Broker } from "../../core/broker.js";
import type { FetchedRecord } from "../../core/log-reader.js";
import type { ProduceRecord } from "../../core/produce.js";
import { DynalogError } from "../../errors.js";
import { FETCH_MAX_WAIT_MS } from "../../limits.js";
import type { AuthEnv } from "../authorization.js";
import type { UpstashProduceRecord } from "./schemas.js";

/** `B`: the part of the broker the handler calls (see compose.ts Handler). */
export type UpstashHandler<B = Broker> = (c: Context<AuthEnv>, broker: B) => Promise<Response>;

/** The first path segment of every route of the dialect (all outside /v1). */
const UPSTASH_ROOTS = new Set(["produce", "fetch", "consume", "commit", "committed", "topics", "consumers", "delete-consumer", "offsets", "webhook"]);

/** Whether a path belongs to the dialect, so its errors take the dialect's shape. */
export function isUpstashPath(path: string): boolean {
  return UPSTASH_ROOTS.has(path.split("/")[1] ?? "");
}

/**
 * Timestamps below 10^11 are seconds, others milliseconds: 10^11 ms is March 1973 and 10^11 s is
 * the year 5138, so no timestamp a client means is ambiguous.
 */
export const SECONDS_BELOW = 100_000_000_000;

export function toMilliseconds(timestamp: number): number {
  return timestamp < SECONDS_BELOW ? timestamp * 1000 : timestamp;
}

const utf8 = new TextEncoder();
const text = new TextDecoder();

export function toProduceRecord(record: UpstashProduceRecord): ProduceRecord {
  return {
    key: record.key === undefined ? null : utf8.encode(record.key),
    value: utf8.encode(record.value),
    headers: (record.headers ?? []).map((h) => ({ key: h.key, value: utf8.encode(h.value) })),
    timestamp: record.timestamp === undefined ? undefined : toMilliseconds(record.timestamp),
    partition: record.partition,
  };
}

export interface UpstashMessage {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly timestamp: number;
  readonly key: string;
  readonly value: string;
  readonly headers: readonly { readonly key: string; readonly value: string }[];
}

/** A fetched record as @upstash/kafka's Message: strings throughout, "" for a null key or value. */
export function toMessage(topic: string, partition: number, record: FetchedRecord): UpstashMessage {
  return {
    topic,
    partition,
    offset: record.offset,
    timestamp: record.timestamp,
    key: record.key ? text.decode(record.key) : "",
    value: record.value ? text.decode(record.value) : "",
    headers: record.headers.map((h) => ({ key: h.key, value: h.value ? text.decode(h.value) : "" })),
  };
}

/**
 * Errors as the Upstash client reads them: `error` is the message it throws (UpstashError), and
 * `status` the HTTP status; Dynalog's code, retriable and outcome (and details) ride along.
 */
export function upstashErrorResponse(error: DynalogError): Response {
  return new Response(JSON.stringify({ ...error.toJSON(), error: error.message, status: error.status }), {
    status: error.status,
    headers: { "content-type": "application/json; charset=utf-8" },
  });
}

/** Fetches the given partitions and returns their records as messages; a partition's error is the request's. */
export async function fetchMessages(
  broker: Pick<Broker, "fetch">,
  partitions: readonly { topic: string; partition: number; offset: number }[],
  timeoutMs: number | undefined,
): Promise<{ messages: UpstashMessage[]; next: { topic: string; partition: number; offset: number }[] }> {
  if (partitions.length === 0) return { messages: [], next: [] };
  const results = await broker.fetch({ partitions, maxWaitMs: Math.min(timeoutMs ?? 0, FETCH_MAX_WAIT_MS) });
  const messages: UpstashMessage[] = [];
  const next: { topic: string; partition: number; offset: number }[] = [];
  for (const result of results) {
    if ("error" in result) throw result.error;
    for (const record of result.records) messages.push(toMessage(result.topic, result.partition, record));
    next.push({ topic: result.topic, partition: result.partition, offset: result.nextOffset });
  }
  return { messages, next };
}
