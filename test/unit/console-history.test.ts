/** How the console merges the broker's history with a tab's own samples (console/src/format.ts), without a browser. */
import { describe, expect, it } from "vitest";
import { ratesPerSecond, span, topicPoints, withHistory } from "../../console/src/format.js";

const at = (minute: number, value: number) => ({ at: minute * 60_000, value });

describe("withHistory", () => {
  it("puts the broker's samples first and only those older than the tab's first sample", () => {
    const history = [at(1, 10), at(2, 20), at(3, 30)];
    const live = [at(2.5, 25), at(2.6, 26)];
    expect(withHistory(history, live)).toEqual([at(1, 10), at(2, 20), at(2.5, 25), at(2.6, 26)]);
  });

  it("is the history alone without live samples, and the live ones alone without history", () => {
    expect(withHistory([at(1, 1)], [])).toEqual([at(1, 1)]);
    expect(withHistory([], [at(1, 1)])).toEqual([at(1, 1)]);
  });

  it("gives rates between history samples a minute apart, then to the tab's", () => {
    const merged = withHistory([at(0, 0), at(1, 60), at(2, 90)], [at(2.5, 90)]);
    expect(ratesPerSecond(merged.map((s) => ({ at: s.at, count: s.value })))).toEqual([1, 0.5, 0]);
  });
});

describe("topicPoints (the topics list)", () => {
  const tab = (minute: number, value: Record<string, number>) => ({ at: minute * 60_000, value });

  it("puts the topic's history before the tab's samples of it", () => {
    const merged = topicPoints([at(1, 10), at(2, 70)], [tab(2.5, { a: 100, b: 5 }), tab(3, { a: 130, b: 5 })], "a");
    expect(merged).toEqual({ points: [{ at: 60_000, count: 10 }, { at: 120_000, count: 70 }, { at: 150_000, count: 100 }, { at: 180_000, count: 130 }], fromHistory: 2, live: 2 });
    expect(ratesPerSecond(merged.points)).toEqual([1, 1, 1]);
  });

  it("ignores the tab's samples from before the topic existed, and keeps a later gap a gap", () => {
    // The tab sampled at 1.5 without the topic: its history at 2 is still drawn.
    const merged = topicPoints([at(1, 0), at(2, 60)], [tab(1.5, { b: 1 }), tab(2.5, { a: 90 }), tab(3, { b: 1 }), tab(3.5, { a: 150 })], "a");
    expect(merged.fromHistory).toBe(2);
    expect(merged.live).toBe(3);
    expect(merged.points.map((p) => p.count)).toEqual([0, 60, 90, undefined, 150]);
    expect(ratesPerSecond(merged.points)).toEqual([1, 1]);
  });

  it("is the history alone for a topic the tab never saw, and nothing for one neither has", () => {
    expect(topicPoints([at(1, 0), at(2, 60)], [tab(3, { b: 1 })], "a")).toEqual({ points: [{ at: 60_000, count: 0 }, { at: 120_000, count: 60 }], fromHistory: 2, live: 0 });
    expect(topicPoints([], [tab(3, { b: 1 })], "a")).toEqual({ points: [], fromHistory: 0, live: 0 });
  });
});

describe("span", () => {
  it("says seconds, then minutes, then hours", () => {
    expect(span([at(0, 0), at(0.5, 0)])).toBe("30 s");
    expect(span([at(0, 0), at(15, 0)])).toBe("15 min");
    expect(span([at(0, 0), at(180, 0)])).toBe("3 h");
  });
});
