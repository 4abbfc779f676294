/**
 * Decoding of the record batch blob (its format and strictness: record-batch.ts), wherever the
 * broker needs the records rather than the stored blob. Keys, values and header values are views
 * of the blob, and a header key that repeats record after record is compared as bytes, not decoded
 * again.
 */
import { CorruptRecordBatchError, FORMAT_VERSION, SMALL, type BatchRecord, type RecordHeader } from "./record-batch.js";

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
/** Smallest possible encoded record: delta, key length, value length, header count. */
const MIN_RECORD_BYTES = 4;
/** m = rest * 64 + low stays <= MAX_SAFE iff rest < 2^47. */
const SAFE_REST_LIMIT = 2 ** 47;

const utf8Decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

class Reader {
  pos = 0;
  /** Sign bit of the last readSignParts call. */
  sign = 0;
  /** Set by readSignParts when m >= 2^53; then wideRest/wideLow hold the parts. */
  wide = false;
  wideRest = 0;
  wideLow = 0;

  constructor(readonly buf: Uint8Array) {}

  fail(what: string): never {
    throw new CorruptRecordBatchError(`corrupt record batch at byte ${this.pos} of ${this.buf.length}: ${what}`);
  }

  byte(): number {
    const b = this.buf[this.pos];
    if (b === undefined) this.fail("truncated");
    this.pos++;
    return b;
  }

  /** Minimally encoded unsigned varint of at most maxBytes bytes, <= MAX_SAFE. */
  uvarint(maxBytes: number): number {
    let b = this.byte();
    if (b < 0x80) return b;
    let result = b & 0x7f;
    let n = 1;
    // Bytes 2..4 fill bits 7..27: int32 bit ops are exact.
    for (let shift = 7; shift < 28; shift += 7) {
      b = this.byte();
      n++;
      result |= (b & 0x7f) << shift;
      if (b < 0x80) {
        if (b === 0) this.fail("overlong varint");
        return result;
      }
    }
    // Bytes 5.. fill bits 28..: arithmetic.
    let mul = 2 ** 28;
    for (;;) {
      if (n >= maxBytes) this.fail("varint too long");
      b = this.byte();
      n++;
      result += (b & 0x7f) * mul;
      if (b < 0x80) break;
      mul *= 128;
    }
    if (b === 0) this.fail("overlong varint");
    if (result > MAX_SAFE) this.fail("varint exceeds safe integer range");
    return result;
  }

  /**
   * Reads a zigzag varint as (m, sign). Returns m if m <= MAX_SAFE; otherwise
   * sets `wide` (with wideRest/wideLow) and returns -1.
   */
  signParts(): number {
    const b0 = this.byte();
    this.sign = b0 & 1;
    this.wide = false;
    const low = (b0 >> 1) & 63;
    if (b0 < 0x80) return low;
    const rest = this.uvarint(7); // 8 bytes total: up to 55 bits of zigzag
    if (rest === 0) this.fail("overlong varint");
    if (rest < SAFE_REST_LIMIT) return rest * 64 + low;
    this.wide = true;
    this.wideRest = rest;
    this.wideLow = low;
    return -1;
  }

  /** A zigzag varint that must be a safe integer. */
  safeZigzag(what: string): number {
    const m = this.signParts();
    if (this.wide) this.fail(`${what} out of range`);
    const n = this.sign === 1 ? -m - 1 : m;
    if (!Number.isSafeInteger(n)) this.fail(`${what} out of range`);
    return n;
  }

  /** A zigzag length (-1 = null) followed by that many bytes, as a view. */
  bytesOrNull(what: string): Uint8Array | null {
    const m = this.signParts();
    if (this.sign === 1) {
      if (m !== 0) this.fail(`negative ${what} length`);
      return null;
    }
    return this.take(m, what);
  }

  take(len: number, what: string): Uint8Array {
    // len is -1 when wide; both cases are "longer than the blob".
    if (len < 0 || len > this.buf.length - this.pos) this.fail(`${what} length ${len < 0 ? ">= 2^53" : len} exceeds blob`);
    const start = this.pos;
    this.pos = start + len;
    return this.buf.subarray(start, this.pos);
  }

  timestamp(base: number): number {
    const m = this.signParts();
    let ts: number;
    if (!this.wide) {
      // m <= MAX_SAFE, so the delta is exact (>= -2^53) and so is a safe sum.
      ts = base + (this.sign === 1 ? -m - 1 : m);
    } else {
      const bm = BigInt(this.wideRest) * 64n + BigInt(this.wideLow);
      const big = BigInt(base) + (this.sign === 1 ? -bm - 1n : bm);
      ts = big > BigInt(MAX_SAFE) || big < -BigInt(MAX_SAFE) ? Number.NaN : Number(big);
    }
    if (!Number.isSafeInteger(ts)) this.fail("timestamp out of safe integer range");
    return ts;
  }

  /**
   * Per header index, the previous record's header key (start, length, string):
   * header keys usually repeat record after record, and comparing a few bytes is
   * far cheaper than creating a string.
   */
  private readonly keyCache: { start: number; len: number; str: string }[] = [];

  headerKey(index: number): string {
    const len = this.uvarint(8);
    const start = this.pos;
    const bytes = this.take(len, "header key");
    const buf = this.buf;
    const cached = index < 8 ? this.keyCache[index] : undefined;
    if (cached !== undefined && cached.len === len && len <= SMALL) {
      const cs = cached.start;
      let i = 0;
      while (i < len && buf[cs + i] === buf[start + i]) i++;
      if (i === len) return cached.str;
    }
    const str = this.decodeKey(bytes);
    if (cached !== undefined) {
      cached.start = start;
      cached.len = len;
      cached.str = str;
    } else if (index < 8) {
      this.keyCache[index] = { start, len, str };
    }
    return str;
  }

  decodeKey(bytes: Uint8Array): string {
    const len = bytes.length;
    // ASCII fast path (the common case): String.fromCharCode on a short view.
    if (len <= SMALL) {
      let ascii = true;
      for (let i = 0; i < len; i++) {
        if (bytes[i]! >= 0x80) {
          ascii = false;
          break;
        }
      }
      if (ascii) return String.fromCharCode.apply(null, bytes as unknown as number[]);
    }
    try {
      return utf8Decoder.decode(bytes);
    } catch (err) {
      throw new CorruptRecordBatchError(`corrupt record batch: header key is not valid UTF-8`, { cause: err });
    }
  }
}

/**
 * Inverse of encodeRecordBatch. Throws CorruptRecordBatchError on any malformed
 * input; never returns garbage silently.
 *
 * Zero copy: the returned keys, values and header values are subarray views of
 * `blob`, so they share its memory. Copy them (or the blob) before mutating
 * either one.
 */
export function decodeRecordBatch(blob: Uint8Array): BatchRecord[] {
  const r = new Reader(blob);
  const version = r.byte();
  if (version !== FORMAT_VERSION) {
    r.pos = 0;
    r.fail(`unsupported record batch version ${version}`);
  }
  const count = r.uvarint(8);
  const base = r.safeZigzag("base timestamp");
  if (count > (blob.length - r.pos) / MIN_RECORD_BYTES) r.fail(`record count ${count} exceeds blob`);
  if (count === 0 && base !== 0) r.fail("empty batch with non-zero base timestamp");

  const records = new Array<BatchRecord>(count);
  for (let i = 0; i < count; i++) {
    const timestamp = r.timestamp(base);
    if (i === 0 && timestamp !== base) r.fail("first record's timestamp differs from the base timestamp");
    const key = r.bytesOrNull("key");
    const value = r.bytesOrNull("value");
    const headerCount = r.uvarint(8);
    const headers: RecordHeader[] = [];
    for (let j = 0; j < headerCount; j++) {
      const hkey = r.headerKey(j);
      const hvalue = r.bytesOrNull("header value");
      headers.push({ key: hkey, value: hvalue });
    }
    records[i] = { timestamp, key, value, headers };
  }
  if (r.pos !== blob.length) r.fail(`${blob.length - r.pos} trailing bytes`);
  return records;
}
