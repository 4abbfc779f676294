/**
 * The exactly-once copy check of Kafka's transactions_test.py, in the checker's terms: a
 * transactional copier consumed topic `from` and wrote one output record per input record to
 * topic `to`, committing the input offsets in the same transaction. Then, in the final drain:
 *
 * - every input record below the copier group's committed offset was copied exactly once
 *   (`lost-copy` if never, `duplicate-copy` if more than once);
 * - nothing at or past the committed offset was copied (its output would be copied again by the
 *   next owner: `duplicate-copy`), when the committed offsets are known;
 * - every output record is the copy of an input record (`unknown-value` otherwise).
 *
 * Output values name their source: `copyValue("p1-7", "c12")` is "p1-7>c12.40" (the copier's attempt and the input offset
 * tag keeps values unique across retried transactions, as the history requires).
 *
 * Pure TypeScript without Node built-ins.
 */
import { tpLabel, type AnomalyCollector } from "./anomalies.js";
import type { DrainCompletion } from "./history.js";

/** What was copied where, for checkHistory's `copy` option. */
export interface CopySpec {
  /** The input topic the copier consumed. */
  readonly from: string;
  /** The output topic it wrote. */
  readonly to: string;
  /**
   * The copier group's committed offset per input partition after the workload (the next offset
   * it would read). Omitted: the highest offset of the history's successful transactions.
   */
  readonly committed?: Readonly<Record<number, number>>;
  /** The input value an output value copies (default: `copySource`). */
  readonly sourceOf?: (outputValue: string) => string | undefined;
}

export interface CopyStats {
  /** Input records in the drain. */
  readonly inputs: number;
  /** Input records below the committed offsets (so due to be copied). */
  readonly due: number;
  /** Output records in the drain. */
  readonly outputs: number;
}

const SEPARATOR = ">";

/** The output value for a copy of `source`, made unique by the copier's attempt `tag`. */
export function copyValue(source: string, tag: string): string {
  return `${source}${SEPARATOR}${tag}`;
}

/** The input value an output value copies, or undefined if it is not a copy. */
export function copySource(value: string): string | undefined {
  const at = value.lastIndexOf(SEPARATOR);
  return at > 0 ? value.slice(0, at) : undefined;
}

/**
 * @param drain the final drain (both topics, every partition from its log start)
 * @param committed the copier's committed offsets (from the spec, or derived from the history)
 * @param sent every value the workload sent (a copy of a sent-but-lost input is reported by the
 *   main checker as a loss, not here as unknown)
 */
export function checkCopy(spec: CopySpec, drain: DrainCompletion, committed: ReadonlyMap<number, number>, sent: ReadonlySet<string>, anomalies: AnomalyCollector): CopyStats {
  const sourceOf = spec.sourceOf ?? copySource;
  const inputs = new Map<string, { partition: number; offset: number }>();
  const copies = new Map<string, { partition: number; offset: number; value: string }[]>();
  let outputs = 0;
  const reads = drain.reads ?? [];
  for (const read of reads) {
    if (read.topic === spec.from) for (const [offset, value] of read.records) inputs.set(value, { partition: read.partition, offset });
  }
  for (const read of reads) {
    if (read.topic === spec.to) {
      for (const [offset, value] of read.records) {
        outputs += 1;
        const source = sourceOf(value);
        if (source === undefined || (!inputs.has(source) && !sent.has(source))) {
          anomalies.add("unknown-value", { topic: read.topic, partition: read.partition, offsets: [offset], values: [value], message: `output ${tpLabel(read.topic, read.partition)}@${offset} holds ${JSON.stringify(value)}, which is not a copy of any input record` });
          continue;
        }
        const list = copies.get(source) ?? [];
        list.push({ partition: read.partition, offset, value });
        copies.set(source, list);
      }
    }
  }

  let due = 0;
  for (const [value, input] of inputs) {
    const copied = copies.get(value) ?? [];
    const committedOffset = committed.get(input.partition) ?? 0;
    const where = { topic: spec.from, partition: input.partition, offsets: [input.offset], values: [value] };
    if (input.offset < committedOffset) {
      due += 1;
      if (copied.length === 0) {
        anomalies.add("lost-copy", { ...where, message: `input ${tpLabel(spec.from, input.partition)}@${input.offset} (${JSON.stringify(value)}) is below the copier's committed offset ${committedOffset} but was never copied to ${spec.to}` });
      }
    } else if (copied.length > 0 && spec.committed !== undefined) {
      anomalies.add("duplicate-copy", {
        ...where,
        values: [value, ...copied.map((c) => c.value)],
        message: `input ${tpLabel(spec.from, input.partition)}@${input.offset} (${JSON.stringify(value)}) was copied (${copied.map((c) => `${tpLabel(spec.to, c.partition)}@${c.offset}`).join(", ")}) although the copier's committed offset ${committedOffset} does not cover it: it would be copied again`,
      });
      continue;
    }
    if (copied.length > 1) {
      anomalies.add("duplicate-copy", {
        ...where,
        values: [value, ...copied.map((c) => c.value)],
        message: `input ${JSON.stringify(value)} was copied ${copied.length} times: ${copied.map((c) => `${tpLabel(spec.to, c.partition)}@${c.offset} ${JSON.stringify(c.value)}`).join(", ")}`,
      });
    }
  }
  return { inputs: inputs.size, due, outputs };
}
