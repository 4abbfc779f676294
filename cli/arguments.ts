/** Commander argument parsers shared by the CLI's commands: each refuses bad input with a usage error. */
import { InvalidArgumentError } from "commander";

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError("expected a positive integer");
  return n;
}

export function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new InvalidArgumentError("expected a non-negative integer");
  return n;
}

/** A history window in minutes: the broker keeps a day of samples (docs/console.md, "History"). */
export function historyMinutes(value: string): number {
  const n = positiveInt(value);
  if (n > 1440) throw new InvalidArgumentError("expected minutes from 1 to 1440 (the broker keeps a day of history)");
  return n;
}

/** Milliseconds, or "forever" (kept as the string: a parser cannot return null to commander). */
export function retention(value: string): number | "forever" {
  if (value === "forever" || value === "-1") return "forever";
  return positiveInt(value);
}

export function timestamp(value: string): number {
  if (/^\d+$/.test(value)) return Number(value);
  const parsed = Date.parse(value);
  if (Number.isNaN(parsed)) throw new InvalidArgumentError("expected milliseconds since 1970 or an ISO 8601 time");
  return parsed;
}

export function collectHeader(value: string, previous: { key: string; value: string }[]): { key: string; value: string }[] {
  const at = value.indexOf("=");
  if (at <= 0) throw new InvalidArgumentError("expected key=value");
  return [...previous, { key: value.slice(0, at), value: value.slice(at + 1) }];
}
