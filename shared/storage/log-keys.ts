/** Key shared by a partition's log items, counter item and producer-state items. */
import type { PartitionRef } from "../core/ports.js";

export function partitionKey(ref: PartitionRef): string {
  return `${ref.topicId}#${ref.partition}`;
}
