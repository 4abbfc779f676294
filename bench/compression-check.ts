/**
 * Checks that batches of the bench's generated events compress like the team's reference payload
 * (../shared/bench/events.jsonl, relative to the main checkout): gzip -6 and brotli q5 ratios of
 * the first N events joined with "\n", within 10%. Read-only; falls back to the reference table of
 * /work/shared/bench/README.md when the file is not there.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

const TOLERANCE = 0.1;
/** The reference table's ratios (README of the reference payload). */
const README_RATIOS: Readonly<Record<number, { gzip: number; brotli: number }>> = { 10: { gzip: 3.7, brotli: 4.0 }, 100: { gzip: 5.2, brotli: 5.8 }, 300: { gzip: 5.5, brotli: 6.7 } };

export interface CompressionRow {
  readonly n: number;
  readonly gzip: number;
  readonly brotli: number;
  readonly refGzip: number;
  readonly refBrotli: number;
  readonly ok: boolean;
}

function ratios(lines: readonly string[], n: number): { gzip: number; brotli: number } {
  const raw = Buffer.from(lines.slice(0, n).join("\n"), "utf8");
  return {
    gzip: raw.length / gzipSync(raw, { level: 6 }).length,
    brotli: raw.length / brotliCompressSync(raw, { params: { [constants.BROTLI_PARAM_QUALITY]: 5 } }).length,
  };
}

function referenceFile(): string | undefined {
  const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
  const candidates = [path.resolve(repo, "../shared/bench/events.jsonl"), "/work/shared/bench/events.jsonl"];
  return candidates.find((file) => existsSync(file));
}

export function compressionCheck(events: readonly string[]): { source: string; rows: CompressionRow[] } {
  const file = referenceFile();
  const reference = file ? readFileSync(file, "utf8").split("\n", 301).filter((l) => l.length > 0) : undefined;
  const rows = [10, 100, 300].map((n) => {
    const mine = ratios(events, n);
    const ref = reference ? ratios(reference, n) : README_RATIOS[n]!;
    const ok = Math.abs(mine.gzip / ref.gzip - 1) <= TOLERANCE && Math.abs(mine.brotli / ref.brotli - 1) <= TOLERANCE;
    return { n, gzip: mine.gzip, brotli: mine.brotli, refGzip: ref.gzip, refBrotli: ref.brotli, ok };
  });
  return { source: file ?? "reference table (events.jsonl not found)", rows };
}
