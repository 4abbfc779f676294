/**
 * What every broker operation is given: storage, a clock, and tunables. Tests inject the clock
 * (hole timeouts, retention) and small timeouts; the Lambda runtime builds this from its env.
 */
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
}

export const DEFAULT_BROKER_CONFIG: BrokerConfig = {
  holeTimeoutMs: 60_000,
  topicCacheTtlMs: 5_000,
  longPollIntervalMs: 200,
  maxVoidFillPerRead: 1_000,
  defaultCompression: "gzip",
};

export interface BrokerContext {
  readonly storage: Storage;
  readonly clock: Clock;
  readonly config: BrokerConfig;
  /** Waits between long-poll checks; injectable so a test can count or shorten them. */
  readonly sleep: (ms: number) => Promise<void>;
  readonly random: () => number;
}
