// Partition selection that matches Kafka's Java producer, so a key lands on
// the same partition whether it was produced through Dynalog or through a
// stock Kafka client. Mixed fleets, co-partitioned joins and compacted topics
// all rely on that.

const SEED = 0x9747b28c;
const M = 0x5bd1e995;
const R = 24;

/**
 * Kafka's `Utils.murmur2(byte[])`, returning the same signed 32-bit int.
 *
 * Java's int arithmetic wraps silently; in JS we get that with `Math.imul`
 * (32-bit multiply) and `^`, which already truncate to int32. `>>>` mirrors
 * Java's unsigned shift.
 */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = SEED ^ length;

  // Whole 4-byte words, little-endian. A DataView honours the view's
  // byteOffset, so subarrays hash the same as copies.
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const tail = length & 3;
  const wordsEnd = length - tail;
  for (let i = 0; i < wordsEnd; i += 4) {
    let k = view.getInt32(i, true);
    k = Math.imul(k, M);
    k ^= k >>> R;
    k = Math.imul(k, M);
    h = Math.imul(h, M);
    h ^= k;
  }

  // The last 1-3 bytes. Java uses a fall-through switch; ifs say the same
  // thing without tripping noFallthroughCasesInSwitch.
  if (tail >= 3) h ^= data[wordsEnd + 2]! << 16;
  if (tail >= 2) h ^= data[wordsEnd + 1]! << 8;
  if (tail >= 1) {
    h ^= data[wordsEnd]!;
    h = Math.imul(h, M);
  }

  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/**
 * Kafka's `Utils.toPositive`: clear the sign bit. Not `Math.abs`, which
 * differs for negative hashes and cannot fix Integer.MIN_VALUE.
 */
export function toPositive(n: number): number {
  return n & 0x7fffffff;
}

function assertPartitionCount(numPartitions: number): void {
  if (!Number.isSafeInteger(numPartitions) || numPartitions < 1) {
    throw new RangeError(`numPartitions must be a positive integer, got ${numPartitions}`);
  }
}

/**
 * Kafka's `BuiltInPartitioner.partitionForKey`, the Java client's default for
 * keyed records. An empty key is still a key and is hashed; only a null key
 * goes to {@link RoundRobinPartitioner}.
 */
export function partitionForKey(key: Uint8Array, numPartitions: number): number {
  assertPartitionCount(numPartitions);
  return toPositive(murmur2(key)) % numPartitions;
}

/**
 * Chooses the partition for null-key records.
 *
 * The broker calls `next` once per produce request and puts every null-key
 * record of that request on the returned partition: sticky per request, like
 * the Java client's sticky partitioner (KIP-480), so a request appends one
 * batch to one partition instead of scattering tiny writes. Successive
 * requests rotate, so load still spreads across partitions.
 *
 * The rotation starts at a random point: every cold Lambda instance gets a
 * fresh partitioner, and starting them all at 0 would pile their first
 * requests onto partition 0.
 */
export class RoundRobinPartitioner {
  private counter: number;

  /** `random` is injectable so tests can fix the starting point. */
  constructor(random: () => number = Math.random) {
    // A large random counter, so `counter % n` is a random start for any n.
    this.counter = Math.floor(random() * 0x80000000);
  }

  next(numPartitions: number): number {
    assertPartitionCount(numPartitions);
    const partition = this.counter % numPartitions;
    this.counter += 1; // a safe integer; 2^53 requests will not happen
    return partition;
  }
}
