/**
 * Retries with exponential backoff and jitter (KafkaJS's `retry` options), and the one rule of what
 * may be retried at all:
 *
 * - a definite, retriable refusal (nothing was written, e.g. STORAGE_THROTTLED): always safe;
 * - an indefinite outcome (a lost response, a timeout, STORAGE_ERROR): only on idempotent paths —
 *   reads, offset commits, and writes that carry the same producer id/epoch/sequence or the same
 *   transactional id/epoch/transaction sequence, so the broker deduplicates the retry;
 * - anything else (a definite refusal that is not retriable): never.
 */
import { DynalogError } from "./errors.js";

export interface RetryOptions {
  /** Give up once this much time has been spent retrying (ms). Default 30,000. */
  readonly maxRetryTime?: number;
  /** The first backoff (ms). Default 300. */
  readonly initialRetryTime?: number;
  /** Jitter: each backoff is randomized by ± this fraction. Default 0.2. */
  readonly factor?: number;
  /** Each backoff is this many times the previous one. Default 2. */
  readonly multiplier?: number;
  /** Retries after the first attempt. Default 5. */
  readonly retries?: number;
}

export type ResolvedRetry = Required<RetryOptions>;

export const DEFAULT_RETRY: ResolvedRetry = { maxRetryTime: 30_000, initialRetryTime: 300, factor: 0.2, multiplier: 2, retries: 5 };

export function resolveRetry(...options: (RetryOptions | undefined)[]): ResolvedRetry {
  return Object.assign({}, DEFAULT_RETRY, ...options.map((o) => Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined))));
}

/** The backoff before retry number `attempt` (0 = the first retry), with jitter. */
export function backoff(retry: ResolvedRetry, attempt: number, random: () => number = Math.random): number {
  const base = Math.min(retry.maxRetryTime, retry.initialRetryTime * retry.multiplier ** attempt);
  const jitter = 1 + retry.factor * (2 * random() - 1);
  return Math.max(0, Math.round(base * jitter));
}

/** May this failure be retried? `idempotent`: the retry cannot duplicate anything (see above). */
export function mayRetry(error: unknown, idempotent: boolean): boolean {
  if (!(error instanceof DynalogError)) return false;
  if (error.outcome === "definite") return error.retriable;
  return idempotent;
}

/** The broker's hint for quota refusals (`retryAfterMs`), if any. */
export function retryAfterMs(error: unknown): number | undefined {
  if (!(error instanceof DynalogError)) return undefined;
  const hint = error.details["retryAfterMs"];
  return typeof hint === "number" && hint >= 0 ? hint : undefined;
}

/** Resolves after `ms`, or rejects early with the signal's reason. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
