/** "500ms", "3s", "2m", "1h" (or a bare number of seconds) → milliseconds; undefined if malformed. */
const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

export function parseDuration(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text);
  if (!match) return undefined;
  const ms = Number(match[1]) * UNITS[match[2] ?? "s"]!;
  return Number.isFinite(ms) ? Math.round(ms) : undefined;
}

/** 61_500 → "1m1.5s", 800 → "800ms": for summaries. */
export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)}ms`;
  const seconds = Math.round(ms / 100) / 10;
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  const rest = Math.round((seconds - minutes * 60) * 10) / 10;
  return rest === 0 ? `${minutes}m` : `${minutes}m${rest}s`;
}
