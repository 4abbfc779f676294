/**
 * The one error hierarchy of the broker. Every refusal the API can give is a code in ERROR_TABLE;
 * the HTTP layer maps codes to status codes here and nowhere else.
 *
 * `outcome` tells a client whether it may have written: "definite" = nothing was written (safe to
 * retry with anything), "indefinite" = it may have been written (retry only with the same producer
 * id, epoch and sequence numbers, so the broker can deduplicate).
 */

export type Outcome = "definite" | "indefinite";

export interface ErrorSpec {
  readonly status: number;
  readonly retriable: boolean;
  readonly outcome: Outcome;
  readonly description: string;
}

export const ERROR_TABLE = {
  // --- request shape -------------------------------------------------------------------------
  INVALID_REQUEST: { status: 400, retriable: false, outcome: "definite", description: "The request is malformed: bad JSON, a wrong type, an unknown or missing field." },
  INVALID_RECORD: { status: 400, retriable: false, outcome: "definite", description: "A record is invalid: bad base64/UTF-8 encoding, bad header, bad timestamp." },
  INVALID_TOPIC_EXCEPTION: { status: 400, retriable: false, outcome: "definite", description: "Topic name breaks Kafka's rules: 1-249 characters of [a-zA-Z0-9._-], not '.' or '..'." },
  INVALID_PARTITIONS: { status: 400, retriable: false, outcome: "definite", description: "Partition count outside 1-1000." },
  INVALID_CONFIG: { status: 400, retriable: false, outcome: "definite", description: "A topic setting is out of range (retention, compression, timestamp type)." },
  INVALID_GROUP_ID: { status: 400, retriable: false, outcome: "definite", description: "Group id is empty, too long, or has forbidden characters." },
  INVALID_COMMIT_OFFSET: { status: 400, retriable: false, outcome: "definite", description: "A committed offset is negative or beyond the supported range." },
  OFFSET_METADATA_TOO_LARGE: { status: 400, retriable: false, outcome: "definite", description: "Offset commit metadata is longer than allowed." },
  UNSUPPORTED_COMPRESSION_TYPE: { status: 400, retriable: false, outcome: "definite", description: "Unknown compression codec." },
  INVALID_PRODUCER_EPOCH: { status: 400, retriable: false, outcome: "definite", description: "Producer id, epoch or sequence outside its valid range, or given without the others, or an epoch the broker never issued for this producer id." },
  RECORD_TOO_LARGE: { status: 413, retriable: false, outcome: "definite", description: "One record is larger than the per-record limit (a batch item must fit DynamoDB's 400 KB item cap)." },
  REQUEST_TOO_LARGE: { status: 413, retriable: false, outcome: "definite", description: "The request body, record count or total bytes exceed the per-request limit." },
  NOT_FOUND: { status: 404, retriable: false, outcome: "definite", description: "No such route." },
  METHOD_NOT_ALLOWED: { status: 405, retriable: false, outcome: "definite", description: "The route exists but not for this HTTP method." },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, retriable: false, outcome: "definite", description: "A request body was sent without Content-Type: application/json (UTF-8)." },
  // --- resources -----------------------------------------------------------------------------
  UNKNOWN_TOPIC_OR_PARTITION: { status: 404, retriable: false, outcome: "definite", description: "The topic does not exist, or it has no such partition." },
  TOPIC_ALREADY_EXISTS: { status: 409, retriable: false, outcome: "definite", description: "A topic with this name exists." },
  OFFSET_OUT_OF_RANGE: { status: 416, retriable: false, outcome: "definite", description: "The offset is below the log-start offset or above the high watermark; details carry the valid range." },
  // --- idempotent producer -------------------------------------------------------------------
  OUT_OF_ORDER_SEQUENCE_NUMBER: { status: 409, retriable: false, outcome: "definite", description: "The batch's base sequence is not the next one expected for this producer and partition (a gap: an earlier batch was lost)." },
  DUPLICATE_SEQUENCE_NUMBER: { status: 409, retriable: false, outcome: "definite", description: "The batch was written before but is older than the last 5 batches remembered, so its original offsets are unknown." },
  PRODUCER_FENCED: { status: 409, retriable: false, outcome: "definite", description: "A newer epoch of this producer exists; this instance is a zombie and must stop." },
  UNKNOWN_PRODUCER_ID: { status: 409, retriable: false, outcome: "definite", description: "The broker never issued this producer id (get one from POST /v1/producers), or it has no state on this partition and the sequence does not start at 0." },
  INVALID_PRODUCER_ID_MAPPING: { status: 409, retriable: false, outcome: "definite", description: "The producer id belongs to a transactional id and is used without it or with another one, or an idempotent producer's id is used with a transactional id." },
  // --- transactions --------------------------------------------------------------------------
  TRANSACTIONAL_ID_NOT_FOUND: { status: 404, retriable: false, outcome: "definite", description: "No such transactional id: initialize the producer with it first." },
  TRANSACTION_TOO_LARGE: { status: 413, retriable: false, outcome: "definite", description: "The transaction's commit cannot fit one DynamoDB transaction (100 items, 4 MB): records of any size are staged (docs/transactions.md), but its offsets must fit; details name the limit and the numbers." },
  CONCURRENT_TRANSACTIONS: { status: 409, retriable: true, outcome: "definite", description: "Another request on the same transactional id or items won the race; nothing was written, retry." },
  // --- consumer groups -----------------------------------------------------------------------
  GROUP_ID_NOT_FOUND: { status: 404, retriable: false, outcome: "definite", description: "No such consumer group: nobody ever joined it or committed offsets for it." },
  UNKNOWN_MEMBER_ID: { status: 409, retriable: false, outcome: "definite", description: "The member is not in the group (it left, its session expired, or it never joined): rejoin with memberEpoch 0." },
  FENCED_MEMBER_EPOCH: { status: 409, retriable: false, outcome: "definite", description: "The member epoch is not one the group issued to this member: rejoin with memberEpoch 0." },
  STALE_MEMBER_EPOCH: { status: 409, retriable: false, outcome: "definite", description: "A commit carried an older epoch of a member that is still in the group: heartbeat for the current epoch, then commit what it still owns." },
  UNRELEASED_INSTANCE_ID: { status: 409, retriable: true, outcome: "definite", description: "Another live member holds this static instance id; retry once it has left (memberEpoch -2) or its session expired." },
  GROUP_MAX_SIZE_REACHED: { status: 409, retriable: false, outcome: "definite", description: "The group has as many members as it may have." },
  NON_EMPTY_GROUP: { status: 409, retriable: false, outcome: "definite", description: "The group has live members: offsets of an active group are committed only by its members (with memberId and memberEpoch)." },
  INVALID_SESSION_TIMEOUT: { status: 400, retriable: false, outcome: "definite", description: "sessionTimeoutMs or rebalanceTimeoutMs outside the allowed range." },
  UNSUPPORTED_ASSIGNOR: { status: 400, retriable: false, outcome: "definite", description: "serverAssignor is not one the broker has (uniform, range)." },
  NO_OFFSET_FOR_PARTITION: { status: 404, retriable: false, outcome: "definite", description: "The group has no committed offset for a partition and the reset policy is 'none'; details list the partitions." },
  // --- push subscriptions (shared/core/subscriptions.ts) ---------------------------------------
  INVALID_SUBSCRIPTION: { status: 400, retriable: false, outcome: "definite", description: "A subscription setting is invalid: name, target URL or ARN, batch size, batching window, starting position, retries or delivery mode." },
  SUBSCRIPTION_TARGET_NOT_ALLOWED: { status: 400, retriable: false, outcome: "definite", description: "The broker's configuration does not allow this target: a function not on the allow-list, a plain-http webhook, or a local module where modules are not enabled." },
  SUBSCRIPTION_NOT_FOUND: { status: 404, retriable: false, outcome: "definite", description: "No such subscription." },
  SUBSCRIPTION_ALREADY_EXISTS: { status: 409, retriable: false, outcome: "definite", description: "A subscription with this name exists." },
  // --- security -------------------------------------------------------------------------------
  AUTHENTICATION_FAILED: { status: 401, retriable: false, outcome: "definite", description: "No valid credentials: send an API key (Bearer or Basic) or sign with SigV4." },
  TOPIC_AUTHORIZATION_FAILED: { status: 403, retriable: false, outcome: "definite", description: "The principal may not perform this operation on the topic (says nothing about whether it exists)." },
  GROUP_AUTHORIZATION_FAILED: { status: 403, retriable: false, outcome: "definite", description: "The principal may not perform this operation on the consumer group." },
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: { status: 403, retriable: false, outcome: "definite", description: "The principal may not use this transactional id." },
  PRODUCER_ID_AUTHORIZATION_FAILED: { status: 403, retriable: false, outcome: "definite", description: "The producer id was issued to another principal: use only ids initialized with your own credentials." },
  CLUSTER_AUTHORIZATION_FAILED: { status: 403, retriable: false, outcome: "definite", description: "The principal may not perform this cluster operation (ACLs, API keys); a refused topic creation is TOPIC_AUTHORIZATION_FAILED." },
  THROTTLING_QUOTA_EXCEEDED: { status: 429, retriable: true, outcome: "definite", description: "The principal's request-rate, byte-rate or producer-id quota is used up; retry after retryAfterMs." },
  RESOURCE_NOT_FOUND: { status: 404, retriable: false, outcome: "definite", description: "No such API key or ACL rule." },
  // --- storage and server --------------------------------------------------------------------
  STORAGE_THROTTLED: { status: 503, retriable: true, outcome: "definite", description: "DynamoDB throttled the request before writing; retry with backoff." },
  REQUEST_TIMED_OUT: { status: 504, retriable: true, outcome: "indefinite", description: "The write may or may not have happened; retry with the same producer id, epoch and sequence." },
  STORAGE_ERROR: { status: 503, retriable: true, outcome: "indefinite", description: "DynamoDB failed in a way that leaves the outcome unknown." },
  UNKNOWN_SERVER_ERROR: { status: 500, retriable: false, outcome: "indefinite", description: "A bug: the broker failed unexpectedly." },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_TABLE;

/** JSON-safe extra facts about a refusal (valid range, limit hit, partition, …). */
export type ErrorDetails = Readonly<Record<string, string | number | boolean | null | readonly (string | number)[]>>;

export class DynalogError extends Error {
  override readonly name = "DynalogError";
  readonly code: ErrorCode;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, message: string, options: { details?: ErrorDetails; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details ?? {};
  }

  get status(): number {
    return ERROR_TABLE[this.code].status;
  }
  get retriable(): boolean {
    return ERROR_TABLE[this.code].retriable;
  }
  get outcome(): Outcome {
    return ERROR_TABLE[this.code].outcome;
  }

  /** The `error` object of an API response body. */
  toJSON(): { code: ErrorCode; message: string; retriable: boolean; outcome: Outcome } & ErrorDetails {
    return { ...this.details, code: this.code, message: this.message, retriable: this.retriable, outcome: this.outcome };
  }
}

export function isDynalogError(value: unknown): value is DynalogError {
  return value instanceof DynalogError;
}
