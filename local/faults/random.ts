/**
 * A tiny seeded PRNG (mulberry32) so every fault decision is reproducible from its seed: a failing
 * chaos run or test prints its seed, and the same seed replays the same decisions.
 */
export type Random = () => number;

/** Uniform in [0, 1), deterministic for a given 32-bit seed. */
export function mulberry32(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An integer in [min, max] (inclusive). */
export function randomInt(random: Random, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}
