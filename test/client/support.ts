/** Helpers for SDK tests: a broker served over HTTP, instrumented fetch, and a waiter. */
import { createTestBroker, createTestTables, serveApp, TestClock, type Served, type TestBroker, type TestBrokerOptions } from "../support/broker.js";
import { Dynalog, logLevel, type DynalogConfig, type FetchFunction } from "../../client/index.js";

export interface ClientTestEnv {
  readonly harness: TestBroker;
  readonly served: Served;
  readonly url: string;
  close(): Promise<void>;
}

export async function startBroker(label: string, options: TestBrokerOptions = {}): Promise<ClientTestEnv> {
  const harness = createTestBroker(await createTestTables(label), options);
  const served = await serveApp(harness.app);
  return { harness, served, url: served.url, close: () => served.close() };
}

/** A client that logs only errors worth seeing in test output (none by default). */
export function client(url: string, config: Partial<DynalogConfig> = {}): Dynalog {
  return new Dynalog({ url, logLevel: logLevel.NOTHING, retry: { initialRetryTime: 50, maxRetryTime: 5_000, retries: 5 }, ...config });
}

/** The real clock plus a skew tests can add to: timers (long polls) keep running, leases can be jumped past. */
export class SkewClock extends TestClock {
  skew = 0;
  override readonly now = (): number => Date.now() + this.skew;
  override advance(ms: number): void {
    this.skew += ms;
  }
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly body: any;
}

/**
 * A fetch wrapper: records requests, can lose the answer of chosen requests (the request reaches
 * the broker, the client sees a connection reset), and can "crash" the client: from then on no
 * request is sent and none of those in flight ever settles — as if the process had died.
 */
export class FetchControl {
  readonly requests: RecordedRequest[] = [];
  private dropRules: { match: (r: RecordedRequest) => boolean; left: number }[] = [];
  private crashed = false;
  readonly fetch: FetchFunction = async (input, init) => {
    if (this.crashed) return new Promise<Response>(() => {});
    const url = new URL(input);
    const request: RecordedRequest = { method: init.method ?? "GET", path: url.pathname, body: typeof init.body === "string" ? JSON.parse(init.body) : undefined };
    this.requests.push(request);
    const rule = this.dropRules.find((r) => r.left > 0 && r.match(request));
    const crashAfter = this.crashAfterRule?.(request) === true;
    const response = await fetch(input, init);
    if (crashAfter) {
      await response.arrayBuffer(); // the broker did the work…
      this.crash(); // …and the process died before reading the answer
    }
    if (this.crashed) return new Promise<Response>(() => {});
    if (rule) {
      rule.left--;
      await response.arrayBuffer(); // the broker did the work; the answer is lost on the way back
      const error = new TypeError("fetch failed");
      (error as any).cause = Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" });
      throw error;
    }
    return response;
  };

  /** Lose the answers of the next `times` requests that match. */
  dropResponse(match: (r: RecordedRequest) => boolean, times = 1): void {
    this.dropRules.push({ match, left: times });
  }

  crash(): void {
    this.crashed = true;
    this.onCrash?.();
  }

  /** Crash once a matching request has been served by the broker (its answer is never read). */
  crashAfter(match: (r: RecordedRequest) => boolean, onCrash?: () => void): void {
    this.crashAfterRule = match;
    this.onCrash = onCrash;
  }
  private crashAfterRule: ((r: RecordedRequest) => boolean) | undefined;
  private onCrash: (() => void) | undefined;

  count(match: (r: RecordedRequest) => boolean): number {
    return this.requests.filter(match).length;
  }
}

/** Polls `condition` (no fixed sleeps: returns as soon as it holds). */
export async function waitFor<T>(condition: () => T | Promise<T>, { timeoutMs = 20_000, intervalMs = 25, what = "condition" } = {}): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** A promise and its resolver. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}
