/**
 * Charts over time: the broker's history (one sample a minute, kept a day; docs/console.md,
 * "History"), loaded when a page opens, continued by what the page samples itself. `useSamples`
 * keeps the last ten minutes of one value per loaded answer, in the tab's sessionStorage, so
 * leaving the page and coming back, or reloading it, continues the chart instead of restarting it
 * (the time the page was not open is a gap the next sample bridges). `AutoRefresh` reloads every
 * 5 s so the samples come at a steady pace.
 */
import type { JSX } from "preact";
import { useEffect, useState } from "preact/hooks";
import { useLoad } from "./components.js";

export { span, withHistory } from "./format.js";

export const AUTO_REFRESH_MS = 5_000;
export const SAMPLE_WINDOW_MS = 10 * 60_000;
/** Ten minutes at 5 s is 120; the rest is room for Refresh clicks. */
const MAX_SAMPLES = 240;
const STORAGE_PREFIX = "dynalog.console.samples.";

export interface Sample<T> {
  readonly at: number;
  readonly value: T;
}

/** The samples this tab kept under `key`, inside the window, of the right shape; none when storage fails or holds junk. */
function storedSamples<T>(key: string, isValue: (value: unknown) => value is T, now: number): Sample<T>[] {
  try {
    const parsed: unknown = JSON.parse(sessionStorage.getItem(STORAGE_PREFIX + key) ?? "[]");
    if (!Array.isArray(parsed)) return [];
    return parsed.filter((s: unknown): s is Sample<T> => {
      const sample = s as { at?: unknown; value?: unknown } | null;
      return typeof sample?.at === "number" && sample.at > now - SAMPLE_WINDOW_MS && sample.at <= now && isValue(sample.value);
    });
  } catch {
    return [];
  }
}

function storeSamples(key: string, samples: readonly Sample<unknown>[]): void {
  try {
    sessionStorage.setItem(STORAGE_PREFIX + key, JSON.stringify(samples));
  } catch {
    // Storage full or refused: the chart still works for as long as the page stays open.
  }
}

/** Forgets every page's samples (on log out: another key may see other data). */
export function forgetSamples(): void {
  for (let i = sessionStorage.length - 1; i >= 0; i--) {
    const key = sessionStorage.key(i);
    if (key?.startsWith(STORAGE_PREFIX)) sessionStorage.removeItem(key);
  }
}

/**
 * One sample per new `data` (a fresh answer), of what `pick` reads from it (JSON: it is kept in
 * sessionStorage under `key`); older than the window is dropped.
 */
export function useSamples<D, T>(key: string, data: D | undefined, pick: (data: D) => T, isValue: (value: unknown) => value is T): readonly Sample<T>[] {
  const [samples, setSamples] = useState<readonly Sample<T>[]>(() => storedSamples(key, isValue, Date.now()));
  useEffect(() => {
    if (data === undefined) return;
    const now = Date.now();
    const value = pick(data);
    setSamples((previous) => {
      const next = [...previous.filter((s) => s.at > now - SAMPLE_WINDOW_MS), { at: now, value }].slice(-MAX_SAMPLES);
      storeSamples(key, next);
      return next;
    });
    // `pick` is a new closure every render; a sample is taken per answer, not per render.
  }, [data]);
  return samples;
}

export const isNumber = (value: unknown): value is number => typeof value === "number" && Number.isFinite(value);

/** A checkbox that calls `reload` every 5 s while ticked. */
export function AutoRefresh(props: { reload: () => void }): JSX.Element {
  const [on, setOn] = useState(false);
  const { reload } = props;
  useEffect(() => {
    if (!on) return undefined;
    const timer = setInterval(reload, AUTO_REFRESH_MS);
    return () => clearInterval(timer);
  }, [on, reload]);
  return (
    <label class="auto">
      <input type="checkbox" checked={on} onChange={(e) => setOn((e.target as HTMLInputElement).checked)} /> every 5 s
    </label>
  );
}

/** Seconds between the first and the last sample, at least 1. */
export function spanSeconds(samples: readonly Sample<unknown>[]): number {
  return samples.length < 2 ? 0 : Math.max(1, Math.round((samples[samples.length - 1]!.at - samples[0]!.at) / 1000));
}

/** How far back a page's chart starts: the broker's samples of the last hour. */
export const HISTORY_MINUTES = 60;

/**
 * The broker's samples of one value (via `load`), for a chart to start with. A failure (an older
 * broker without the route, no right to it) is no samples: the chart then starts with this tab's.
 */
export function useHistory<T>(load: () => Promise<readonly Sample<T>[]>, deps: readonly unknown[]): readonly Sample<T>[] {
  const loaded = useLoad(() => load().catch(() => []), deps);
  return loaded.data ?? [];
}
