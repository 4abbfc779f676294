/** Chaos profiles are sane data, documented in the README; the PRNG behind them is reproducible. */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CHAOS_PROFILE_NAMES, CHAOS_PROFILES, isChaosProfileName } from "../../local/faults/profiles.js";
import { mulberry32, randomInt } from "../../local/faults/random.js";

const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");

describe("chaos profiles", () => {
  it("have probabilities in [0, 1] and sane delays", () => {
    for (const name of CHAOS_PROFILE_NAMES) {
      const profile = CHAOS_PROFILES[name];
      for (const rule of profile.rules) {
        expect(rule.probability ?? 1, `${name}: ${rule.name}`).toBeGreaterThanOrEqual(0);
        expect(rule.probability ?? 1, `${name}: ${rule.name}`).toBeLessThanOrEqual(1);
        if (rule.action.kind === "delay") expect(rule.action.minMs).toBeLessThanOrEqual(rule.action.maxMs);
      }
      const stale = profile.staleReads?.probability ?? 0;
      expect(stale).toBeGreaterThanOrEqual(0);
      expect(stale).toBeLessThanOrEqual(1);
    }
    expect(isChaosProfileName("light")).toBe(true);
    expect(isChaosProfileName("toString")).toBe(false);
  });

  it("are listed in the README with their descriptions", () => {
    const table = readme.split("<!-- chaos-profiles:start -->")[1]?.split("<!-- chaos-profiles:end -->")[0] ?? "";
    const rows = [...table.matchAll(/^\| `([^`]+)` \| (.+) \|$/gm)].map((m) => [m[1], m[2]]);
    expect(rows).toEqual(CHAOS_PROFILE_NAMES.map((name) => [name, CHAOS_PROFILES[name].description]));
  });
});

describe("mulberry32", () => {
  it("replays the same sequence for a seed, another for another seed, uniform enough", () => {
    const draw = (seed: number) => Array.from({ length: 1000 }, mulberry32(seed));
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
    const values = draw(7);
    expect(values.every((v) => v >= 0 && v < 1)).toBe(true);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    expect(mean).toBeGreaterThan(0.45);
    expect(mean).toBeLessThan(0.55);
    const random = mulberry32(1);
    const ints = new Set(Array.from({ length: 200 }, () => randomInt(random, 3, 5)));
    expect([...ints].sort()).toEqual([3, 4, 5]);
  });
});
