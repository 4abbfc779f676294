/** How the console merges the broker's history with a tab's own samples (console/src/format.ts), without a browser. */
import { describe, expect, it } from "vitest";
import { ratesPerSecond, span, withHistory } from "../../console/src/format.js";

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

describe("span", () => {
  it("says seconds, then minutes, then hours", () => {
    expect(span([at(0, 0), at(0.5, 0)])).toBe("30 s");
    expect(span([at(0, 0), at(15, 0)])).toBe("15 min");
    expect(span([at(0, 0), at(180, 0)])).toBe("3 h");
  });
});
