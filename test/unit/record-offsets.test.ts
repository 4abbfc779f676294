/** The `od` attribute of compacted batch items (shared/storage/record-offsets.ts). */
import { describe, expect, it } from "vitest";
import { decodeRecordOffsets, encodeRecordOffsets } from "../../shared/storage/record-offsets.js";

describe("record offsets of a compacted batch", () => {
  it("round-trips ascending offsets, gaps of any size, from any base", () => {
    for (const [base, count, offsets] of [
      [0, 1, [0]],
      [0, 100, [3, 4, 99]],
      [1_000, 500, [1_127, 1_128, 1_255, 1_499]],
      [2 ** 40, 2 ** 20, [2 ** 40 + 1, 2 ** 40 + 2 ** 19, 2 ** 40 + 2 ** 20 - 1]],
      [7, 3, []],
    ] as const) {
      const encoded = encodeRecordOffsets(base, offsets);
      expect(decodeRecordOffsets(base, count, encoded)).toEqual(offsets);
    }
  });

  it("costs one byte per record while gaps stay under 128", () => {
    expect(encodeRecordOffsets(10, [10, 11, 20, 137])).toHaveLength(4);
    expect(encodeRecordOffsets(0, [128])).toHaveLength(2);
  });

  it("refuses descending offsets when encoding, and corrupt or out-of-range attributes when decoding", () => {
    expect(() => encodeRecordOffsets(10, [12, 11])).toThrow(RangeError);
    expect(() => encodeRecordOffsets(10, [9])).toThrow(RangeError);
    expect(() => decodeRecordOffsets(0, 10, Uint8Array.from([0x80]))).toThrow(/Corrupt record offsets/);
    expect(() => decodeRecordOffsets(0, 10, Uint8Array.from([10]))).toThrow(/Corrupt record offsets/);
  });
});
