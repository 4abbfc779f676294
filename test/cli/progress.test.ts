/** cli/progress.ts: live only on a terminal, throttled, with ETA from a known total. */
import { describe, expect, it } from "vitest";
import { formatBytes, formatDuration, Progress, type ProgressStream } from "../../cli/progress.js";

function fakeStream(isTTY: boolean): ProgressStream & { written: string[] } {
  const written: string[] = [];
  return { isTTY, written, write: (text: string) => written.push(text) };
}

describe("Progress", () => {
  it("draws nothing in a pipe, and still sums up at the end", () => {
    let now = 0;
    const stream = fakeStream(false);
    const progress = new Progress({ verb: "Produced", where: "to t", stream, now: () => now });
    for (let i = 0; i < 100; i++) {
      now += 1_000;
      progress.add(10, 1_000);
    }
    expect(stream.written).toEqual([]);
    expect(progress.finish()).toBe("Produced 1000 messages to t (10/s)");
    expect(stream.written).toEqual([]);
  });

  it("on a terminal redraws one line at most every interval, with bytes, rates and the ETA, and clears it at the end", () => {
    let now = 0;
    const stream = fakeStream(true);
    const progress = new Progress({ verb: "Produced", where: "to t", stream, now: () => now, totalBytes: 4 * 1024 * 1024 });
    now = 1_000;
    progress.add(1_000, 1024 * 1024); // drawn: the first update
    now = 1_100;
    progress.add(1_000, 1024 * 1024); // throttled
    expect(stream.written).toHaveLength(1);
    expect(stream.written[0]).toBe("\rProduced 1000 messages · 1.0 MB · 1000 msg/s · 1.0 MB/s · ETA 3s to t");
    now = 2_000;
    progress.add(0, 0); // 2 MB in 2 s of 4 MB: 2 s to go
    expect(stream.written[1]).toMatch(/^\rProduced 2000 messages · 2\.0 MB · 1000 msg\/s · 1\.0 MB\/s · ETA 2s to t\s*$/);
    expect(progress.finish()).toBe("Produced 2000 messages to t (1000/s)");
    expect(stream.written.at(-1)).toMatch(/^\r +\r$/);
  });

  it("estimates from a record total when no byte total is known, and shows no ETA without either", () => {
    let now = 0;
    const withTotal = new Progress({ verb: "Consumed", where: "from t", stream: fakeStream(true), now: () => now, totalRecords: 300 });
    const without = new Progress({ verb: "Consumed", where: "from t", stream: fakeStream(true), now: () => now });
    now = 10_000;
    withTotal.add(100, 10);
    without.add(100, 10);
    expect(withTotal.line()).toContain("ETA 20s");
    expect(without.line()).not.toContain("ETA");
  });

  it("formats sizes and durations", () => {
    expect([formatBytes(512), formatBytes(1536), formatBytes(5 * 1024 ** 3)]).toEqual(["512 B", "1.5 KB", "5.0 GB"]);
    expect([formatDuration(59.4), formatDuration(61), formatDuration(3 * 3600 + 120)]).toEqual(["59s", "1m01s", "3h02m"]);
  });
});
