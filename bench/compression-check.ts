/**
 * Checks that batches of the bench's generated events compress like the team's reference payload
 * (../shared/bench/events.jsonl, relative to the main checkout): gzip -6, brotli q5 and zstd -3
 * ratios of the first N events joined with "\n", within 10%. Read-only; falls back to the reference
 * table of /work/shared/bench/README.md when the file is not there (that table has no zstd column,
 * so zstd is then not checked).
 *
 * Also, for information (not part of the pass/fail): how single events and batches of 10 compress
 * with zstd -3 and a 32 KB dictionary built from OTHER events of the same source, generated and
 * reference side by side, since what a per-topic dictionary saves depends on how templated the
 * events are, which the plain ratios only partly show.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { DEFAULT_SEED, generateEvents } from "./payload.js";
import { buildDictionaries, zstdAvailable, zstdDictionaryAvailable, zstdPerCall, zstdReused, type BlobCodec } from "./zstd.js";

const TOLERANCE = 0.1;
/** The reference table's ratios (README of the reference payload). */
const README_RATIOS: Readonly<Record<number, { gzip: number; brotli: number }>> = { 10: { gzip: 3.7, brotli: 4.0 }, 100: { gzip: 5.2, brotli: 5.8 }, 300: { gzip: 5.5, brotli: 6.7 } };
const DICTIONARY_TRAINING_EVENTS = 2_000;

export interface CompressionRow {
  readonly n: number;
  readonly gzip: number;
  readonly brotli: number;
  /** NaN when this machine has no zstd. */
  readonly zstd: number;
  readonly refGzip: number;
  readonly refBrotli: number;
  /** NaN when only the README's table is available. */
  readonly refZstd: number;
  readonly ok: boolean;
}

/** Ratio of events measured one batch of `batch` at a time (first 300 events), with a dictionary. */
export interface DictionaryRow {
  readonly batch: number;
  readonly generated: number;
  readonly reference: number;
  readonly within: boolean;
}

export interface CompressionCheck {
  readonly source: string;
  readonly rows: readonly CompressionRow[];
  /** Empty without zstd or without the reference file. */
  readonly dictionary: readonly DictionaryRow[];
  readonly dictionaryKind: string;
}

const within = (mine: number, ref: number) => Math.abs(mine / ref - 1) <= TOLERANCE;

function ratios(lines: readonly string[], n: number, zstd: BlobCodec | undefined): { gzip: number; brotli: number; zstd: number } {
  const raw = Buffer.from(lines.slice(0, n).join("\n"), "utf8");
  return {
    gzip: raw.length / gzipSync(raw, { level: 6 }).length,
    brotli: raw.length / brotliCompressSync(raw, { params: { [constants.BROTLI_PARAM_QUALITY]: 5 } }).length,
    zstd: zstd ? raw.length / zstd.compress(raw).length : Number.NaN,
  };
}

function referenceFile(): string | undefined {
  const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
  const candidates = [path.resolve(repo, "../shared/bench/events.jsonl"), "/work/shared/bench/events.jsonl"];
  return candidates.find((file) => existsSync(file));
}

/** zstd -3 with a 32 KB dictionary from `training`, and the ratio over the first 300 of `lines` in batches of `batch`. */
function dictionaryRatios(lines: readonly string[], training: readonly string[], batches: readonly number[]): { ratios: number[]; kind: string } {
  const dictionaries = buildDictionaries(training.map((l) => Buffer.from(l, "utf8")), 32 * 1024);
  const bytes = dictionaries.trained?.bytes ?? dictionaries.raw;
  const codec = zstdReused(3, bytes) ?? zstdPerCall(3, bytes); // the caller checked zstdDictionaryAvailable
  const ratios = batches.map((batch) => {
    let raw = 0;
    let stored = 0;
    for (let i = 0; i + batch <= 300; i += batch) {
      const input = Buffer.from(lines.slice(i, i + batch).join("\n"), "utf8");
      raw += input.length;
      stored += codec.compress(input).length;
    }
    return raw / stored;
  });
  return { ratios, kind: dictionaries.trained ? "trained with zstd --train" : "raw content (no zstd CLI)" };
}

export function compressionCheck(events: readonly string[]): CompressionCheck {
  const file = referenceFile();
  const reference = file ? readFileSync(file, "utf8").split("\n").filter((l) => l.length > 0) : undefined;
  const zstd = zstdAvailable() ? zstdPerCall(3) : undefined;
  const rows = [10, 100, 300].map((n): CompressionRow => {
    const mine = ratios(events, n, zstd);
    const ref = reference ? ratios(reference, n, zstd) : { ...README_RATIOS[n]!, zstd: Number.NaN };
    const ok = within(mine.gzip, ref.gzip) && within(mine.brotli, ref.brotli) && (Number.isNaN(ref.zstd) || within(mine.zstd, ref.zstd));
    return { n, gzip: mine.gzip, brotli: mine.brotli, zstd: mine.zstd, refGzip: ref.gzip, refBrotli: ref.brotli, refZstd: ref.zstd, ok };
  });
  let dictionary: DictionaryRow[] = [];
  let dictionaryKind = "—";
  if (zstd && zstdDictionaryAvailable() && reference && reference.length >= 300 + DICTIONARY_TRAINING_EVENTS) {
    // Training sets disjoint from the 300 measured events: another seed, and the reference file's last lines.
    const batches = [1, 10];
    const generated = dictionaryRatios(events, generateEvents(DICTIONARY_TRAINING_EVENTS, DEFAULT_SEED + 1), batches);
    const ref = dictionaryRatios(reference, reference.slice(-DICTIONARY_TRAINING_EVENTS), batches);
    dictionaryKind = generated.kind;
    dictionary = batches.map((batch, i) => ({ batch, generated: generated.ratios[i]!, reference: ref.ratios[i]!, within: within(generated.ratios[i]!, ref.ratios[i]!) }));
  }
  return { source: file ?? "reference table (events.jsonl not found)", rows, dictionary, dictionaryKind };
}
