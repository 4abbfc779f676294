/** The console's pure formatting (console/src/format.ts): how keys, values and settings are shown. */
import { describe, expect, it } from "vitest";
import { duration, hexDump, matchesFilter, parseHeaderLines, preview, rate, ratesPerSecond, retainedSize, showBytes, size } from "../../console/src/format.js";

describe("console formatting", () => {
  it("pretty-prints JSON objects and arrays, keeps scalars and non-JSON as text, and null as null", () => {
    expect(showBytes('{"a":1,"b":[true]}')).toEqual({ kind: "json", text: '{\n  "a": 1,\n  "b": [\n    true\n  ]\n}' });
    expect(showBytes(" [1,2] ").kind).toBe("json");
    expect(showBytes("42")).toEqual({ kind: "text", text: "42" });
    expect(showBytes("{not json")).toEqual({ kind: "text", text: "{not json" });
    expect(showBytes(null)).toEqual({ kind: "null" });
  });

  it("shows bytes that are not UTF-8 (sent as marked base64) as hex", () => {
    const shown = showBytes(Buffer.from([0x00, 0x41, 0xff]).toString("base64"), "base64");
    expect(shown).toEqual({ kind: "hex", text: `00000000  ${"00 41 ff".padEnd(47)}  .A.`, compact: "00 41 ff", bytes: 3 });
    expect(preview(shown)).toBe("00 41 ff");
    expect(hexDump(new Uint8Array(17)).split("\n")).toHaveLength(2);
  });

  it("previews on one line, JSON compacted and long text cut", () => {
    expect(preview(showBytes('{\n  "a": 1\n}'))).toBe('{"a":1}');
    expect(preview(showBytes("x".repeat(100)), 10)).toBe(`${"x".repeat(9)}…`);
    expect(preview(showBytes("a\n\tb"))).toBe("a b");
  });

  it("says retention in the largest whole unit, null as forever", () => {
    expect(duration(604_800_000)).toBe("7 d");
    expect(duration(5_400_000)).toBe("90 min");
    expect(duration(1_500)).toBe("1500 ms");
    expect(duration(null)).toBe("forever");
  });

  it("says sizes in binary units, one decimal above bytes; a topic's size sums its partitions' estimates", () => {
    expect(size(0)).toBe("0 B");
    expect(size(1023)).toBe("1023 B");
    expect(size(1536)).toBe("1.5 KiB");
    expect(size(5 * 1024 ** 3)).toBe("5.0 GiB");
    expect(retainedSize([{ retainedBytesEstimate: 1000 }, { retainedBytesEstimate: 24 }])).toBe(1024);
  });

  it("reads produce-form headers as name=value lines, values may contain =", () => {
    expect(parseHeaderLines("trace=abc\n\n  flag \nq=a=b")).toEqual([
      { key: "trace", value: "abc" },
      { key: "flag", value: "" },
      { key: "q", value: "a=b" },
    ]);
  });

  it("filters records by key, value or header, case-insensitively", () => {
    const record = { key: "Customer-42", value: null, headers: [{ key: "source", value: "WEB" }] };
    expect(matchesFilter(record, "customer")).toBe(true);
    expect(matchesFilter(record, "web")).toBe(true);
    expect(matchesFilter(record, "  ")).toBe(true);
    expect(matchesFilter(record, "mobile")).toBe(false);
  });

  it("turns samples of a growing count into per-second rates, skipping samples without the count", () => {
    expect(ratesPerSecond([{ at: 0, count: 10 }, { at: 2_000, count: 15 }, { at: 4_000, count: 15 }])).toEqual([2.5, 0]);
    expect(ratesPerSecond([{ at: 0, count: undefined }, { at: 1_000, count: 3 }, { at: 5_000, count: 4 }])).toEqual([0.25]);
    // A count that went down (a deleted and re-created topic) is not a negative rate.
    expect(ratesPerSecond([{ at: 0, count: 9 }, { at: 1_000, count: 2 }])).toEqual([0]);
    expect(ratesPerSecond([{ at: 0, count: 1 }])).toEqual([]);
  });

  it("says rates with sensible precision, and a slow trickle as more than 0", () => {
    expect([1234.5, 12.4, 2.25, 0.25, 1 / 60, 0].map(rate)).toEqual(["1235", "12", "2.3", "0.25", "0.017", "0"]);
  });
});
