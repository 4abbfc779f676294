/**
 * The compression codecs of stored record batches (record-batch.ts): their names, the levels the
 * broker compresses at, and decompression bounded by an output limit (the decompression-bomb
 * guard). The codec is not part of the blob; the caller stores its name next to it.
 */
import {
  brotliCompressSync,
  brotliDecompressSync,
  constants as zlibConstants,
  gunzipSync,
  gzipSync,
} from "node:zlib";
import { constants as bufferConstants } from "node:buffer";
import { CorruptRecordBatchError } from "./record-batch.js";

export type CompressionCodec = "none" | "gzip" | "brotli";

export const COMPRESSION_CODECS: readonly CompressionCodec[] = Object.freeze([
  "none",
  "gzip",
  "brotli",
] as const);

/**
 * Compresses an encoded batch. Levels follow Kafka-like defaults, favouring
 * producer CPU/latency over the last few percent of ratio:
 *  - gzip level 6: zlib's default, and what Kafka's gzip codec uses by default
 *    (compression.gzip.level = Deflater.DEFAULT_COMPRESSION = 6).
 *  - brotli quality 5: Kafka has no brotli; its fast modern default is zstd
 *    level 3. Brotli 4-5 is the comparable point (ratio at or above gzip 6
 *    at similar speed), whereas Node's default quality 11 is orders of
 *    magnitude slower and unsuitable for a per-request hot path. (zstd is in
 *    node:zlib only from Node 22.15: the deployed Lambdas run nodejs22.x, but
 *    the local broker and CI run Node 20 (package.json: node >= 20.19), where
 *    a zstd topic could be neither written nor read.)
 * "none" returns `raw` itself (no copy).
 */
export function compressBlob(codec: CompressionCodec, raw: Uint8Array): Uint8Array {
  switch (codec) {
    case "none":
      return raw;
    case "gzip":
      return gzipSync(raw, { level: 6 });
    case "brotli":
      return brotliCompressSync(raw, {
        params: {
          [zlibConstants.BROTLI_PARAM_QUALITY]: 5,
          [zlibConstants.BROTLI_PARAM_SIZE_HINT]: raw.length,
        },
      });
    default:
      throw new RangeError(`unknown compression codec ${JSON.stringify(codec as unknown)}`);
  }
}

/**
 * Inverse of compressBlob, refusing to produce more than maxOutputBytes (so a
 * hostile or corrupt blob cannot exhaust memory). Throws CorruptRecordBatchError
 * if the data is corrupt, the limit is exceeded, or the codec is unknown (the
 * codec name usually comes from stored data). "none" returns `stored` itself.
 */
export function decompressBlob(codec: CompressionCodec, stored: Uint8Array, maxOutputBytes: number): Uint8Array {
  if (!Number.isSafeInteger(maxOutputBytes) || maxOutputBytes < 0) {
    throw new RangeError(`maxOutputBytes must be a non-negative integer, got ${String(maxOutputBytes)}`);
  }
  let out: Uint8Array;
  if (codec === "none") {
    out = stored;
  } else {
    // zlib requires maxOutputLength in [1, kMaxLength]; the 0 case is checked below.
    const maxOutputLength = Math.min(Math.max(1, maxOutputBytes), bufferConstants.MAX_LENGTH);
    try {
      if (codec === "gzip") {
        out = gunzipSync(stored, { maxOutputLength });
      } else if (codec === "brotli") {
        out = brotliDecompressSync(stored, { maxOutputLength });
      } else {
        throw new CorruptRecordBatchError(`unknown compression codec ${JSON.stringify(codec as unknown)}`);
      }
    } catch (err) {
      if (err instanceof CorruptRecordBatchError) throw err;
      throw new CorruptRecordBatchError(
        `cannot decompress ${codec} record batch: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
    }
  }
  if (out.length > maxOutputBytes) {
    throw new CorruptRecordBatchError(`decompressed record batch exceeds ${maxOutputBytes} bytes`);
  }
  return out;
}
