/**
 * Messages ↔ the wire. Keys, values and header values are bytes; on the wire they are strings in
 * one encoding per request: "utf8" when every one of them is a JS string (readable, no base64
 * overhead), "base64" as soon as one is binary. Fetched data is always asked for in base64, so
 * consumers get exact bytes (Buffers in Node, Bun and Deno; TextBytes elsewhere: see bytes.ts).
 */
import { fromBase64, toBase64, utf8Bytes, utf8Length, type MessageBytes } from "./bytes.js";
import { DynalogError } from "./errors.js";
import { encodedRecordBytes, eventFragmentBytes, MAX_RECORD_BYTES } from "./wire-size.js";

/** A key, value or header value to produce. Node's Buffer is a Uint8Array, so it is accepted too. */
export type Bytes = Uint8Array | string;

/** Headers as KafkaJS takes them (a repeated key is an array), or Dynalog's ordered list. */
export type IHeaders = { [key: string]: Bytes | null | undefined | (Bytes | null)[] } | readonly { readonly key: string; readonly value: Bytes | null }[];

/** A message to produce (KafkaJS's `Message`). */
export interface Message {
  readonly key?: Bytes | null;
  readonly value: Bytes | null;
  /** An explicit partition wins over the key. */
  readonly partition?: number;
  readonly headers?: IHeaders;
  /** CreateTime in ms (number or numeric string); default: the broker's append time. */
  readonly timestamp?: number | string;
}

/** A consumed message (KafkaJS's `KafkaMessage`, with numeric offsets and timestamps). */
export interface KafkaMessage {
  readonly key: MessageBytes | null;
  readonly value: MessageBytes | null;
  /** Repeated header keys become arrays, as in KafkaJS; null header values stay null. */
  readonly headers: { [key: string]: MessageBytes | null | (MessageBytes | null)[] };
  readonly timestamp: number;
  readonly offset: number;
  /** Key + value + header bytes. */
  readonly size: number;
  /**
   * Only with the consumer's `recordMetadata: true`: the idempotent or transactional producer that
   * wrote the record, or null (a plain producer, or a batch written before the broker recorded it).
   */
  readonly producerId?: number | null;
  /** Only with the consumer's `recordMetadata: true`: whether a transactional commit wrote the record. */
  readonly transactional?: boolean;
}

export type WireEncoding = "utf8" | "base64";

/** A validated message, kept in its original form until the request's encoding is known. */
export interface PreparedRecord {
  readonly key: Bytes | null;
  readonly value: Bytes | null;
  readonly headers: readonly { readonly key: string; readonly value: Bytes | null }[];
  readonly timestamp: number | undefined;
  /** True when key, value and every header value are strings (or null). */
  readonly text: boolean;
  /** The record's size as the broker checks it against its per-record limit (encodedRecordBytes). */
  readonly size: number;
  /** Most bytes the record adds to a produce body as the broker counts it (in the Lambda event), in either encoding. */
  readonly requestBytes: number;
}

export interface WireRecord {
  key: string | null;
  value: string | null;
  headers?: { key: string; value: string | null }[];
  timestamp?: number;
}

/** The broker's per-record limit (key + value + headers, encoded as the broker stores them). */
export const MAX_RECORD_WIRE_BYTES = MAX_RECORD_BYTES;
export const MAX_HEADERS_PER_RECORD = 100;

export function prepareRecord(message: Message, where: string): PreparedRecord {
  if (message === null || typeof message !== "object") throw new TypeError(`${where} must be a message object`);
  if (!("value" in message)) throw new TypeError(`${where} has no value (use null for a tombstone)`);
  const key = message.key ?? null;
  const value = message.value;
  checkBytes(key, `${where}.key`);
  checkBytes(value, `${where}.value`);
  const headers = headerList(message.headers, where);
  if (headers.length > MAX_HEADERS_PER_RECORD) throw new RangeError(`${where} has ${headers.length} headers; at most ${MAX_HEADERS_PER_RECORD} are allowed`);
  let timestamp: number | undefined;
  if (message.timestamp !== undefined && message.timestamp !== null) {
    timestamp = Number(message.timestamp);
    if (!Number.isSafeInteger(timestamp) || timestamp < 0) throw new RangeError(`${where}.timestamp must be a non-negative integer (ms since 1970), got ${String(message.timestamp)}`);
  }
  const text = isText(key) && isText(value) && headers.every((h) => isText(h.value));
  const size = encodedRecordBytes({ key: byteLength(key), value: byteLength(value), headers: headers.map((h) => ({ key: utf8Length(h.key), value: byteLength(h.value) })) });
  if (size > MAX_RECORD_BYTES) {
    throw new DynalogError({
      code: "RECORD_TOO_LARGE",
      message: `${where} is ${size} bytes encoded; one record may be at most ${MAX_RECORD_BYTES} (RECORD_TOO_LARGE)`,
      retriable: false,
      outcome: "definite",
      details: { size, limit: MAX_RECORD_BYTES },
    });
  }
  const prepared = { key, value, headers, timestamp, text, size };
  return { ...prepared, requestBytes: requestBytes(prepared) };
}

/** The encoding for a set of records: utf8 only when all of them are text. */
export function encodingFor(records: Iterable<PreparedRecord>): WireEncoding {
  for (const r of records) if (!r.text) return "base64";
  return "utf8";
}

/** Upper bound of a record's size in a produce body as the broker counts it, in any encoding (for request budgeting). */
export function worstWireSize(record: PreparedRecord): number {
  return record.requestBytes;
}

export function toWire(record: PreparedRecord, encoding: WireEncoding): WireRecord {
  return wireShape(record, (value) => encode(value, encoding));
}

/** The record's JSON in a request; toWire and the size estimate share it, so they cannot drift apart. */
function wireShape(record: Omit<PreparedRecord, "requestBytes">, field: (value: Bytes | null) => string | null): WireRecord {
  const wire: WireRecord = { key: field(record.key), value: field(record.value) };
  if (record.headers.length > 0) wire.headers = record.headers.map((h) => ({ key: h.key, value: field(h.value) }));
  if (record.timestamp !== undefined) wire.timestamp = record.timestamp;
  return wire;
}

/**
 * Exact bytes the record's JSON (and the comma after it) adds to the body's size in the Lambda
 * event, maximized over the encodings its request may use: the JSON frame with every byte field
 * empty, plus each field — escaped text in utf8 (a `"` counts 4 bytes: `\\\"`), plain base64 in base64.
 */
function requestBytes(record: Omit<PreparedRecord, "requestBytes">): number {
  const frame = eventFragmentBytes(JSON.stringify(wireShape(record, (value) => (value === null ? null : "")))) + 1;
  const fields = [record.key, record.value, ...record.headers.map((h) => h.value)].filter((value) => value !== null);
  let base64 = 0;
  for (const value of fields) base64 += 4 * Math.ceil(byteLength(value)! / 3);
  if (!record.text) return frame + base64;
  let utf8 = 0;
  // Minus the field's own two quotes, which the frame's "" already counts (escaped: 4 bytes).
  for (const value of fields) utf8 += eventFragmentBytes(JSON.stringify(value as string)) - 4;
  return frame + Math.max(utf8, base64);
}

/** A record of a JSON fetch answer, requested in base64. */
export interface FetchedWireRecord {
  offset: number;
  timestamp: number;
  key: string | null;
  value: string | null;
  headers?: { key: string; value: string | null }[];
  /** With `metadata: true` only. */
  producerId?: number | null;
  transactional?: boolean;
}

/** A fetched record (requested in base64) → KafkaMessage. */
export function fromWire(record: FetchedWireRecord): KafkaMessage {
  const message = toMessage(
    record.offset,
    record.timestamp,
    record.key === null ? null : fromBase64(record.key),
    record.value === null ? null : fromBase64(record.value),
    (record.headers ?? []).map((h) => ({ key: h.key, value: h.value === null ? null : fromBase64(h.value) })),
  );
  // Present only when the fetch asked for them (`metadata: true`, the JSON fetch).
  return record.transactional === undefined ? message : { ...message, producerId: record.producerId ?? null, transactional: record.transactional };
}

/** Decoded bytes → KafkaMessage (the JSON and the binary fetch share it). */
export function toMessage(offset: number, timestamp: number, key: MessageBytes | null, value: MessageBytes | null, headerList: readonly { readonly key: string; readonly value: MessageBytes | null }[]): KafkaMessage {
  const headers: { [key: string]: MessageBytes | null | (MessageBytes | null)[] } = {};
  let size = (key?.length ?? 0) + (value?.length ?? 0);
  for (const h of headerList) {
    const v = h.value;
    size += utf8Length(h.key) + (v?.length ?? 0);
    const existing = headers[h.key];
    if (existing === undefined) headers[h.key] = v;
    else if (Array.isArray(existing)) existing.push(v);
    else headers[h.key] = [existing, v];
  }
  return { key, value, headers, timestamp, offset, size };
}

/** Key bytes as the partitioner hashes them (strings as UTF-8, like the broker). */
export function keyBytes(key: Bytes): Uint8Array {
  return typeof key === "string" ? utf8Bytes(key) : key;
}

function headerList(headers: IHeaders | undefined, where: string): { key: string; value: Bytes | null }[] {
  if (headers === undefined || headers === null) return [];
  const list: { key: string; value: Bytes | null }[] = [];
  if (Array.isArray(headers)) {
    for (const h of headers as readonly { key: string; value: Bytes | null }[]) {
      if (typeof h?.key !== "string") throw new TypeError(`${where}.headers: every header needs a string key`);
      checkBytes(h.value ?? null, `${where}.headers.${h.key}`);
      list.push({ key: h.key, value: h.value ?? null });
    }
    return list;
  }
  for (const [key, raw] of Object.entries(headers as Record<string, Bytes | null | undefined | (Bytes | null)[]>)) {
    if (raw === undefined) continue;
    for (const value of Array.isArray(raw) ? raw : [raw]) {
      checkBytes(value ?? null, `${where}.headers.${key}`);
      list.push({ key, value: value ?? null });
    }
  }
  return list;
}

function checkBytes(value: unknown, where: string): void {
  if (value === null || typeof value === "string" || value instanceof Uint8Array) return;
  throw new TypeError(`${where} must be a string, a Buffer/Uint8Array or null, got ${typeof value}`);
}

function isText(value: Bytes | null): boolean {
  return value === null || (typeof value === "string" && value.isWellFormed());
}

function byteLength(value: Bytes | null): number | null {
  if (value === null) return null;
  return typeof value === "string" ? utf8Length(value) : value.byteLength;
}

function encode(value: Bytes | null, encoding: WireEncoding): string | null {
  if (value === null) return null;
  if (encoding === "utf8") return value as string;
  return toBase64(typeof value === "string" ? utf8Bytes(value) : value);
}
