/**
 * Producing for every produce-shaped route of the dialect (JSON bodies, the curl forms, webhooks):
 * the reserved idempotency-key header, then one core produce per record (docs/upstash.md).
 */
import type { Context } from "hono";
import type { Broker } from "../../core/broker.js";
import type { ProduceRecord } from "../../core/produce.js";
import { DynalogError } from "../../errors.js";
import { MAX_IDEMPOTENCY_KEY_LENGTH } from "../../limits.js";
import { authorize, topic, type AuthEnv } from "../authorization.js";
import { toProduceRecord } from "./mapping.js";
import type { UpstashProduceRecord } from "./schemas.js";

/**
 * The record header whose value names a write, so a blind retry of it writes nothing
 * (ProduceInput.idempotencyKey). Matched case-insensitively, like an HTTP header — a webhook's HTTP
 * headers become record headers, so a sender sets it as one. Vendor-prefixed so that an
 * application's own "Idempotency-Key" header keeps meaning only what it meant.
 */
export const IDEMPOTENCY_HEADER = "Dynalog-Idempotency-Key";

/** Each record is its own core produce: capped so a request ends well within Lambda's time. */
export const MAX_RECORDS_PER_UPSTASH_PRODUCE = 500;

/** A record on its way to the core: where it goes, what it is, and the write's name (if any). */
export interface OutgoingRecord {
  readonly topic: string;
  readonly record: ProduceRecord;
  readonly idempotencyKey?: string;
}

export interface ProducedRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly timestamp: number;
}

/** The idempotency key among a record's headers; two of them, an empty one or a too long one → 400. */
export function idempotencyKeyOf(headers: readonly { readonly key: string; readonly value: string }[]): string | undefined {
  const found = headers.filter((h) => h.key.toLowerCase() === IDEMPOTENCY_HEADER.toLowerCase());
  if (found.length === 0) return undefined;
  if (found.length > 1) throw new DynalogError("INVALID_REQUEST", `A record carries at most one ${IDEMPOTENCY_HEADER} header, got ${found.length}`);
  const value = found[0]!.value;
  if (value.length === 0 || value.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    throw new DynalogError("INVALID_REQUEST", `Header ${IDEMPOTENCY_HEADER} must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters, got ${value.length}`, {
      details: { header: IDEMPOTENCY_HEADER, length: value.length, limit: MAX_IDEMPOTENCY_KEY_LENGTH },
    });
  }
  return value;
}

/** A JSON record of the dialect, validated (its idempotency header included) before anything is written. */
export function outgoing(record: UpstashProduceRecord): OutgoingRecord {
  return { topic: record.topic, record: toProduceRecord(record), idempotencyKey: idempotencyKeyOf(record.headers ?? []) };
}

async function produceOne(c: Context<AuthEnv>, broker: Pick<Broker, "produce">, out: OutgoingRecord): Promise<ProducedRecord> {
  const now = Date.now();
  const result = await broker.produce({ topic: out.topic, records: [out.record], principal: c.var.principal, idempotencyKey: out.idempotencyKey });
  const written = result.partitions[0]!;
  if ("error" in written) throw written.error;
  // A write named by a key answers the append time the core stamped (the first write's, on a retry).
  return { topic: out.topic, partition: written.partition, offset: written.baseOffset, timestamp: out.record.timestamp ?? written.appendTime ?? now };
}

/**
 * Writes the records and answers their places in request order. Each topic's records in order, one
 * at a time (so each gets its own partition and offset back); topics in parallel.
 */
export async function produceRecords(c: Context<AuthEnv>, broker: Pick<Broker, "produce">, records: readonly OutgoingRecord[]): Promise<ProducedRecord[]> {
  if (records.length > MAX_RECORDS_PER_UPSTASH_PRODUCE) {
    throw new DynalogError("REQUEST_TOO_LARGE", `At most ${MAX_RECORDS_PER_UPSTASH_PRODUCE} records per produce request on this route, got ${records.length}`);
  }
  await authorize(c, ...records.map((r) => topic(r.topic, "Write")));
  const byTopic = new Map<string, number[]>();
  records.forEach((r, i) => byTopic.set(r.topic, [...(byTopic.get(r.topic) ?? []), i]));
  const answers: ProducedRecord[] = new Array<ProducedRecord>(records.length);
  await Promise.all(
    [...byTopic.values()].map(async (indexes) => {
      for (const i of indexes) answers[i] = await produceOne(c, broker, records[i]!);
    }),
  );
  return answers;
}
