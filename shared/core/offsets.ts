/** Validation of consumer-group offset commits, shared by plain and transactional commits. */
import { DynalogError } from "../errors.js";
import { GROUP_ID_PATTERN, MAX_OFFSET, MAX_OFFSET_METADATA_BYTES, MAX_OFFSETS_PER_COMMIT } from "../limits.js";
import type { OffsetCommit } from "./ports.js";
import { requirePartition, type TopicCatalog } from "./topics.js";

export interface OffsetCommitInput {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly metadata?: string;
}

/** A consumer's lag on a partition: records past its committed offset (never negative: a commit may run ahead of a stale high watermark). */
export function partitionLag(highWatermark: number, committedOffset: number): number {
  return Math.max(0, highWatermark - committedOffset);
}

export function validateGroupId(group: string): void {
  if (!GROUP_ID_PATTERN.test(group)) {
    throw new DynalogError("INVALID_GROUP_ID", `Group id must be 1-255 characters of a-z, A-Z, 0-9, '.', '_', '-', ':' and '@'`, {
      details: { group: group.slice(0, 260) },
    });
  }
}

/** Checks a commit completely (group, topics, partitions, offsets, metadata) before any write. */
export async function validateOffsetCommits(topics: TopicCatalog, group: string, offsets: readonly OffsetCommitInput[]): Promise<OffsetCommit[]> {
  validateGroupId(group);
  if (offsets.length === 0 || offsets.length > MAX_OFFSETS_PER_COMMIT) {
    throw new DynalogError("INVALID_REQUEST", `An offset commit carries 1 to ${MAX_OFFSETS_PER_COMMIT} partitions, got ${offsets.length}`);
  }
  const seen = new Set<string>();
  const commits: OffsetCommit[] = [];
  for (const o of offsets) {
    const key = `${o.topic}#${o.partition}`;
    if (seen.has(key)) throw new DynalogError("INVALID_REQUEST", `${o.topic}-${o.partition} appears twice in one commit`);
    seen.add(key);
    const topic = await topics.require(o.topic);
    requirePartition(topic, o.partition);
    if (!Number.isInteger(o.offset) || o.offset < 0 || o.offset > MAX_OFFSET) {
      throw new DynalogError("INVALID_COMMIT_OFFSET", `Committed offset for ${o.topic}-${o.partition} must be an integer from 0 to ${MAX_OFFSET}`, {
        details: { topic: o.topic, partition: o.partition },
      });
    }
    const metadata = o.metadata ?? "";
    if (Buffer.byteLength(metadata, "utf8") > MAX_OFFSET_METADATA_BYTES) {
      throw new DynalogError("OFFSET_METADATA_TOO_LARGE", `Offset metadata for ${o.topic}-${o.partition} exceeds ${MAX_OFFSET_METADATA_BYTES} bytes`, {
        details: { topic: o.topic, partition: o.partition, limit: MAX_OFFSET_METADATA_BYTES },
      });
    }
    commits.push({ topic: o.topic, topicId: topic.topicId, partition: o.partition, offset: o.offset, metadata });
  }
  return commits;
}
