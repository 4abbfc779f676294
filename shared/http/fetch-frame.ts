/**
 * The binary fetch format (docs/api.md "Binary fetch"): the stored record batches as they are,
 * compressed, with a small length-prefixed framing; the client decompresses and decodes them.
 * Negotiated by `Accept: application/vnd.dynalog.batches[; codecs=none+gzip+brotli]`; JSON stays
 * the default. The decoder is the SDK's (client/fetch-frame.ts), which the tests pair with this.
 *
 *   frame     = version:u8 (= 1)  partitionCount:u32  partition*
 *   partition = topicLength:u16 topic:UTF-8  partition:u32  kind:u8
 *               kind 0 (data):  fromOffset:u64 nextOffset:u64 highWatermark:u64 logStartOffset:u64 batchCount:u32 batch*
 *               kind 1 (error): errorLength:u32 error:UTF-8 JSON (the error envelope, as JSON fetch's per-partition "error")
 *   batch     = baseOffset:u64 count:u32 codec:u8 flags:u8 [producerId:u64] [offsetCount:u32 offsetDelta:u32 × offsetCount] blobLength:u32 blob
 *
 * Big-endian; u64 = high u32 then low u32, at most 2^53 − 1. codec: 0 none, 1 gzip, 2 brotli.
 * flags: 1 producerId follows, 2 transactional, 4 sparse (compacted; offsetDelta = offset − baseOffset).
 */
import type { PartitionBatchFetchResult } from "../core/fetch.js";
import type { FetchedBatch } from "../core/log-reader.js";
import { COMPRESSION_CODECS, type CompressionCodec } from "../compression.js";

export const BATCH_MEDIA_TYPE = "application/vnd.dynalog.batches";
export const FETCH_FRAME_VERSION = 1;
export const CODEC_IDS: Readonly<Record<CompressionCodec, number>> = { none: 0, gzip: 1, brotli: 2 };
export const BATCH_FLAGS = { producerId: 1, transactional: 2, sparse: 4 } as const;

/** Fixed bytes of a batch's frame before its optional fields and blob. */
const BATCH_FIXED_BYTES = 8 + 4 + 1 + 1 + 4;

/**
 * The binary format if `Accept` asks for it (any listed type equal to BATCH_MEDIA_TYPE, q > 0),
 * with the codecs the client decodes (`codecs=` joined by "+"; all stored codecs when absent).
 * Undefined: answer in JSON.
 */
export function negotiateBatches(accept: string | undefined): { acceptCodecs: ReadonlySet<CompressionCodec> } | undefined {
  if (!accept) return undefined;
  for (const range of accept.split(",")) {
    const [type, ...params] = range.split(";").map((part) => part.trim());
    if (type?.toLowerCase() !== BATCH_MEDIA_TYPE) continue;
    let codecs: ReadonlySet<CompressionCodec> = new Set(COMPRESSION_CODECS);
    let q = 1;
    for (const param of params) {
      const [name, value = ""] = param.split("=").map((part) => part.trim());
      if (name?.toLowerCase() === "q") q = Number(value);
      // Unknown names are ignored: a newer client may decode codecs this broker never stores.
      if (name?.toLowerCase() === "codecs") codecs = new Set(COMPRESSION_CODECS.filter((c) => value.toLowerCase().split("+").includes(c)));
    }
    if (q > 0) return { acceptCodecs: codecs };
  }
  return undefined;
}

/** Bytes one batch takes in the frame. */
export function batchFrameBytes(batch: FetchedBatch): number {
  return BATCH_FIXED_BYTES + (batch.producerId === undefined ? 0 : 8) + (batch.recordOffsets ? 4 + 4 * batch.recordOffsets.length : 0) + batch.blob.length;
}

/**
 * What a batch costs against fetch's maxBytes: its frame as the Lambda result carries it
 * (API Gateway passes binary bodies base64-encoded), as JSON fetch counts a record's JSON.
 */
export function batchWireBytes(batch: FetchedBatch): number {
  return 4 * Math.ceil(batchFrameBytes(batch) / 3);
}

export function encodeFetchFrame(results: readonly PartitionBatchFetchResult[], requestedOffsets: readonly number[], errorJson: (result: Extract<PartitionBatchFetchResult, { error: unknown }>) => unknown): Uint8Array {
  const encoder = new TextEncoder();
  const parts = results.map((result, index) => {
    const topic = encoder.encode(result.topic);
    if ("error" in result) return { result, topic, error: encoder.encode(JSON.stringify(errorJson(result))), from: 0 };
    return { result, topic, error: undefined, from: requestedOffsets[index]! };
  });
  let size = 1 + 4;
  for (const part of parts) {
    size += 2 + part.topic.length + 4 + 1;
    if (part.error) size += 4 + part.error.length;
    else size += 8 * 4 + 4 + (part.result as { batches: readonly FetchedBatch[] }).batches.reduce((sum, b) => sum + batchFrameBytes(b), 0);
  }
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let p = 0;
  const u8 = (v: number) => view.setUint8(p++, v);
  const u16 = (v: number) => ((view.setUint16(p, v), (p += 2)));
  const u32 = (v: number) => ((view.setUint32(p, v), (p += 4)));
  const u64 = (v: number) => {
    u32(Math.floor(v / 2 ** 32));
    u32(v % 2 ** 32);
  };
  const bytes = (b: Uint8Array) => {
    out.set(b, p);
    p += b.length;
  };
  u8(FETCH_FRAME_VERSION);
  u32(parts.length);
  for (const part of parts) {
    u16(part.topic.length);
    bytes(part.topic);
    u32(part.result.partition);
    if (part.error) {
      u8(1);
      u32(part.error.length);
      bytes(part.error);
      continue;
    }
    const data = part.result as Exclude<PartitionBatchFetchResult, { error: unknown }>;
    u8(0);
    u64(part.from);
    u64(data.nextOffset);
    u64(data.highWatermark);
    u64(data.logStartOffset);
    u32(data.batches.length);
    for (const batch of data.batches) {
      u64(batch.baseOffset);
      u32(batch.count);
      u8(CODEC_IDS[batch.codec]);
      u8((batch.producerId === undefined ? 0 : BATCH_FLAGS.producerId) | (batch.transactional ? BATCH_FLAGS.transactional : 0) | (batch.recordOffsets ? BATCH_FLAGS.sparse : 0));
      if (batch.producerId !== undefined) u64(batch.producerId);
      if (batch.recordOffsets) {
        u32(batch.recordOffsets.length);
        for (const offset of batch.recordOffsets) u32(offset - batch.baseOffset);
      }
      u32(batch.blob.length);
      bytes(batch.blob);
    }
  }
  if (p !== size) throw new Error(`fetch frame size mismatch: computed ${size}, wrote ${p}`);
  return out;
}
