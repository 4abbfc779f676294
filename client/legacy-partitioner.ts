/**
 * KafkaJS's `Partitioners.LegacyPartitioner` (its default before 2.0), reproduced for programs
 * that must keep the partitions their keys landed on. It is NOT Kafka's partitioner:
 *
 * - keys: KafkaJS 1.x hashed with a murmur2 written in plain JS numbers. Its multiplications
 *   are double-precision (products above 2^53 lose their low bits before the bitwise operators
 *   truncate them to 32 bits), and its word loop runs ceil(length / 4) times, hashing a last,
 *   zero-padded partial word before the tail bytes are mixed in as usual. The hash below keeps
 *   exactly that arithmetic — the operators are chosen for it, not for murmur2 — and is checked
 *   against KafkaJS's published hash values (test/client/legacy-partitioner.test.ts).
 * - null keys: round-robin per topic, message by message, from a random start (not sticky).
 *
 * Partition = toPositive(hash) % partitionCount, as in KafkaJS.
 */
import { toPositive } from "../shared/partitioner.js";
import { keyBytes, type Message } from "./codec.js";

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/** KafkaJS 1.x's murmur2 of `data` (a signed 32-bit int): see the file comment for how it differs from Kafka's. */
export function legacyMurmur2(data: Uint8Array): number {
  const length = data.length;
  const byte = (i: number): number => (i < length ? data[i]! : 0); // past the end: 0, as the 1.x loop read it
  let h: number = SEED ^ length;
  const words = Math.ceil(length / 4);
  for (let w = 0; w < words; w++) {
    const at = w * 4;
    // A sum, not an OR: the top byte's shift is a signed int32, so the word may be negative.
    let k = byte(at) + (byte(at + 1) << 8) + (byte(at + 2) << 16) + (byte(at + 3) << 24);
    k = k * M; // double precision, deliberately
    k = k ^ (k >>> 24);
    k = k * M;
    h = h * M;
    h = h ^ k;
  }
  const tailStart = length & ~3;
  const tail = length % 4;
  if (tail >= 3) h = h ^ (data[tailStart + 2]! << 16);
  if (tail >= 2) h = h ^ (data[tailStart + 1]! << 8);
  if (tail >= 1) {
    h = h ^ data[tailStart]!;
    h = h * M;
  }
  h = h ^ (h >>> 13);
  h = h * M;
  h = h ^ (h >>> 15);
  return h | 0;
}

/** Structurally KafkaJS's (and producer-types.ts's) partitioner factory; declared here to keep imports one-way. */
export const legacyPartitioner = (): ((args: { readonly topic: string; readonly partitionMetadata: readonly { readonly partitionId: number }[]; readonly message: Message }) => number) => {
  const counters = new Map<string, number>();
  return ({ topic, partitionMetadata, message }) => {
    if (message.partition !== undefined && message.partition !== null) return message.partition;
    if (message.key !== undefined && message.key !== null) return toPositive(legacyMurmur2(keyBytes(message.key))) % partitionMetadata.length;
    const next = (counters.get(topic) ?? Math.floor(Math.random() * 2 ** 32)) + 1;
    counters.set(topic, next);
    return partitionMetadata[toPositive(next) % partitionMetadata.length]!.partitionId;
  };
};
