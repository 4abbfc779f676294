/**
 * The SDK's reader of stored record batches (the blob format of shared/record-batch.ts, version 1),
 * for the binary fetch: web-standard APIs only (DataView, TextDecoder, DecompressionStream), so it
 * runs in Node, Bun, Deno, browsers and edge workers — except that where the runtime lends its
 * zlib synchronously (getBuiltinModule on the global `process`: Node ≥ 20.16, Bun, Deno), blobs
 * are decompressed with it: for the few-KB blobs of a fetch, DecompressionStream's asynchronous
 * stream costs about three times the decompression itself (docs/performance.md). No Node module
 * is imported, so the browser bundle is unchanged. Strict like the broker's decoder: a blob that does not decode
 * exactly is refused (CorruptBatchError), never half-read.
 */
import { TextBytes, type MessageBytes } from "./bytes.js";

export type BatchCodec = "none" | "gzip" | "brotli";

export class CorruptBatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CorruptBatchError";
  }
}

export interface DecodedRecord {
  readonly timestamp: number;
  readonly key: MessageBytes | null;
  readonly value: MessageBytes | null;
  readonly headers: readonly { readonly key: string; readonly value: MessageBytes | null }[];
}

interface BufferLike {
  from(data: ArrayBufferLike, byteOffset: number, length: number): Uint8Array;
}
const RuntimeBuffer = (globalThis as { Buffer?: BufferLike }).Buffer;
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });
type StreamFormat = ConstructorParameters<typeof DecompressionStream>[0];

/** A view of `bytes` as the runtime's consumed-bytes type (a Buffer where there is one), without copying. */
function messageBytes(bytes: Uint8Array, start: number, length: number): MessageBytes {
  if (RuntimeBuffer) return RuntimeBuffer.from(bytes.buffer, bytes.byteOffset + start, length) as MessageBytes;
  return new TextBytes(bytes.buffer as ArrayBuffer, bytes.byteOffset + start, length) as MessageBytes;
}

/** The synchronous part of a runtime's zlib module that decompress uses. */
interface SyncZlib {
  gunzipSync(blob: Uint8Array, options: { maxOutputLength: number }): Uint8Array;
  brotliDecompressSync(blob: Uint8Array, options: { maxOutputLength: number }): Uint8Array;
}

/** The runtime's zlib, if it lends it without an import (undefined in browsers and edge workers). */
function runtimeZlib(): SyncZlib | undefined {
  try {
    const runtime = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
    const zlib = runtime?.getBuiltinModule?.("node:zlib") as Partial<SyncZlib> | undefined;
    return typeof zlib?.gunzipSync === "function" && typeof zlib.brotliDecompressSync === "function" ? (zlib as SyncZlib) : undefined;
  } catch {
    return undefined;
  }
}

const syncZlib = runtimeZlib();

/** Codecs this runtime decompresses: all with a synchronous zlib; else those its DecompressionStream handles (gzip everywhere it exists; brotli where it does). */
export function decodableCodecs(): BatchCodec[] {
  if (syncZlib) return ["none", "gzip", "brotli"];
  const codecs: BatchCodec[] = ["none"];
  for (const codec of ["gzip", "brotli"] as const) {
    try {
      new DecompressionStream(codec as StreamFormat);
      codecs.push(codec);
    } catch {
      // not in this runtime: the broker decompresses such batches for us
    }
  }
  return codecs;
}

/** Decompresses a blob, refusing output beyond `maxBytes` (the broker stores at most 380,000 encoded bytes per batch). */
export async function decompress(codec: BatchCodec, blob: Uint8Array, maxBytes: number): Promise<Uint8Array> {
  if (codec === "none") return blob;
  return syncZlib ? decompressSync(syncZlib, codec, blob, maxBytes) : decompressStream(codec, blob, maxBytes);
}

function decompressSync(zlib: SyncZlib, codec: Exclude<BatchCodec, "none">, blob: Uint8Array, maxBytes: number): Uint8Array {
  // zlib wants maxOutputLength ≥ 1; a blob that inflates to more than maxBytes fails inside zlib (ERR_BUFFER_TOO_LARGE).
  const options = { maxOutputLength: Math.max(1, maxBytes) };
  let out: Uint8Array;
  try {
    out = codec === "gzip" ? zlib.gunzipSync(blob, options) : zlib.brotliDecompressSync(blob, options);
  } catch (error) {
    if ((error as { code?: unknown }).code === "ERR_BUFFER_TOO_LARGE") throw new CorruptBatchError(`a ${codec} batch decompresses to more than ${maxBytes} bytes`);
    throw new CorruptBatchError(`a ${codec} batch does not decompress: ${(error as Error).message}`);
  }
  if (out.length > maxBytes) throw new CorruptBatchError(`a ${codec} batch decompresses to more than ${maxBytes} bytes`);
  return out;
}

/** The web-standard path (browsers, edge workers); exported for the tests, which run it in Node too. */
export async function decompressStream(codec: Exclude<BatchCodec, "none">, blob: Uint8Array, maxBytes: number): Promise<Uint8Array> {
  const stream = new Blob([blob as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream(codec as StreamFormat));
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) {
      total += chunk.length;
      if (total > maxBytes) throw new CorruptBatchError(`a ${codec} batch decompresses to more than ${maxBytes} bytes`);
      chunks.push(chunk);
    }
  } catch (error) {
    if (error instanceof CorruptBatchError) throw error;
    throw new CorruptBatchError(`a ${codec} batch does not decompress: ${(error as Error).message}`);
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let p = 0;
  for (const chunk of chunks) {
    out.set(chunk, p);
    p += chunk.length;
  }
  return out;
}

/** Decodes an uncompressed record batch blob (version 1). */
export function decodeBatch(bytes: Uint8Array): DecodedRecord[] {
  let p = 0;
  const fail = (what: string): never => {
    throw new CorruptBatchError(`record batch: ${what} at byte ${p} of ${bytes.length}`);
  };
  const uvarint = (): number => {
    let value = 0;
    let scale = 1;
    for (let i = 0; ; i++) {
      if (p >= bytes.length) fail("truncated varint");
      const b = bytes[p++]!;
      if (i > 0 && b === 0) fail("non-minimal varint");
      value += (b & 0x7f) * scale;
      if (value > Number.MAX_SAFE_INTEGER) fail("varint beyond 2^53");
      if ((b & 0x80) === 0) return value;
      scale *= 128;
    }
  };
  // Zigzag as shared/record-batch.ts writes it: first byte = more(1) | low 6 bits of m (6) | sign (1), then rest = floor(m / 64) as a uvarint.
  // Returns the sign and m exactly as a bigint only when m is beyond 2^53 (a timestamp delta may be).
  const signParts = (): { sign: number; m: number; wide?: bigint } => {
    if (p >= bytes.length) fail("truncated varint");
    const first = bytes[p++]!;
    const sign = first & 1;
    const low = (first >> 1) & 0x3f;
    if ((first & 0x80) === 0) return { sign, m: low };
    const rest = uvarint();
    if (rest === 0) fail("non-minimal varint");
    const m = rest * 64 + low;
    return m > Number.MAX_SAFE_INTEGER ? { sign, m: Number.NaN, wide: BigInt(rest) * 64n + BigInt(low) } : { sign, m };
  };
  const zigzag = (): number => {
    const { sign, m, wide } = signParts();
    if (wide !== undefined) fail("varint beyond 2^53");
    return sign ? -m - 1 : m;
  };
  const timestampAfter = (base: number): number => {
    const { sign, m, wide } = signParts();
    let timestamp: number;
    if (wide === undefined) timestamp = base + (sign ? -m - 1 : m);
    else {
      const big = BigInt(base) + (sign ? -wide - 1n : wide);
      timestamp = big > BigInt(Number.MAX_SAFE_INTEGER) || big < -BigInt(Number.MAX_SAFE_INTEGER) ? Number.NaN : Number(big);
    }
    if (!Number.isSafeInteger(timestamp)) fail("timestamp beyond the safe integer range");
    return timestamp;
  };
  const field = (): MessageBytes | null => {
    const length = zigzag();
    if (length === -1) return null;
    if (length < 0 || length > bytes.length - p) fail(`length ${length} out of range`);
    const value = messageBytes(bytes, p, length);
    p += length;
    return value;
  };
  if (bytes[p++] !== 1) fail("unknown version");
  const count = uvarint();
  if (count > bytes.length) fail(`record count ${count} too large`);
  const base = zigzag();
  const records: DecodedRecord[] = [];
  for (let i = 0; i < count; i++) {
    const deltaAt = p;
    const timestamp = timestampAfter(base);
    if (i === 0 && (bytes[deltaAt] !== 0 || p !== deltaAt + 1)) fail("first timestamp delta is not 0");
    const key = field();
    const value = field();
    const headerCount = uvarint();
    if (headerCount > bytes.length - p) fail(`header count ${headerCount} too large`);
    const headers: { key: string; value: MessageBytes | null }[] = [];
    for (let h = 0; h < headerCount; h++) {
      const keyLength = uvarint();
      if (keyLength > bytes.length - p) fail(`header key length ${keyLength} out of range`);
      let headerKey: string;
      try {
        headerKey = strictUtf8.decode(bytes.subarray(p, p + keyLength));
      } catch {
        return fail("header key is not UTF-8");
      }
      p += keyLength;
      headers.push({ key: headerKey, value: field() });
    }
    records.push({ timestamp, key, value, headers });
  }
  if (p !== bytes.length) fail("trailing bytes");
  return records;
}
