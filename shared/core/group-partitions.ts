/**
 * Partition keys and small set helpers shared by the consumer-group modules (assignors, membership,
 * heartbeat, the service). A partition of a topic is the key "topic#partition" while a decision
 * works with sets; `fromKeys` / `toPartitionList` turn sets back into the stored and protocol shapes.
 */
import type { TopicPartitions } from "./ports.js";

export interface TopicPartitionList {
  readonly topic: string;
  readonly partitions: readonly number[];
}

export const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
export const partitionKey = (topic: string, partition: number) => `${topic}#${partition}`;
export function splitKey(key: string): [string, number] {
  const at = key.lastIndexOf("#");
  return [key.slice(0, at), Number(key.slice(at + 1))];
}

export function keySet(assignment: TopicPartitions | undefined): Set<string> {
  const keys = new Set<string>();
  for (const [topic, partitions] of Object.entries(assignment ?? {})) for (const p of partitions) keys.add(partitionKey(topic, p));
  return keys;
}

export function fromKeys(keys: Iterable<string>): Record<string, number[]> {
  const assignment: Record<string, number[]> = {};
  for (const key of keys) {
    const [topic, partition] = splitKey(key);
    (assignment[topic] ??= []).push(partition);
  }
  const sorted: Record<string, number[]> = {};
  for (const topic of Object.keys(assignment).sort(byString)) sorted[topic] = assignment[topic]!.sort((a, b) => a - b);
  return sorted;
}

export function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false;
  for (const k of a) if (!b.has(k)) return false;
  return true;
}

export function toPartitionList(assignment: TopicPartitions | undefined): TopicPartitionList[] {
  return Object.keys(assignment ?? {})
    .sort(byString)
    .filter((topic) => assignment![topic]!.length > 0)
    .map((topic) => ({ topic, partitions: [...assignment![topic]!].sort((a, b) => a - b) }));
}
