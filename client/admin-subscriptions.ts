/**
 * The admin client's push-subscription calls (docs/subscriptions.md) over /v1/subscriptions. Not
 * KafkaJS API (Kafka has no push subscriptions); the Admin class (admin.ts) exposes them as methods.
 */
import type { Transport } from "./transport.js";

export interface CreateSubscriptionOptions {
  readonly name: string;
  readonly topic: string;
  /** Default `sub-<name>`. */
  readonly group?: string;
  /** Exactly one of webhook (an https:// URL; http:// only locally) and function. */
  readonly webhook?: string;
  /** A Lambda function ARN on the broker's allow-list, or (local broker only) an absolute module path. */
  readonly function?: string;
  /** 1-10,000; default 100. */
  readonly batchSize?: number;
  readonly maxBatchingWindowMs?: number;
  /** "earliest", "latest" (default) or a timestamp in ms. */
  readonly startingPosition?: "earliest" | "latest" | number;
  /** Attempts of a failing record before it goes to the dead-letter topic; default 3. */
  readonly maxRetries?: number;
  readonly deadLetterTopic?: string;
  readonly delivery?: "at-least-once" | "exactly-once";
  readonly timeoutMs?: number;
}

export interface SubscriptionInfo {
  readonly name: string;
  readonly topic: string;
  readonly topicId: string;
  readonly group: string;
  readonly target: { readonly type: "webhook"; readonly url: string } | { readonly type: "function"; readonly arn: string } | { readonly type: "module"; readonly path: string };
  readonly batchSize: number;
  readonly maxBatchingWindowMs: number;
  readonly startingPosition: "earliest" | "latest" | number;
  readonly maxRetries: number;
  readonly deadLetterTopic: string | null;
  readonly delivery: "at-least-once" | "exactly-once";
  readonly timeoutMs: number;
  readonly state: "active" | "paused";
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface SubscriptionPartitionInfo {
  readonly partition: number;
  readonly committedOffset: number;
  readonly highWatermark: number;
  readonly lag: number;
  readonly delivered: number;
  readonly failed: number;
  readonly deadLettered: number;
  readonly lastError: { readonly message: string; readonly offset: number; readonly at: string } | null;
  readonly retry: { readonly offset: number; readonly attempts: number; readonly nextAttemptAt: string } | null;
  readonly lastDeliveredAt: string | null;
  readonly lastLatencyMs: number | null;
  readonly leased: boolean;
}

export interface SubscriptionDescription extends SubscriptionInfo {
  readonly topicExists: boolean;
  readonly totalLag: number;
  readonly partitions: readonly SubscriptionPartitionInfo[];
}

const path = (name: string, rest = "") => `/v1/subscriptions/${encodeURIComponent(name)}${rest}`;

/** The answer carries the signing secret: the only time the broker shows it. */
export function createSubscription(transport: Transport, options: CreateSubscriptionOptions): Promise<SubscriptionInfo & { readonly secret: string }> {
  return transport.request({ method: "POST", path: "/v1/subscriptions", body: options, idempotent: false });
}

export async function listSubscriptions(transport: Transport): Promise<SubscriptionInfo[]> {
  return (await transport.request<{ subscriptions: SubscriptionInfo[] }>({ method: "GET", path: "/v1/subscriptions", idempotent: true })).subscriptions;
}

export function describeSubscription(transport: Transport, name: string): Promise<SubscriptionDescription> {
  return transport.request({ method: "GET", path: path(name), idempotent: true });
}

export function pauseSubscription(transport: Transport, name: string): Promise<SubscriptionInfo> {
  return transport.request({ method: "POST", path: path(name, "/pause"), idempotent: true });
}

export function resumeSubscription(transport: Transport, name: string): Promise<SubscriptionInfo> {
  return transport.request({ method: "POST", path: path(name, "/resume"), idempotent: true });
}

/** A new signing secret (shown once); the old one keeps signing deliveries for the grace period (default 24 h). */
export function rotateSubscriptionSecret(
  transport: Transport,
  name: string,
  options: { readonly gracePeriodMs?: number } = {},
): Promise<SubscriptionInfo & { readonly secret: string; readonly previousSecretExpiresAt: string | null }> {
  return transport.request({ method: "POST", path: path(name, "/rotate-secret"), body: options, idempotent: false });
}

export async function deleteSubscription(transport: Transport, name: string): Promise<void> {
  await transport.request({ method: "DELETE", path: path(name), idempotent: false });
}
