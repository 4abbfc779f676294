/** Errors → HTTP responses: the one place an error code becomes a status. */
import { DynalogError } from "../errors.js";
import { CorruptRecordBatchError } from "../record-batch.js";

/** Any thrown value as a DynalogError; unknown failures become UNKNOWN_SERVER_ERROR. */
export function toDynalogError(error: unknown): DynalogError {
  if (error instanceof DynalogError) return error;
  if (error instanceof CorruptRecordBatchError) {
    return new DynalogError("UNKNOWN_SERVER_ERROR", `A stored batch could not be decoded: ${error.message}`, { cause: error });
  }
  return new DynalogError("UNKNOWN_SERVER_ERROR", "The broker failed unexpectedly; the outcome of this request is unknown", { cause: error });
}

export function errorResponse(error: DynalogError): Response {
  return new Response(JSON.stringify({ error: error.toJSON() }), {
    status: error.status,
    headers: { "content-type": "application/json; charset=utf-8" },
  });
}
