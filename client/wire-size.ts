/**
 * Sizes counted the way the broker counts them, so the SDK refuses a record and cuts a request
 * exactly where the broker would (instead of learning it from a 413). The broker's own functions
 * (shared/limits.ts encodedStringBytes, shared/record-batch.ts encodedRecordSize) use Node's
 * Buffer, which the isomorphic SDK may not import; these are the same rules without it, and
 * test/client/wire-size.test.ts checks that they give the broker's numbers.
 */
import { utf8Length } from "./bytes.js";

/** The broker's per-record limit (shared/limits.ts MAX_RECORD_BYTES), counted by encodedRecordBytes. */
export const MAX_RECORD_BYTES = 379_936;
/** The broker's request-body limit (shared/limits.ts MAX_REQUEST_BODY_BYTES), counted by eventEncodedBytes. */
export const MAX_REQUEST_BODY_BYTES = 5_800_000;

/**
 * Bytes of `text` once written as a JSON string, quotes included: how the broker measures a body,
 * as it travels inside the Lambda event (shared/limits.ts encodedStringBytes). Every `"` and `\`
 * of a JSON body is escaped once more there, so quote-heavy bodies count up to twice their size.
 */
export function eventEncodedBytes(text: string): number {
  return utf8Length(JSON.stringify(text));
}

/**
 * Bytes a piece of JSON text adds to its body's eventEncodedBytes. JSON escaping works character by
 * character, so the pieces of a body add up (its event string's two quotes aside).
 */
export function eventFragmentBytes(json: string): number {
  return eventEncodedBytes(json) - 2;
}

/** One record as the broker stores it: byte lengths of key, value (null = absent) and headers. */
export interface RecordByteLengths {
  readonly key: number | null;
  readonly value: number | null;
  readonly headers: readonly { readonly key: number; readonly value: number | null }[];
}

/**
 * The size the broker checks against MAX_RECORD_BYTES: the record's encoding in a stored batch
 * (shared/record-batch.ts encodedRecordSize, measured against the record's own timestamp, so the
 * timestamp delta is one byte) — varint lengths plus the raw (decoded) bytes.
 */
export function encodedRecordBytes(record: RecordByteLengths): number {
  let size = 1 + lengthFieldSize(record.key) + lengthFieldSize(record.value) + uvarintSize(record.headers.length);
  for (const h of record.headers) size += uvarintSize(h.key) + h.key + lengthFieldSize(h.value);
  return size;
}

function uvarintSize(v: number): number {
  let size = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    size++;
  }
  return size;
}

/** A zigzag varint length (-1 for null) followed by the bytes. */
function lengthFieldSize(length: number | null): number {
  if (length === null) return 1;
  return length < 64 ? 1 + length : 1 + uvarintSize(Math.floor(length / 64)) + length;
}
