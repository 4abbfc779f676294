/**
 * Compression codecs, levels and per-topic dictionaries by units saved per CPU millisecond
 * (issue 17): gzip, brotli and zstd levels, and zstd / deflate with a dictionary, for batches of 1,
 * 10 and 100 bench events encoded as the broker stores them. Per row: the batch item's size as
 * DynamoDB bills it (shared/storage's own item layout) per message, write units per message (the
 * item put), read units per 1,000 messages (eventually consistent), and the CPU time to compress
 * and decompress (medians over repeats, codecs interleaved within each repeat so load drifts hit
 * them alike). "saved/ms" = write + read units saved against no compression, per message, divided
 * by compress + decompress CPU ms per message. The dictionaries are built from generated events of
 * another seed, so no measured event was seen in training. docs/performance.md, "Compression".
 *
 *   npx tsx bench/codec-levels.ts            (--quick: fewer events and repeats)
 */
import { pathToFileURL } from "node:url";
import { brotliCompressSync, brotliDecompressSync, constants, gunzipSync, gzipSync } from "node:zlib";
import type { CompressionCodec } from "../shared/compression.js";
import { encodeRecordBatch, type BatchRecord } from "../shared/record-batch.js";
import { batchPutRequest } from "../shared/storage/append-store.js";
import { tableNames } from "../shared/storage/tables.js";
import { itemSize } from "./capacity.js";
import { DEFAULT_SEED, generateEvents } from "./payload.js";
import { fmt, markdownTable, quantile } from "./stats.js";
import { buildDictionaries, deflateWithDictionary, zstdAvailable, zstdDictionaryAvailable, zstdImplementation, zstdPerCall, zstdReused, type BlobCodec } from "./zstd.js";

export interface CodecLevelOptions {
  /** Measured events (each batch size slices the same ones). */
  readonly messages: number;
  /** Timed passes per codec; the table shows medians. */
  readonly repeats: number;
  /** Events of another seed the dictionaries are built from. */
  readonly trainingEvents: number;
  /** Include brotli q9 (≈ 2 ms per message: too slow for a quick run). */
  readonly slowLevels: boolean;
}
export const FULL_OPTIONS: CodecLevelOptions = { messages: 1_000, repeats: 7, trainingEvents: 2_000, slowLevels: true };
export const QUICK_OPTIONS: CodecLevelOptions = { messages: 200, repeats: 3, trainingEvents: 500, slowLevels: false };

/** 32 KB: deflate's whole window, so the zstd and deflate dictionaries get the same budget. */
export const DICTIONARY_BYTES = 32 * 1024;
const BATCH_SIZES = [1, 10, 100] as const;
const TIMESTAMP = 1_764_000_000_000;

interface Candidate {
  readonly codec: string;
  readonly dictionary: string;
  /** The item's `z` attribute as the broker would write it ("zstd" would be as long as "gzip"). */
  readonly storedAs: CompressionCodec;
  readonly impl: BlobCodec;
}

export interface CodecRow {
  readonly batch: number;
  readonly codec: string;
  readonly dictionary: string;
  readonly bytesPerMessage: number;
  readonly wruPerMessage: number;
  readonly rruPer1k: number;
  readonly compressUs: number;
  readonly decompressUs: number;
  /** NaN for the uncompressed baseline. */
  readonly savedPerMs: number;
}

export interface CodecLevels {
  readonly rows: readonly CodecRow[];
  readonly options: CodecLevelOptions;
  readonly notes: readonly string[];
}

function candidates(options: CodecLevelOptions, trainingSamples: readonly Uint8Array[]): { list: Candidate[]; notes: string[] } {
  const list: Candidate[] = [
    { codec: "none", dictionary: "—", storedAs: "none", impl: { compress: (raw) => raw, decompress: (blob) => blob } },
    ...[1, 6, 9].map((level): Candidate => ({ codec: `gzip -${level}${level === 6 ? " (gzip's level)" : ""}`, dictionary: "—", storedAs: "gzip", impl: { compress: (raw) => gzipSync(raw, { level }), decompress: (blob) => gunzipSync(blob) } })),
    ...[1, 4, 5, ...(options.slowLevels ? [9] : [])].map((quality): Candidate => ({
      codec: `brotli q${quality}${quality === 5 ? " (default codec)" : ""}`,
      dictionary: "—",
      storedAs: "brotli",
      impl: { compress: (raw) => brotliCompressSync(raw, { params: { [constants.BROTLI_PARAM_QUALITY]: quality, [constants.BROTLI_PARAM_SIZE_HINT]: raw.length } }), decompress: (blob) => brotliDecompressSync(blob) },
    })),
  ];
  const notes: string[] = [];
  if (!zstdAvailable()) return { list, notes: [`zstd: ${zstdImplementation()}: zstd rows left out`] };
  // zstd 3 is zstd's and Kafka's default level; 1 the fastest regular one; 6 and 9 to see where more CPU stops paying.
  for (const level of [1, 3, 6, 9]) list.push({ codec: `zstd -${level}`, dictionary: "—", storedAs: "gzip", impl: zstdPerCall(level) });
  const reused = zstdReused(3);
  if (reused) list.push({ codec: "zstd -3, context kept", dictionary: "—", storedAs: "gzip", impl: reused });

  const dictionaries = buildDictionaries(trainingSamples, DICTIONARY_BYTES);
  const kb = (bytes: Uint8Array) => `${fmt(bytes.length / 1024, 0)} KB`;
  const main = dictionaries.trained ? { label: `trained ${kb(dictionaries.trained.bytes)}`, bytes: dictionaries.trained.bytes } : { label: `raw ${kb(dictionaries.raw)}`, bytes: dictionaries.raw };
  if (zstdDictionaryAvailable()) list.push({ codec: "zstd -3", dictionary: main.label, storedAs: "gzip", impl: zstdPerCall(3, main.bytes) });
  const reusedDict = zstdReused(3, main.bytes);
  if (reusedDict) list.push({ codec: "zstd -3, context kept", dictionary: main.label, storedAs: "gzip", impl: reusedDict });
  const reusedRaw = dictionaries.trained ? zstdReused(3, dictionaries.raw) : undefined;
  if (reusedRaw) list.push({ codec: "zstd -3, context kept", dictionary: `raw ${kb(dictionaries.raw)}`, storedAs: "gzip", impl: reusedRaw });
  list.push({ codec: "deflate -6, zlib format", dictionary: `raw ${kb(dictionaries.raw)}`, storedAs: "gzip", impl: deflateWithDictionary(6, dictionaries.raw) });

  notes.push(`zstd (plain levels): ${zstdImplementation()}`);
  notes.push(`zstd with a dictionary, one context per call: ${zstdImplementation(true)}`);
  if (reused) notes.push("zstd \"context kept\": zstd-napi, one compressor and one decompressor reused across calls (dictionary digested once)");
  const source = `${fmt(trainingSamples.length)} generated events of seed 0x${(DEFAULT_SEED + 1).toString(16)} (the measured ones: 0x${DEFAULT_SEED.toString(16)}), each encoded as a one-record batch`;
  notes.push(
    dictionaries.trained
      ? `trained dictionary: ${dictionaries.trained.how}, ${fmt(dictionaries.trained.bytes.length)} bytes, from ${source}`
      : `trained dictionary: none (no zstd CLI on this machine); zstd uses the raw-content dictionary instead`,
  );
  notes.push(`raw-content dictionary (zstd raw content; zlib's preset dictionary): the last ${fmt(dictionaries.raw.length)} bytes of those samples laid end to end`);
  return { list, notes };
}

function cpuMs(run: () => void): number {
  const start = process.cpuUsage();
  run();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && Buffer.compare(a, b) === 0;

export function measureCodecLevels(options: CodecLevelOptions = FULL_OPTIONS): CodecLevels {
  const events = generateEvents(options.messages).map((e) => Buffer.from(e, "utf8"));
  const training = generateEvents(options.trainingEvents, DEFAULT_SEED + 1).map((e) => encodeRecordBatch([{ timestamp: TIMESTAMP, key: null, value: Buffer.from(e, "utf8"), headers: [] }]));
  const { list, notes } = candidates(options, training);
  const tables = tableNames("codec");
  const ref = { topicId: "t0123456789abcdef", partition: 0 };
  const rows: CodecRow[] = [];

  for (const batchSize of BATCH_SIZES) {
    const batches: Uint8Array[] = [];
    for (let i = 0; i + batchSize <= events.length; i += batchSize) {
      const records: BatchRecord[] = events.slice(i, i + batchSize).map((value) => ({ timestamp: TIMESTAMP + i, key: null, value, headers: [] }));
      batches.push(encodeRecordBatch(records));
    }
    const messages = batches.length * batchSize;
    // Untimed first pass: the stored blobs (sizes, and what the decompress passes read), a round-trip check, warm code paths.
    const blobs = list.map((c) => batches.map((raw) => c.impl.compress(raw)));
    list.forEach((c, k) =>
      blobs[k]!.forEach((blob, b) => {
        if (!sameBytes(c.impl.decompress(blob), batches[b]!)) throw new Error(`${c.codec} (${c.dictionary}) does not round-trip batch ${b} of ${batchSize}`);
      }),
    );
    const compressMs = list.map(() => [] as number[]);
    const decompressMs = list.map(() => [] as number[]);
    for (let r = 0; r < options.repeats; r++) {
      list.forEach((c, k) => {
        compressMs[k]!.push(cpuMs(() => batches.forEach((raw) => c.impl.compress(raw))) / messages);
        decompressMs[k]!.push(cpuMs(() => blobs[k]!.forEach((blob) => c.impl.decompress(blob))) / messages);
      });
    }

    let baseline: { wru: number; rru: number } | undefined;
    list.forEach((c, k) => {
      let wru = 0;
      let itemBytes = 0;
      for (const blob of blobs[k]!) {
        const put = batchPutRequest(tables, ref, { baseOffset: 1_000_000, count: batchSize, codec: c.storedAs, blob, maxTimestamp: TIMESTAMP }, TIMESTAMP, undefined) as { Item: Record<string, unknown> };
        const size = itemSize(put.Item);
        itemBytes += size;
        wru += Math.ceil(size / 1024);
      }
      const wruPerMessage = wru / messages;
      // A fetch reads ~500 messages' items in one eventually consistent Query: units = bytes / 4 KB × 0.5.
      const rruPer1k = ((itemBytes / 4096) * 0.5 * 1000) / messages;
      baseline ??= { wru: wruPerMessage, rru: rruPer1k };
      const compress = quantile(compressMs[k]!, 0.5);
      const decompress = quantile(decompressMs[k]!, 0.5);
      const saved = baseline.wru - wruPerMessage + (baseline.rru - rruPer1k) / 1000;
      rows.push({ batch: batchSize, codec: c.codec, dictionary: c.dictionary, bytesPerMessage: itemBytes / messages, wruPerMessage, rruPer1k, compressUs: compress * 1000, decompressUs: decompress * 1000, savedPerMs: c.storedAs === "none" ? Number.NaN : saved / (compress + decompress) });
    });
  }
  return { rows, options, notes };
}

export function codecLevelsReport(result: CodecLevels): string {
  const { options } = result;
  const table = markdownTable(
    ["batch", "codec", "dictionary", "item bytes/msg", "WRU/msg", "RRU/1k msg", "compress µs/msg", "decompress µs/msg", "units saved per CPU ms"],
    result.rows.map((r) => [String(r.batch), r.codec, r.dictionary, fmt(r.bytesPerMessage), fmt(r.wruPerMessage, 3), fmt(r.rruPer1k, 1), r.codec === "none" ? "—" : fmt(r.compressUs, 1), r.codec === "none" ? "—" : fmt(r.decompressUs, 1), fmt(r.savedPerMs, 1)]),
    ["r", "l", "l"],
  );
  const how =
    `${fmt(options.messages)} generated events per batch size; CPU = median of ${options.repeats} passes (process CPU time, codecs interleaved). ` +
    "WRU/msg = the batch item's put (whole 1 KB units); RRU/1k = eventually consistent Query reads of those items; saved = (WRU + RRU) per message below \"none\".";
  return [table, "", how, ...result.notes.map((n) => `- ${n}`)].join("\n");
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const quick = process.argv.includes("--quick");
  console.log(codecLevelsReport(measureCodecLevels(quick ? QUICK_OPTIONS : FULL_OPTIONS)));
}
