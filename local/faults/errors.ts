/**
 * The errors the fault layer injects, shaped like the real ones so the SDK's retry logic and the
 * broker's error mapping (shared/storage/dynamo-errors.ts) treat them exactly as they would in AWS.
 */
import { ProvisionedThroughputExceededException, ThrottlingException, TransactionCanceledException } from "@aws-sdk/client-dynamodb";

/** The response never arrived (the request may have been applied): the SDK retries it. */
export function injectedTimeout(): Error {
  const error = new Error("Injected: socket timed out before the response arrived");
  error.name = "TimeoutError";
  return error;
}

/** The connection broke before the request was sent (nothing applied): the SDK retries it. */
export function injectedConnectionReset(): Error {
  const error = new Error("Injected: socket hang up before the request was sent") as Error & { code: string };
  error.name = "Error";
  error.code = "ECONNRESET";
  return error;
}

export type ThrottleErrorName = "ProvisionedThroughputExceededException" | "ThrottlingException";

/** DynamoDB refused the request for capacity (nothing applied); the SDK retries with back-off. */
export function injectedThrottle(name: ThrottleErrorName = "ProvisionedThroughputExceededException"): Error {
  const $metadata = { httpStatusCode: 400 };
  return name === "ThrottlingException"
    ? new ThrottlingException({ message: "Injected: Rate of requests exceeds the allowed throughput.", $metadata })
    : new ProvisionedThroughputExceededException({
        message: "Injected: The level of configured provisioned throughput for the table was exceeded.",
        $metadata,
      });
}

/**
 * TransactWriteItems cancelled because another transaction held one of its items: one reason per
 * action, "None" except `conflicting` (indexes), exactly as DynamoDB reports it. Not retried by the
 * SDK (DynamoDB's TransactionConflict is a client error the caller must handle).
 */
export function injectedTransactionConflict(actions: number, conflicting: readonly number[]): TransactionCanceledException {
  const reasons = Array.from({ length: actions }, (_, i) =>
    conflicting.includes(i) ? { Code: "TransactionConflict", Message: "Transaction is ongoing for the item" } : { Code: "None" },
  );
  const message = `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(", ")}]`;
  return new TransactionCanceledException({ message, Message: message, CancellationReasons: reasons, $metadata: { httpStatusCode: 400 } });
}
