// Prints how batches of the benchmark payload compress, next to the team's reference figures.
//   npx tsx bench/payload-report.ts
// If ../shared/bench/events.jsonl (the team's reference file) is present, it is measured too.
import { existsSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { generateEvents } from "./payload.js";

/** Reference figures (bytes and ratios) for batches of the first N reference events. */
const REFERENCE = [
  { n: 10, rawKB: 10.8, gzipKB: 3.0, gzipRatio: 3.7, brotliKB: 2.7, brotliRatio: 4.0 },
  { n: 100, rawKB: 106, gzipKB: 20.3, gzipRatio: 5.2, brotliKB: 18.2, brotliRatio: 5.8 },
  { n: 300, rawKB: 318, gzipKB: 57.8, gzipRatio: 5.5, brotliKB: 47.4, brotliRatio: 6.7 },
] as const;

interface BatchFigures {
  n: number;
  raw: number;
  gzip: number;
  brotli: number;
}

/** Sizes of the first `n` lines joined with "\n" (as in a JSONL file), raw and compressed. */
function measure(lines: readonly string[], n: number): BatchFigures {
  const batch = Buffer.from(lines.slice(0, n).join("\n"), "utf8");
  const gzip = gzipSync(batch, { level: 6 }).length;
  const brotli = brotliCompressSync(batch, {
    params: { [constants.BROTLI_PARAM_QUALITY]: 5 },
  }).length;
  return { n, raw: batch.length, gzip, brotli };
}

const kb = (bytes: number): string => (bytes / 1000).toFixed(1).padStart(6);
const ratio = (x: number): string => `×${x.toFixed(2)}`;
const diff = (actual: number, reference: number): string => {
  const pct = ((actual - reference) / reference) * 100;
  return `${pct >= 0 ? "+" : ""}${pct.toFixed(1)}%`.padStart(7);
};

function printTable(title: string, lines: readonly string[]): void {
  console.log(`\n${title}`);
  console.log("    N |  raw KB | gzip -6 KB  ratio (ref    diff) | brotli q5 KB  ratio (ref    diff)");
  console.log("------+---------+-----------------------------------+-----------------------------------");
  for (const ref of REFERENCE) {
    const f = measure(lines, ref.n);
    const g = f.raw / f.gzip;
    const b = f.raw / f.brotli;
    console.log(
      `${String(ref.n).padStart(5)} | ${kb(f.raw)}  | ${kb(f.gzip)}      ${ratio(g)} (${ratio(ref.gzipRatio)} ${diff(g, ref.gzipRatio)}) |` +
        ` ${kb(f.brotli)}        ${ratio(b)} (${ratio(ref.brotliRatio)} ${diff(b, ref.brotliRatio)})`,
    );
  }
  const sample = lines.slice(0, 1000);
  const avg = sample.reduce((s, l) => s + Buffer.byteLength(l, "utf8"), 0) / sample.length;
  console.log(`average event size over ${sample.length} events: ${avg.toFixed(0)} bytes`);
}

function main(): void {
  printTable("Dynalog benchmark payload (bench/payload.ts, default seed)", generateEvents(1000));

  const here = dirname(fileURLToPath(import.meta.url));
  const referenceFile = resolve(here, "../../shared/bench/events.jsonl");
  if (existsSync(referenceFile)) {
    const lines = readFileSync(referenceFile, "utf8").split("\n").filter((l) => l.length > 0);
    printTable(`Reference file (${referenceFile})`, lines);
  }
}

main();
