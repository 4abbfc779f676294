/**
 * The binary fetch format (docs/api.md "Binary fetch"; written by shared/http/fetch-frame.ts):
 * the broker sends the stored record batches as they are and the SDK decompresses and decodes
 * them here. parseFetchFrame checks the framing (every length, count, codec, flag and offset)
 * before anything is decoded; decodeFetchFrame then turns each partition's batches into messages,
 * keeping only those in [requested offset, nextOffset).
 */
import { toMessage, type KafkaMessage } from "./codec.js";
import { decodableCodecs, decodeBatch, decompress, type BatchCodec } from "./record-batch.js";

export const BATCH_MEDIA_TYPE = "application/vnd.dynalog.batches";
export const FETCH_FRAME_VERSION = 1;
const CODECS: readonly BatchCodec[] = ["none", "gzip", "brotli"];
const FLAG_PRODUCER_ID = 1;
const FLAG_TRANSACTIONAL = 2;
const FLAG_SPARSE = 4;
/** Twice the broker's encoded bytes per stored batch (380,000), as the broker's own decoder allows. */
const MAX_BATCH_BYTES = 760_000;

export class CorruptFrameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CorruptFrameError";
  }
}

export interface FrameBatch {
  readonly baseOffset: number;
  readonly count: number;
  readonly codec: BatchCodec;
  readonly producerId?: number;
  readonly transactional: boolean;
  readonly recordOffsets?: readonly number[];
  readonly blob: Uint8Array;
}

export type FramePartition =
  | { readonly topic: string; readonly partition: number; readonly fromOffset: number; readonly nextOffset: number; readonly highWatermark: number; readonly logStartOffset: number; readonly batches: readonly FrameBatch[] }
  | { readonly topic: string; readonly partition: number; readonly error: Record<string, unknown> };

/** A partition's answer, decoded. */
export type DecodedPartition =
  | { readonly topic: string; readonly partition: number; readonly messages: KafkaMessage[]; readonly nextOffset: number; readonly highWatermark: number; readonly logStartOffset: number }
  | { readonly topic: string; readonly partition: number; readonly error: Record<string, unknown> };

/** The `Accept` value that asks for the binary format, naming the codecs this runtime decodes. */
export function batchAcceptHeader(): string {
  return `${BATCH_MEDIA_TYPE}; codecs=${decodableCodecs().join("+")}, application/json; q=0.5`;
}

export function parseFetchFrame(frame: Uint8Array): FramePartition[] {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const utf8 = new TextDecoder("utf-8", { fatal: true });
  let p = 0;
  const fail = (what: string): never => {
    throw new CorruptFrameError(`binary fetch frame: ${what} at byte ${p} of ${frame.length}`);
  };
  const need = (n: number) => {
    if (n > frame.length - p) fail(`truncated (${n} more bytes expected)`);
  };
  const u8 = () => (need(1), view.getUint8(p++));
  const u16 = () => (need(2), (p += 2), view.getUint16(p - 2));
  const u32 = () => (need(4), (p += 4), view.getUint32(p - 4));
  const u64 = () => {
    const high = u32();
    const low = u32();
    if (high >= 2 ** 21) fail("a 64-bit value beyond 2^53 − 1");
    return high * 2 ** 32 + low;
  };
  const bytes = (n: number) => (need(n), (p += n), frame.subarray(p - n, p));
  const text = (n: number) => {
    try {
      return utf8.decode(bytes(n));
    } catch {
      return fail("text that is not UTF-8");
    }
  };

  const version = u8();
  if (version !== FETCH_FRAME_VERSION) fail(`unknown version ${version} (this SDK reads version ${FETCH_FRAME_VERSION})`);
  const partitionCount = u32();
  if (partitionCount > frame.length) fail(`partition count ${partitionCount} too large`);
  const partitions: FramePartition[] = [];
  for (let i = 0; i < partitionCount; i++) {
    const topic = text(u16());
    const partition = u32();
    const kind = u8();
    if (kind === 1) {
      let error: unknown;
      try {
        error = JSON.parse(text(u32()));
      } catch (cause) {
        if (cause instanceof CorruptFrameError) throw cause;
        fail("an error that is not JSON");
      }
      if (error === null || typeof error !== "object") fail("an error that is not an object");
      partitions.push({ topic, partition, error: error as Record<string, unknown> });
      continue;
    }
    if (kind !== 0) fail(`unknown partition kind ${kind}`);
    const fromOffset = u64();
    const nextOffset = u64();
    const highWatermark = u64();
    const logStartOffset = u64();
    const batchCount = u32();
    if (batchCount > frame.length - p) fail(`batch count ${batchCount} too large`);
    const batches: FrameBatch[] = [];
    for (let b = 0; b < batchCount; b++) {
      const baseOffset = u64();
      const count = u32();
      const codec = CODECS[u8()] ?? fail("an unknown codec");
      const flags = u8();
      if ((flags & ~(FLAG_PRODUCER_ID | FLAG_TRANSACTIONAL | FLAG_SPARSE)) !== 0) fail(`unknown batch flags ${flags}`);
      if (baseOffset + count > Number.MAX_SAFE_INTEGER) fail("a batch beyond offset 2^53 − 1");
      const producerId = flags & FLAG_PRODUCER_ID ? u64() : undefined;
      let recordOffsets: number[] | undefined;
      if (flags & FLAG_SPARSE) {
        const n = u32();
        if (n > count) fail(`${n} record offsets in a batch spanning ${count}`);
        need(4 * n);
        recordOffsets = [];
        for (let r = 0; r < n; r++) {
          const delta = u32();
          if (delta >= count || (r > 0 && baseOffset + delta <= recordOffsets[r - 1]!)) fail("record offsets not ascending inside the batch");
          recordOffsets.push(baseOffset + delta);
        }
      }
      const blob = bytes(u32());
      batches.push({ baseOffset, count, codec, transactional: (flags & FLAG_TRANSACTIONAL) !== 0, blob, ...(producerId === undefined ? {} : { producerId }), ...(recordOffsets ? { recordOffsets } : {}) });
    }
    partitions.push({ topic, partition, fromOffset, nextOffset, highWatermark, logStartOffset, batches });
  }
  if (p !== frame.length) fail("trailing bytes");
  return partitions;
}

/** Parses the frame and decodes every batch (decompressing where needed). */
export async function decodeFetchFrame(frame: Uint8Array): Promise<DecodedPartition[]> {
  return Promise.all(parseFetchFrame(frame).map(decodePartition));
}

async function decodePartition(part: FramePartition): Promise<DecodedPartition> {
  if ("error" in part) return part;
  const messages: KafkaMessage[] = [];
  const blobs = await Promise.all(part.batches.map((batch) => decompress(batch.codec, batch.blob, MAX_BATCH_BYTES)));
  for (const [b, batch] of part.batches.entries()) {
    const records = decodeBatch(blobs[b]!);
    const expected = batch.recordOffsets?.length ?? batch.count;
    if (records.length !== expected) throw new CorruptFrameError(`binary fetch frame: a batch at offset ${batch.baseOffset} holds ${records.length} records, its header says ${expected}`);
    for (const [i, record] of records.entries()) {
      const offset = batch.recordOffsets ? batch.recordOffsets[i]! : batch.baseOffset + i;
      // Whole batches travel: records before the requested offset or from nextOffset on are not this answer's.
      if (offset < part.fromOffset || offset >= part.nextOffset) continue;
      messages.push(toMessage(offset, record.timestamp, record.key, record.value, record.headers));
    }
  }
  return { topic: part.topic, partition: part.partition, messages, nextOffset: part.nextOffset, highWatermark: part.highWatermark, logStartOffset: part.logStartOffset };
}
