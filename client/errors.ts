/**
 * Typed errors. Every refusal of the broker arrives as `{error: {code, message, retriable, outcome,
 * ...details}}` and becomes a DynalogError carrying exactly those facts; failures that never got an
 * answer from the broker (connection refused, a lost response, a client-side timeout, a gateway
 * error without the envelope) get a client-side code with the outcome they imply.
 */

/** definite: nothing was written. indefinite: it may or may not have been written. */
export type Outcome = "definite" | "indefinite";

/**
 * Codes the SDK itself gives, for failures without a broker answer. Every other code is the
 * broker's (docs/api.md#errors), e.g. "UNKNOWN_TOPIC_OR_PARTITION", "PRODUCER_FENCED".
 */
export const CLIENT_ERROR_CODES = {
  /** The broker could not be reached; the request was never sent (connection refused, DNS). Definite. */
  CONNECTION_ERROR: "CONNECTION_ERROR",
  /** The connection broke after the request may have been sent (reset, lost response). Indefinite. */
  NETWORK_ERROR: "NETWORK_ERROR",
  /** No answer within `requestTimeout`. Indefinite. */
  CLIENT_TIMEOUT: "CLIENT_TIMEOUT",
  /** An HTTP error without Dynalog's error envelope (a gateway or proxy answered). */
  HTTP_ERROR: "HTTP_ERROR",
  /** The client was used in a way it does not support (e.g. send after disconnect). */
  CLIENT_STATE: "CLIENT_STATE",
} as const;

export interface DynalogErrorInit {
  readonly code: string;
  readonly message: string;
  readonly retriable: boolean;
  readonly outcome: Outcome;
  /** HTTP status, when there was an answer. */
  readonly status?: number;
  /** The envelope's other fields: valid range, limit hit, expected sequence, … */
  readonly details?: Record<string, unknown>;
  /** The whole response body (e.g. a produce answer with per-partition results). */
  readonly body?: unknown;
  readonly cause?: unknown;
}

export class DynalogError extends Error {
  override name = "DynalogError";
  /** The broker's error code (docs/api.md#errors) or one of CLIENT_ERROR_CODES. */
  readonly code: string;
  /** Sending the same request again may succeed. */
  readonly retriable: boolean;
  readonly outcome: Outcome;
  readonly status: number | undefined;
  readonly details: Record<string, unknown>;
  readonly body: unknown;

  constructor(init: DynalogErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.code = init.code;
    this.retriable = init.retriable;
    this.outcome = init.outcome;
    this.status = init.status;
    this.details = init.details ?? {};
    this.body = init.body;
  }

  /** A broker refusal from a per-partition `error` object (207 bodies, fetch results). */
  static fromEnvelope(error: Record<string, unknown>, status?: number, body?: unknown): DynalogError {
    const { code, message, retriable, outcome, ...details } = error;
    return new DynalogError({
      code: typeof code === "string" ? code : "UNKNOWN_SERVER_ERROR",
      message: typeof message === "string" ? message : "The broker refused the request",
      retriable: retriable === true,
      outcome: outcome === "definite" ? "definite" : "indefinite",
      status,
      details,
      body,
    });
  }
}

/** The broker (or the network path to it) could not be reached or did not answer. */
export class DynalogConnectionError extends DynalogError {
  override name = "DynalogConnectionError";
  /** The endpoint that was called. */
  readonly url: string;
  constructor(init: DynalogErrorInit & { readonly url: string }) {
    super(init);
    this.url = init.url;
  }
}

/** A transactional or idempotent producer was fenced by a newer instance: stop using it. */
export function isFenced(error: unknown): boolean {
  return error instanceof DynalogError && error.code === "PRODUCER_FENCED";
}

export function isDynalogError(error: unknown): error is DynalogError {
  return error instanceof DynalogError;
}

export function clientStateError(message: string): DynalogError {
  return new DynalogError({ code: CLIENT_ERROR_CODES.CLIENT_STATE, message, retriable: false, outcome: "definite" });
}
