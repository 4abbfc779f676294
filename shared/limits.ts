/**
 * Every size and count the broker enforces, in one place (documented in docs/api.md).
 * They are checked before DynamoDB is touched.
 */

/** Kafka's topic-name rules. */
export const TOPIC_NAME_PATTERN = /^[a-zA-Z0-9._-]{1,249}$/;
export const MAX_PARTITIONS = 1000;

/** Largest offset/id the broker hands out: offsets are exact JSON numbers. */
export const MAX_OFFSET = Number.MAX_SAFE_INTEGER;

/**
 * Uncompressed bytes of encoded records one batch item may hold. DynamoDB's item cap is 400 KB
 * (409,600 bytes, attribute names included); the rest is keys, attributes and margin.
 */
export const BATCH_ITEM_BUDGET_BYTES = 380_000;
/** A single record (key + value + headers, encoded) must fit one batch item on its own. */
export const MAX_RECORD_BYTES = BATCH_ITEM_BUDGET_BYTES - 64;
/**
 * Encoded record bytes per partition per produce request. A partition's records are written by one
 * TransactWriteItems, which DynamoDB caps at 4 MB: 3 MB leaves room for item overhead.
 */
export const MAX_PARTITION_REQUEST_BYTES = 3_000_000;
export const MAX_RECORDS_PER_REQUEST = 10_000;
/**
 * Lambda's synchronous payload caps ("6 MB" in the Lambda quotas page; the exact numbers are the
 * ones Lambda's own errors state: "Request must be smaller than 6291456 bytes", "Exceeded maximum
 * allowed payload size (6291556 bytes)"). They apply to the JSON Lambda carries — the whole API
 * Gateway event, and the whole handler result — not to the HTTP body. docs/deploy.md, Limits.
 */
export const LAMBDA_MAX_REQUEST_PAYLOAD_BYTES = 6_291_456;
export const LAMBDA_MAX_RESPONSE_PAYLOAD_BYTES = 6_291_556;
/**
 * HTTP body cap, counted as the body travels inside the Lambda event: API Gateway puts the body
 * in the event as a JSON string, so every `"` and `\` of the body is escaped once more (a body of
 * quote-heavy JSON grows by up to 2×). What is measured is the ENCODED size
 * (encodedBodyBytes); the ~490 KB left below Lambda's cap is for the rest of the event (headers
 * — at most 10 KB in an HTTP API —, request context, authorizer context). A body whose event
 * exceeds Lambda's cap never reaches the broker: API Gateway answers it with its own error.
 */
export const MAX_REQUEST_BODY_BYTES = 5_800_000;

/** Bytes of `text` once written as a JSON string (quotes included): the body inside an event, a response body inside a Lambda result. */
export function encodedStringBytes(text: string): number {
  return Buffer.byteLength(JSON.stringify(text), "utf8");
}

export const MAX_HEADERS_PER_RECORD = 100;
export const MAX_HEADER_KEY_BYTES = 1024;

/** Kafka's producer epoch is an int16 and sequences are int32. */
export const MAX_PRODUCER_EPOCH = 32_767;
export const MAX_SEQUENCE = 2_147_483_647;

// --- idempotency keys (ProduceInput.idempotencyKey; the Upstash dialect's reserved header) -------
/**
 * How long a write named by an idempotency key is remembered: a repeat within the window answers
 * the first write's place and writes nothing; after it, the key is free and a repeat writes again.
 * A day covers any client's blind retries (the Upstash client's last one is ~15 s after the first)
 * and an application replaying a failed job the same day, for one small item per key.
 */
export const IDEMPOTENCY_KEY_WINDOW_MS = 24 * 3_600_000;
/** Characters of an idempotency key (UTF-16 code units, as JavaScript counts). */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

export const FETCH_DEFAULT_MAX_RECORDS = 500;
export const FETCH_MAX_RECORDS = 10_000;
export const FETCH_DEFAULT_MAX_BYTES = 1_048_576;
/**
 * Fetch's byte budgets (maxBytes) count what is actually sent: each record's JSON as it appears in
 * the Lambda result, i.e. encoded (base64 or escaped UTF-8) and then escaped again as part of the
 * response body string (shared/http/app.ts, recordEncoder). At most one record (≤ 380 KB raw,
 * ≤ 2.7 MB however it is escaped) may go over the budget, so with 3 MiB the whole Lambda result
 * stays under LAMBDA_MAX_RESPONSE_PAYLOAD_BYTES with room for 100 partitions' metadata.
 */
export const FETCH_MAX_BYTES = 3_145_728;
/** API Gateway's HTTP API gives an integration at most 30 s. */
export const FETCH_MAX_WAIT_MS = 20_000;
export const MAX_FETCH_PARTITIONS = 100;

export const MAX_GROUP_ID_LENGTH = 255;
export const GROUP_ID_PATTERN = /^[a-zA-Z0-9._:@\-]{1,255}$/;
/** Kafka's offset.metadata.max.bytes default. */
export const MAX_OFFSET_METADATA_BYTES = 4096;
export const MAX_OFFSETS_PER_COMMIT = 1000;

/** Retention bounds: one minute to ten years, or null for forever. */
export const MIN_RETENTION_MS = 60_000;
export const MAX_RETENTION_MS = 10 * 365 * 24 * 3_600_000;
export const DEFAULT_RETENTION_MS = 7 * 24 * 3_600_000;
/** Compacted topics (docs/compaction.md): Kafka's delete.retention.ms default (one day) and range. */
export const DEFAULT_DELETE_RETENTION_MS = 24 * 3_600_000;
export const MAX_DELETE_RETENTION_MS = MAX_RETENTION_MS;
/** min.compaction.lag.ms: 0 (Kafka's default) up to the longest retention. */
export const MAX_COMPACTION_LAG_MS = MAX_RETENTION_MS;
/**
 * Items expire logically at appendTime + retention; the TTL attribute DynamoDB deletes by is one
 * day later, so readers always see an expired item (and move the log start past it) before it
 * vanishes — a vanished item must never look like an abandoned reservation.
 */
export const TTL_GRACE_MS = 24 * 3_600_000;

// --- consumer groups (shared/core/groups.ts, group-heartbeat.ts) --------------------------------
/** Client-chosen member ids and static instance ids: they become DynamoDB sort-key parts. */
export const MEMBER_ID_PATTERN = /^[a-zA-Z0-9._:@\-]{1,64}$/;
export const INSTANCE_ID_PATTERN = /^[a-zA-Z0-9._:@\-]{1,255}$/;
/**
 * Members per group. Every heartbeat reads the whole group (one Query), and one rebalance deletes
 * every expired member in the same TransactWriteItems as the group item (100 actions at most).
 */
export const MAX_GROUP_MEMBERS = 90;
export const MAX_SUBSCRIBED_TOPICS = 100;
/** Kafka's group.min/max.session.timeout.ms range; the default is KIP-848's 45 s. */
export const MIN_SESSION_TIMEOUT_MS = 6_000;
export const MAX_SESSION_TIMEOUT_MS = 1_800_000;
export const DEFAULT_SESSION_TIMEOUT_MS = 45_000;
/** How long a member may take to revoke partitions it was asked to give up (Kafka: max.poll.interval.ms). */
export const MIN_REBALANCE_TIMEOUT_MS = 1_000;
export const MAX_REBALANCE_TIMEOUT_MS = 1_800_000;
export const DEFAULT_REBALANCE_TIMEOUT_MS = 300_000;
/** KIP-848's group.consumer.heartbeat.interval.ms; never more than a third of the session timeout. */
export const MAX_HEARTBEAT_INTERVAL_MS = 5_000;
/**
 * A commit fenced by member id and epoch is ONE TransactWriteItems: the member check + the offsets.
 * A commit without a member (up to MAX_OFFSETS_PER_COMMIT) is written in TransactWriteItems of this
 * many offsets, each with the group check: atomic per transaction, not across them.
 */
export const MAX_FENCED_OFFSETS_PER_COMMIT = 99;
