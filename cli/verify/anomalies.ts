/**
 * The anomaly kinds the history checker reports, and the collector that counts them and keeps a
 * few concrete examples of each (offsets and values a person can look up).
 */

export const ANOMALY_KINDS = [
  "lost-write",
  "unseen",
  "duplicate",
  "inconsistent-offset",
  "aborted-read",
  "non-monotonic-poll",
  "poll-skip",
  "non-monotonic-send",
  "unknown-value",
  "lost-copy",
  "duplicate-copy",
] as const;

export type AnomalyKind = (typeof ANOMALY_KINDS)[number];

/** One line per kind, for reports and --help. */
export const ANOMALY_DESCRIPTIONS: Readonly<Record<AnomalyKind, string>> = {
  "lost-write": "an acknowledged or once-visible record is missing from the final drain, which read past its offset",
  unseen: "an acknowledged record never appeared in the final drain",
  duplicate: "one value was written at two offsets by an idempotent or transactional producer",
  "inconsistent-offset": "one offset held two different values across reads (or differed from its acknowledgement)",
  "aborted-read": "a value of an aborted transaction or a definitely failed send was read",
  "non-monotonic-poll": "a consumer's offsets in one partition went backwards without a rebalance or seek in between",
  "poll-skip": "a consumer skipped an existing record of a partition it kept",
  "non-monotonic-send": "a producer's acknowledged sends to one partition got offsets out of send order",
  "unknown-value": "a read returned a value no operation ever sent",
  "lost-copy": "an input record the transactional copier committed past was never copied to the output",
  "duplicate-copy": "an input record was copied to the output more than once (or copied without its offset being committed)",
};

/** A concrete instance of an anomaly. */
export interface AnomalyExample {
  readonly message: string;
  readonly topic?: string;
  readonly partition?: number;
  readonly offsets?: readonly number[];
  readonly values?: readonly string[];
  /** The producer or consumer involved. */
  readonly process?: string;
}

export interface AnomalyReport {
  readonly count: number;
  /** The first few instances (CheckOptions.maxExamples). */
  readonly examples: readonly AnomalyExample[];
}

export type Anomalies = Partial<Record<AnomalyKind, AnomalyReport>>;

/** Accumulates anomalies; `report()` returns only the kinds that occurred. */
export class AnomalyCollector {
  private readonly found = new Map<AnomalyKind, { count: number; examples: AnomalyExample[] }>();

  constructor(private readonly maxExamples: number) {}

  add(kind: AnomalyKind, example: AnomalyExample): void {
    const entry = this.found.get(kind) ?? { count: 0, examples: [] };
    entry.count += 1;
    if (entry.examples.length < this.maxExamples) entry.examples.push(example);
    this.found.set(kind, entry);
  }

  report(): Anomalies {
    const anomalies: Anomalies = {};
    for (const kind of ANOMALY_KINDS) {
      const entry = this.found.get(kind);
      if (entry) anomalies[kind] = { count: entry.count, examples: entry.examples };
    }
    return anomalies;
  }
}

export function tpLabel(topic: string, partition: number): string {
  return `${topic}/${partition}`;
}
