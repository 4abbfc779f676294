/** Pure formatting for the pages: no DOM, no fetch (unit-tested in test/unit/console-format.test.ts). */

/** How a key, value or header value is shown: pretty JSON, text, or hex for bytes that are not UTF-8. */
export type Shown =
  | { readonly kind: "null" }
  | { readonly kind: "json"; readonly text: string }
  | { readonly kind: "text"; readonly text: string }
  /** `text`: a hex dump; `compact`: the bytes in hex on one line, for previews. */
  | { readonly kind: "hex"; readonly text: string; readonly compact: string; readonly bytes: number };

/**
 * `text` as the API sent it with `encoding=utf8`: the bytes as text, or base64 when they are not
 * UTF-8 (`encoding` "base64"). JSON objects and arrays are pretty-printed; scalars stay as typed
 * (`42` is as likely a plain number as JSON).
 */
export function showBytes(text: string | null, encoding?: "base64"): Shown {
  if (text === null) return { kind: "null" };
  if (encoding === "base64") {
    const bytes = base64ToBytes(text);
    return { kind: "hex", text: hexDump(bytes), compact: hex(bytes), bytes: bytes.length };
  }
  const trimmed = text.trim();
  if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
    try {
      return { kind: "json", text: JSON.stringify(JSON.parse(trimmed), null, 2) };
    } catch {
      // Not JSON after all: shown as text.
    }
  }
  return { kind: "text", text };
}

/** One line for a table cell: JSON compacted, long text cut. */
export function preview(shown: Shown, max = 80): string {
  const text = shown.kind === "null" ? "null" : shown.kind === "json" ? JSON.stringify(JSON.parse(shown.text)) : shown.kind === "hex" ? shown.compact : shown.text;
  const line = text.replace(/\s+/g, " ");
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

export function base64ToBytes(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");
}

/** 16 bytes a line: offset, hex, printable ASCII. */
export function hexDump(bytes: Uint8Array): string {
  const lines: string[] = [];
  for (let at = 0; at < bytes.length; at += 16) {
    const row = bytes.subarray(at, at + 16);
    const ascii = Array.from(row, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : ".")).join("");
    lines.push(`${at.toString(16).padStart(8, "0")}  ${hex(row).padEnd(47)}  ${ascii}`);
  }
  return lines.join("\n");
}

const UNITS: readonly [ms: number, unit: string][] = [
  [86_400_000, "d"],
  [3_600_000, "h"],
  [60_000, "min"],
  [1_000, "s"],
];

/** `604800000` → "7 d"; null → "forever". */
export function duration(ms: number | null): string {
  if (ms === null) return "forever";
  for (const [size, unit] of UNITS) if (ms >= size && ms % size === 0) return `${ms / size} ${unit}`;
  return `${ms} ms`;
}

/** A record timestamp (ms since 1970) as ISO 8601, UTC. */
export function timestamp(ms: number): string {
  return new Date(ms).toISOString();
}

/** Retained offsets of a partition: an upper bound on its records (voids count as offsets). */
export function retained(bounds: { readonly logStartOffset: number; readonly highWatermark: number }): number {
  return bounds.highWatermark - bounds.logStartOffset;
}

const SIZE_UNITS = ["B", "KiB", "MiB", "GiB", "TiB"] as const;

/** `1536` → "1.5 KiB": a byte count for people (binary units, one decimal above bytes). */
export function size(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < SIZE_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? Math.round(value) : value.toFixed(1)} ${SIZE_UNITS[unit]}`;
}

/** A topic's estimated retained bytes: the sum over its partitions (each an estimate, docs/api.md). */
export function retainedSize(partitions: readonly { readonly retainedBytesEstimate: number }[]): number {
  return partitions.reduce((sum, p) => sum + p.retainedBytesEstimate, 0);
}

/** "name=value" lines of the produce form → headers; a line without "=" is a header with an empty value. */
export function parseHeaderLines(text: string): { key: string; value: string }[] {
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line.length > 0)
    .map((line) => {
      const eq = line.indexOf("=");
      return eq < 0 ? { key: line, value: "" } : { key: line.slice(0, eq).trim(), value: line.slice(eq + 1) };
    });
}

/** Does a record match the filter text (case-insensitive, in its key, value, or a header)? */
export function matchesFilter(record: { key: string | null; value: string | null; headers: readonly { key: string; value: string | null }[] }, filter: string): boolean {
  const needle = filter.trim().toLowerCase();
  if (needle === "") return true;
  const haystacks = [record.key, record.value, ...record.headers.flatMap((h) => [h.key, h.value])];
  return haystacks.some((text) => text !== null && text.toLowerCase().includes(needle));
}

/**
 * Per-second rates between consecutive samples of a growing count (a high watermark); a sample
 * without the count (the topic was not there yet) starts over.
 */
export function ratesPerSecond(samples: readonly { readonly at: number; readonly count: number | undefined }[]): number[] {
  const rates: number[] = [];
  for (let i = 1; i < samples.length; i++) {
    const before = samples[i - 1]!;
    const after = samples[i]!;
    if (before.count === undefined || after.count === undefined || after.at <= before.at) continue;
    rates.push(Math.max(0, after.count - before.count) / ((after.at - before.at) / 1000));
  }
  return rates;
}

/** A rate for people: whole numbers from 10, one decimal from 1, two significant digits below; 0 as 0. */
export function rate(perSecond: number): string {
  if (perSecond === 0) return "0";
  if (perSecond >= 10) return String(Math.round(perSecond));
  if (perSecond >= 1) return perSecond.toFixed(1);
  return String(Number(perSecond.toPrecision(2)));
}

/**
 * A chart's points: the broker's history first, then this tab's samples — only history older than
 * the tab's first sample, so the broker's minute samples and the tab's 5-second ones never interleave.
 */
export function withHistory<S extends { readonly at: number }>(history: readonly S[], live: readonly S[]): S[] {
  const firstLive = live[0]?.at ?? Number.POSITIVE_INFINITY;
  return [...history.filter((s) => s.at < firstLive), ...live];
}

/**
 * One topic's points on the topics list, whose tab samples hold every topic's count at once: the
 * broker's history of it, then the tab's samples from the first that has it (a tab sample from
 * before the topic existed would otherwise hide its history), a sample without it a gap.
 */
export function topicPoints(
  history: readonly { readonly at: number; readonly value: number }[],
  live: readonly { readonly at: number; readonly value: Readonly<Record<string, number>> }[],
  topic: string,
): { points: { at: number; count: number | undefined }[]; fromHistory: number; live: number } {
  const first = live.findIndex((s) => Object.hasOwn(s.value, topic));
  const own = first < 0 ? [] : live.slice(first).map((s) => ({ at: s.at, count: Object.hasOwn(s.value, topic) ? s.value[topic] : undefined }));
  const points = withHistory(history.map((s) => ({ at: s.at, count: s.value as number | undefined })), own);
  return { points, fromHistory: points.length - own.length, live: own.length };
}

/** "42 s", "15 min", "3 h": how long a chart's samples span. */
export function span(samples: readonly { readonly at: number }[]): string {
  const seconds = samples.length < 2 ? 0 : Math.max(1, Math.round((samples[samples.length - 1]!.at - samples[0]!.at) / 1000));
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7_200) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 3_600)} h`;
}
