import { describe, expect, it } from "vitest";
import { batchAcceptHeader, CorruptFrameError, decodeFetchFrame, parseFetchFrame } from "../../client/fetch-frame.js";
import { CorruptBatchError, decodeBatch, decompress, decompressStream } from "../../client/record-batch.js";
import type { PartitionBatchFetchResult } from "../../shared/core/fetch.js";
import type { FetchedBatch } from "../../shared/core/log-reader.js";
import { DynalogError } from "../../shared/errors.js";
import { encodeFetchFrame, negotiateBatches } from "../../shared/http/fetch-frame.js";
import { compressBlob, type CompressionCodec } from "../../shared/compression.js";
import { encodeRecordBatch, type BatchRecord } from "../../shared/record-batch.js";

const text = (s: string) => new TextEncoder().encode(s);

function batch(baseOffset: number, records: BatchRecord[], codec: CompressionCodec = "none", extra: Partial<FetchedBatch> = {}): FetchedBatch {
  return { baseOffset, count: records.length, codec, blob: compressBlob(codec, encodeRecordBatch(records)), transactional: false, firstOffset: baseOffset, records: records.length, ...extra };
}

const records: BatchRecord[] = [
  { timestamp: 1_700_000_000_000, key: text("k1"), value: Uint8Array.from([0, 255, 1]), headers: [{ key: "trace", value: text("a") }, { key: "trace", value: null }] },
  { timestamp: 1_699_999_999_000, key: null, value: null, headers: [] },
  { timestamp: 1_700_000_000_005, key: new Uint8Array(0), value: text("third"), headers: [{ key: "ü", value: new Uint8Array(0) }] },
];

const encode = (results: PartitionBatchFetchResult[], from: number[]) => encodeFetchFrame(results, from, (r) => r.error.toJSON());

describe("binary fetch frame", () => {
  it("round-trips partitions, batches, codecs, producer ids, sparse offsets and errors", async () => {
    const frame = encode(
      [
        { topic: "orders", partition: 2, nextOffset: 13, highWatermark: 20, logStartOffset: 0, batches: [batch(10, records, "gzip", { producerId: 2 ** 40 + 7, transactional: true })] },
        { topic: "sparse", partition: 0, nextOffset: 2 ** 52, highWatermark: 2 ** 52, logStartOffset: 5, batches: [batch(2 ** 52 - 10, records, "none", { count: 10, recordOffsets: [2 ** 52 - 10, 2 ** 52 - 4, 2 ** 52 - 1] })] },
        { topic: "gone", partition: 1, error: new DynalogError("UNKNOWN_TOPIC_OR_PARTITION", "no such topic") },
      ],
      [11, 2 ** 52 - 4, 0],
    );
    const parsed = parseFetchFrame(frame);
    expect(parsed[0]).toMatchObject({ topic: "orders", partition: 2, fromOffset: 11, nextOffset: 13, highWatermark: 20, logStartOffset: 0 });
    expect(parsed[0] && "batches" in parsed[0] && parsed[0].batches[0]).toMatchObject({ baseOffset: 10, count: 3, codec: "gzip", producerId: 2 ** 40 + 7, transactional: true });
    const decoded = await decodeFetchFrame(frame);
    const [orders, sparse, gone] = decoded;
    // Whole batches travel; the client keeps [from, nextOffset): offset 10 is trimmed.
    expect(orders && "messages" in orders && orders.messages.map((m) => m.offset)).toEqual([11, 12]);
    const [second, third] = orders && "messages" in orders ? orders.messages : [];
    expect(second).toMatchObject({ key: null, value: null, timestamp: 1_699_999_999_000, headers: {} });
    expect(third?.value?.toString()).toBe("third");
    expect(third?.key?.length).toBe(0);
    expect(third?.headers).toEqual({ ü: Buffer.alloc(0) });
    expect(sparse && "messages" in sparse && sparse.messages.map((m) => m.offset)).toEqual([2 ** 52 - 4, 2 ** 52 - 1]);
    expect(gone).toEqual({ topic: "gone", partition: 1, error: expect.objectContaining({ code: "UNKNOWN_TOPIC_OR_PARTITION", message: "no such topic" }) });
  });

  it("keeps header order and repeated header keys, as JSON fetch does", async () => {
    const frame = encode([{ topic: "t", partition: 0, nextOffset: 3, highWatermark: 3, logStartOffset: 0, batches: [batch(0, records, "gzip")] }], [0]);
    const [part] = await decodeFetchFrame(frame);
    const first = part && "messages" in part ? part.messages[0] : undefined;
    expect(first?.headers["trace"]).toEqual([Buffer.from("a"), null]);
    expect(first?.size).toBe(2 + 3 + 5 + 1 + 5);
  });

  it("refuses every truncation of a valid frame with a clear error", () => {
    const frame = encode([{ topic: "t", partition: 0, nextOffset: 3, highWatermark: 3, logStartOffset: 0, batches: [batch(0, records, "gzip", { producerId: 9 })] }], [0]);
    for (let length = 0; length < frame.length; length++) {
      expect(() => parseFetchFrame(frame.subarray(0, length))).toThrow(CorruptFrameError);
    }
    expect(() => parseFetchFrame(frame.subarray(0, 10))).toThrow(/truncated/);
  });

  it("refuses a wrong version, trailing bytes, unknown codecs and flags, and offsets beyond 2^53", () => {
    const frame = encode([{ topic: "t", partition: 0, nextOffset: 3, highWatermark: 3, logStartOffset: 0, batches: [batch(0, records)] }], [0]);
    const corrupt = (at: number, value: number) => {
      const copy = Uint8Array.from(frame);
      copy[at] = value;
      return copy;
    };
    expect(() => parseFetchFrame(corrupt(0, 2))).toThrow(/unknown version 2/);
    expect(() => parseFetchFrame(Uint8Array.from([...frame, 0]))).toThrow(/trailing bytes/);
    // Layout: version 1, count 4, topic length 2 + "t" 1, partition 4, kind 1, four u64 32, batch count 4 → batch at 49.
    const batchAt = 1 + 4 + 2 + 1 + 4 + 1 + 32 + 4;
    expect(() => parseFetchFrame(corrupt(batchAt + 12, 7))).toThrow(/unknown codec/);
    expect(() => parseFetchFrame(corrupt(batchAt + 13, 0x40))).toThrow(/unknown batch flags/);
    expect(() => parseFetchFrame(corrupt(batchAt, 0xff))).toThrow(/beyond 2\^53/);
    expect(() => parseFetchFrame(corrupt(12, 9))).toThrow(/unknown partition kind/);
  });

  it("refuses a batch whose blob does not decode, or holds another record count than its header", async () => {
    const good = batch(0, records, "gzip");
    const broken = { ...good, blob: good.blob.subarray(0, good.blob.length - 4) };
    await expect(decodeFetchFrame(encode([{ topic: "t", partition: 0, nextOffset: 3, highWatermark: 3, logStartOffset: 0, batches: [broken] }], [0]))).rejects.toThrow(CorruptBatchError);
    const miscounted = { ...batch(0, records), count: 4 };
    await expect(decodeFetchFrame(encode([{ topic: "t", partition: 0, nextOffset: 3, highWatermark: 3, logStartOffset: 0, batches: [miscounted] }], [0]))).rejects.toThrow(/holds 3 records, its header says 4/);
    expect(() => decodeBatch(Uint8Array.from([...encodeRecordBatch(records), 0]))).toThrow(/trailing bytes/);
    expect(() => decodeBatch(Uint8Array.from([2, 0, 0]))).toThrow(/unknown version/);
  });

  it("decodes blobs exactly as the broker's decoder does, including extreme timestamps", async () => {
    const extreme: BatchRecord[] = [
      { timestamp: Number.MIN_SAFE_INTEGER, key: null, value: text("a"), headers: [] },
      { timestamp: Number.MAX_SAFE_INTEGER, key: new Uint8Array(300).fill(7), value: null, headers: [{ key: "k".repeat(200), value: new Uint8Array(70_000).fill(1) }] },
    ];
    const decoded = decodeBatch(encodeRecordBatch(extreme));
    expect(decoded.map((r) => r.timestamp)).toEqual([Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER]);
    expect(decoded[1]!.headers[0]!.value?.length).toBe(70_000);
    expect(decoded[1]!.key?.length).toBe(300);
  });
});

describe("binary fetch negotiation", () => {
  it("answers binary only when Accept lists the media type, with the codecs the client names", () => {
    expect(negotiateBatches(undefined)).toBeUndefined();
    expect(negotiateBatches("application/json")).toBeUndefined();
    expect(negotiateBatches("*/*")).toBeUndefined();
    expect(negotiateBatches("application/vnd.dynalog.batches;q=0")).toBeUndefined();
    expect([...negotiateBatches("application/vnd.dynalog.batches")!.acceptCodecs].sort()).toEqual(["brotli", "gzip", "none"]);
    expect([...negotiateBatches("application/json;q=0.5, application/vnd.dynalog.batches; codecs=none+gzip+zstd")!.acceptCodecs].sort()).toEqual(["gzip", "none"]);
  });

  it("the SDK asks for the codecs its runtime decompresses: all of them where the runtime lends its zlib (Node)", () => {
    const codecs = [...negotiateBatches(batchAcceptHeader())!.acceptCodecs].sort();
    // Node ≥ 20.16 has process.getBuiltinModule: the SDK decompresses brotli with zlib, though
    // Node 20's DecompressionStream has none (without it the broker would decompress brotli batches).
    expect(typeof process.getBuiltinModule).toBe("function");
    expect(codecs).toEqual(["brotli", "gzip", "none"]);
  });
});

describe("SDK decompression: the runtime's zlib, else DecompressionStream", () => {
  const raw = encodeRecordBatch(Array.from({ length: 200 }, (_, i) => ({ timestamp: i, key: null, value: text(`{"event":${i},"pad":"${"x".repeat(i % 50)}"}`), headers: [] })));

  it("both paths give the broker's bytes back, and refuse output past the limit, truncation and a flipped CRC alike", async () => {
    for (const codec of ["gzip", "brotli"] as const) {
      const stored = compressBlob(codec, raw);
      const paths: [string, (blob: Uint8Array, max: number) => Promise<Uint8Array>][] = [["zlib", (b, m) => decompress(codec, b, m)]];
      let streams = true;
      try {
        new DecompressionStream(codec as never);
      } catch {
        streams = false; // Node 20 has no brotli DecompressionStream
      }
      if (streams) paths.push(["stream", (b, m) => decompressStream(codec, b, m)]);
      for (const [name, run] of paths) {
        expect(Buffer.compare(await run(stored, raw.length), raw), `${codec} via ${name}`).toBe(0);
        await expect(run(stored, raw.length - 1), `${codec} via ${name}: over the limit`).rejects.toThrow(/decompresses to more than/);
        await expect(run(stored.subarray(0, stored.length >> 1), 1_000_000), `${codec} via ${name}: truncated`).rejects.toThrow(CorruptBatchError);
        await expect(run(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]), 1_000_000), `${codec} via ${name}: not ${codec}`).rejects.toThrow(CorruptBatchError);
      }
    }
    const flipped = Uint8Array.from(compressBlob("gzip", raw));
    flipped[flipped.length - 6]! ^= 0xff; // inside the CRC32 trailer
    await expect(decompress("gzip", flipped, 1_000_000)).rejects.toThrow(CorruptBatchError);
    await expect(decompressStream("gzip", flipped, 1_000_000)).rejects.toThrow(CorruptBatchError);
  });
});
