/**
 * Progress of a long CLI run (`produce` of a large stdin, `consume` of a long topic) on stderr:
 * records, bytes, rate and, when the total is known, the ETA — redrawn in place at most every
 * 250 ms, and only on a terminal. In a pipe or a log file nothing is drawn (a redrawn line there is
 * noise); callers may still print the final summary (`summary()`).
 */

/** The part of a stream the helper writes to (process.stderr, or a test's fake). */
export interface ProgressStream {
  readonly isTTY?: boolean;
  write(text: string): unknown;
}

export interface ProgressOptions {
  /** "Produced" / "Consumed". */
  readonly verb: string;
  /** "to orders" / "from orders". */
  readonly where: string;
  readonly stream?: ProgressStream;
  /** Draw live progress (default: the stream is a terminal). */
  readonly live?: boolean;
  /** What the whole run will be, when known: the ETA is computed from whichever is given. */
  readonly totalBytes?: number;
  readonly totalRecords?: number;
  readonly now?: () => number;
  readonly intervalMs?: number;
}

export class Progress {
  private records = 0;
  private bytes = 0;
  private lastDrawn = Number.NEGATIVE_INFINITY;
  private drawnWidth = 0;
  private readonly started: number;
  private readonly stream: ProgressStream;
  private readonly live: boolean;
  private readonly now: () => number;

  constructor(private readonly options: ProgressOptions) {
    this.stream = options.stream ?? process.stderr;
    this.live = options.live ?? this.stream.isTTY === true;
    this.now = options.now ?? (() => Date.now());
    this.started = this.now();
  }

  add(records: number, bytes: number): void {
    this.records += records;
    this.bytes += bytes;
    if (!this.live) return;
    const now = this.now();
    if (now - this.lastDrawn < (this.options.intervalMs ?? 250)) return;
    this.lastDrawn = now;
    this.draw(this.line(now));
  }

  /** Clears the live line (if any); returns e.g. "Produced 25 messages to orders (1234/s)". */
  finish(): string {
    if (this.live && this.drawnWidth > 0) this.stream.write(`\r${" ".repeat(this.drawnWidth)}\r`);
    this.drawnWidth = 0;
    const seconds = Math.max(0.001, (this.now() - this.started) / 1000);
    return `${this.options.verb} ${this.records} message${this.records === 1 ? "" : "s"} ${this.options.where} (${Math.round(this.records / seconds)}/s)`;
  }

  /** The live line: records, bytes, rates and the ETA where the total is known. */
  line(now = this.now()): string {
    const seconds = Math.max(0.001, (now - this.started) / 1000);
    const parts = [
      `${this.options.verb} ${this.records} message${this.records === 1 ? "" : "s"}`,
      formatBytes(this.bytes),
      `${Math.round(this.records / seconds)} msg/s`,
      `${formatBytes(this.bytes / seconds)}/s`,
    ];
    const eta = this.eta(seconds);
    if (eta !== undefined) parts.push(`ETA ${formatDuration(eta)}`);
    return `${parts.join(" · ")} ${this.options.where}`;
  }

  private eta(seconds: number): number | undefined {
    const { totalBytes, totalRecords } = this.options;
    if (totalBytes !== undefined && this.bytes > 0) return Math.max(0, totalBytes - this.bytes) / (this.bytes / seconds);
    if (totalRecords !== undefined && this.records > 0) return Math.max(0, totalRecords - this.records) / (this.records / seconds);
    return undefined;
  }

  private draw(text: string): void {
    const padding = " ".repeat(Math.max(0, this.drawnWidth - text.length));
    this.stream.write(`\r${text}${padding}`);
    this.drawnWidth = text.length;
  }
}

export function formatBytes(bytes: number): string {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}

export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}
