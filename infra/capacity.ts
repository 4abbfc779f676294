/**
 * Memory and concurrency of the broker's functions, and the checks that keep a deploy from failing
 * (or from starving the writers) because of them. The arithmetic behind the defaults is in
 * docs/deploy.md ("Concurrency" and "Cost").
 *
 * Why fetch gets less memory: a long poll spends almost all of its up to 20 s waiting, and Lambda
 * bills the whole wait at the configured memory (GB-seconds). 512 MB halves the idle cost of 1024
 * MB while keeping enough CPU (which scales with memory) to encode a 3 MiB answer quickly.
 *
 * Why concurrency is not reserved by default: reserved concurrency is taken from the account's
 * pool, and Lambda refuses any reservation that would leave fewer than 100 unreserved executions.
 * A new account can start with a concurrency quota of 10, where ANY reservation fails the deploy.
 * So the default deploys everywhere, and synthesis warns that fetch is uncapped; a deployer whose
 * account has the room sets `fetchConcurrency` (a cap on concurrent fetches, so idle long polls can
 * never take the executions produce, commit and the authorizer need) and/or `reservedConcurrency`.
 */
import type { FunctionName } from "../shared/http/routes.js";

export type CapacityFunction = FunctionName | "authorizer" | "dispatcher";

/** Lambda keeps at least this many executions unreserved in every account (Lambda quotas page). */
export const LAMBDA_MIN_UNRESERVED_CONCURRENCY = 100;
/** The default account concurrency quota of an established account (new ones may have less). */
export const DEFAULT_ACCOUNT_CONCURRENCY = 1000;

export const DEFAULT_MEMORY_MB = 1024;
/** See the header: a waiting long poll needs little; the bill is memory × wait. */
export const DEFAULT_FETCH_MEMORY_MB = 512;

export interface CapacityProps {
  /** Memory of every function but fetch, in MB. Default 1024. */
  readonly memorySize?: number;
  /** Memory of the fetch function, in MB. Default 512 (see the header). */
  readonly fetchMemorySize?: number;
  /** Reserved concurrency per function (caps it, and guarantees it). Default: none. */
  readonly reservedConcurrency?: Readonly<Partial<Record<CapacityFunction, number>>>;
  /** Cap on concurrent fetch executions (reserved concurrency of fetch). Default: none, with a synth warning. */
  readonly fetchConcurrency?: number;
  /** The account's Lambda concurrency quota, to check reservations against. Default 1000. */
  readonly accountConcurrency?: number;
}

export interface Capacity {
  readonly memoryMb: (fn: CapacityFunction) => number;
  readonly reserved: (fn: CapacityFunction) => number | undefined;
  /** Warnings for synthesis (Annotations), e.g. "fetch is uncapped". */
  readonly warnings: readonly string[];
}

/** Validates the props and answers each function's memory and reservation; throws a clear message on a bad value. */
export function resolveCapacity(props: CapacityProps): Capacity {
  const memory = props.memorySize ?? DEFAULT_MEMORY_MB;
  const fetchMemory = props.fetchMemorySize ?? (props.memorySize !== undefined ? Math.min(props.memorySize, DEFAULT_FETCH_MEMORY_MB) : DEFAULT_FETCH_MEMORY_MB);
  for (const [name, value] of [["memorySize", memory], ["fetchMemorySize", fetchMemory]] as const) {
    if (!Number.isInteger(value) || value < 128 || value > 10_240) throw new Error(`${name} must be a whole number of MB from 128 to 10240 (Lambda's range), got ${value}`);
  }
  const reserved: Partial<Record<CapacityFunction, number>> = { ...props.reservedConcurrency };
  if (props.fetchConcurrency !== undefined) {
    if (reserved.fetch !== undefined && reserved.fetch !== props.fetchConcurrency) {
      throw new Error(`fetchConcurrency (${props.fetchConcurrency}) and reservedConcurrency.fetch (${reserved.fetch}) disagree; set one`);
    }
    reserved.fetch = props.fetchConcurrency;
  }
  const account = props.accountConcurrency ?? DEFAULT_ACCOUNT_CONCURRENCY;
  if (!Number.isInteger(account) || account < 1) throw new Error(`accountConcurrency must be a positive whole number, got ${account}`);
  let total = 0;
  for (const [fn, value] of Object.entries(reserved) as [CapacityFunction, number][]) {
    // 0 would throttle every request of that function: never what a deployer means.
    if (!Number.isInteger(value) || value < 1) throw new Error(`reserved concurrency of ${fn} must be a whole number ≥ 1, got ${value}`);
    total += value;
  }
  const reservable = account - LAMBDA_MIN_UNRESERVED_CONCURRENCY;
  if (total > 0 && total > reservable) {
    throw new Error(
      `Reserved concurrency totals ${total}, but an account with a concurrency quota of ${account} can reserve at most ${Math.max(0, reservable)} ` +
        `(Lambda keeps ${LAMBDA_MIN_UNRESERVED_CONCURRENCY} unreserved; other functions' reservations count too). ` +
        `Lower it, or set accountConcurrency to your account's quota (Service Quotas → Lambda → Concurrent executions). docs/deploy.md, Concurrency.`,
    );
  }
  const warnings: string[] = [];
  if (reserved.fetch === undefined) {
    warnings.push(
      "Fetch concurrency is uncapped: idle long polls (one execution each, up to 20 s) can take the account's Lambda concurrency and throttle produce, commit and the key authorizer. " +
        "Set fetchConcurrency (context dynalog:fetchConcurrency) once your account's quota allows reservations; docs/deploy.md, Concurrency.",
    );
  }
  return {
    memoryMb: (fn) => (fn === "fetch" ? fetchMemory : memory),
    reserved: (fn) => reserved[fn],
    warnings,
  };
}
