/**
 * Charts over time without a broker-side history: a page samples what it loads, while it is open.
 * `useSamples` keeps the last ten minutes of one value per loaded answer; `AutoRefresh` reloads
 * every 5 s so the samples come at a steady pace.
 */
import type { JSX } from "preact";
import { useEffect, useState } from "preact/hooks";

export const AUTO_REFRESH_MS = 5_000;
export const SAMPLE_WINDOW_MS = 10 * 60_000;

export interface Sample<T> {
  readonly at: number;
  readonly value: T;
}

/** One sample per new `data` (a fresh answer), of what `pick` reads from it; older than the window is dropped. */
export function useSamples<D, T>(data: D | undefined, pick: (data: D) => T): readonly Sample<T>[] {
  const [samples, setSamples] = useState<readonly Sample<T>[]>([]);
  useEffect(() => {
    if (data === undefined) return;
    const now = Date.now();
    const value = pick(data);
    setSamples((previous) => [...previous.filter((s) => s.at > now - SAMPLE_WINDOW_MS), { at: now, value }]);
    // `pick` is a new closure every render; a sample is taken per answer, not per render.
  }, [data]);
  return samples;
}

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
