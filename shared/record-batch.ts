/**
 * Record batch blob: the compact binary form in which one DynamoDB item stores
 * a batch of Kafka-style records (one blob per batch, so attribute names are
 * billed once per batch rather than once per record).
 *
 * Format, version 1 (all varints are little-endian base-128, 7 bits per byte,
 * high bit = "more bytes follow"; "zigzag" maps n >= 0 to 2n and n < 0 to
 * -2n-1 before varint encoding):
 *
 *   version          1 byte, = 1
 *   record count     unsigned varint
 *   base timestamp   zigzag varint, = first record's timestamp (0 if no records)
 *   per record:
 *     timestamp delta  zigzag varint, timestamp - base (0 for the first record)
 *     key length       zigzag varint, -1 = null; then that many bytes
 *     value length     zigzag varint, -1 = null; then that many bytes
 *     header count     unsigned varint
 *     per header:
 *       key length     unsigned varint; then that many UTF-8 bytes
 *       value length   zigzag varint, -1 = null; then that many bytes
 *
 * Offsets are not stored: record i of a batch has offset base + i, and the
 * caller knows the base offset. The compression codec is not stored in the
 * blob either; the caller records it next to the blob (see compressBlob in
 * compression.ts).
 *
 * Timestamps are integer milliseconds and may be any safe integer; deltas may
 * be negative (producers' clocks differ) and may even exceed the safe range
 * (e.g. MIN_SAFE then MAX_SAFE), which a BigInt slow path handles.
 *
 * Decoding is strict: every varint must be minimally encoded, lengths must fit,
 * header keys must be valid UTF-8, the first delta must be 0 and there must be
 * no trailing bytes, so a blob that decodes successfully re-encodes to exactly
 * the same bytes. Anything else throws CorruptRecordBatchError. Encoding is
 * here; decoding is in record-batch-decode.ts.
 *
 * Header keys that are not well-formed UTF-16 (lone surrogates) are encoded
 * with U+FFFD in their place, exactly as Buffer/TextEncoder do (Kafka's Java
 * client likewise substitutes); validate at ingress if that must be rejected.
 */

export interface RecordHeader {
  key: string;
  value: Uint8Array | null;
}

export interface BatchRecord {
  timestamp: number;
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: RecordHeader[];
}

export class CorruptRecordBatchError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "CorruptRecordBatchError";
  }
}

/** The blob's first byte (the format above); a decoder refuses any other. */
export const FORMAT_VERSION = 1;

// ---------------------------------------------------------------------------
// Varint sizes
//
// A zigzag value is handled as (m, s) with zigzag = 2m + s, where s is the
// sign bit and m = n for n >= 0, m = -n - 1 for n < 0. The first byte holds s
// and the low 6 bits of m; the remaining bits, rest = floor(m / 64), follow
// as an ordinary unsigned varint. This never materialises 2m + s, which can
// exceed 2^53 for safe n.
// ---------------------------------------------------------------------------

function uvarintSize(v: number): number {
  if (v < 0x80) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x200000) return 3;
  if (v < 0x10000000) return 4;
  if (v < 2 ** 35) return 5;
  if (v < 2 ** 42) return 6;
  if (v < 2 ** 49) return 7;
  return 8; // v <= MAX_SAFE < 2^56
}

/** Size of a zigzag varint for a safe integer n. */
function zigzagSize(n: number): number {
  const m = n >= 0 ? n : -n - 1;
  if (m < 64) return 1;
  return 1 + uvarintSize(Math.floor(m / 64));
}

/** Size of a length field (zigzag, -1 = null). */
function lengthSize(bytes: Uint8Array | null): number {
  if (bytes === null) return 1;
  const len = bytes.length;
  return len < 64 ? 1 + len : 1 + uvarintSize(Math.floor(len / 64)) + len;
}

/** Size of the timestamp delta varint, exact even when ts - base is not a safe integer. */
function deltaSize(timestamp: number, base: number): number {
  const delta = timestamp - base;
  if (Number.isSafeInteger(delta)) return zigzagSize(delta);
  return 1 + uvarintSize(wideDeltaParts(timestamp, base).rest);
}

/** Slow path: split an out-of-safe-range delta into (low6, sign, rest). */
function wideDeltaParts(timestamp: number, base: number): { low: number; sign: number; rest: number } {
  const d = BigInt(timestamp) - BigInt(base);
  const sign = d < 0n ? 1 : 0;
  const m = sign === 1 ? -d - 1n : d;
  // |d| < 2^54, so rest < 2^48 is a safe integer.
  return { low: Number(m & 63n), sign, rest: Number(m >> 6n) };
}

function checkTimestamp(ts: number): void {
  if (!Number.isSafeInteger(ts)) {
    throw new RangeError(`record timestamp must be a safe integer, got ${String(ts)}`);
  }
}

function checkBytes(what: string, bytes: Uint8Array | null): void {
  if (bytes !== null && !(bytes instanceof Uint8Array)) {
    throw new TypeError(`${what} must be a Uint8Array or null`);
  }
}

/** Longest string/byte run handled with a JS loop instead of a native call (whose fixed cost is ~100-200 ns). */
export const SMALL = 32;

/** UTF-8 byte length; equals str.length exactly when str is all ASCII. */
function utf8Length(str: string): number {
  const n = str.length;
  if (n <= SMALL) {
    let i = 0;
    while (i < n && str.charCodeAt(i) < 0x80) i++;
    if (i === n) return n;
  }
  return Buffer.byteLength(str, "utf8");
}

function recordSize(record: BatchRecord, base: number, keyLens: number[] | null): number {
  checkTimestamp(record.timestamp);
  checkBytes("record key", record.key);
  checkBytes("record value", record.value);
  const headers = record.headers;
  let size = deltaSize(record.timestamp, base) + lengthSize(record.key) + lengthSize(record.value) + uvarintSize(headers.length);
  for (let i = 0; i < headers.length; i++) {
    const h = headers[i]!;
    if (typeof h.key !== "string") throw new TypeError("header key must be a string");
    checkBytes("header value", h.value);
    const keyLen = utf8Length(h.key);
    if (keyLens !== null) keyLens.push(keyLen);
    size += uvarintSize(keyLen) + keyLen + lengthSize(h.value);
  }
  return size;
}

/** Exact number of bytes `record` adds to encodeRecordBatch's output. */
export function encodedRecordSize(record: BatchRecord, baseTimestamp: number): number {
  checkTimestamp(baseTimestamp);
  return recordSize(record, baseTimestamp, null);
}

/**
 * The fixed header size for a batch of `count` records with the given base
 * timestamp: header + sum(encodedRecordSize) === encodeRecordBatch(...).length.
 */
export function batchHeaderSize(count: number, baseTimestamp: number): number {
  if (!Number.isSafeInteger(count) || count < 0) throw new RangeError(`bad record count ${String(count)}`);
  checkTimestamp(baseTimestamp);
  return 1 + uvarintSize(count) + zigzagSize(baseTimestamp);
}

// ---------------------------------------------------------------------------
// Writing. Bit operations only below 2^31; arithmetic above.
// ---------------------------------------------------------------------------

function writeUVarint(buf: Uint8Array, p: number, v: number): number {
  while (v >= 0x80000000) {
    buf[p++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  while (v > 0x7f) {
    buf[p++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[p++] = v;
  return p;
}

/** Writes zigzag(2m + s) given m >= 0 (safe) and sign bit s. */
function writeSignParts(buf: Uint8Array, p: number, m: number, s: number): number {
  if (m < 64) {
    buf[p++] = (m << 1) | s;
    return p;
  }
  buf[p++] = ((m % 64) << 1) | s | 0x80;
  return writeUVarint(buf, p, Math.floor(m / 64));
}

function writeZigzag(buf: Uint8Array, p: number, n: number): number {
  return n >= 0 ? writeSignParts(buf, p, n, 0) : writeSignParts(buf, p, -n - 1, 1);
}

function writeBytes(buf: Uint8Array, p: number, bytes: Uint8Array | null): number {
  if (bytes === null) {
    buf[p++] = 1; // zigzag(-1)
    return p;
  }
  const len = bytes.length;
  p = writeSignParts(buf, p, len, 0);
  if (len <= SMALL) {
    for (let i = 0; i < len; i++) buf[p + i] = bytes[i]!;
  } else {
    buf.set(bytes, p);
  }
  return p + len;
}

/**
 * Uncompressed encoding of the records. Sizes everything first, allocates one
 * buffer (not from Node's shared pool, so `.buffer` is exclusively this blob's)
 * and writes into it.
 */
export function encodeRecordBatch(records: readonly BatchRecord[]): Uint8Array {
  const count = records.length;
  const base = count > 0 ? records[0]!.timestamp : 0;
  const keyLens: number[] = [];
  let size = batchHeaderSize(count, base);
  for (let i = 0; i < count; i++) size += recordSize(records[i]!, base, keyLens);

  const buf = Buffer.allocUnsafeSlow(size);
  buf[0] = FORMAT_VERSION;
  let p = writeUVarint(buf, 1, count);
  p = writeZigzag(buf, p, base);
  let k = 0;
  for (let i = 0; i < count; i++) {
    const r = records[i]!;
    const delta = r.timestamp - base;
    if (Number.isSafeInteger(delta)) {
      p = writeZigzag(buf, p, delta);
    } else {
      const { low, sign, rest } = wideDeltaParts(r.timestamp, base);
      buf[p++] = (low << 1) | sign | 0x80;
      p = writeUVarint(buf, p, rest);
    }
    p = writeBytes(buf, p, r.key);
    p = writeBytes(buf, p, r.value);
    const headers = r.headers;
    p = writeUVarint(buf, p, headers.length);
    for (let j = 0; j < headers.length; j++) {
      const h = headers[j]!;
      const keyLen = keyLens[k++]!;
      p = writeUVarint(buf, p, keyLen);
      const hkey = h.key;
      if (keyLen === hkey.length && keyLen <= SMALL) {
        // All ASCII (see utf8Length): one byte per UTF-16 unit.
        for (let c = 0; c < keyLen; c++) buf[p + c] = hkey.charCodeAt(c);
        p += keyLen;
      } else if (keyLen > 0) {
        p += buf.write(hkey, p, keyLen, "utf8");
      }
      p = writeBytes(buf, p, h.value);
    }
  }
  if (p !== size) {
    // Only possible if the records were mutated concurrently with encoding (e.g. a
    // header key replaced between the size pass and the write pass).
    throw new Error(`record batch size mismatch: computed ${size}, wrote ${p}`);
  }
  return buf;
}
