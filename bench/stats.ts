/** Small statistics and formatting helpers for the benchmark's printed tables. */

/** The q-quantile (0..1) of `values` by the nearest-rank method; NaN when empty. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1]!;
}

export function mean(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((s, v) => s + v, 0) / values.length;
}

/** Fixed decimals with thousands separators (1234.5 → "1,234.5"). */
export function fmt(value: number, decimals = 0): string {
  if (!Number.isFinite(value)) return "—";
  return value.toLocaleString("en-US", { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

/** Milliseconds with sensible precision. */
export function ms(value: number): string {
  if (!Number.isFinite(value)) return "—";
  return value < 10 ? `${value.toFixed(1)} ms` : `${fmt(value)} ms`;
}

/** A markdown table with columns padded so it also reads well in a terminal. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[], align?: readonly ("l" | "r")[]): string {
  const widths = header.map((h, c) => Math.max(3, h.length, ...rows.map((r) => (r[c] ?? "").length)));
  const pad = (text: string, c: number) => ((align?.[c] ?? "r") === "l" ? text.padEnd(widths[c]!) : text.padStart(widths[c]!));
  const line = (cells: readonly string[]) => `| ${cells.map((cell, c) => pad(cell, c)).join(" | ")} |`;
  const rule = `|${widths.map((w, c) => ((align?.[c] ?? "r") === "l" ? `:${"-".repeat(w + 1)}` : `${"-".repeat(w + 1)}:`)).join("|")}|`;
  return [line(header), rule, ...rows.map(line)].join("\n");
}
