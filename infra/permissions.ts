/**
 * Least-privilege DynamoDB access per Lambda function: exactly the actions each function's routes
 * make on each table, derived from the calls in shared/storage/*.ts. Nobody gets `dynamodb:*`, no
 * function sees a table it does not use, and nothing here grants Scan except topic listing.
 *
 * test/infra/iam-coverage-*.test.ts run every route (and the authorizer, compactor, history sampler
 * and dispatcher) against DynamoDB Local, record each DynamoDB call per function, and check it
 * against this table: a permission missing here fails those tests, not production.
 *
 * Inside TransactWriteItems each action is authorized as its plain counterpart (Put → PutItem,
 * Update → UpdateItem, ConditionCheck → ConditionCheckItem); there is no TransactWriteItems action.
 *
 * What IAM does NOT do (docs/deploy.md, "IAM and the log"):
 * - AWS documents `dynamodb:Attributes` for the single-item actions, not for the Puts inside a
 *   TransactWriteItems. Nothing depends on it: the void fill (void-fill.ts) switches to single
 *   conditional PutItems if IAM refuses the transaction.
 * - An attribute restriction does not stop a PutItem from REPLACING an existing item with one made
 *   of the allowed attributes (a void over a batch). What prevents that is the code's condition
 *   `attribute_not_exists(o)` on every void put, not IAM; iam-coverage-*.test.ts pin the calls.
 * - Attribute-restricted writes also carry `dynamodb:ReturnValues` ∈ {NONE, UPDATED_OLD,
 *   UPDATED_NEW}, so they cannot return the attributes they may not touch.
 */
import type { FunctionName } from "../shared/http/routes.js";
import type { TableId } from "../shared/storage/tables.js";

export type DynamoAction =
  | "GetItem"
  | "BatchGetItem"
  | "Query"
  | "Scan"
  | "PutItem"
  | "UpdateItem"
  | "DeleteItem"
  | "BatchWriteItem"
  | "ConditionCheckItem";

export interface TableGrant {
  readonly actions: readonly DynamoAction[];
  /**
   * When set, the grant carries `ForAllValues:StringEquals dynamodb:Attributes`: a request may
   * name only these attributes (item attributes, update and condition expression attributes,
   * key attributes). Used to let readers write what hole filling needs and nothing more.
   */
  readonly onlyAttributes?: readonly string[];
  /**
   * When set, the grant carries `ForAllValues:StringLike dynamodb:LeadingKeys`: the request's
   * partition keys must match one of these patterns (`*` wildcards), e.g. only the history items.
   */
  readonly leadingKeys?: readonly string[];
  /** Why this function needs it (kept next to the grant so a reviewer need not guess). */
  readonly why: string;
}

export type FunctionAccess = Readonly<Partial<Record<TableId, readonly TableGrant[]>>>;

/** The ReturnValues an attribute-restricted write may ask for (the reservation asks UPDATED_NEW). */
export const ATTRIBUTE_RESTRICTED_RETURN_VALUES = ["NONE", "UPDATED_OLD", "UPDATED_NEW"] as const;

/** Attributes of a void item (log-store.ts: p, o, k = "V", c, a, x): no record data (d), codec (z) or timestamp (t). */
export const VOID_ATTRIBUTES = ["p", "o", "k", "c", "a", "x"] as const;
/** Attributes a reader's hint update touches on a counter item: never `next` or `ra` (the sequencer). */
export const HINT_ATTRIBUTES = ["p", "hw", "ls"] as const;
/** Attributes an offset reservation touches on a counter item (bw: bytes written): never the readers' hints. */
export const RESERVATION_ATTRIBUTES = ["p", "next", "ra", "rt", "bw"] as const;
/** Attributes the compaction checkpoint touches on a counter item (compaction-store.ts): never the sequencer or the hints. */
export const COMPACTION_CHECKPOINT_ATTRIBUTES = ["p", "cc", "cr", "ck", "ch", "cn"] as const;

/**
 * What a reader needs to find a partition's high watermark or log start: read the head and the
 * batches, fill dead writers' gaps with voids, and keep the hints (DESIGN.md §1.4-1.5).
 */
const READER = {
  partitions: { actions: ["GetItem", "BatchGetItem"], why: "read partition heads (long poll and describe: batched)" },
  log: { actions: ["Query", "GetItem"], why: "read batches (GetItem: the entry a void fill collided with; a large transaction's commit or abort record)" },
} as const satisfies Record<string, TableGrant>;

const READER_WRITES = {
  partitions: { actions: ["UpdateItem"], onlyAttributes: HINT_ATTRIBUTES, why: "raise the high-watermark / log-start hints" },
  log: {
    actions: ["PutItem"],
    onlyAttributes: VOID_ATTRIBUTES,
    why: "fill a dead writer's gap with voids (TransactWriteItems of Puts); abort an abandoned large transaction (its decision item is void-shaped: k = \"A\"; a commit needs d, which readers may not write)",
  },
} as const satisfies Record<string, TableGrant>;

/** Attributes of a quota counter update (security-store.ts addUsage): pk, sk, requests, bytes, x. */
export const QUOTA_ATTRIBUTES = ["pk", "sk", "requests", "bytes", "x"] as const;

/** Every function authenticates (API keys), authorizes (ACL rules) and counts quotas. */
const AUTHENTICATING = [
  { actions: ["GetItem", "Query"], why: "look up API keys (hashed) and load ACL rules (cached per warm instance)" },
  { actions: ["UpdateItem"], onlyAttributes: QUOTA_ATTRIBUTES, why: "add to the caller's quota counter (at most once per flush interval)" },
] as const satisfies readonly TableGrant[];

export const FUNCTION_ACCESS: Readonly<Record<FunctionName, FunctionAccess>> = {
  admin: {
    topics: [{ actions: ["GetItem", "PutItem", "DeleteItem", "Scan"], why: "create (conditional put), describe, list (scan), delete topics" }],
    partitions: [
      { actions: ["BatchGetItem", "BatchWriteItem"], why: "create counters (batch put), read heads (describe), purge counters (batch delete)" },
      { actions: ["GetItem", "PutItem"], why: "add partitions (conditional put of new counters); read a head (delete records)" },
      READER_WRITES.partitions,
      { actions: ["UpdateItem"], onlyAttributes: COMPACTION_CHECKPOINT_ATTRIBUTES, why: "record a compaction pass's checkpoint (docs/compaction.md)" },
    ],
    log: [
      { actions: ["Query", "GetItem", "BatchWriteItem"], why: "describe walks the log (GetItem: the entry a void fill collided with); delete purges it (batch delete)" },
      READER_WRITES.log,
      { actions: ["UpdateItem"], why: "compact a batch: a conditional rewrite of its records, or of the item into a void (docs/compaction.md)" },
    ],
    producers: [
      {
        actions: ["Query", "GetItem", "BatchWriteItem"],
        why: "delete purges the topic's producer state; trace a record: its transaction records (GetItem) and the input index (Query); history: a topic's or group's samples (Query), per topic for the topics' list",
      },
    ],
    offsets: [
      { actions: ["Query", "Scan"], why: "describe a group (its items and offsets), list groups (scan)" },
      { actions: ["DeleteItem", "ConditionCheckItem", "BatchWriteItem"], why: "delete a group: its group and expired member items (a conditional transaction; without a group item, a check that none appeared), then its offsets (batch delete)" },
    ],
    security: [
      ...AUTHENTICATING,
      { actions: ["PutItem", "UpdateItem", "DeleteItem", "Scan"], why: "create API keys and ACL rules, revoke keys, delete rules, list keys (scan)" },
    ],
  },
  produce: {
    topics: [{ actions: ["GetItem"], why: "look up the topic" }],
    partitions: [
      { actions: ["UpdateItem"], onlyAttributes: RESERVATION_ATTRIBUTES, why: "reserve offsets (ADD next, bw, SET ra, rt) and give an unused reservation back (SET next, ADD bw)" },
      { actions: ["GetItem"], why: "settling an idempotent claim: is its slot below the log start (expired), docs/append.md" },
    ],
    log: [{ actions: ["PutItem", "GetItem"], why: "write-once batches and voids of its own reservation or of a dead claim's slot; check a slot after a lost response or before settling a claim" }],
    producers: [
      {
        actions: ["GetItem", "PutItem", "UpdateItem"],
        why: "allocate and record issued producer ids, read them to verify an idempotent produce, claim and rewind idempotent producer state (plain writes, docs/append.md), Upstash idempotency keys (in the keyed append's transaction), transactional ids (init)",
      },
    ],
    security: [...AUTHENTICATING],
  },
  fetch: {
    topics: [{ actions: ["GetItem"], why: "look up the topic" }],
    partitions: [READER.partitions, READER_WRITES.partitions],
    log: [READER.log, READER_WRITES.log],
    security: [...AUTHENTICATING],
  },
  commit: {
    topics: [{ actions: ["GetItem"], why: "validate the committed topics; the topics a group subscribes to" }],
    offsets: [
      {
        actions: ["Query", "GetItem", "PutItem", "DeleteItem", "ConditionCheckItem"],
        why: "commit offsets (transactions checking the member, or without one the group item's version); group and member items (heartbeat, leave); Upstash consumer-instance items (GetItem, PutItem, DeleteItem)",
      },
    ],
    // Reading committed offsets with a reset policy answers the log start or high watermark of
    // partitions without a commit: a reader's access, voids and hints included. The Upstash
    // dialect's consume fetches records for its instance: a reader's access in full.
    partitions: [READER.partitions, READER_WRITES.partitions],
    log: [READER.log, READER_WRITES.log],
    security: [...AUTHENTICATING],
  },
  transactions: {
    topics: [{ actions: ["GetItem"], why: "look up every topic written or committed" }],
    partitions: [{ actions: ["UpdateItem"], onlyAttributes: RESERVATION_ATTRIBUTES, why: "reserve offsets and give unused ones back" }],
    log: [
      {
        actions: ["PutItem", "GetItem"],
        why: "batches (in the commit transaction) and voids of its own reservations; check a slot after a lost response; a large transaction's staged batches and commit or abort record (docs/transactions.md)",
      },
    ],
    producers: [
      {
        actions: ["GetItem", "UpdateItem", "PutItem"],
        why: "read issued producer ids (verify a commit's producer id); read and advance the transactional id (zombie fencing) in the commit transaction; put the transaction's record and input index items in it (tracing)",
      },
    ],
    offsets: [
      {
        actions: ["PutItem", "ConditionCheckItem", "Query"],
        why: "offsets committed in the transaction, fenced by a group member check (KIP-447) or, without a member, by the group item's version; read the group's members to refuse memberless commits to a live group",
      },
    ],
    security: [...AUTHENTICATING],
  },
  // Push-subscription management (docs/subscriptions.md); the dispatcher's grants are DISPATCHER_ACCESS.
  subscriptions: {
    topics: [{ actions: ["GetItem"], why: "look up the subscribed and dead-letter topics (create), the subscribed topic (describe)" }],
    // Create pins the group's starting offsets at the log start or high watermark, and describe
    // shows each partition's high watermark: a reader's access, voids and hints included.
    partitions: [READER.partitions, READER_WRITES.partitions],
    log: [READER.log, READER_WRITES.log],
    offsets: [
      {
        actions: ["GetItem", "PutItem", "DeleteItem", "BatchWriteItem", "Query"],
        why: "subscription items (subscription-store.ts): read one, create it (conditional put), pause/resume/rotate (versioned put), delete it and then its partition states (batch delete); list them and read their partition states and the group's members and offsets (Query)",
      },
      { actions: ["ConditionCheckItem"], why: "pin the group's starting offsets: a memberless commit checking the group item's version (as commit does)" },
    ],
    security: [...AUTHENTICATING],
  },
};

/**
 * The scheduled compactor (shared/runtime/compactor.ts, docs/compaction.md): finds the compacted
 * topics, walks their partitions as a reader does (voids and hints included), rewrites batches and
 * records each pass's checkpoint. No API: nothing to authenticate.
 */
export const COMPACTOR_ACCESS: FunctionAccess = {
  topics: [{ actions: ["Scan", "GetItem"], why: "list the topics to find the compacted ones (scan); read each one fresh before its pass" }],
  partitions: [
    { actions: ["GetItem"], why: "read a partition's head: its high watermark, log start and last compaction checkpoint" },
    READER_WRITES.partitions,
    { actions: ["UpdateItem"], onlyAttributes: COMPACTION_CHECKPOINT_ATTRIBUTES, why: "record a pass's checkpoint" },
  ],
  log: [
    READER.log,
    READER_WRITES.log,
    { actions: ["UpdateItem"], why: "compact a batch: a conditional rewrite of its records, or of the item into a void" },
  ],
};

/**
 * The scheduled history sampler (shared/runtime/history.ts; docs/console.md, "History"): lists the
 * topics and groups, reads partition heads and walks the log from the high-watermark hint as a
 * reader does but writes no log item (a gap ends its walk: LogReader.observedHighWatermark), reads
 * each group's committed offsets, and puts one item per topic and group — in the producers table,
 * under the history keys only. It raises the high-watermark hint (a reader's narrow update): without
 * it, a topic nobody reads would be walked from its start every minute. No API: nothing to authenticate.
 */
export const HISTORY_ACCESS: FunctionAccess = {
  topics: [{ actions: ["Scan"], why: "list the topics (scan)" }],
  partitions: [{ actions: ["BatchGetItem"], why: "read the topic's partition heads (batched)" }, READER_WRITES.partitions],
  log: [{ actions: ["Query", "GetItem"], why: "walk the batches appended since the high-watermark hint; a large transaction's commit or abort record (GetItem; an undecided one ends the walk)" }],
  offsets: [{ actions: ["Scan", "Query"], why: "list the groups (scan, as listGroups), read each group's committed offsets (Query)" }],
  producers: [{ actions: ["PutItem"], leadingKeys: ["ht#*", "hg#*"], why: "put one history item per topic and group per minute (conditional: written once), under the history keys only" }],
};

/**
 * The key API's Lambda authorizer (shared/runtime/authorizer.ts): it authenticates API keys and
 * nothing else — no ACLs (the broker functions check those per route), no quota counting (the
 * broker functions count), so one read of one key item.
 */
export const AUTHORIZER_ACCESS: FunctionAccess = {
  security: [{ actions: ["GetItem"], why: "look up the API key (hashed secret, principal, revocation)" }],
};

/**
 * The push-subscription dispatcher (shared/runtime/dispatcher-lambda.ts), woken by the log
 * table's stream and a schedule, not by a route. It reads like a consumer (partition heads, the
 * log, voids and hints included), keeps its leases, counters and commits in the offsets table, and
 * writes to topics only for dead letters (a produce: reserve, append) and exactly-once outputs (a
 * transaction commit under the partition's transactional id). Its stream read and the Lambda
 * invoke of the allow-listed targets are granted by the construct (infra/dynalog.ts), not here.
 *
 * It reserves offsets but is not one of the writers the hole timeout is derived from
 * (reservingFunctions covers route functions): its Lambda timeout is long (a run may wait on a
 * 10-minute target), but it never holds a reservation across an invocation — it reserves and
 * appends back to back, as produce does. A dispatcher stalled past the hole timeout between the
 * two finds its slot voided; its conditional write fails, and the batch is retried (docs/subscriptions.md).
 */
export const DISPATCHER_ACCESS: FunctionAccess = {
  topics: [{ actions: ["GetItem"], why: "look up the subscribed topic, the dead-letter and output topics" }],
  partitions: [
    { actions: ["GetItem"], why: "read a partition's head (its high watermark and log start)" },
    READER_WRITES.partitions,
    { actions: ["UpdateItem"], onlyAttributes: RESERVATION_ATTRIBUTES, why: "reserve offsets for dead letters and exactly-once outputs, give unused ones back" },
  ],
  log: [
    READER.log,
    READER_WRITES.log,
    { actions: ["PutItem"], why: "append dead letters and exactly-once outputs (write-once batches; in the commit transaction)" },
  ],
  producers: [
    {
      actions: ["GetItem", "PutItem", "UpdateItem"],
      why: "exactly-once: init the partition's transactional id (fencing), read and advance it and put the transaction's trace items in the commit transaction",
    },
  ],
  offsets: [
    {
      actions: ["Query", "PutItem", "UpdateItem", "ConditionCheckItem"],
      why: "list subscriptions and their partition states (Query); leases, counters and retries (conditional UpdateItem); the group's committed offsets (read, memberless commit checking the group)",
    },
  ],
};
