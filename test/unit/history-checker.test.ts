/**
 * The history checker: each anomaly kind in a hand-made history is caught and reported as exactly
 * that kind; clean histories (indefinite outcomes, rebalances restarting from a committed offset)
 * are valid; and, as a property, generated valid histories are valid until one anomaly is injected.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ANOMALY_KINDS, checkHistory, copySource, copyValue, formatVerdict, History, type AnomalyKind, type Outcome, type ReadRecord } from "../../cli/verify/index.js";
import { EXPECTED_KINDS, INJECTIONS, injectAnomaly, simulate, stepArbitrary } from "../support/history-model.js";

const T = "orders";

function send(h: History, process: string, value: string, outcome: Outcome, offset?: number, partition = 0, idempotent?: boolean): void {
  const op = h.invoke({ type: "send", process, topic: T, partition, value, idempotent });
  h.complete(op, { outcome, offset });
}
function poll(h: History, process: string, records: ReadRecord[], partition = 0, generation?: number): void {
  const op = h.invoke({ type: "poll", process, generation });
  h.complete(op, { outcome: "ok", reads: [{ topic: T, partition, records }] });
}
function drain(h: History, records: ReadRecord[], partition = 0, from?: number): void {
  const op = h.invoke({ type: "drain" });
  h.complete(op, { outcome: "ok", reads: [{ topic: T, partition, records, from }] });
}
function assign(h: History, process: string, generation: number, position?: number, partition = 0): void {
  h.record({ type: "assign", process, generation, partitions: [{ topic: T, partition, position }] });
}

/** Three acknowledged sends at offsets 0-2, polled and drained: the baseline every test bends. */
function baseline(): History {
  const h = new History();
  send(h, "p1", "p1-0", "ok", 0);
  send(h, "p1", "p1-1", "ok", 1);
  send(h, "p1", "p1-2", "ok", 2);
  return h;
}
const ALL: ReadRecord[] = [[0, "p1-0"], [1, "p1-1"], [2, "p1-2"]];

function kinds(h: History): string[] {
  return Object.keys(checkHistory(h.events).anomalies);
}

describe("clean histories", () => {
  it("sends, polls and a drain that agree are valid", () => {
    const h = baseline();
    assign(h, "c1", 1, 0);
    poll(h, "c1", ALL.slice(0, 2), 0, 1);
    poll(h, "c1", ALL.slice(2), 0, 1);
    drain(h, ALL);
    const result = checkHistory(h.events);
    expect(result.valid, formatVerdict(result)).toBe(true);
    expect(result.stats).toMatchObject({ valuesSent: 3, valuesAcknowledged: 3, valuesRead: 3, drained: 3, operations: { send: { ok: 3, fail: 0, info: 0 } } });
    expect(formatVerdict(result)).toMatch(/^VALID/);
  });

  it("indefinite sends may appear once or not at all, and a never-completed send counts as indefinite", () => {
    const h = baseline();
    send(h, "p1", "p1-3", "info");
    send(h, "p1", "p1-4", "info");
    h.invoke({ type: "send", process: "p2", topic: T, partition: 0, value: "p2-0" });
    drain(h, [...ALL, [3, "p1-3"]]);
    const result = checkHistory(h.events);
    expect(result.valid, formatVerdict(result)).toBe(true);
    expect(result.stats).toMatchObject({ indefiniteSeen: 1, indefiniteUnseen: 2, operations: { send: { ok: 3, fail: 0, info: 3 } } });
  });

  it("a rebalance lets a consumer restart from the committed offset, even backwards", () => {
    const h = baseline();
    assign(h, "c1", 1, 0);
    poll(h, "c1", ALL, 0, 1);
    const commit = h.invoke({ type: "commit", process: "c1", group: "g", generation: 1, offsets: [{ topic: T, partition: 0, offset: 1 }] });
    h.complete(commit, { outcome: "ok" });
    assign(h, "c2", 2, 1);
    poll(h, "c2", ALL.slice(1), 0, 2);
    assign(h, "c1", 3, 1);
    poll(h, "c1", ALL.slice(1), 0, 3);
    h.record({ type: "seek", process: "c1", topic: T, partition: 0, offset: 0 });
    poll(h, "c1", ALL, 0, 3);
    drain(h, ALL);
    const result = checkHistory(h.events);
    expect(result.valid, formatVerdict(result)).toBe(true);
  });

  it("aborted transactions leave gaps read_committed consumers legitimately jump", () => {
    const h = new History();
    send(h, "p1", "a", "ok", 0);
    const aborted = h.invoke({ type: "txn", process: "tx", sends: [{ topic: T, partition: 0, value: "x" }], end: "abort" });
    h.complete(aborted, { outcome: "ok" });
    const committed = h.invoke({ type: "txn", process: "tx", sends: [{ topic: T, partition: 0, value: "y" }], offsets: [{ group: "g", topic: "in", partition: 0, offset: 4 }], end: "commit" });
    h.complete(committed, { outcome: "ok", offsets: [3] });
    assign(h, "c1", 1, 0);
    poll(h, "c1", [[0, "a"], [3, "y"]], 0, 1);
    const raw = h.invoke({ type: "poll", process: "c9", isolation: "read_uncommitted" });
    h.complete(raw, { outcome: "ok", reads: [{ topic: T, partition: 0, records: [[0, "a"], [1, "x"]] }] });
    drain(h, [[0, "a"], [3, "y"]]);
    const result = checkHistory(h.events);
    expect(result.valid, formatVerdict(result)).toBe(true);
  });

  it("an indefinite transaction seen only by a read_uncommitted poll leaves a gap read_committed may jump", () => {
    const h = new History();
    send(h, "p1", "a", "ok", 0);
    const txn = h.invoke({ type: "txn", process: "tx", sends: [{ topic: T, partition: 0, value: "x" }], end: "commit" });
    h.complete(txn, { outcome: "info" });
    send(h, "p1", "b", "ok", 3);
    const raw = h.invoke({ type: "poll", process: "c9", isolation: "read_uncommitted" });
    h.complete(raw, { outcome: "ok", reads: [{ topic: T, partition: 0, records: [[0, "a"], [1, "x"], [3, "b"]] }] });
    assign(h, "c1", 1, 0);
    poll(h, "c1", [[0, "a"], [3, "b"]], 0, 1);
    drain(h, [[0, "a"], [3, "b"]]);
    const result = checkHistory(h.events);
    expect(result.valid, formatVerdict(result)).toBe(true);
    expect(result.stats.indefiniteUnseen).toBe(1);
  });

  it("duplicates from an at-least-once producer are counted, not anomalies; retention is not loss", () => {
    const h = new History();
    send(h, "p1", "a", "info", undefined, 0, false);
    send(h, "p1", "b", "ok", 2, 0, false);
    drain(h, [[0, "a"], [1, "a"], [2, "b"]]);
    expect(checkHistory(h.events)).toMatchObject({ valid: true, stats: { allowedDuplicates: 1 } });
    const retained = baseline();
    drain(retained, ALL.slice(2), 0, 2);
    expect(checkHistory(retained.events).valid).toBe(true);
  });
});

describe("each anomaly kind is caught and named", () => {
  it("lost-write: acknowledged, and the drain read past it, but it is gone", () => {
    const h = baseline();
    drain(h, [ALL[0]!, ALL[2]!]);
    const result = checkHistory(h.events);
    expect(Object.keys(result.anomalies)).toEqual(["lost-write"]);
    expect(result.anomalies["lost-write"]).toMatchObject({ count: 1, examples: [{ offsets: [1], values: ["p1-1"], partition: 0, topic: T }] });
  });

  it("lost-write: an indefinite send once read by a consumer has vanished", () => {
    const h = baseline();
    send(h, "p1", "p1-3", "info");
    poll(h, "c1", [...ALL, [3, "p1-3"]]);
    drain(h, ALL);
    expect(kinds(h)).toEqual(["lost-write"]);
  });

  it("unseen: acknowledged at the end of the log, and never drained", () => {
    const h = baseline();
    drain(h, ALL.slice(0, 2));
    const result = checkHistory(h.events);
    expect(Object.keys(result.anomalies)).toEqual(["unseen"]);
    expect(result.anomalies.unseen?.examples[0]).toMatchObject({ offsets: [2], values: ["p1-2"] });
  });

  it("duplicate: one value of an idempotent producer at two offsets (an indefinite send appearing twice)", () => {
    const h = baseline();
    send(h, "p1", "p1-3", "info");
    drain(h, [...ALL, [3, "p1-3"], [4, "p1-3"]]);
    const result = checkHistory(h.events);
    expect(Object.keys(result.anomalies)).toEqual(["duplicate"]);
    expect(result.anomalies.duplicate?.examples[0]).toMatchObject({ offsets: [3, 4], values: ["p1-3"], process: "p1" });
  });

  it("inconsistent-offset: two reads disagree about one offset", () => {
    const h = baseline();
    send(h, "p2", "p2-0", "info");
    poll(h, "c1", [[0, "p1-0"], [1, "p2-0"]]);
    const result = checkHistory(h.events);
    expect(Object.keys(result.anomalies)).toEqual(["inconsistent-offset"]);
    expect(result.anomalies["inconsistent-offset"]?.examples[0]).toMatchObject({ offsets: [1], values: ["p1-1", "p2-0"] });
  });

  it("aborted-read: a read_committed consumer sees an aborted transaction's value, or a failed send's", () => {
    const h = baseline();
    const txn = h.invoke({ type: "txn", process: "tx", sends: [{ topic: T, partition: 0, value: "x" }], end: "abort" });
    h.complete(txn, { outcome: "ok" });
    send(h, "p2", "never", "fail");
    poll(h, "c1", [...ALL, [3, "x"], [5, "never"]]);
    drain(h, ALL);
    const result = checkHistory(h.events);
    expect(Object.keys(result.anomalies)).toEqual(["aborted-read"]);
    expect(result.anomalies["aborted-read"]).toMatchObject({ count: 2, examples: [{ values: ["x"], offsets: [3] }, { values: ["never"], offsets: [5] }] });
  });

  it("aborted-read: a transaction whose commit definitely failed is read", () => {
    const h = baseline();
    const txn = h.invoke({ type: "txn", process: "tx", sends: [{ topic: T, partition: 0, value: "x" }], end: "commit" });
    h.complete(txn, { outcome: "fail" });
    drain(h, [...ALL, [3, "x"]]);
    expect(kinds(h)).toEqual(["aborted-read"]);
  });

  it("non-monotonic-poll: offsets go backwards without a rebalance or seek", () => {
    const h = baseline();
    assign(h, "c1", 1, 0);
    poll(h, "c1", ALL, 0, 1);
    poll(h, "c1", ALL.slice(1), 0, 1);
    drain(h, ALL);
    const result = checkHistory(h.events);
    expect(Object.keys(result.anomalies)).toEqual(["non-monotonic-poll"]);
    expect(result.anomalies["non-monotonic-poll"]).toMatchObject({ count: 1, examples: [{ offsets: [2, 1], process: "c1" }] });
  });

  it("poll-skip: the next poll starts past a record the consumer never got, while it kept the partition", () => {
    const h = baseline();
    assign(h, "c1", 1, 0);
    poll(h, "c1", ALL.slice(0, 1), 0, 1);
    poll(h, "c1", ALL.slice(2), 0, 1);
    drain(h, ALL);
    const result = checkHistory(h.events);
    expect(Object.keys(result.anomalies)).toEqual(["poll-skip"]);
    expect(result.anomalies["poll-skip"]?.examples[0]).toMatchObject({ offsets: [1], process: "c1" });
  });

  it("poll-skip: the first poll after an assignment starts past the committed position", () => {
    const h = baseline();
    assign(h, "c1", 1, 1);
    poll(h, "c1", ALL.slice(2), 0, 1);
    drain(h, ALL);
    expect(kinds(h)).toEqual(["poll-skip"]);
  });

  it("non-monotonic-send: a producer's later send got a lower offset", () => {
    const h = new History();
    send(h, "p1", "p1-0", "ok", 1);
    send(h, "p1", "p1-1", "ok", 0);
    drain(h, [[0, "p1-1"], [1, "p1-0"]]);
    const result = checkHistory(h.events);
    expect(Object.keys(result.anomalies)).toEqual(["non-monotonic-send"]);
    expect(result.anomalies["non-monotonic-send"]?.examples[0]).toMatchObject({ offsets: [1, 0], values: ["p1-0", "p1-1"], process: "p1" });
  });

  it("unknown-value: a read returns something nobody sent (unless allowed)", () => {
    const h = baseline();
    drain(h, [...ALL, [3, "ghost"]]);
    expect(kinds(h)).toEqual(["unknown-value"]);
    expect(checkHistory(h.events, { allowUnknownValues: true }).valid).toBe(true);
  });

  it("the verdict names every kind found with examples, and caps the examples", () => {
    const h = new History();
    for (let i = 0; i < 8; i++) send(h, "p1", `v${i}`, "ok", i);
    drain(h, []);
    const result = checkHistory(h.events, { maxExamples: 2 });
    expect(result.anomalies.unseen).toMatchObject({ count: 8 });
    expect(result.anomalies.unseen?.examples).toHaveLength(2);
    const text = formatVerdict(result);
    expect(text).toMatch(/^INVALID: 8 anomalies/);
    expect(text).toContain("unseen: 8");
    expect(text).toContain("… and 6 more");
  });

  it("refuses malformed histories instead of judging them", () => {
    const h = baseline();
    send(h, "p9", "p1-0", "ok", 7);
    expect(() => checkHistory(h.events)).toThrow(/sent by two operations/);
    const twice = new History();
    const op = twice.invoke({ type: "drain" });
    twice.complete(op, { outcome: "ok", reads: [] });
    expect(() => twice.complete(op, { outcome: "ok" })).toThrow(/already completed/);
  });

  it("knows every kind it can report", () => {
    expect(ANOMALY_KINDS).toHaveLength(11);
  });
});

describe("the exactly-once copy check (transactions_test.py: output = input, no duplicates)", () => {
  const IN = "in";
  const OUT = "out";
  /** Two inputs at in/0@0-1, copied by transactions; `outputs` is what the drain finds in `out`. */
  function copyHistory(outputs: ReadRecord[], committedBy: number[] = [2]): History {
    const h = new History();
    for (const [i, value] of ["p1-0", "p1-1"].entries()) {
      const op = h.invoke({ type: "send", process: "p1", topic: IN, partition: 0, value });
      h.complete(op, { outcome: "ok", offset: i });
    }
    for (const [i, [, value]] of outputs.entries()) {
      const op = h.invoke({ type: "txn", process: "copier", sends: [{ topic: OUT, partition: 0, value }], offsets: [{ topic: IN, partition: 0, group: "g", offset: committedBy[i] ?? 2 }], end: "commit" });
      h.complete(op, { outcome: "ok", offsets: [outputs[i]![0]] });
    }
    const drain = h.invoke({ type: "drain" });
    h.complete(drain, { outcome: "ok", reads: [{ topic: OUT, partition: 0, records: outputs, from: 0 }, { topic: IN, partition: 0, records: [[0, "p1-0"], [1, "p1-1"]], from: 0 }] });
    return h;
  }
  const check = (h: History, committed?: Record<number, number>) => checkHistory(h.events, { copy: { from: IN, to: OUT, committed } });

  it("copy values name their source", () => {
    expect(copySource(copyValue("p1-7", "c3"))).toBe("p1-7");
    expect(copySource("p1-7")).toBeUndefined();
  });

  it("every committed input copied exactly once is valid, with the copy counted", () => {
    const result = check(copyHistory([[0, copyValue("p1-0", "c1")], [1, copyValue("p1-1", "c2")]]), { 0: 2 });
    expect(result.valid, formatVerdict(result)).toBe(true);
    expect(result.stats.copy).toEqual({ inputs: 2, due: 2, outputs: 2 });
    expect(formatVerdict(result)).toContain("copy: 2 input records, 2 committed by the copier, 2 output records");
  });

  it("lost-copy: an input below the committed offset has no copy", () => {
    const result = check(copyHistory([[0, copyValue("p1-0", "c1")]]), { 0: 2 });
    expect(Object.keys(result.anomalies)).toEqual(["lost-copy"]);
    expect(result.anomalies["lost-copy"]?.examples[0]).toMatchObject({ values: ["p1-1"], offsets: [1] });
  });

  it("an input past the committed offset need not be copied (offsets derived from the history)", () => {
    const result = check(copyHistory([[0, copyValue("p1-0", "c1")]], [1]));
    expect(result.valid, formatVerdict(result)).toBe(true);
    expect(result.stats.copy).toMatchObject({ due: 1 });
  });

  it("duplicate-copy: one input copied twice, or copied past the committed offset", () => {
    const twice = check(copyHistory([[0, copyValue("p1-0", "c1")], [1, copyValue("p1-0", "c2")], [2, copyValue("p1-1", "c3")]]), { 0: 2 });
    expect(Object.keys(twice.anomalies)).toEqual(["duplicate-copy"]);
    expect(twice.anomalies["duplicate-copy"]?.examples[0]?.values).toEqual(["p1-0", "p1-0>c1", "p1-0>c2"]);
    const uncommitted = check(copyHistory([[0, copyValue("p1-0", "c1")], [1, copyValue("p1-1", "c2")]]), { 0: 1 });
    expect(Object.keys(uncommitted.anomalies)).toEqual(["duplicate-copy"]);
  });

  it("unknown-value: an output that copies no input", () => {
    const result = check(copyHistory([[0, copyValue("p1-0", "c1")], [1, copyValue("p1-1", "c2")], [2, copyValue("p9-9", "c3")]]), { 0: 2 });
    expect(Object.keys(result.anomalies)).toEqual(["unknown-value"]);
  });
});

describe("property: a correct log's history is valid, one injected anomaly makes it invalid", () => {
  it("generated histories of a reference log are valid", () => {
    fc.assert(
      fc.property(fc.array(stepArbitrary, { minLength: 1, maxLength: 60 }), (steps) => {
        const result = checkHistory(simulate(steps).events);
        expect(result.valid, formatVerdict(result)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it("injecting one anomaly is caught, as the kind injected", () => {
    fc.assert(
      fc.property(fc.array(stepArbitrary, { minLength: 4, maxLength: 60 }), fc.constantFrom(...INJECTIONS), fc.nat(), (steps, injection, seed) => {
        const broken = injectAnomaly(simulate(steps).events, injection, (n) => seed % n);
        fc.pre(broken !== undefined);
        const result = checkHistory(broken!);
        expect(result.valid).toBe(false);
        expect(Object.keys(result.anomalies).some((kind) => EXPECTED_KINDS[injection].includes(kind as AnomalyKind)), `${injection}:\n${formatVerdict(result)}`).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
