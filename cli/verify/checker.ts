/**
 * Judges a history (cli/verify/history.ts) the way Jepsen's Kafka workload and Kafka's
 * transactions_test.py do: follow every value from its send to every read of it, and report each
 * anomaly kind (cli/verify/anomalies.ts) with counts and concrete offsets and values.
 *
 * Pure TypeScript without Node built-ins.
 */
import { AnomalyCollector, tpLabel, type Anomalies } from "./anomalies.js";
import { checkConsumers } from "./consumer-checks.js";
import { checkCopy, type CopySpec, type CopyStats } from "./copy-check.js";
import {
  pairOperations,
  type CompletedOp,
  type DrainCompletion,
  type HistoryEvent,
  type Outcome,
  type PollCompletion,
  type PollInvocation,
  type SendCompletion,
  type SendInvocation,
  type TxnCompletion,
  type TxnInvocation,
} from "./history.js";

export interface CheckOptions {
  /** Examples kept per anomaly kind (default 5). */
  readonly maxExamples?: number;
  /** Values nobody sent are anomalies unless other writers share the topics (default false). */
  readonly allowUnknownValues?: boolean;
  /** A transactional copy from one topic to another to check (cli/verify/copy-check.ts). */
  readonly copy?: CopySpec;
}

/**
 * What the workload's own records say about a value:
 * - acknowledged: a send or a transaction commit returned ok → must be in the final drain;
 * - indefinite: the outcome is unknown → may appear once, or not at all;
 * - failed: a send definitely failed → was never written, must never be read;
 * - aborted: its transaction aborted (or definitely failed to commit) → read_committed never sees it.
 */
export type WriteStatus = "acknowledged" | "indefinite" | "failed" | "aborted";

export interface WrittenValue {
  readonly value: string;
  readonly topic: string;
  readonly partition: number;
  readonly process: string;
  readonly status: WriteStatus;
  /** Duplicates are only anomalies for idempotent and transactional producers. */
  readonly idempotent: boolean;
  readonly ackOffset?: number;
  readonly opId: number;
}

/** One value seen at one offset, by a poll, the drain, or an acknowledgement. */
export interface Observation {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly value: string;
  readonly source: "poll" | "drain" | "ack";
  readonly process?: string;
  readonly readCommitted: boolean;
}

export interface CheckStats {
  /** Operations by type and outcome ("info" includes operations that never completed). */
  readonly operations: Readonly<Record<string, Readonly<Record<Outcome, number>>>>;
  readonly valuesSent: number;
  readonly valuesAcknowledged: number;
  /** Distinct values read by polls or the drain. */
  readonly valuesRead: number;
  /** Records in the final drain; undefined when the history has no successful drain. */
  readonly drained?: number;
  /** Indefinite writes that appeared (once) / did not appear in the drain. */
  readonly indefiniteSeen: number;
  readonly indefiniteUnseen: number;
  /** Values at two offsets from at-least-once producers (allowed, so not anomalies). */
  readonly allowedDuplicates: number;
  /** With CheckOptions.copy and a drain: input records, those due to be copied, output records. */
  readonly copy?: CopyStats;
}

export interface CheckResult {
  readonly valid: boolean;
  readonly anomalies: Anomalies;
  readonly stats: CheckStats;
}

/** Check a recorded history; see ANOMALY_DESCRIPTIONS for what each reported kind means. */
export function checkHistory(events: readonly HistoryEvent[], options: CheckOptions = {}): CheckResult {
  const ops = pairOperations(events);
  const anomalies = new AnomalyCollector(options.maxExamples ?? 5);
  const writes = collectWrites(ops);
  const observations = collectObservations(ops, writes);
  const drain = lastDrain(ops);

  checkReads(observations, writes, anomalies, options);
  checkPositions(observations, writes, anomalies);
  checkSendOrder(ops, anomalies);
  const drainStats = drain ? checkDrain(drain, observations, writes, anomalies) : undefined;
  checkConsumers(events, ops, visibleOffsets(observations, writes), anomalies);
  const copyStats = drain && options.copy ? checkCopy(options.copy, drain, copyCommitted(ops, options.copy), new Set(writes.keys()), anomalies) : undefined;

  const report = anomalies.report();
  return {
    valid: Object.keys(report).length === 0,
    anomalies: report,
    stats: {
      operations: countOperations(ops),
      valuesSent: writes.size,
      valuesAcknowledged: [...writes.values()].filter((w) => w.status === "acknowledged").length,
      valuesRead: new Set(observations.filter((o) => o.source !== "ack").map((o) => o.value)).size,
      drained: drainStats?.drained,
      indefiniteSeen: drainStats?.indefiniteSeen ?? 0,
      indefiniteUnseen: drainStats?.indefiniteUnseen ?? 0,
      allowedDuplicates: countAllowedDuplicates(observations, writes),
      ...(copyStats ? { copy: copyStats } : {}),
    },
  };
}

function collectWrites(ops: readonly CompletedOp[]): Map<string, WrittenValue> {
  const writes = new Map<string, WrittenValue>();
  const add = (written: WrittenValue): void => {
    if (writes.has(written.value)) throw new Error(`malformed history: value ${JSON.stringify(written.value)} was sent by two operations (values must be unique)`);
    writes.set(written.value, written);
  };
  for (const entry of ops) {
    if (entry.op.type === "send") {
      const op = entry.op as SendInvocation;
      const completion = entry.completion as SendCompletion | undefined;
      const status: WriteStatus = entry.outcome === "ok" ? "acknowledged" : entry.outcome === "fail" ? "failed" : "indefinite";
      add({ value: op.value, topic: op.topic, partition: op.partition, process: op.process, status, idempotent: op.idempotent ?? true, ackOffset: entry.outcome === "ok" ? completion?.offset : undefined, opId: entry.id });
    } else if (entry.op.type === "txn") {
      const op = entry.op as TxnInvocation;
      const completion = entry.completion as TxnCompletion | undefined;
      const status: WriteStatus = op.end === "abort" || entry.outcome === "fail" ? "aborted" : entry.outcome === "ok" ? "acknowledged" : "indefinite";
      op.sends.forEach((send, i) => {
        const ackOffset = status === "acknowledged" ? completion?.offsets?.[i] : undefined;
        add({ value: send.value, topic: send.topic, partition: send.partition, process: op.process, status, idempotent: true, ackOffset, opId: entry.id });
      });
    }
  }
  return writes;
}

function collectObservations(ops: readonly CompletedOp[], writes: ReadonlyMap<string, WrittenValue>): Observation[] {
  const observations: Observation[] = [];
  for (const write of writes.values()) {
    if (write.ackOffset !== undefined) {
      observations.push({ topic: write.topic, partition: write.partition, offset: write.ackOffset, value: write.value, source: "ack", process: write.process, readCommitted: true });
    }
  }
  for (const entry of ops) {
    if (entry.outcome !== "ok") continue;
    if (entry.op.type === "poll") {
      const op = entry.op as PollInvocation;
      const readCommitted = (op.isolation ?? "read_committed") === "read_committed";
      for (const read of (entry.completion as PollCompletion).reads ?? []) {
        for (const [offset, value] of read.records) observations.push({ topic: read.topic, partition: read.partition, offset, value, source: "poll", process: op.process, readCommitted });
      }
    } else if (entry.op.type === "drain") {
      for (const read of (entry.completion as DrainCompletion).reads ?? []) {
        for (const [offset, value] of read.records) observations.push({ topic: read.topic, partition: read.partition, offset, value, source: "drain", readCommitted: true });
      }
    }
  }
  return observations;
}

function lastDrain(ops: readonly CompletedOp[]): DrainCompletion | undefined {
  const drains = ops.filter((entry) => entry.op.type === "drain" && entry.outcome === "ok");
  return drains.at(-1)?.completion as DrainCompletion | undefined;
}

/** Unknown values and reads of values that must never be visible. */
function checkReads(observations: readonly Observation[], writes: ReadonlyMap<string, WrittenValue>, anomalies: AnomalyCollector, options: CheckOptions): void {
  for (const read of observations) {
    if (read.source === "ack") continue;
    const write = writes.get(read.value);
    const where = { topic: read.topic, partition: read.partition, offsets: [read.offset], values: [read.value], process: read.process };
    if (!write) {
      if (!options.allowUnknownValues) anomalies.add("unknown-value", { ...where, message: `${read.source} read ${JSON.stringify(read.value)} at ${tpLabel(read.topic, read.partition)}@${read.offset}, which no operation sent` });
    } else if (write.status === "failed" || (write.status === "aborted" && read.readCommitted)) {
      const why = write.status === "failed" ? "whose send definitely failed" : "from an aborted transaction";
      anomalies.add("aborted-read", { ...where, message: `${read.source}${read.process ? ` by ${read.process}` : ""} read ${JSON.stringify(read.value)} ${why} at ${tpLabel(read.topic, read.partition)}@${read.offset}` });
    }
  }
}

/** One offset, one value; one value, one offset (for idempotent producers). */
function checkPositions(observations: readonly Observation[], writes: ReadonlyMap<string, WrittenValue>, anomalies: AnomalyCollector): void {
  const valuesAt = new Map<string, { topic: string; partition: number; offset: number; values: Set<string> }>();
  const positionsOf = new Map<string, Map<string, { topic: string; partition: number; offset: number }>>();
  for (const o of observations) {
    const at = `${o.topic}\u0000${o.partition}\u0000${o.offset}`;
    const slot = valuesAt.get(at) ?? { topic: o.topic, partition: o.partition, offset: o.offset, values: new Set<string>() };
    slot.values.add(o.value);
    valuesAt.set(at, slot);
    const positions = positionsOf.get(o.value) ?? new Map();
    positions.set(at, { topic: o.topic, partition: o.partition, offset: o.offset });
    positionsOf.set(o.value, positions);
  }
  for (const slot of valuesAt.values()) {
    if (slot.values.size > 1) {
      const values = [...slot.values].sort();
      anomalies.add("inconsistent-offset", { topic: slot.topic, partition: slot.partition, offsets: [slot.offset], values, message: `${tpLabel(slot.topic, slot.partition)}@${slot.offset} held ${values.map((v) => JSON.stringify(v)).join(" and ")}` });
    }
  }
  for (const [value, positions] of positionsOf) {
    const write = writes.get(value);
    if (positions.size < 2 || !write?.idempotent) continue;
    const places = [...positions.values()].sort((a, b) => a.offset - b.offset);
    anomalies.add("duplicate", {
      topic: write.topic,
      partition: write.partition,
      offsets: places.map((p) => p.offset),
      values: [value],
      process: write.process,
      message: `${JSON.stringify(value)} (${write.status} send by ${write.process}) appears at ${places.map((p) => `${tpLabel(p.topic, p.partition)}@${p.offset}`).join(", ")}`,
    });
  }
}

function countAllowedDuplicates(observations: readonly Observation[], writes: ReadonlyMap<string, WrittenValue>): number {
  const positions = new Map<string, Set<string>>();
  for (const o of observations) {
    if (writes.get(o.value)?.idempotent !== false) continue;
    const set = positions.get(o.value) ?? new Set<string>();
    set.add(`${o.topic}\u0000${o.partition}\u0000${o.offset}`);
    positions.set(o.value, set);
  }
  return [...positions.values()].filter((set) => set.size > 1).length;
}

/** Per producer and partition, acknowledged offsets must increase in send (invocation) order. */
function checkSendOrder(ops: readonly CompletedOp[], anomalies: AnomalyCollector): void {
  const last = new Map<string, { offset: number; value: string }>();
  const see = (process: string, topic: string, partition: number, offset: number, value: string): void => {
    const key = `${process}\u0000${topic}\u0000${partition}`;
    const previous = last.get(key);
    if (previous && offset <= previous.offset) {
      anomalies.add("non-monotonic-send", {
        topic,
        partition,
        process,
        offsets: [previous.offset, offset],
        values: [previous.value, value],
        message: `${process} sent ${JSON.stringify(previous.value)} before ${JSON.stringify(value)} to ${tpLabel(topic, partition)}, but they got offsets ${previous.offset} and ${offset}`,
      });
    }
    if (!previous || offset > previous.offset) last.set(key, { offset, value });
  };
  for (const entry of ops) {
    if (entry.outcome !== "ok") continue;
    if (entry.op.type === "send") {
      const op = entry.op as SendInvocation;
      const offset = (entry.completion as SendCompletion).offset;
      if (offset !== undefined) see(op.process, op.topic, op.partition, offset, op.value);
    } else if (entry.op.type === "txn" && (entry.op as TxnInvocation).end === "commit") {
      const op = entry.op as TxnInvocation;
      const offsets = (entry.completion as TxnCompletion).offsets ?? [];
      op.sends.forEach((send, i) => {
        const offset = offsets[i];
        if (offset !== undefined) see(op.process, send.topic, send.partition, offset, send.value);
      });
    }
  }
}

/** Acknowledged (or once visible) values must all be in the final drain. */
function checkDrain(drain: DrainCompletion, observations: readonly Observation[], writes: ReadonlyMap<string, WrittenValue>, anomalies: AnomalyCollector): { drained: number; indefiniteSeen: number; indefiniteUnseen: number } {
  const drained = new Set<string>();
  const logStart = new Map<string, number>();
  const highest = new Map<string, number>();
  let count = 0;
  for (const read of drain.reads ?? []) {
    const tp = `${read.topic}\u0000${read.partition}`;
    if (read.from !== undefined) logStart.set(tp, read.from);
    for (const [offset, value] of read.records) {
      count += 1;
      drained.add(value);
      highest.set(tp, Math.max(highest.get(tp) ?? -1, offset));
    }
  }
  const truncated = (topic: string, partition: number, offset: number | undefined): boolean =>
    offset !== undefined && offset < (logStart.get(`${topic}\u0000${partition}`) ?? 0);

  const readByPoll = new Map<string, Observation>();
  for (const o of observations) if (o.source === "poll" && o.readCommitted) readByPoll.set(o.value, o);
  let indefiniteSeen = 0;
  let indefiniteUnseen = 0;
  for (const write of writes.values()) {
    if (drained.has(write.value)) {
      if (write.status === "indefinite") indefiniteSeen += 1;
      continue;
    }
    const polled = readByPoll.get(write.value);
    const offset = write.ackOffset ?? polled?.offset;
    if (truncated(write.topic, write.partition, offset)) continue;
    if (write.status === "indefinite" && !polled) {
      indefiniteUnseen += 1;
      continue;
    }
    if (write.status !== "acknowledged" && !(polled && write.status === "indefinite")) continue;
    const where = { topic: write.topic, partition: write.partition, values: [write.value], process: write.process, offsets: offset === undefined ? [] : [offset] };
    const drainedPast = offset !== undefined && (highest.get(`${write.topic}\u0000${write.partition}`) ?? -1) > offset;
    if (polled || drainedPast) {
      const why = polled ? `was read by ${polled.process ?? "a poll"} at offset ${polled.offset}` : `was acknowledged at offset ${offset}`;
      anomalies.add("lost-write", { ...where, message: `${JSON.stringify(write.value)} ${why} but is missing from the final drain of ${tpLabel(write.topic, write.partition)}, which read past it` });
    } else {
      anomalies.add("unseen", { ...where, message: `${JSON.stringify(write.value)} was acknowledged${offset === undefined ? "" : ` at offset ${offset}`} but never appeared in the final drain of ${tpLabel(write.topic, write.partition)}` });
    }
  }
  return { drained: count, indefiniteSeen, indefiniteUnseen };
}

/** Offsets known to hold a record a read_committed consumer must be given, per partition. */
function visibleOffsets(observations: readonly Observation[], writes: ReadonlyMap<string, WrittenValue>): Map<string, number[]> {
  const sets = new Map<string, Set<number>>();
  for (const o of observations) {
    const status = writes.get(o.value)?.status;
    if (status === undefined || status === "failed" || status === "aborted") continue;
    // A read_uncommitted poll may have seen an indefinite transaction that then aborted.
    if (status !== "acknowledged" && (o.source === "ack" || !o.readCommitted)) continue;
    const tp = `${o.topic}\u0000${o.partition}`;
    const set = sets.get(tp) ?? new Set<number>();
    set.add(o.offset);
    sets.set(tp, set);
  }
  return new Map([...sets].map(([tp, set]) => [tp, [...set].sort((a, b) => a - b)]));
}

/** The copier's committed offsets: as given, or the highest its successful transactions committed. */
function copyCommitted(ops: readonly CompletedOp[], spec: CopySpec): Map<number, number> {
  if (spec.committed) return new Map(Object.entries(spec.committed).map(([partition, offset]) => [Number(partition), offset]));
  const committed = new Map<number, number>();
  for (const entry of ops) {
    if (entry.op.type !== "txn" || entry.outcome !== "ok" || (entry.op as TxnInvocation).end !== "commit") continue;
    for (const o of (entry.op as TxnInvocation).offsets ?? []) {
      if (o.topic === spec.from) committed.set(o.partition, Math.max(committed.get(o.partition) ?? 0, o.offset));
    }
  }
  return committed;
}

function countOperations(ops: readonly CompletedOp[]): Record<string, Record<Outcome, number>> {
  const counts: Record<string, Record<Outcome, number>> = {};
  for (const entry of ops) {
    const row = (counts[entry.op.type] ??= { ok: 0, fail: 0, info: 0 });
    row[entry.outcome] += 1;
  }
  return counts;
}
