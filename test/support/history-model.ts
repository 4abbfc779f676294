/**
 * Generates histories of a correct Kafka-semantics log (for the history checker's property test):
 * a reference model appends sends and transactions to partitions and consumers read it back, so
 * every history it records is valid; `injectAnomaly` then breaks exactly one thing.
 */
import fc from "fast-check";
import { History, type AnomalyKind, type HistoryEvent, type Outcome, type PartitionRead, type ReadRecord } from "../../cli/verify/index.js";

export const TOPIC = "model";

export type Step =
  | { readonly kind: "send"; readonly producer: number; readonly partition: number; readonly outcome: Outcome; readonly applied: boolean }
  | { readonly kind: "txn"; readonly producer: number; readonly partitions: readonly number[]; readonly end: "commit" | "abort"; readonly outcome: Outcome; readonly applied: boolean }
  | { readonly kind: "poll"; readonly consumer: number; readonly partition: number; readonly max: number }
  | { readonly kind: "rebalance"; readonly consumer: number; readonly partition: number; readonly back: number };

const outcome = fc.constantFrom<Outcome>("ok", "ok", "ok", "fail", "info");
const partition = fc.integer({ min: 0, max: 1 });

export const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("send" as const), producer: fc.integer({ min: 0, max: 2 }), partition, outcome, applied: fc.boolean() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("txn" as const),
      producer: fc.integer({ min: 0, max: 1 }),
      partitions: fc.array(partition, { minLength: 1, maxLength: 3 }),
      end: fc.constantFrom<"commit" | "abort">("commit", "commit", "abort"),
      outcome,
      applied: fc.boolean(),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("poll" as const), consumer: fc.integer({ min: 0, max: 1 }), partition, max: fc.integer({ min: 1, max: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("rebalance" as const), consumer: fc.integer({ min: 0, max: 1 }), partition, back: fc.integer({ min: 0, max: 3 }) }) },
);

interface Entry {
  readonly offset: number;
  readonly value: string;
  readonly visible: boolean;
}

/** Run the steps against the reference log and record what a correct broker would let clients see. */
export function simulate(steps: readonly Step[]): History {
  const h = new History();
  const log: Entry[][] = [[], []];
  const append = (p: number, value: string, visible: boolean): number => {
    const offset = log[p]!.length;
    log[p]!.push({ offset, value, visible });
    return offset;
  };
  const sent = new Map<number, number>();
  const nextValue = (producer: string, id: number): string => {
    const n = sent.get(id) ?? 0;
    sent.set(id, n + 1);
    return `${producer}-${n}`;
  };
  const positions = new Map<string, number>();
  const generations = new Map<number, number>();

  for (const step of steps) {
    if (step.kind === "send") {
      const producer = `p${step.producer}`;
      const value = nextValue(producer, step.producer);
      const op = h.invoke({ type: "send", process: producer, topic: TOPIC, partition: step.partition, value });
      const written = step.outcome === "ok" || (step.outcome === "info" && step.applied);
      const offset = written ? append(step.partition, value, true) : undefined;
      h.complete(op, { outcome: step.outcome, offset: step.outcome === "ok" ? offset : undefined });
    } else if (step.kind === "txn") {
      const producer = `t${step.producer}`;
      const sends = step.partitions.map((p) => ({ topic: TOPIC, partition: p, value: nextValue(producer, 10 + step.producer) }));
      const op = h.invoke({ type: "txn", process: producer, sends, end: step.end });
      // Transactions write their records first, then one marker per partition decides them.
      const committed = step.end === "commit" && (step.outcome === "ok" || (step.outcome === "info" && step.applied));
      const offsets = sends.map((s) => append(s.partition, s.value, committed));
      for (const p of new Set(step.partitions)) append(p, "", false);
      h.complete(op, { outcome: step.outcome, offsets: step.outcome === "ok" && committed ? offsets : undefined });
    } else if (step.kind === "rebalance") {
      const process = `c${step.consumer}`;
      const key = `${process}/${step.partition}`;
      const generation = (generations.get(step.consumer) ?? 0) + 1;
      generations.set(step.consumer, generation);
      // Resume from a committed offset at or before the current position (a re-delivery is fine).
      const position = Math.max(0, (positions.get(key) ?? 0) - step.back);
      positions.set(key, position);
      h.record({ type: "assign", process, generation, partitions: [{ topic: TOPIC, partition: step.partition, position }] });
    } else {
      const process = `c${step.consumer}`;
      const key = `${process}/${step.partition}`;
      const from = positions.get(key) ?? 0;
      const records = log[step.partition]!.filter((e) => e.visible && e.offset >= from).slice(0, step.max);
      const op = h.invoke({ type: "poll", process });
      h.complete(op, { outcome: "ok", reads: [{ topic: TOPIC, partition: step.partition, records: records.map((e): ReadRecord => [e.offset, e.value]) }] });
      if (records.length > 0) positions.set(key, records.at(-1)!.offset + 1);
    }
  }
  const drain = h.invoke({ type: "drain" });
  h.complete(drain, {
    outcome: "ok",
    reads: log.map((entries, p) => ({ topic: TOPIC, partition: p, records: entries.filter((e) => e.visible).map((e): ReadRecord => [e.offset, e.value]) })),
  });
  return h;
}

export const INJECTIONS = ["drop-from-drain", "duplicate-in-drain", "rewrite-polled-value", "read-aborted", "reorder-poll", "skip-in-poll"] as const;
export type Injection = (typeof INJECTIONS)[number];

/** The kinds each injection may be reported as (at least one of them must be). */
export const EXPECTED_KINDS: Readonly<Record<Injection, readonly AnomalyKind[]>> = {
  // A dropped record the drain did not read past (the partition's last) is "unseen".
  "drop-from-drain": ["lost-write", "unseen"],
  "duplicate-in-drain": ["duplicate"],
  "rewrite-polled-value": ["inconsistent-offset"],
  "read-aborted": ["aborted-read"],
  "reorder-poll": ["non-monotonic-poll"],
  "skip-in-poll": ["poll-skip"],
};

type Completion = Extract<HistoryEvent, { kind: "complete" }>;
type Reads = readonly PartitionRead[];

/**
 * Break the history in one way; undefined when it has nothing to break that way (e.g. no aborted
 * transaction to read from). `pick` chooses among candidates (fast-check supplies it).
 */
export function injectAnomaly(events: readonly HistoryEvent[], injection: Injection, pick: (n: number) => number): HistoryEvent[] | undefined {
  const invoked = new Map(events.flatMap((e) => (e.kind === "invoke" ? [[e.id, e.op] as const] : [])));
  const completions = events.flatMap((e, i) => (e.kind === "complete" ? [{ i, e }] : []));
  const ofType = (type: string) => completions.filter(({ e }) => invoked.get(e.id)?.type === type && e.completion.outcome === "ok");
  const drain = ofType("drain").at(-1);
  const withReads = (event: Completion, reads: Reads): HistoryEvent => ({ ...event, completion: { ...event.completion, reads } as Completion["completion"] });
  const replace = (i: number, event: HistoryEvent): HistoryEvent[] => events.map((e, j) => (j === i ? event : e));
  const drainReads = (drain?.e.completion as { reads?: Reads } | undefined)?.reads ?? [];
  const pollRecords = (min: number) =>
    ofType("poll").flatMap(({ i, e }) => ((e.completion as { reads?: Reads }).reads ?? []).map((read, r) => ({ i, e, r, read })).filter(({ read }) => read.records.length >= min));
  const modifyRead = (c: { i: number; e: Completion; r: number }, records: ReadRecord[]): HistoryEvent[] => {
    const reads = ((c.e.completion as { reads?: Reads }).reads ?? []).map((read, r) => (r === c.r ? { ...read, records } : read));
    return replace(c.i, withReads(c.e, reads));
  };

  switch (injection) {
    case "drop-from-drain": {
      // Only records the history proves were written: acknowledged, or seen by a poll.
      const acked = new Set(ackedValues(events));
      const polled = new Set(pollRecords(1).flatMap(({ read }) => read.records.map(([, v]) => v)));
      const candidates = drainReads.flatMap((read, r) => read.records.map((rec, k) => ({ r, k, rec }))).filter(({ rec }) => acked.has(rec[1]) || polled.has(rec[1]));
      if (!drain || candidates.length === 0) return undefined;
      const { r, k } = candidates[pick(candidates.length)]!;
      return replace(drain.i, withReads(drain.e, drainReads.map((read, j) => (j === r ? { ...read, records: read.records.filter((_, x) => x !== k) } : read))));
    }
    case "duplicate-in-drain": {
      const all = drainReads.flatMap((read, r) => read.records.map((rec) => ({ r, rec })));
      if (!drain || all.length === 0) return undefined;
      const { r, rec } = all[pick(all.length)]!;
      const read = drainReads[r]!;
      const end = Math.max(...read.records.map(([o]) => o), ...allOffsets(events, read.partition)) + 1;
      return replace(drain.i, withReads(drain.e, drainReads.map((x, j) => (j === r ? { ...x, records: [...x.records, [end, rec[1]] as ReadRecord] } : x))));
    }
    case "rewrite-polled-value": {
      const candidates = pollRecords(1);
      if (candidates.length === 0) return undefined;
      const c = candidates[pick(candidates.length)]!;
      return modifyRead(c, c.read.records.map(([o, v], k) => (k === 0 ? [o, `${v}-corrupted`] : [o, v])));
    }
    case "read-aborted": {
      const aborted = abortedSends(events);
      if (!drain || aborted.length === 0) return undefined;
      const a = aborted[pick(aborted.length)]!;
      const end = Math.max(-1, ...allOffsets(events, a.partition)) + 1;
      return replace(drain.i, withReads(drain.e, [...drainReads, { topic: TOPIC, partition: a.partition, records: [[end, a.value]] }]));
    }
    case "reorder-poll": {
      const candidates = pollRecords(2);
      if (candidates.length === 0) return undefined;
      const c = candidates[pick(candidates.length)]!;
      return modifyRead(c, [...c.read.records].reverse());
    }
    case "skip-in-poll": {
      const candidates = pollRecords(3);
      if (candidates.length === 0) return undefined;
      const c = candidates[pick(candidates.length)]!;
      return modifyRead(c, c.read.records.filter((_, k) => k !== 1));
    }
  }
}

function ackedValues(events: readonly HistoryEvent[]): string[] {
  const invoked = new Map(events.flatMap((e) => (e.kind === "invoke" ? [[e.id, e.op] as const] : [])));
  return events.flatMap((e) => {
    if (e.kind !== "complete" || e.completion.outcome !== "ok") return [];
    const op = invoked.get(e.id);
    if (op?.type === "send") return [op.value];
    if (op?.type === "txn" && op.end === "commit") return op.sends.map((s) => s.value);
    return [];
  });
}

function abortedSends(events: readonly HistoryEvent[]): { value: string; partition: number }[] {
  return events.flatMap((e) => (e.kind === "invoke" && e.op.type === "txn" && e.op.end === "abort" ? e.op.sends.map((s) => ({ value: s.value, partition: s.partition })) : []));
}

function allOffsets(events: readonly HistoryEvent[], partition: number): number[] {
  return events.flatMap((e) => {
    if (e.kind !== "complete") return [];
    const reads = (e.completion as { reads?: Reads }).reads ?? [];
    // Acknowledged offsets of any partition: an over-estimate only makes the new offset larger.
    const acked = (e.completion as { offset?: number }).offset;
    return [...reads.filter((r) => r.partition === partition).flatMap((r) => r.records.map(([o]) => o)), ...(acked !== undefined ? [acked] : [])];
  });
}
