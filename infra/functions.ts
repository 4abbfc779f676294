/**
 * Per-function deployment settings, and the arithmetic that keeps the hole timeout correct.
 *
 * A writer that reserved offsets and died leaves a gap; readers fill a gap once it is older than
 * the hole timeout (DESIGN.md §1.4). "Dead" must be certain by then: Lambda ends an invocation at
 * its timeout, and a DynamoDB request sent just before that can still be applied up to one SDK
 * request timeout later. So for every function that reserves offsets:
 *
 *   holeTimeout > function timeout + DynamoDB request timeout + clock skew margin
 *
 * (The SDK's retries happen inside the invocation, so the function timeout already bounds them.)
 *
 * The hole timeout is also how long a crashed writer stalls its partition's readers: a gap is
 * filled once the hole timeout has passed since the next entry was written (every offset in the
 * gap was reserved before that entry's writer reserved, which it did before writing), or, for a
 * gap at the end of the log, since the latest reservation. So the deployed default is derived
 * from the reserving functions' timeouts — the smallest safe value plus HOLE_TIMEOUT_HEADROOM_MS
 * (18 s with 10 s writers) — not a round number; `holeTimeout` (CDK prop), `dynalog:holeTimeoutMs`
 * (CDK context) and DYNALOG_HOLE_TIMEOUT_MS (env) change it, and synthesis refuses a value at or
 * below the minimum. Too short a timeout would not lose data (a writer whose slot was voided fails
 * cleanly and its client retries) but would void live writers' slots and cost retries.
 */
import { Duration } from "aws-cdk-lib";
import { FETCH_MAX_WAIT_MS } from "../shared/limits.js";
import type { FunctionName } from "../shared/http/routes.js";
import { DYNAMODB_CLIENT_LIMITS } from "../shared/runtime/client-limits.js";
import { FUNCTION_ACCESS, RESERVATION_ATTRIBUTES } from "./permissions.js";

export interface FunctionSettings {
  readonly timeout: Duration;
  readonly description: string;
}

/** An HTTP API gives an integration at most 30 s (API Gateway quotas: "Maximum integration timeout"), a hard limit. */
export const API_GATEWAY_INTEGRATION_TIMEOUT_MS = 30_000;
/**
 * What a request can spend before the function's own timeout starts: the key API's authorizer (its
 * timeout, on a cache miss) and a cold start's init phase, which Lambda does not count in the
 * function timeout (a bundled init is ~0.2 s; 1 s is the margin).
 */
export const GATEWAY_TIMEOUT_MARGIN_MS = 1_000;

/**
 * Timeouts: every function must answer before API Gateway gives up (30 s, counted from the request,
 * authorizer and cold start included), or the client sees a 503 while the function may still be
 * writing; checkGatewayTimeouts enforces it. The writers are kept short so the hole timeout (and
 * with it the time a dead writer's gap blocks readers) can stay short too.
 */
export const FUNCTION_SETTINGS: Readonly<Record<FunctionName, FunctionSettings>> = {
  admin: { timeout: Duration.seconds(24), description: "Dynalog topic administration (create, describe, list, delete)" },
  produce: { timeout: Duration.seconds(10), description: "Dynalog produce and producer-id allocation" },
  // A long poll waits up to FETCH_MAX_WAIT_MS, then reads.
  fetch: { timeout: Duration.millis(FETCH_MAX_WAIT_MS + 4_000), description: "Dynalog fetch, long poll and offset lookup" },
  commit: { timeout: Duration.seconds(10), description: "Dynalog consumer-group offset commits" },
  transactions: { timeout: Duration.seconds(10), description: "Dynalog transaction commits (records and offsets at once)" },
  // Admin's timeout, which served these routes before: create and describe read every partition's
  // head and committed offset. It reserves no offsets, so it does not bear on the hole timeout.
  subscriptions: { timeout: Duration.seconds(24), description: "Dynalog push-subscription management (create, list, describe, pause, resume, rotate, delete)" },
};

/**
 * The key API's authorizer reads one item; API Gateway waits at most 10 s for an authorizer, and a
 * slow answer is better cut short (the client sees 500 and retries) than left to hold the request.
 */
export const AUTHORIZER_SETTINGS: FunctionSettings = { timeout: Duration.seconds(5), description: "Dynalog API-key authorizer (the key API)" };

/**
 * The push-subscription dispatcher (not behind API Gateway): Lambda's longest timeout, so a run
 * fits one invocation of the longest target timeout (MAX_TIMEOUT_MS, 10 minutes) with time to
 * spare; the run's time budget stops it from starting a batch that could not finish.
 */
export const DISPATCHER_SETTINGS: FunctionSettings = { timeout: Duration.minutes(15), description: "Dynalog push-subscription dispatcher (log stream and a schedule)" };

/** Problems with the functions' timeouts against API Gateway's 30 s (empty when none). */
export function gatewayTimeoutProblems(): string[] {
  const before = AUTHORIZER_SETTINGS.timeout.toMilliseconds() + GATEWAY_TIMEOUT_MARGIN_MS;
  return (Object.keys(FUNCTION_SETTINGS) as FunctionName[])
    .filter((fn) => FUNCTION_SETTINGS[fn].timeout.toMilliseconds() + before > API_GATEWAY_INTEGRATION_TIMEOUT_MS)
    .map((fn) => `The ${fn} function's timeout (${FUNCTION_SETTINGS[fn].timeout.toMilliseconds()} ms) + authorizer (${AUTHORIZER_SETTINGS.timeout.toMilliseconds()} ms) + ${GATEWAY_TIMEOUT_MARGIN_MS} ms margin exceeds API Gateway's ${API_GATEWAY_INTEGRATION_TIMEOUT_MS} ms integration timeout`);
}

/** Margin for the difference between the writer's clock and the reader's (NTP keeps Lambda's within milliseconds). */
export const CLOCK_SKEW_MARGIN_MS = 2_000;

/** Above the minimum because the inequality is strict, and so a writer exactly at its deadline is not voided. */
export const HOLE_TIMEOUT_HEADROOM_MS = 1_000;

/** Functions allowed to reserve offsets (they hold the reservation grant): their death leaves gaps. */
export function reservingFunctions(): FunctionName[] {
  return (Object.keys(FUNCTION_ACCESS) as FunctionName[]).filter((fn) =>
    (FUNCTION_ACCESS[fn].partitions ?? []).some((grant) => grant.onlyAttributes === RESERVATION_ATTRIBUTES),
  );
}

/** The smallest hole timeout that is safe for a writer with this function timeout. */
export function minimumHoleTimeoutMs(functionTimeoutMs: number): number {
  return functionTimeoutMs + DYNAMODB_CLIENT_LIMITS.requestTimeoutMs + CLOCK_SKEW_MARGIN_MS;
}

/** The smallest safe hole timeout for the deployed writers: the largest over every reserving function. */
export function requiredHoleTimeoutMs(): number {
  return Math.max(...reservingFunctions().map((fn) => minimumHoleTimeoutMs(FUNCTION_SETTINGS[fn].timeout.toMilliseconds())));
}

/** The deployed default: derived from the writers' timeouts (18 s with 10 s writers). */
export const DEFAULT_HOLE_TIMEOUT = Duration.millis(requiredHoleTimeoutMs() + HOLE_TIMEOUT_HEADROOM_MS);

/** Throws a clear message if `holeTimeoutMs` is one the reserving functions could outlive. */
export function assertSafeHoleTimeout(holeTimeoutMs: number): void {
  if (!Number.isInteger(holeTimeoutMs) || holeTimeoutMs <= 0) throw new Error(`holeTimeout must be a whole, positive number of milliseconds, got ${holeTimeoutMs}`);
  for (const fn of reservingFunctions()) {
    const functionTimeoutMs = FUNCTION_SETTINGS[fn].timeout.toMilliseconds();
    const needed = minimumHoleTimeoutMs(functionTimeoutMs);
    if (holeTimeoutMs <= needed) {
      throw new Error(
        `holeTimeout ${holeTimeoutMs} ms is unsafe: the ${fn} function can still write until ${needed} ms after it starts ` +
          `(${functionTimeoutMs} ms function timeout + ${DYNAMODB_CLIENT_LIMITS.requestTimeoutMs} ms DynamoDB request timeout + ${CLOCK_SKEW_MARGIN_MS} ms clock margin); ` +
          `it must be greater than ${needed} ms (default ${requiredHoleTimeoutMs() + HOLE_TIMEOUT_HEADROOM_MS} ms, DESIGN.md §1.4)`,
      );
    }
  }
}
