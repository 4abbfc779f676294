import { describe, it, expect } from "vitest";
import fc from "fast-check";
import {
  murmur2,
  partitionForKey,
  RoundRobinPartitioner,
  toPositive,
} from "../../shared/partitioner.js";

// Every expected value below is copied from a source that got it from Kafka's
// Java client (or from Kafka's own tests). None were computed by this code.

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

describe("murmur2", () => {
  // apache/kafka clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java
  // (testMurmur2, commit f55581dc73953c3509a4702433aeeeddc2970779).
  // Byte lengths: 2, 6, 24, 26, 48, 3 -> tails 2, 2, 0, 2, 0, 3.
  it.each([
    ["21", -973932308],
    ["foobar", -790332482],
    ["a-little-bit-long-string", -985981536],
    ["a-little-bit-longer-string", -1486304829],
    ["lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971],
    ["abc", 479470107],
  ])("matches Kafka UtilsTest.testMurmur2: %j", (input, expected) => {
    expect(murmur2(utf8(input))).toBe(expected);
  });

  // confluentinc/librdkafka src/rdmurmur2.c, unittest_murmur2(),
  // `java_murmur2_results` (int32_t hex literals, hence `| 0`).
  // Byte lengths: 5, 17, 4, 3, 2, 1, 38, 37, 36, 35, 0 -> every tail 0..3.
  it.each([
    ["kafka", 0xd067cf64],
    ["giberish123456789", 0x8f552b0c],
    ["1234", 0x9fc97b14],
    ["234", 0xe7c009ca],
    ["34", 0x873930da],
    ["4", 0x5a4b5ca1],
    ["PreAmbleWillBeRemoved,ThePrePartThatIs", 0x78424f1c],
    ["reAmbleWillBeRemoved,ThePrePartThatIs", 0x4a62b377],
    ["eAmbleWillBeRemoved,ThePrePartThatIs", 0xe0e4e09e],
    ["AmbleWillBeRemoved,ThePrePartThatIs", 0x62b8b43f],
    ["", 0x106e08d9],
  ])("matches librdkafka java_murmur2_results: %j", (input, expected) => {
    expect(murmur2(utf8(input))).toBe(expected | 0);
  });

  it("hashes unaligned subarray views like librdkafka's pointer offsets", () => {
    // Same vectors as above, but librdkafka builds them as `"1234" + 1` etc.,
    // i.e. views at odd offsets into one buffer. Our DataView must honour
    // byteOffset.
    const shortUnaligned = utf8("1234");
    const unaligned = utf8("PreAmbleWillBeRemoved,ThePrePartThatIs");
    expect(murmur2(shortUnaligned.subarray(1))).toBe(0xe7c009ca | 0);
    expect(murmur2(shortUnaligned.subarray(2))).toBe(0x873930da | 0);
    expect(murmur2(shortUnaligned.subarray(3))).toBe(0x5a4b5ca1 | 0);
    expect(murmur2(unaligned.subarray(1))).toBe(0x4a62b377 | 0);
    expect(murmur2(unaligned.subarray(2))).toBe(0xe0e4e09e | 0);
    expect(murmur2(unaligned.subarray(3))).toBe(0x62b8b43f | 0);
  });

  // tulios/kafkajs src/producer/partitioners/defaultJava/murmur2.spec.js
  // ("Generated with src/producer/partitioners/defaultJava/Test.java", a copy
  // of Kafka's Utils.murmur2). '100:48069' is the key from kafkajs issue #357,
  // where the Java client printed murmur 1009543857.
  it.each([
    ["0", 971027396],
    ["1", -1993445489],
    ["128", -326012175],
    ["2187", -1508407203],
    ["16384", -325739742],
    ["78125", -1654490814],
    ["279936", 1462227128],
    ["823543", -2014198330],
    ["2097152", 607668903],
    ["4782969", -1182699775],
    ["10000000", -1830336757],
    ["19487171", -1603849305],
    ["35831808", -857013643],
    ["62748517", -1167431028],
    ["105413504", -381294639],
    ["170859375", -1658323481],
    ["100:48069", 1009543857],
  ])("matches kafkajs defaultJava vectors: %j", (input, expected) => {
    expect(murmur2(utf8(input))).toBe(expected);
  });

  it("always returns a signed 32-bit integer", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const h = murmur2(bytes);
        expect(h | 0).toBe(h);
      }),
    );
  });
});

describe("toPositive", () => {
  it("clears the sign bit like Kafka's Utils.toPositive (n & 0x7fffffff)", () => {
    expect(toPositive(23)).toBe(23);
    // From vuza/murmur2-partitioner test.js (_toPositive test).
    expect(toPositive(-23)).toBe(2147483625);
    expect(toPositive(-1)).toBe(0x7fffffff);
    expect(toPositive(-2147483648)).toBe(0); // Integer.MIN_VALUE, where Math.abs fails
    expect(toPositive(0)).toBe(0);
  });
});

describe("partitionForKey", () => {
  // dpkp/kafka-python test/test_partitioner.py, test_murmur2_java_compatibility:
  // 1000 partitions, "compare with output from Kafka's
  // org.apache.kafka.clients.producer.Partitioner".
  it.each([
    [new Uint8Array([]), 681],
    [utf8("a"), 524],
    [utf8("ab"), 434],
    [utf8("abc"), 107],
    [utf8("123456789"), 566],
    [new Uint8Array([0x00, 0x20]), 742],
  ])("matches kafka-python's Java-derived partitions: %j", (key, expected) => {
    expect(partitionForKey(key, 1000)).toBe(expected);
  });

  // confluentinc/librdkafka tests/0048-partitioner.c, do_test_partitioners(),
  // partitioner "murmur2": expected partition = <hash> % part_cnt with hashes
  // obtained "using tests/java/Murmur2Cli". part_cnt is 17 (7 in quick mode).
  // The key "23456" is `unaligned + 1` of "123456".
  describe.each([17, 7])("librdkafka 0048-partitioner, %i partitions", (n) => {
    it.each([
      ["", 0x106e08d9],
      ["23456", 0x058d780f],
      ["this is another string with more length to it perhaps", 0x4f7703da],
      ["hejsan", 0x5ec19395],
    ])("%j", (key, positiveHash) => {
      expect(partitionForKey(utf8(key), n)).toBe(positiveHash % n);
    });
  });

  // tulios/kafkajs issue #357: Java client put '100:48069' on partition 9 of 12.
  it("matches the Java partition from kafkajs issue #357", () => {
    expect(partitionForKey(utf8("100:48069"), 12)).toBe(9);
  });

  // vuza/murmur2-partitioner test.js, `javaPartitionerPreComputedResults`
  // ("key: partition count: partition number", precomputed with Kafka's Java
  // client; linked from nodefluent/node-sinek issue #40). Includes non-ASCII
  // keys, UTF-8 encoded as Java's getBytes() would on a UTF-8 JVM. Written with
  // escapes so the source file's normalisation cannot change the bytes.
  const javaPrecomputed: Record<string, Record<number, number>> = {
    wu: { 10: 0, 11: 7, 12: 4, 13: 3, 14: 6, 15: 10 },
    defgh: { 10: 8, 11: 4, 12: 6, 13: 1, 14: 12, 15: 3 },
    thing: { 10: 4, 11: 0, 12: 4, 13: 11, 14: 0, 15: 4 },
    "thing\u00e4\u00f6\u00fc\u00c4\u00d6\u00dc": { 10: 2, 11: 1, 12: 10, 13: 12, 14: 12, 15: 7 },
    "\u00e4\u00f6\u00fc\u00c4\u00d6\u00dc": { 10: 2, 11: 3, 12: 8 },
  };
  const precomputedCases = Object.entries(javaPrecomputed).flatMap(([key, byCount]) =>
    Object.entries(byCount).map(([n, p]) => [key, Number(n), p] as const),
  );
  it.each(precomputedCases)("matches Java for %j with %i partitions", (key, n, expected) => {
    expect(partitionForKey(utf8(key), n)).toBe(expected);
  });

  it("is always an integer in [0, n) and deterministic", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 128 }),
        fc.integer({ min: 1, max: 100_000 }),
        (key, n) => {
          const p = partitionForKey(key, n);
          expect(Number.isInteger(p)).toBe(true);
          expect(p).toBeGreaterThanOrEqual(0);
          expect(p).toBeLessThan(n);
          expect(partitionForKey(Uint8Array.from(key), n)).toBe(p);
        },
      ),
    );
  });

  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])(
    "rejects numPartitions = %s with a RangeError",
    (n) => {
      expect(() => partitionForKey(utf8("k"), n)).toThrow(RangeError);
    },
  );
});

describe("RoundRobinPartitioner", () => {
  it("visits every partition in n calls, from any starting point", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.integer({ min: 1, max: 500 }),
        (start, n) => {
          const rr = new RoundRobinPartitioner(() => start);
          const seen = new Set<number>();
          for (let i = 0; i < n; i++) {
            const p = rr.next(n);
            expect(Number.isInteger(p) && p >= 0 && p < n).toBe(true);
            seen.add(p);
          }
          expect(seen.size).toBe(n);
        },
      ),
    );
  });

  it("rotates one step per call", () => {
    const rr = new RoundRobinPartitioner(() => 0);
    expect([rr.next(3), rr.next(3), rr.next(3), rr.next(3)]).toEqual([0, 1, 2, 0]);
  });

  it("starts at a random partition rather than always 0", () => {
    const last = (0x80000000 - 1) / 0x80000000; // largest start the counter can take
    expect(new RoundRobinPartitioner(() => last).next(10)).not.toBe(0);
    const starts = new Set(Array.from({ length: 200 }, () => new RoundRobinPartitioner().next(8)));
    expect(starts.size).toBeGreaterThan(1);
  });

  it("rejects a non-positive partition count", () => {
    expect(() => new RoundRobinPartitioner().next(0)).toThrow(RangeError);
  });
});
