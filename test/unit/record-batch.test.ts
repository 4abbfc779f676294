import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { COMPRESSION_CODECS, compressBlob, decompressBlob, type CompressionCodec } from "../../shared/compression.js";
import { decodeRecordBatch } from "../../shared/record-batch-decode.js";
import { CorruptRecordBatchError, batchHeaderSize, encodeRecordBatch, encodedRecordSize, type BatchRecord } from "../../shared/record-batch.js";

const MAX = Number.MAX_SAFE_INTEGER;
const MIN = Number.MIN_SAFE_INTEGER;

// ---------------------------------------------------------------------------
// Arbitraries
// ---------------------------------------------------------------------------

/** Null, empty, small binary, and occasionally large enough for multi-byte lengths. */
const bytesArb: fc.Arbitrary<Uint8Array | null> = fc.oneof(
  { weight: 2, arbitrary: fc.constant(null) },
  { weight: 2, arbitrary: fc.constant(new Uint8Array(0)) },
  { weight: 6, arbitrary: fc.uint8Array({ maxLength: 80 }) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 100, maxLength: 20_000 }) },
);

const headerKeyArb: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom("", "content-type", "trace-id", "é", "🚀", "\uFEFFbom", "日本語"), // small pool => duplicates
  fc.string({ unit: "binary", maxLength: 20 }), // any code point, well-formed UTF-16
  fc.string({ maxLength: 100 }),
);

const timestampArb: fc.Arbitrary<number> = fc.oneof(
  fc.integer({ min: 1_700_000_000_000, max: 1_700_000_100_000 }),
  fc.integer({ min: -1000, max: 1000 }),
  fc.integer(),
  fc.maxSafeInteger(),
  fc.constantFrom(0, -1, MAX, MIN, 2 ** 31, -(2 ** 31), 2 ** 31 - 1, 2 ** 32, 2 ** 47, 2 ** 52, -(2 ** 52)),
);

const recordArb: fc.Arbitrary<BatchRecord> = fc.record({
  timestamp: timestampArb,
  key: bytesArb,
  value: bytesArb,
  headers: fc.array(fc.record({ key: headerKeyArb, value: bytesArb }), { maxLength: 4 }),
});

const batchArb = fc.array(recordArb, { maxLength: 12 });

/** Small batches for O(n^2) truncation checks. */
const smallBytesArb = fc.oneof(fc.constant(null), fc.uint8Array({ maxLength: 12 }));
const smallBatchArb = fc.array(
  fc.record({
    timestamp: timestampArb,
    key: smallBytesArb,
    value: smallBytesArb,
    headers: fc.array(fc.record({ key: headerKeyArb, value: smallBytesArb }), { maxLength: 2 }),
  }),
  { maxLength: 4 },
);

/** Normalises views (Buffer subarrays) to plain Uint8Array copies for comparison. */
function plain(records: readonly BatchRecord[]): BatchRecord[] {
  const copy = (b: Uint8Array | null) => (b === null ? null : Uint8Array.from(b));
  return records.map((r) => ({
    timestamp: r.timestamp,
    key: copy(r.key),
    value: copy(r.value),
    headers: r.headers.map((h) => ({ key: h.key, value: copy(h.value) })),
  }));
}

function expectCorrupt(fn: () => unknown): void {
  expect(fn).toThrow(CorruptRecordBatchError);
}

// ---------------------------------------------------------------------------
// Encoding / decoding
// ---------------------------------------------------------------------------

describe("encodeRecordBatch / decodeRecordBatch", () => {
  it.each(COMPRESSION_CODECS)("round-trips arbitrary records through codec %s", (codec) => {
    fc.assert(
      fc.property(batchArb, (records) => {
        const raw = encodeRecordBatch(records);
        const stored = compressBlob(codec, raw);
        const back = decodeRecordBatch(decompressBlob(codec, stored, raw.length));
        expect(plain(back)).toEqual(plain(records));
      }),
      { numRuns: 60 },
    );
  });

  it("header size + sum of record sizes equals the encoded length", () => {
    fc.assert(
      fc.property(batchArb, (records) => {
        const base = records[0]?.timestamp ?? 0;
        let expected = batchHeaderSize(records.length, base);
        for (const r of records) expected += encodedRecordSize(r, base);
        expect(encodeRecordBatch(records).length).toBe(expected);
      }),
      { numRuns: 200 },
    );
  });

  it("round-trips timestamps at every varint width boundary, including non-safe deltas", () => {
    const values = new Set<number>([0, MAX, MIN]);
    for (let k = 0; k <= 53; k++) {
      for (const v of [2 ** k - 1, 2 ** k, 2 ** k + 1]) {
        if (Number.isSafeInteger(v)) values.add(v);
        if (Number.isSafeInteger(-v)) values.add(-v);
      }
    }
    const ts = [...values];
    const rec = (timestamp: number): BatchRecord => ({ timestamp, key: null, value: null, headers: [] });
    // Each value as base, and each value after MAX/MIN/0 bases (deltas up to ±(2^54 - 2)).
    const batches: BatchRecord[][] = [ts.map(rec), [rec(MIN), ...ts.map(rec)], [rec(MAX), ...ts.map(rec)], [rec(0), ...ts.map(rec)]];
    for (const batch of batches) {
      const blob = encodeRecordBatch(batch);
      expect(decodeRecordBatch(blob).map((r) => r.timestamp)).toEqual(batch.map((r) => r.timestamp));
      const base = batch[0]!.timestamp;
      expect(blob.length).toBe(batchHeaderSize(batch.length, base) + batch.reduce((s, r) => s + encodedRecordSize(r, base), 0));
    }
  });

  it("encodes small records compactly and the empty batch as 3 bytes", () => {
    expect(Array.from(encodeRecordBatch([]))).toEqual([1, 0, 0]);
    const blob = encodeRecordBatch([{ timestamp: 5, key: null, value: new Uint8Array([7]), headers: [{ key: "a", value: null }] }]);
    // version, count, base=5, delta 0, key null, value len 1 + byte, 1 header, key "a", value null
    expect(Array.from(blob)).toEqual([1, 1, 10, 0, 1, 2, 7, 1, 1, 0x61, 1]);
  });

  it("returns views into the input blob (zero copy)", () => {
    const blob = encodeRecordBatch([{ timestamp: 1, key: new Uint8Array([1, 2]), value: new Uint8Array([3]), headers: [] }]);
    const [rec] = decodeRecordBatch(blob);
    expect(rec!.key!.buffer).toBe(blob.buffer);
    expect(rec!.value!.buffer).toBe(blob.buffer);
  });

  it("does not hand out a pooled buffer", () => {
    const blob = encodeRecordBatch([{ timestamp: 1, key: null, value: new Uint8Array([3]), headers: [] }]);
    expect(blob.byteOffset).toBe(0);
    expect(blob.buffer.byteLength).toBe(blob.length);
  });

  it("replaces lone surrogates in header keys with U+FFFD, consistently with the size functions", () => {
    const records: BatchRecord[] = [{ timestamp: 0, key: null, value: null, headers: [{ key: "a\uD800b", value: null }] }];
    const blob = encodeRecordBatch(records);
    expect(blob.length).toBe(batchHeaderSize(1, 0) + encodedRecordSize(records[0]!, 0));
    expect(decodeRecordBatch(blob)[0]!.headers[0]!.key).toBe("a\uFFFDb");
  });

  it("rejects non-safe-integer timestamps when encoding", () => {
    for (const timestamp of [1.5, Number.NaN, Infinity, MAX + 1]) {
      expect(() => encodeRecordBatch([{ timestamp, key: null, value: null, headers: [] }])).toThrow(RangeError);
    }
  });
});

describe("decodeRecordBatch rejects malformed input", () => {
  it("throws on every truncation of a valid blob", () => {
    fc.assert(
      fc.property(smallBatchArb, (records) => {
        const blob = encodeRecordBatch(records);
        for (let i = 0; i < blob.length; i++) expectCorrupt(() => decodeRecordBatch(blob.subarray(0, i)));
      }),
      { numRuns: 150 },
    );
  });

  it("throws on appended trailing garbage", () => {
    fc.assert(
      fc.property(batchArb, fc.uint8Array({ minLength: 1, maxLength: 8 }), (records, garbage) => {
        const blob = encodeRecordBatch(records);
        const extended = new Uint8Array(blob.length + garbage.length);
        extended.set(blob);
        extended.set(garbage, blob.length);
        expectCorrupt(() => decodeRecordBatch(extended));
      }),
      { numRuns: 100 },
    );
  });

  it("mutated blobs either throw CorruptRecordBatchError or decode canonically", () => {
    fc.assert(
      fc.property(smallBatchArb, fc.nat(), fc.integer({ min: 1, max: 255 }), (records, at, xor) => {
        const blob = Uint8Array.from(encodeRecordBatch(records));
        blob[at % blob.length]! ^= xor;
        let decoded: BatchRecord[];
        try {
          decoded = decodeRecordBatch(blob);
        } catch (err) {
          expect(err).toBeInstanceOf(CorruptRecordBatchError);
          return;
        }
        // Strict decoding means anything accepted re-encodes to the same bytes.
        expect(Array.from(encodeRecordBatch(decoded))).toEqual(Array.from(blob));
      }),
      { numRuns: 500 },
    );
  });

  it("random bytes never throw anything but CorruptRecordBatchError", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const blob = Uint8Array.from(bytes);
        if (blob.length > 0) blob[0] = 1; // get past the version check
        try {
          const decoded = decodeRecordBatch(blob);
          expect(Array.from(encodeRecordBatch(decoded))).toEqual(Array.from(blob));
        } catch (err) {
          expect(err).toBeInstanceOf(CorruptRecordBatchError);
        }
      }),
      { numRuns: 500 },
    );
  });

  const cases: [string, number[]][] = [
    ["empty input", []],
    ["wrong version", [2, 0, 0]],
    ["version 0", [0, 0, 0]],
    ["overlong count varint", [1, 0x80, 0x00, 0]],
    ["overlong zigzag varint", [1, 0, 0x80, 0x00]],
    ["varint longer than 8 bytes", [1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0]],
    ["count > records present", [1, 2, 0, 0, 1, 1, 0]],
    ["count < records present", [1, 0, 0, 0, 1, 1, 0]],
    ["empty batch with non-zero base", [1, 0, 2]],
    ["first delta non-zero", [1, 1, 0, 2, 1, 1, 0]],
    ["key length -2", [1, 1, 0, 0, 3, 1, 0]],
    ["key longer than blob", [1, 1, 0, 0, 20, 1, 0]],
    ["invalid UTF-8 header key", [1, 1, 0, 0, 1, 1, 1, 1, 0xff, 1]],
    ["truncated UTF-8 header key", [1, 1, 0, 0, 1, 1, 1, 2, 0xc3, 1]],
    ["UTF-8 encoded surrogate in header key", [1, 1, 0, 0, 1, 1, 1, 3, 0xed, 0xa0, 0x80, 1]],
    ["overlong UTF-8 in header key", [1, 1, 0, 0, 1, 1, 1, 2, 0xc0, 0xaf, 1]],
    ["base timestamp beyond safe range", [1, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]],
    ["huge record count", [1, 0xff, 0xff, 0xff, 0xff, 0x0f, 0]],
  ];
  it.each(cases)("throws on %s", (_name, bytes) => {
    expectCorrupt(() => decodeRecordBatch(Uint8Array.from(bytes)));
  });

  it("throws when a delta pushes the timestamp beyond the safe range", () => {
    const blob = Uint8Array.from(encodeRecordBatch([
      { timestamp: MAX, key: null, value: null, headers: [] },
      { timestamp: MAX, key: null, value: null, headers: [] },
    ]));
    // Second record's delta byte: header is [1, 2, 8 bytes base], record 0 is 4 bytes.
    const deltaAt = 1 + 1 + 8 + 4;
    expect(blob[deltaAt]).toBe(0);
    blob[deltaAt] = 2; // delta +1 => MAX + 1
    expectCorrupt(() => decodeRecordBatch(blob));
  });
});

// ---------------------------------------------------------------------------
// Compression
// ---------------------------------------------------------------------------

function jsonEvents(n: number): BatchRecord[] {
  const enc = new TextEncoder();
  const records: BatchRecord[] = [];
  for (let i = 0; i < n; i++) {
    const event = {
      eventId: `evt-${i.toString().padStart(8, "0")}`,
      type: i % 3 === 0 ? "order.created" : "order.updated",
      occurredAt: new Date(1_700_000_000_000 + i * 1000).toISOString(),
      customer: { id: `cust-${i % 50}`, name: "Example Customer", email: `customer${i % 50}@example.com`, tier: "gold" },
      items: Array.from({ length: 7 }, (_, j) => ({ sku: `SKU-${(i + j) % 100}`, quantity: (j % 3) + 1, priceCents: 1999 + j * 100 })),
      shipping: { street: "123 Main Street", city: "Springfield", postalCode: "12345", country: "US" },
      notes: "Please leave the package at the front door if nobody answers.",
    };
    records.push({
      timestamp: 1_700_000_000_000 + i,
      key: enc.encode(`cust-${i % 50}`),
      value: enc.encode(JSON.stringify(event)),
      headers: [{ key: "content-type", value: enc.encode("application/json") }],
    });
  }
  return records;
}

describe("compressBlob / decompressBlob", () => {
  const raw = encodeRecordBatch(jsonEvents(200));

  it("events are ~1 KB", () => {
    expect(raw.length / 200).toBeGreaterThan(700);
    expect(raw.length / 200).toBeLessThan(1300);
  });

  it.each(["gzip", "brotli"] as const)("%s shrinks repetitive JSON substantially", (codec) => {
    const stored = compressBlob(codec, raw);
    expect(stored.length).toBeLessThan(raw.length / 4);
    expect(Buffer.compare(decompressBlob(codec, stored, raw.length), raw)).toBe(0);
  });

  it("none is the identity", () => {
    expect(compressBlob("none", raw)).toBe(raw);
    expect(decompressBlob("none", raw, raw.length)).toBe(raw);
  });

  it.each(COMPRESSION_CODECS)("%s throws CorruptRecordBatchError when output would exceed maxOutputBytes", (codec) => {
    const stored = compressBlob(codec, raw);
    expectCorrupt(() => decompressBlob(codec, stored, raw.length - 1));
    expectCorrupt(() => decompressBlob(codec, stored, 1));
    expectCorrupt(() => decompressBlob(codec, stored, 0));
    expect(decompressBlob(codec, stored, raw.length).length).toBe(raw.length);
  });

  it.each(COMPRESSION_CODECS)("%s handles an empty input and a zero limit", (codec) => {
    const stored = compressBlob(codec, new Uint8Array(0));
    expect(decompressBlob(codec, stored, 0).length).toBe(0);
  });

  it("a decompression bomb is stopped at the limit", () => {
    const bomb = compressBlob("gzip", new Uint8Array(20_000_000));
    expect(bomb.length).toBeLessThan(100_000);
    expectCorrupt(() => decompressBlob("gzip", bomb, 400_000));
  });

  it.each(["gzip", "brotli"] as const)("%s rejects garbage and truncated data", (codec) => {
    const stored = compressBlob(codec, raw);
    expectCorrupt(() => decompressBlob(codec, Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]), 1_000_000));
    expectCorrupt(() => decompressBlob(codec, stored.subarray(0, stored.length >> 1), 1_000_000));
  });

  it("gzip detects a flipped byte via its CRC", () => {
    const stored = Uint8Array.from(compressBlob("gzip", raw));
    stored[stored.length - 6]! ^= 0xff; // inside the CRC32 trailer
    expectCorrupt(() => decompressBlob("gzip", stored, 1_000_000));
  });

  it("unknown codecs are rejected", () => {
    expectCorrupt(() => decompressBlob("zstd" as CompressionCodec, raw, 1_000_000));
    expect(() => compressBlob("zstd" as CompressionCodec, raw)).toThrow(RangeError);
  });

  it("CorruptRecordBatchError has the right name", () => {
    expect(new CorruptRecordBatchError("x").name).toBe("CorruptRecordBatchError");
    expect(new CorruptRecordBatchError("x")).toBeInstanceOf(Error);
  });
});
