/**
 * Compression levels by units saved per CPU millisecond (issue 17): for gzip and brotli at several
 * levels, batches of 10 and 100 bench events encoded as the broker stores them; the batch item's
 * size as DynamoDB bills it (shared/storage's own item layout), write units per message (the item
 * put) and read units per 1,000 messages (eventually consistent), and the CPU time to compress
 * and decompress. "saved/ms" = write + read units saved against no compression, per message,
 * divided by compress + decompress CPU ms per message. zstd is not measured: Node 20 has none and
 * no zstd package is installed (docs/performance.md).
 *
 *   npx tsx bench/codec-levels.ts
 */
import { brotliCompressSync, brotliDecompressSync, constants, gunzipSync, gzipSync } from "node:zlib";
import { encodeRecordBatch, type BatchRecord } from "../shared/record-batch.js";
import { batchPutRequest } from "../shared/storage/append-store.js";
import { tableNames } from "../shared/storage/tables.js";
import { itemSize } from "./capacity.js";
import { generateEvents } from "./payload.js";
import { fmt, markdownTable } from "./stats.js";

const events = generateEvents(1_000).map((e) => Buffer.from(e, "utf8"));
const tables = tableNames("codec");
const ref = { topicId: "t0123456789abcdef", partition: 0 };

interface Codec {
  readonly name: string;
  compress(raw: Uint8Array): Uint8Array;
  decompress(blob: Uint8Array): Uint8Array;
}
const codecs: Codec[] = [
  { name: "none", compress: (raw) => raw, decompress: (blob) => blob },
  ...[1, 6, 9].map((level) => ({ name: `gzip -${level}`, compress: (raw: Uint8Array) => gzipSync(raw, { level }), decompress: (blob: Uint8Array) => gunzipSync(blob) })),
  ...[1, 4, 5, 9].map((quality) => ({
    name: `brotli q${quality}`,
    compress: (raw: Uint8Array) => brotliCompressSync(raw, { params: { [constants.BROTLI_PARAM_QUALITY]: quality, [constants.BROTLI_PARAM_SIZE_HINT]: raw.length } }),
    decompress: (blob: Uint8Array) => brotliDecompressSync(blob),
  })),
];

function cpuMs(run: () => void, repeat: number): number {
  const start = process.cpuUsage();
  for (let i = 0; i < repeat; i++) run();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000 / repeat;
}

const rows: string[][] = [];
for (const batchSize of [10, 100]) {
  const batches: Uint8Array[] = [];
  for (let i = 0; i + batchSize <= events.length && batches.length < 1_000 / batchSize; i += batchSize) {
    const records: BatchRecord[] = events.slice(i, i + batchSize).map((value) => ({ timestamp: 1_764_000_000_000 + i, key: null, value, headers: [] }));
    batches.push(encodeRecordBatch(records));
  }
  let baseline: { wru: number; rru: number } | undefined;
  for (const codec of codecs) {
    let wru = 0;
    let itemBytes = 0;
    const blobs = batches.map((raw) => codec.compress(raw));
    for (const blob of blobs) {
      const put = batchPutRequest(tables, ref, { baseOffset: 1_000_000, count: batchSize, codec: "gzip", blob, maxTimestamp: 1_764_000_000_000 }, 1_764_000_000_000, undefined) as { Item: Record<string, unknown> };
      const size = itemSize(put.Item);
      itemBytes += size;
      wru += Math.ceil(size / 1024);
    }
    const messages = batches.length * batchSize;
    const wruPerMessage = wru / messages;
    // A fetch reads ~500 messages' items in one Query: units = bytes / 4 KB × 0.5.
    const rruPer1k = ((itemBytes / 4096) * 0.5 * 1000) / messages;
    const compressMs = cpuMs(() => batches.forEach((raw) => codec.compress(raw)), 3) / messages;
    const decompressMs = cpuMs(() => blobs.forEach((blob) => codec.decompress(blob)), 3) / messages;
    baseline ??= { wru: wruPerMessage, rru: rruPer1k };
    const saved = baseline.wru - wruPerMessage + (baseline.rru - rruPer1k) / 1000;
    const cpu = compressMs + decompressMs;
    rows.push([String(batchSize), codec.name, fmt(itemBytes / batches.length), fmt(wruPerMessage, 3), fmt(rruPer1k, 1), fmt(compressMs * 1000, 1), fmt(decompressMs * 1000, 1), codec.name === "none" ? "—" : fmt(saved / cpu, 1)]);
  }
}
console.log(markdownTable(["batch", "codec", "item bytes", "WRU/msg", "RRU/1k msg", "compress µs/msg", "decompress µs/msg", "units saved per CPU ms"], rows));
