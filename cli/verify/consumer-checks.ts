/**
 * What each consumer saw, poll after poll: offsets in one partition must only move forward, and
 * never jump over an existing record, for as long as the consumer keeps the partition. A rebalance
 * (assign event), a seek, or a new generation starts over, from the position it names if any.
 */
import { tpLabel, type AnomalyCollector } from "./anomalies.js";
import type { CompletedOp, HistoryEvent, PollCompletion, PollInvocation } from "./history.js";

interface PartitionCursor {
  readonly generation?: number;
  /** Where the consumer said it would resume (assign position or seek); the first read starts here. */
  readonly position?: number;
  /** The last offset this consumer read in this partition, since the cursor was (re)started. */
  last?: { readonly offset: number; readonly value: string };
}

/**
 * @param visible per "topic\0partition", sorted offsets known to hold a record every
 *   read_committed consumer must be given (so jumping over one is a skip)
 */
export function checkConsumers(
  events: readonly HistoryEvent[],
  ops: readonly CompletedOp[],
  visible: ReadonlyMap<string, readonly number[]>,
  anomalies: AnomalyCollector,
): void {
  const byId = new Map(ops.map((entry) => [entry.id, entry]));
  const cursors = new Map<string, Map<string, PartitionCursor>>();
  const cursorsOf = (process: string): Map<string, PartitionCursor> => {
    let map = cursors.get(process);
    if (!map) cursors.set(process, (map = new Map()));
    return map;
  };

  for (const event of events) {
    if (event.kind === "event") {
      const e = event.event;
      if (e.type === "assign") {
        // A rebalance: whatever the consumer owned before, it now starts over.
        const map = cursorsOf(e.process);
        map.clear();
        for (const p of e.partitions) map.set(key(p.topic, p.partition), { generation: e.generation, position: p.position });
      } else {
        const map = cursorsOf(e.process);
        const previous = map.get(key(e.topic, e.partition));
        map.set(key(e.topic, e.partition), { generation: previous?.generation, position: e.offset });
      }
      continue;
    }
    if (event.kind !== "complete") continue;
    const entry = byId.get(event.id);
    if (!entry || entry.op.type !== "poll" || entry.outcome !== "ok") continue;
    const op = entry.op as PollInvocation;
    const map = cursorsOf(op.process);
    for (const read of (entry.completion as PollCompletion).reads ?? []) {
      if (read.records.length === 0) continue;
      const tp = key(read.topic, read.partition);
      let cursor = map.get(tp);
      if (!cursor || (op.generation !== undefined && cursor.generation !== undefined && op.generation !== cursor.generation)) {
        // First poll of a partition never assigned explicitly, or a new generation: no baseline.
        cursor = { generation: op.generation ?? cursor?.generation };
        map.set(tp, cursor);
      }
      const offsets = visible.get(tp) ?? [];
      for (const [offset, value] of read.records) {
        const where = { topic: read.topic, partition: read.partition, process: op.process };
        const last = cursor.last;
        if (last && offset <= last.offset) {
          anomalies.add("non-monotonic-poll", {
            ...where,
            offsets: [last.offset, offset],
            values: [last.value, value],
            message: `${op.process} read ${tpLabel(read.topic, read.partition)}@${last.offset} (${JSON.stringify(last.value)}) and then @${offset} (${JSON.stringify(value)}) with no rebalance or seek in between`,
          });
        } else {
          const from = last ? last.offset + 1 : cursor.position;
          if (from !== undefined) {
            const skipped = offsetsBetween(offsets, from, offset);
            if (skipped.length > 0) {
              anomalies.add("poll-skip", {
                ...where,
                offsets: skipped,
                values: [value],
                message: `${op.process} went from ${last ? `@${last.offset}` : `position ${from}`} to @${offset} in ${tpLabel(read.topic, read.partition)}, skipping existing offset${skipped.length > 1 ? "s" : ""} ${skipped.join(", ")}`,
              });
            }
          }
        }
        // After a regression, carry on from where the consumer now is: one regression, one report.
        cursor.last = { offset, value };
      }
    }
  }
}

function key(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

/** Elements of the sorted `offsets` in [from, to). */
function offsetsBetween(offsets: readonly number[], from: number, to: number): number[] {
  let lo = 0;
  let hi = offsets.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (offsets[mid]! < from) lo = mid + 1;
    else hi = mid;
  }
  const result: number[] = [];
  for (let i = lo; i < offsets.length && offsets[i]! < to; i++) result.push(offsets[i]!);
  return result;
}
