/**
 * Maps AWS SDK failures to the broker's error codes, and TransactWriteItems cancellations back to
 * the action that caused them (castore's flaw avoided: a cancelled transaction always says which
 * item failed and why).
 */
import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import { DynalogError } from "../errors.js";

/** One action of a transaction, labelled so a cancellation can name it. */
export interface LabelledAction<Label> {
  readonly label: Label;
  readonly action: Record<string, unknown>;
}

export type CancellationCode =
  | "None"
  | "ConditionalCheckFailed"
  | "TransactionConflict"
  | "ThrottlingError"
  | "ItemCollectionSizeLimitExceeded"
  | "ValidationError"
  | "ProvisionedThroughputExceeded"
  | string;

export interface CancelledAction<Label> {
  readonly index: number;
  readonly label: Label;
  readonly code: CancellationCode;
  readonly message?: string;
  /** The item as it was when the condition failed (ReturnValuesOnConditionCheckFailure: ALL_OLD). */
  readonly oldItem?: Record<string, unknown>;
}

interface CancellationReasonLike {
  Code?: string;
  Message?: string;
  Item?: Record<string, unknown>;
}

export function isTransactionCanceled(error: unknown): error is Error & { CancellationReasons?: CancellationReasonLike[] } {
  return error instanceof Error && error.name === "TransactionCanceledException";
}

/** Every action whose reason is not "None", with its label. */
export function cancelledActions<Label>(
  error: Error & { CancellationReasons?: CancellationReasonLike[] },
  actions: readonly LabelledAction<Label>[],
): CancelledAction<Label>[] {
  const reasons = error.CancellationReasons ?? [];
  const failed: CancelledAction<Label>[] = [];
  reasons.forEach((reason, index) => {
    const code = reason.Code ?? "None";
    const labelled = actions[index];
    if (code === "None" || labelled === undefined) return;
    failed.push({ index, label: labelled.label, code, message: reason.Message, oldItem: reason.Item && plainItem(reason.Item) });
  });
  return failed;
}

const ATTRIBUTE_VALUE_TYPES = new Set(["S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL"]);

/**
 * The document client unmarshalls responses but not the items inside a TransactionCanceledException:
 * CancellationReasons[i].Item arrives as raw AttributeValues ({e: {N: "3"}}). Unmarshall it here so
 * callers always get plain values (left as is if it is already plain).
 */
export function plainItem(item: Record<string, unknown>): Record<string, unknown> {
  const raw = Object.values(item).every((v) => {
    if (typeof v !== "object" || v === null) return false;
    const keys = Object.keys(v);
    return keys.length === 1 && ATTRIBUTE_VALUE_TYPES.has(keys[0]!);
  });
  return raw ? unmarshall(item as Record<string, AttributeValue>) : item;
}

export function describeCancellation<Label>(failed: readonly CancelledAction<Label>[]): string {
  return failed.map((f) => `action ${f.index} (${String(f.label)}): ${f.code}${f.message ? ` - ${f.message}` : ""}`).join("; ");
}

const THROTTLING_ERRORS = new Set([
  "ProvisionedThroughputExceededException",
  "ThrottlingException",
  "RequestLimitExceeded",
  "LimitExceededException",
]);

/** Errors where DynamoDB may have applied the write before the failure reached us. */
const INDEFINITE_ERRORS = new Set([
  "TimeoutError",
  "RequestTimeout",
  "RequestTimeoutException",
  "InternalServerError",
  "InternalFailure",
  "ServiceUnavailable",
  "TransactionInProgressException",
  "AbortError",
]);

/** Translate an unexpected AWS SDK error into the broker's error table. */
export function storageFailure(error: unknown, operation: string): DynalogError {
  if (error instanceof DynalogError) return error;
  const name = error instanceof Error ? error.name : "Unknown";
  const message = error instanceof Error ? error.message : String(error);
  if (THROTTLING_ERRORS.has(name)) {
    return new DynalogError("STORAGE_THROTTLED", `DynamoDB throttled ${operation}: ${message}`, { cause: error });
  }
  if (isTransactionCanceled(error)) {
    const codes = (error.CancellationReasons ?? []).map((r) => r.Code ?? "None");
    if (codes.some((c) => c === "ThrottlingError" || c === "ProvisionedThroughputExceeded")) {
      return new DynalogError("STORAGE_THROTTLED", `DynamoDB throttled ${operation}`, { cause: error, details: { reasons: codes } });
    }
  }
  if (INDEFINITE_ERRORS.has(name) || isNetworkError(error)) {
    return new DynalogError("REQUEST_TIMED_OUT", `DynamoDB ${operation} did not complete (${name}); the outcome is unknown`, { cause: error });
  }
  return new DynalogError("STORAGE_ERROR", `DynamoDB ${operation} failed (${name}): ${message}`, { cause: error });
}

function isNetworkError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" && ["ECONNRESET", "ECONNREFUSED", "EPIPE", "ETIMEDOUT", "EAI_AGAIN"].includes(code);
}

/** The AWS SDK sent this request more than once (its own retries): an earlier copy may have applied. */
export function sentMoreThanOnce(error: unknown): boolean {
  const attempts = (error as { $metadata?: { attempts?: number } } | undefined)?.$metadata?.attempts;
  return typeof attempts === "number" && attempts > 1;
}

/**
 * Like storageFailure, for writes: a failure that would be definite on its own (throttled, refused)
 * is not, when the SDK retried the request — an earlier attempt may have been applied and only its
 * response lost. Then the outcome is unknown and the caller must settle it.
 */
export function writeFailure(error: unknown, operation: string): DynalogError {
  const mapped = storageFailure(error, operation);
  if (mapped.outcome === "indefinite" || !sentMoreThanOnce(error)) return mapped;
  return new DynalogError("STORAGE_ERROR", `DynamoDB ${operation} failed after the SDK retried it (${mapped.message}); an earlier attempt may have been applied`, { cause: error });
}

/** True when retrying the same request cannot have doubled anything and may well succeed. */
export function isTransientStorageError(error: unknown): boolean {
  const mapped = storageFailure(error, "request");
  return mapped.code === "STORAGE_THROTTLED" || mapped.code === "REQUEST_TIMED_OUT";
}
