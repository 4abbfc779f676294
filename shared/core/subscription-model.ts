/**
 * Push subscriptions (issue 15; docs/subscriptions.md): the resource, its storage port, and the
 * validation of what a caller asks for. Pure: no HTTP, no AWS SDK, no item layouts (those are in
 * shared/storage/subscription-store.ts).
 *
 * A subscription names a topic, the consumer group it commits as (default `sub-<name>`), and a
 * target the dispatcher (dispatch*.ts) invokes with batches of records in partition order.
 */
import { DynalogError } from "../errors.js";
import { GROUP_ID_PATTERN } from "../limits.js";

export const SUBSCRIPTION_NAME_PATTERN = /^[a-zA-Z0-9._-]{1,200}$/;
export const DEFAULT_BATCH_SIZE = 100;
export const MAX_BATCH_SIZE = 10_000;
export const MAX_BATCHING_WINDOW_MS = 300_000;
export const DEFAULT_MAX_RETRIES = 3;
export const MAX_RETRIES_LIMIT = 10_000;
export const DEFAULT_TIMEOUT_MS = 30_000;
export const MIN_TIMEOUT_MS = 1_000;
/** 10 minutes: the deployed dispatcher (a 15-minute Lambda) must fit one invocation and its DynamoDB work. */
export const MAX_TIMEOUT_MS = 600_000;
export const MAX_WEBHOOK_URL_LENGTH = 2_048;
/** How long a rotated-out secret still signs deliveries, by default (24 h) and at most (7 days). */
export const DEFAULT_SECRET_GRACE_MS = 86_400_000;
export const MAX_SECRET_GRACE_MS = 7 * 86_400_000;
const LAMBDA_ARN = /^arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:function:[a-zA-Z0-9_-]{1,64}(:[a-zA-Z0-9_$-]{1,128})?$/;
const LOCAL_MODULE = /^\/.{1,1000}\.(mjs|js|cjs)$/;

/**
 * The broker settings target validation reads (BrokerConfig, context.ts, documents them). Named
 * here rather than imported: context.ts needs Storage (ports.ts), which needs SubscriptionStore
 * from this module, so importing back would close a cycle.
 */
export interface SubscriptionTargetPolicy {
  readonly subscriptionAllowHttp: boolean;
  readonly subscriptionFunctionAllowList: readonly string[];
  readonly subscriptionLocalModules: boolean;
}

export type SubscriptionTarget =
  | { readonly kind: "webhook"; readonly url: string }
  | { readonly kind: "function"; readonly arn: string }
  /** npm start only: an absolute path to a module exporting `handler(event)`, invoked in process. */
  | { readonly kind: "module"; readonly path: string };

export type StartingPosition = { readonly kind: "earliest" } | { readonly kind: "latest" } | { readonly kind: "timestamp"; readonly timestamp: number };
export type DeliveryMode = "at-least-once" | "exactly-once";
export type SubscriptionState = "active" | "paused";

export interface SubscriptionRecord {
  readonly name: string;
  readonly topic: string;
  /** The topic incarnation subscribed to: a deleted-then-recreated topic is not delivered. */
  readonly topicId: string;
  readonly group: string;
  readonly target: SubscriptionTarget;
  readonly batchSize: number;
  readonly maxBatchingWindowMs: number;
  readonly startingPosition: StartingPosition;
  readonly maxRetries: number;
  readonly deadLetterTopic: string | null;
  readonly delivery: DeliveryMode;
  readonly timeoutMs: number;
  readonly state: SubscriptionState;
  /** The HMAC key webhook deliveries are signed with; answered once, at create (and at each rotation). */
  readonly secret: string;
  /**
   * After a rotation, the secret it replaced and until when (ms) deliveries are signed with it too
   * (a second `v1=`), so receivers can switch keys without refusing a delivery. Null otherwise.
   */
  readonly previousSecret?: { readonly secret: string; readonly until: number } | null;
  readonly createdAt: number;
  readonly updatedAt: number;
  /** Bumped by every write (optimistic concurrency). */
  readonly version: number;
}

export interface SubscriptionError {
  readonly message: string;
  /** The first record of the failed batch (or the record isolated by bisecting). */
  readonly offset: number;
  readonly at: number;
}

/** A record that failed alone and waits for its next attempt (retries survive dispatcher restarts). */
export interface PendingRetry {
  readonly offset: number;
  /** Failed attempts so far. */
  readonly attempts: number;
  readonly nextAttemptAt: number;
}

/** What the dispatcher keeps per subscription partition: its lease, counters and last error. */
export interface SubscriptionPartitionState {
  readonly partition: number;
  readonly leaseOwner: string | null;
  readonly leaseUntil: number;
  readonly delivered: number;
  readonly failed: number;
  readonly deadLettered: number;
  readonly lastError: SubscriptionError | null;
  readonly retry: PendingRetry | null;
  readonly lastDeliveredAt: number | null;
  readonly lastLatencyMs: number | null;
}

/** One dispatch step's outcome, written under the lease. */
export interface PartitionProgress {
  readonly delivered: number;
  readonly failed: number;
  readonly deadLettered: number;
  /** undefined = unchanged, null = cleared. */
  readonly lastError?: SubscriptionError | null;
  readonly retry: PendingRetry | null;
  readonly lastDeliveredAt?: number;
  readonly lastLatencyMs?: number;
}

export interface SubscriptionStore {
  /** Throws SUBSCRIPTION_ALREADY_EXISTS when the name is taken. */
  create(record: SubscriptionRecord): Promise<void>;
  /** Strongly consistent. */
  get(name: string): Promise<SubscriptionRecord | undefined>;
  list(): Promise<SubscriptionRecord[]>;
  /** Writes `record` (carrying its new version) only while the stored one is at `expectedVersion`. */
  replace(record: SubscriptionRecord, expectedVersion: number): Promise<boolean>;
  /** Removes the subscription and its partition states; returns what was removed. */
  remove(name: string): Promise<SubscriptionRecord | undefined>;
  partitions(name: string): Promise<SubscriptionPartitionState[]>;
  /**
   * Takes (or renews) the partition's lease for `owner` until `until`, if it is free, expired at
   * `now`, or already `owner`'s. Returns the partition state when taken, undefined otherwise.
   */
  acquireLease(name: string, partition: number, owner: string, now: number, until: number): Promise<SubscriptionPartitionState | undefined>;
  /** Adds the counters and sets the rest, only while `owner` holds the lease; false otherwise. */
  saveProgress(name: string, partition: number, owner: string, progress: PartitionProgress): Promise<boolean>;
  /** Gives the lease up (only if `owner` holds it), so another dispatcher need not wait for expiry. */
  releaseLease(name: string, partition: number, owner: string): Promise<void>;
}

/** What a caller asks for; validated by `validateSubscription` before anything is read or written. */
export interface CreateSubscriptionInput {
  readonly name: string;
  readonly topic: string;
  readonly group?: string;
  /** Exactly one of webhook and function. */
  readonly webhook?: string;
  /** A Lambda ARN on the allow-list, or (npm start only) an absolute module path. */
  readonly function?: string;
  readonly batchSize?: number;
  readonly maxBatchingWindowMs?: number;
  /** "earliest", "latest" (default) or a timestamp in ms. */
  readonly startingPosition?: "earliest" | "latest" | number;
  readonly maxRetries?: number;
  readonly deadLetterTopic?: string | null;
  readonly delivery?: DeliveryMode;
  readonly timeoutMs?: number;
}

/** Everything of a create request that needs no storage, normalized; the topics are checked after. */
export type ValidatedSubscription = Omit<SubscriptionRecord, "topicId" | "state" | "secret" | "createdAt" | "updatedAt" | "version">;

function invalid(message: string, details: Record<string, string | number> = {}): DynalogError {
  return new DynalogError("INVALID_SUBSCRIPTION", message, { details });
}

export function validateSubscriptionName(name: string): void {
  if (!SUBSCRIPTION_NAME_PATTERN.test(name)) {
    throw invalid("Subscription name must be 1-200 characters of a-z, A-Z, 0-9, '.', '_' and '-'", { name: name.slice(0, 210) });
  }
}

function integerIn(value: number | undefined, fallback: number, min: number, max: number, field: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min || value > max) throw invalid(`${field} must be an integer from ${min} to ${max}, got ${value}`, { field, min, max });
  return value;
}

export function validateTarget(input: Pick<CreateSubscriptionInput, "webhook" | "function">, config: SubscriptionTargetPolicy): SubscriptionTarget {
  if ((input.webhook === undefined) === (input.function === undefined)) throw invalid("Give exactly one target: webhook (a URL) or function (a Lambda ARN)");
  if (input.webhook !== undefined) return validateWebhook(input.webhook, config);
  const fn = input.function!;
  if (LAMBDA_ARN.test(fn)) {
    const allowed = config.subscriptionFunctionAllowList.some((entry) => (entry.endsWith("*") ? fn.startsWith(entry.slice(0, -1)) : fn === entry));
    if (!allowed) {
      throw new DynalogError("SUBSCRIPTION_TARGET_NOT_ALLOWED", `Function ${fn} is not on the broker's allow-list of subscription targets`, {
        details: { function: fn, allowListSize: config.subscriptionFunctionAllowList.length },
      });
    }
    return { kind: "function", arn: fn };
  }
  if (LOCAL_MODULE.test(fn)) {
    if (!config.subscriptionLocalModules) {
      throw new DynalogError("SUBSCRIPTION_TARGET_NOT_ALLOWED", "Local module targets are served only by the local broker (npm start); use a Lambda ARN", { details: { function: fn } });
    }
    return { kind: "module", path: fn };
  }
  throw invalid("function must be a Lambda function ARN (arn:aws:lambda:<region>:<account>:function:<name>[:<alias>]) or, locally, an absolute path to a .mjs/.js module", {
    function: fn.slice(0, 300),
  });
}

function validateWebhook(raw: string, config: SubscriptionTargetPolicy): SubscriptionTarget {
  if (raw.length > MAX_WEBHOOK_URL_LENGTH) throw invalid(`webhook URL is longer than ${MAX_WEBHOOK_URL_LENGTH} characters`, { limit: MAX_WEBHOOK_URL_LENGTH });
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalid("webhook is not a valid absolute URL", { webhook: raw.slice(0, 300) });
  }
  if (url.protocol === "http:" && !config.subscriptionAllowHttp) {
    throw new DynalogError("SUBSCRIPTION_TARGET_NOT_ALLOWED", "Webhooks must use https:// (plain http:// is allowed only by the local broker)", { details: { webhook: raw.slice(0, 300) } });
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw invalid("webhook must be an https:// URL", { webhook: raw.slice(0, 300) });
  // Credentials in a URL end up in logs and listings; the signature authenticates the broker instead.
  if (url.username !== "" || url.password !== "") throw invalid("webhook URL must not carry credentials (user:password@); verify the signature header instead");
  if (url.hash !== "") throw invalid("webhook URL must not have a #fragment");
  return { kind: "webhook", url: url.toString() };
}

function validateStartingPosition(value: CreateSubscriptionInput["startingPosition"]): StartingPosition {
  if (value === undefined || value === "latest") return { kind: "latest" };
  if (value === "earliest") return { kind: "earliest" };
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return { kind: "timestamp", timestamp: value };
  throw invalid("startingPosition must be earliest, latest or a timestamp in ms (≥ 0)");
}

/** Checks everything that needs no storage read; throws INVALID_SUBSCRIPTION / SUBSCRIPTION_TARGET_NOT_ALLOWED. */
export function validateSubscription(input: CreateSubscriptionInput, config: SubscriptionTargetPolicy): ValidatedSubscription {
  validateSubscriptionName(input.name);
  const group = input.group ?? `sub-${input.name}`;
  if (!GROUP_ID_PATTERN.test(group)) throw invalid("group must be 1-255 characters of a-z, A-Z, 0-9, '.', '_', '-', ':' and '@'", { group: group.slice(0, 260) });
  const delivery = input.delivery ?? "at-least-once";
  if (delivery !== "at-least-once" && delivery !== "exactly-once") throw invalid("delivery must be at-least-once or exactly-once", { delivery: String(delivery).slice(0, 50) });
  const deadLetterTopic = input.deadLetterTopic ?? null;
  if (deadLetterTopic !== null && deadLetterTopic === input.topic) throw invalid("deadLetterTopic must differ from the subscribed topic", { topic: input.topic });
  return {
    name: input.name,
    topic: input.topic,
    group,
    target: validateTarget(input, config),
    batchSize: integerIn(input.batchSize, DEFAULT_BATCH_SIZE, 1, MAX_BATCH_SIZE, "batchSize"),
    maxBatchingWindowMs: integerIn(input.maxBatchingWindowMs, 0, 0, MAX_BATCHING_WINDOW_MS, "maxBatchingWindowMs"),
    startingPosition: validateStartingPosition(input.startingPosition),
    maxRetries: integerIn(input.maxRetries, DEFAULT_MAX_RETRIES, 0, MAX_RETRIES_LIMIT, "maxRetries"),
    deadLetterTopic,
    delivery,
    timeoutMs: integerIn(input.timeoutMs, DEFAULT_TIMEOUT_MS, MIN_TIMEOUT_MS, MAX_TIMEOUT_MS, "timeoutMs"),
  };
}

export function subscriptionNotFound(name: string): DynalogError {
  return new DynalogError("SUBSCRIPTION_NOT_FOUND", `Subscription '${name}' does not exist`, { details: { subscription: name } });
}

/** A partition the dispatcher never touched. */
export function emptyPartitionState(partition: number): SubscriptionPartitionState {
  return { partition, leaseOwner: null, leaseUntil: 0, delivered: 0, failed: 0, deadLettered: 0, lastError: null, retry: null, lastDeliveredAt: null, lastLatencyMs: null };
}
