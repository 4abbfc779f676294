/**
 * What every broker operation is given: storage, a clock, and tunables. Tests inject the clock
 * (hole timeouts, retention) and small timeouts; the Lambda runtime builds this from its env.
 */
import { DEFAULT_RETENTION_MS } from "../limits.js";
import type { CompressionCodec } from "../compression.js";
import type { Storage } from "./ports.js";

export type Clock = () => number;

export interface BrokerConfig {
  /**
   * A gap in a partition older than this is a dead writer's reservation and readers fill it with
   * voids (DESIGN.md §1.4); it is also the longest a crashed writer stalls its partition's readers.
   * On Lambda it must exceed the writers' function timeout + DynamoDB request timeout + clock
   * margin (the CDK stack derives and sets it, infra/functions.ts).
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
  /** Push subscriptions may target plain-http webhooks (local runs only; deployed: https only). */
  readonly subscriptionAllowHttp: boolean;
  /**
   * Lambda functions push subscriptions may target: exact ARNs, or prefixes ending in '*'. Empty =
   * no function targets. The deployed dispatcher may invoke exactly these (docs/subscriptions.md).
   */
  readonly subscriptionFunctionAllowList: readonly string[];
  /** A local module path may stand in for a function (`--function ./handler.mjs`; npm start only). */
  readonly subscriptionLocalModules: boolean;
}

/**
 * Without DYNALOG_HOLE_TIMEOUT_MS: local runs (npm start) and tests, where handlers run in-process
 * with no function timeout, so no value can outlast a hung writer. None needs to: a writer whose
 * slot a reader voided fails cleanly and its client retries, so a shorter timeout only costs a
 * retry. 10 s is well above DynamoDB Local's pauses on a busy machine (a second or two), and
 * bounds the stall after a writer crashed mid-produce.
 */
export const LOCAL_HOLE_TIMEOUT_MS = 10_000;

export const DEFAULT_BROKER_CONFIG: BrokerConfig = {
  holeTimeoutMs: LOCAL_HOLE_TIMEOUT_MS,
  topicCacheTtlMs: 5_000,
  longPollIntervalMs: 200,
  maxVoidFillPerRead: 1_000,
  // brotli q5 stores 10 % fewer write units than gzip -6 at batch 100 (0.193 vs 0.215 per ~1 KB
  // event) and 5 % fewer at batch 10, for ~5 µs more CPU per message: the bench's codec table
  // (bench/codec-levels.ts, docs/performance.md "Compression"). Browsers' DecompressionStream cannot
  // decode brotli, so a browser's binary fetch of a brotli topic is decompressed by the broker.
  defaultCompression: "brotli",
  defaultRetentionMs: DEFAULT_RETENTION_MS,
  subscriptionAllowHttp: false,
  subscriptionFunctionAllowList: [],
  subscriptionLocalModules: false,
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
  /**
   * Checks a webhook URL's host before a subscription naming it is created (deployed: public
   * addresses only, shared/runtime/webhook-guard.ts); throws SUBSCRIPTION_TARGET_NOT_ALLOWED.
   */
  readonly webhookCheck?: (url: string) => Promise<void>;
}
