import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { DEFAULT_SEED, eventBatch, generateEvents } from "../../bench/payload.js";
import { zstdAvailable, zstdPerCall } from "../../bench/zstd.js";

// Reference compression ratios for a batch of the first N events, joined with "\n" like a JSONL
// file: the team's benchmark payload table (gzip -6, brotli quality 5); zstd level 3 measured on
// /work/shared/bench/events.jsonl itself (its table has no zstd column).
const REFERENCE = [
  { n: 10, gzip: 3.7, brotli: 4.0, zstd: 3.66 },
  { n: 100, gzip: 5.2, brotli: 5.8, zstd: 5.4 },
  { n: 300, gzip: 5.5, brotli: 6.7, zstd: 6.05 },
] as const;
const TOLERANCE = 0.1;

const gzipRatio = (raw: Buffer): number => raw.length / gzipSync(raw, { level: 6 }).length;
const brotliRatio = (raw: Buffer): number =>
  raw.length / brotliCompressSync(raw, { params: { [constants.BROTLI_PARAM_QUALITY]: 5 } }).length;

describe("benchmark payload", () => {
  const events = generateEvents(1000);

  it("is deterministic for a seed, and differs between seeds", () => {
    expect(generateEvents(1000)).toEqual(events);
    expect(generateEvents(1000, DEFAULT_SEED)).toEqual(events);
    expect(generateEvents(200, 42)).toEqual(generateEvents(200, 42));
    const other = generateEvents(200, 43);
    expect(other).not.toEqual(generateEvents(200, 42));
    expect(other.filter((e, i) => e === events[i])).toHaveLength(0);
    // A shorter run is a prefix of a longer one.
    expect(generateEvents(50)).toEqual(events.slice(0, 50));
  });

  it("eventBatch is the UTF-8 bytes of generateEvents", () => {
    const batch = eventBatch(100, 7);
    const json = generateEvents(100, 7);
    expect(batch).toHaveLength(100);
    batch.forEach((bytes, i) => {
      expect(Buffer.isBuffer(bytes)).toBe(true);
      expect(bytes.equals(Buffer.from(json[i] as string, "utf8"))).toBe(true);
    });
    expect(Buffer.concat(eventBatch(300)).equals(Buffer.from(events.slice(0, 300).join(""), "utf8"))).toBe(true);
    expect(generateEvents(0)).toEqual([]);
  });

  it("averages 1,000-1,120 bytes per event", () => {
    const avg = events.reduce((sum, e) => sum + Buffer.byteLength(e, "utf8"), 0) / events.length;
    expect(avg).toBeGreaterThanOrEqual(1000);
    expect(avg).toBeLessThanOrEqual(1120);
  });

  it("is one JSON object per line", () => {
    for (const line of events) {
      expect(line).not.toContain("\n");
      const parsed: unknown = JSON.parse(line);
      expect(typeof parsed).toBe("object");
      expect(parsed).not.toBeNull();
      expect(Array.isArray(parsed)).toBe(false);
    }
  });

  describe.each(REFERENCE)("a batch of $n events", ({ n, gzip, brotli, zstd }) => {
    const raw = Buffer.from(events.slice(0, n).join("\n"), "utf8");

    it(`compresses with gzip -6 within 10% of ×${gzip}`, () => {
      const ratio = gzipRatio(raw);
      expect(Math.abs(ratio / gzip - 1), `gzip ratio ×${ratio.toFixed(2)}`).toBeLessThanOrEqual(TOLERANCE);
    });

    it(`compresses with brotli q5 within 10% of ×${brotli}`, () => {
      const ratio = brotliRatio(raw);
      expect(Math.abs(ratio / brotli - 1), `brotli ratio ×${ratio.toFixed(2)}`).toBeLessThanOrEqual(TOLERANCE);
    });

    // zstd comes from node:zlib (Node 22.15+) or the zstd-napi devDependency; neither may be there.
    it.skipIf(!zstdAvailable())(`compresses with zstd -3 within 10% of ×${zstd}`, () => {
      const ratio = raw.length / zstdPerCall(3).compress(raw).length;
      expect(Math.abs(ratio / zstd - 1), `zstd ratio ×${ratio.toFixed(2)}`).toBeLessThanOrEqual(TOLERANCE);
    });
  });
});
