/**
 * What the broker core needs from storage. The core decides; the storage adapter
 * (shared/storage/) is the only code that knows DynamoDB item layouts and builds requests.
 *
 * One port per area in ports/ (partition-items.ts holds what several areas share); this module
 * assembles them into Storage and re-exports them, so the core and the adapter import one place.
 */
import type { ConsumerInstanceStore } from "./consumer-instances.js";
import type { CompactionStore } from "./ports/compaction.js";
import type { GroupStore } from "./ports/groups.js";
import type { HistoryStore } from "./ports/history.js";
import type { LogStore } from "./ports/log.js";
import type { OffsetStore } from "./ports/offsets.js";
import type { ProducerStore } from "./ports/producers.js";
import type { TopicStore } from "./ports/topics.js";
import type { StagedTransactionStore, TransactionStore } from "./ports/transactions.js";
import type { SubscriptionStore } from "./subscription-model.js";

export type * from "./ports/compaction.js";
export type * from "./ports/groups.js";
export type * from "./ports/history.js";
export type * from "./ports/log.js";
export * from "./ports/offsets.js";
export type * from "./ports/partition-items.js";
export type * from "./ports/producers.js";
export type * from "./ports/topics.js";
export type * from "./ports/transactions.js";

export interface Storage {
  readonly topics: TopicStore;
  readonly log: LogStore;
  readonly compaction: CompactionStore;
  readonly producers: ProducerStore;
  readonly offsets: OffsetStore;
  readonly transactions: TransactionStore;
  /** Large transactions' staged batches and decision records (docs/transactions.md). */
  readonly staged: StagedTransactionStore;
  readonly groups: GroupStore;
  /** Upstash-dialect consumer instances (consumer-instances.ts). */
  readonly consumerInstances: ConsumerInstanceStore;
  /** Push subscriptions and their per-partition dispatch state (subscription-model.ts). */
  readonly subscriptions: SubscriptionStore;
  /** Per-minute samples of topics and groups for the console's charts (history.ts). */
  readonly history: HistoryStore;
}
