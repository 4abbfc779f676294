/**
 * What every broker operation is given: storage, a clock, and tunables. Tests inject the clock
 * (hole timeouts, retention) and small timeouts; the Lambda runtime builds this from its env.
 */
import { DEFAULT_RETENTION_MS } from "../limits.js";
import type { CompressionCodec } from "../record-batch.js";
import type { Storage } from "./ports.js";

export type Clock = () => number;

export interface BrokerConfig {
  /**
   * A gap in a partition older than this is a dead writer's reservation and readers fill it with
   * voids. Must exceed the produce function's timeout plus SDK retries (DESIGN.md §1.4).
   */
  readonly holeTimeoutMs: number;
  /** How long a warm instance trusts cached topic metadata. */
  readonly topicCacheTtlMs: number;
  /** Long-poll fetches re-check the partition heads this often. */
  readonly longPollIntervalMs: number;
  /** Most offsets one read fills with voids before answering (bounds the work of one request). */
  readonly maxVoidFillPerRead: number;
  /** Codec for topics created without one. */
  readonly defaultCompression: CompressionCodec;
  /** Retention of topics created without one (null = keep forever). */
  readonly defaultRetentionMs: number | null;
}

export const DEFAULT_BROKER_CONFIG: BrokerConfig = {
  holeTimeoutMs: 60_000,
  topicCacheTtlMs: 5_000,
  longPollIntervalMs: 200,
  maxVoidFillPerRead: 1_000,
  defaultCompression: "gzip",
  defaultRetentionMs: DEFAULT_RETENTION_MS,
};

/**
 * Optional hooks for what only the core sees, so the runtime can turn them into metrics and logs
 * without the core logging anything itself. Implementations must be cheap and must not throw.
 */
export interface BrokerObserver {
  /** A reader filled `count` offsets of a dead writer's gap with voids (DESIGN.md §1.4). */
  voidsFilled?(event: { readonly topic: string; readonly partition: number; readonly count: number }): void;
  /** Records were appended to a partition (not called for duplicates). */
  recordsAppended?(event: { readonly topic: string; readonly partition: number; readonly count: number }): void;
  /** A fetch answered a partition; `lag` = high watermark − next offset (how far the consumer is behind). */
  partitionFetched?(event: { readonly topic: string; readonly partition: number; readonly records: number; readonly lag: number }): void;
}

export interface BrokerContext {
  readonly storage: Storage;
  readonly observer?: BrokerObserver;
  readonly clock: Clock;
  readonly config: BrokerConfig;
  /** Waits between long-poll checks; injectable so a test can count or shorten them. */
  readonly sleep: (ms: number) => Promise<void>;
  readonly random: () => number;
}
