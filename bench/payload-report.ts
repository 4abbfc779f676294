// Prints how batches of the benchmark payload compress, next to the team's reference figures.
//   npx tsx bench/payload-report.ts
// If ../shared/bench/events.jsonl (the team's reference file) is present, it is measured too.
import { existsSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { generateEvents } from "./payload.js";
import { zstdAvailable, zstdPerCall } from "./zstd.js";

/** The team's reference figures for a batch of the first N events (KB as printed there). */
const REFERENCE = [
  { n: 10, rawKB: "10.8", gzipKB: "3.0", gzipRatio: 3.7, brotliKB: "2.7", brotliRatio: 4.0 },
  { n: 100, rawKB: "106", gzipKB: "20.3", gzipRatio: 5.2, brotliKB: "18.2", brotliRatio: 5.8 },
  { n: 300, rawKB: "318", gzipKB: "57.8", gzipRatio: 5.5, brotliKB: "47.4", brotliRatio: 6.7 },
] as const;

interface BatchFigures {
  n: number;
  raw: number;
  gzip: number;
  brotli: number;
  /** NaN without zstd (Node < 22.15 and no zstd-napi). */
  zstd: number;
}

const zstd3 = zstdAvailable() ? zstdPerCall(3) : undefined;

/** Sizes of the first `n` lines joined with "\n" (as in a JSONL file), raw and compressed. */
function measure(lines: readonly string[], n: number): BatchFigures {
  const batch = Buffer.from(lines.slice(0, n).join("\n"), "utf8");
  const gzip = gzipSync(batch, { level: 6 }).length;
  const brotli = brotliCompressSync(batch, {
    params: { [constants.BROTLI_PARAM_QUALITY]: 5 },
  }).length;
  const zstd = zstd3 ? zstd3.compress(batch).length : Number.NaN;
  return { n, raw: batch.length, gzip, brotli, zstd };
}

const kb = (bytes: number): string => (bytes / 1000).toFixed(1);
const pct = (actual: number, reference: number): string => {
  const d = ((actual - reference) / reference) * 100;
  return `${d >= 0 ? "+" : ""}${d.toFixed(1)}%`;
};

/** Prints one table: measured figures, with the reference figures in brackets and the difference (the reference table has no zstd). */
function printTable(title: string, lines: readonly string[]): void {
  const rows = [["N", "raw KB (ref)", "gzip -6 KB (ref)", "ratio (ref)", "diff", "brotli q5 KB (ref)", "ratio (ref)", "diff", "zstd -3 KB", "ratio"]];
  for (const ref of REFERENCE) {
    const f = measure(lines, ref.n);
    const g = f.raw / f.gzip;
    const b = f.raw / f.brotli;
    rows.push([
      String(ref.n),
      `${kb(f.raw)} (${ref.rawKB})`,
      `${kb(f.gzip)} (${ref.gzipKB})`,
      `×${g.toFixed(2)} (×${ref.gzipRatio.toFixed(1)})`,
      pct(g, ref.gzipRatio),
      `${kb(f.brotli)} (${ref.brotliKB})`,
      `×${b.toFixed(2)} (×${ref.brotliRatio.toFixed(1)})`,
      pct(b, ref.brotliRatio),
      Number.isNaN(f.zstd) ? "—" : kb(f.zstd),
      Number.isNaN(f.zstd) ? "—" : `×${(f.raw / f.zstd).toFixed(2)}`,
    ]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  console.log(`\n${title}`);
  rows.forEach((r, i) => {
    console.log(r.map((cell, c) => cell.padStart(widths[c]!)).join(" | "));
    if (i === 0) console.log(widths.map((w) => "-".repeat(w)).join("-+-"));
  });
  const sample = lines.slice(0, 1000);
  const avg = sample.reduce((sum, l) => sum + Buffer.byteLength(l, "utf8"), 0) / sample.length;
  console.log(`average event: ${avg.toFixed(0)} bytes over the first ${sample.length} events (reference: 1,060)`);
}

function main(): void {
  printTable("Dynalog benchmark payload (bench/payload.ts, default seed)", generateEvents(1000));

  const here = dirname(fileURLToPath(import.meta.url));
  // ../shared/bench relative to the main checkout; from a worktree, the team's fixed location.
  const referenceFile = [resolve(here, "../../shared/bench/events.jsonl"), "/work/shared/bench/events.jsonl"].find((file) => existsSync(file));
  if (referenceFile) {
    const lines = readFileSync(referenceFile, "utf8").split("\n").filter((l) => l.length > 0);
    printTable(`Reference file (${referenceFile})`, lines);
  }
}

main();
