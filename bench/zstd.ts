/**
 * zstd for the bench (issue 17), never for the broker: Node's own zlib zstd when the running Node
 * has it (22.15+ / 23.8+), else the zstd-napi devDependency (native libzstd). Also the two
 * per-topic dictionaries the codec table compares: one trained by `zstd --train` (when the zstd CLI
 * is on this machine) and a raw-content one (plain sample bytes, which zstd and zlib both accept).
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import * as zlib from "node:zlib";
import type * as ZstdNapi from "zstd-napi";

/** zlib's zstd functions as Node 22.15+ declares them (this repo's @types/node is 20's). */
interface NodeZlibZstd {
  zstdCompressSync(data: Uint8Array, options?: { params?: Record<number, number>; dictionary?: Uint8Array }): Buffer;
  zstdDecompressSync(data: Uint8Array, options?: { dictionary?: Uint8Array }): Buffer;
}

export interface BlobCodec {
  compress(raw: Uint8Array): Uint8Array;
  decompress(blob: Uint8Array): Uint8Array;
}

const require = createRequire(import.meta.url);
const nodeZstd: NodeZlibZstd | undefined = (() => {
  const candidate = zlib as unknown as Partial<NodeZlibZstd>;
  return typeof candidate.zstdCompressSync === "function" && typeof candidate.zstdDecompressSync === "function" ? (candidate as NodeZlibZstd) : undefined;
})();
// Loaded only when needed: on a Node with zlib zstd the native addon is not required for the plain levels.
let napi: typeof ZstdNapi | null | undefined;
function zstdNapi(): typeof ZstdNapi | undefined {
  if (napi === undefined) {
    try {
      napi = require("zstd-napi") as typeof ZstdNapi;
    } catch {
      napi = null;
    }
  }
  return napi ?? undefined;
}
const ZSTD_C_COMPRESSION_LEVEL = (zlib.constants as unknown as Record<string, number>)["ZSTD_c_compressionLevel"] ?? 100;

/** Does this Node's zlib honour `dictionary` for zstd (added in v24.6.0)? Probed, not guessed from the version. */
let dictionaryProbe: boolean | undefined;
function zlibTakesDictionary(zstd: NodeZlibZstd): boolean {
  dictionaryProbe ??= probeDictionary(zstd);
  return dictionaryProbe;
}
function probeDictionary(zstd: NodeZlibZstd): boolean {
  const dictionary = Buffer.from("dictionary probe: the same forty-odd bytes on both sides", "utf8");
  let blob: Buffer;
  try {
    blob = zstd.zstdCompressSync(dictionary, { dictionary });
  } catch {
    return false;
  }
  try {
    zstd.zstdDecompressSync(blob); // succeeds only if the dictionary was ignored
    return false;
  } catch {
    try {
      return Buffer.compare(zstd.zstdDecompressSync(blob, { dictionary }), dictionary) === 0;
    } catch {
      return false;
    }
  }
}

function napiVersion(): string {
  try {
    return (require("zstd-napi/package.json") as { version: string }).version;
  } catch {
    return "?";
  }
}

/** Which implementation zstdPerCall uses, with or without a dictionary (printed beside the table). */
export function zstdImplementation(withDictionary = false): string {
  if (nodeZstd && (!withDictionary || zlibTakesDictionary(nodeZstd))) return `node:zlib zstdCompressSync/zstdDecompressSync (Node ${process.version})`;
  const why = nodeZstd ? `Node ${process.version}'s zlib zstd takes no dictionary` : `Node ${process.version} has no zstd in zlib`;
  return zstdNapi() ? `zstd-napi ${napiVersion()} (native libzstd; ${why})` : `none (${why} and zstd-napi does not load)`;
}

export function zstdAvailable(): boolean {
  return nodeZstd !== undefined || zstdNapi() !== undefined;
}

/** Can zstdPerCall take a dictionary here (zlib's `dictionary` option, else zstd-napi)? */
export function zstdDictionaryAvailable(): boolean {
  return (nodeZstd !== undefined && zlibTakesDictionary(nodeZstd)) || zstdNapi() !== undefined;
}

/**
 * zstd at `level`, one fresh context per call as zlib's convenience methods have it (they offer no
 * reusable synchronous context): with a dictionary that means loading it on every call.
 */
export function zstdPerCall(level: number, dictionary?: Uint8Array): BlobCodec {
  if (nodeZstd && (dictionary === undefined || zlibTakesDictionary(nodeZstd))) {
    const zstd = nodeZstd;
    const params = { [ZSTD_C_COMPRESSION_LEVEL]: level };
    return {
      compress: (raw) => zstd.zstdCompressSync(raw, dictionary ? { params, dictionary } : { params }),
      decompress: (blob) => zstd.zstdDecompressSync(blob, dictionary ? { dictionary } : {}),
    };
  }
  const lib = zstdNapi();
  if (!lib) throw new Error("no zstd: this Node has none in zlib and zstd-napi does not load");
  return {
    compress: (raw) => {
      const c = new lib.Compressor();
      c.setParameters({ compressionLevel: level });
      if (dictionary) c.loadDictionary(dictionary);
      return c.compress(raw);
    },
    decompress: (blob) => {
      const d = new lib.Decompressor();
      if (dictionary) d.loadDictionary(dictionary);
      return d.decompress(blob);
    },
  };
}

/**
 * zstd at `level` with ONE context per direction kept across calls (zstd-napi), the way a warm
 * Lambda would keep one per topic: the dictionary is digested once. undefined without zstd-napi.
 */
export function zstdReused(level: number, dictionary?: Uint8Array): BlobCodec | undefined {
  const lib = zstdNapi();
  if (!lib) return undefined;
  const c = new lib.Compressor();
  c.setParameters({ compressionLevel: level });
  const d = new lib.Decompressor();
  if (dictionary) {
    c.loadDictionary(dictionary);
    d.loadDictionary(dictionary);
  }
  return { compress: (raw) => c.compress(raw), decompress: (blob) => d.decompress(blob) };
}

/** zlib format (RFC 1950) with a preset dictionary: gzip framing cannot name one, zlib's carries its Adler-32 id. */
export function deflateWithDictionary(level: number, dictionary: Uint8Array): BlobCodec {
  return {
    compress: (raw) => zlib.deflateSync(raw, { level, dictionary }),
    decompress: (blob) => zlib.inflateSync(blob, { dictionary }),
  };
}

export interface Dictionaries {
  /** From `zstd --train`, or undefined when the CLI is not on this machine (or training failed). */
  readonly trained?: { readonly bytes: Uint8Array; readonly how: string };
  /** The last `size` bytes of the samples laid end to end: zstd's raw-content dictionary, and zlib's preset dictionary. */
  readonly raw: Uint8Array;
}

function zstdCli(): string | undefined {
  const probe = spawnSync("zstd", ["--version"], { encoding: "utf8" });
  return probe.status === 0 ? probe.stdout.trim().replace(/^\*+\s*|\s*\*+$/g, "") : undefined;
}

/**
 * Both dictionaries from `samples` (each one message as the broker would compress it alone).
 * `size` bytes each: 32 KB is deflate's whole window, so both codecs get the same budget.
 */
export function buildDictionaries(samples: readonly Uint8Array[], size: number): Dictionaries {
  const joined = Buffer.concat(samples);
  const raw = joined.subarray(Math.max(0, joined.length - size));
  const cli = zstdCli();
  if (!cli) return { raw };
  const dir = mkdtempSync(path.join(os.tmpdir(), "dynalog-zdict-"));
  try {
    const sampleDir = path.join(dir, "samples");
    mkdirSync(sampleDir);
    samples.forEach((sample, i) => writeFileSync(path.join(sampleDir, `${i}.bin`), sample));
    const out = path.join(dir, "topic.dict");
    const run = spawnSync("zstd", ["--train", "-q", "-r", sampleDir, "-o", out, `--maxdict=${size}`, "-f"], { encoding: "utf8" });
    if (run.status !== 0) return { raw };
    return { trained: { bytes: readFileSync(out), how: `zstd --train (${cli}) on ${samples.length.toLocaleString("en-US")} samples` }, raw };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
