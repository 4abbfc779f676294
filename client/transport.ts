/**
 * The HTTP transport: global `fetch` (or one you inject), JSON in and out, authentication, a
 * per-request timeout, typed errors and safe retries. Everything the SDK does goes through
 * `Transport.request`.
 */
import { CLIENT_ERROR_CODES, DynalogConnectionError, DynalogError } from "./errors.js";
import { toBase64, utf8Bytes } from "./bytes.js";
import type { Logger } from "./logger.js";
import { backoff, mayRetry, retryAfterMs, sleep, type ResolvedRetry } from "./retry.js";
import { sigv4Signer, type RequestToSign, type SigV4Options } from "./sigv4.js";

/** What a custom authenticator sees (method, url, headers, body): sign it and return the headers to add. */
export type SignableRequest = RequestToSign;

export type AuthHeaderProvider = (request: SignableRequest) => Promise<Record<string, string>> | Record<string, string>;

export type AuthConfig =
  /** A Dynalog API key: `Authorization: Bearer dlk_<keyId>_<secret>`. */
  | { readonly type: "bearer"; readonly token: string }
  /** The same key as HTTP Basic: username = key id, password = secret. */
  | { readonly type: "basic"; readonly username: string; readonly password: string }
  /** AWS SigV4 (API Gateway's IAM authorization), signed by the SDK: see sigv4.ts. */
  | { readonly sigv4: SigV4Options }
  /** Anything else: sign or decorate the request yourself and return the headers to add. */
  | AuthHeaderProvider;

export type FetchFunction = (input: string, init: RequestInit) => Promise<Response>;

/** One HTTP attempt, as instrumentation events report it (KafkaJS's REQUEST / REQUEST_TIMEOUT). */
export interface RequestAttempt {
  readonly method: string;
  readonly path: string;
  /** The HTTP status; undefined when no answer arrived. */
  readonly status: number | undefined;
  readonly createdAt: number;
  readonly duration: number;
  /** The failure of this attempt (a refusal, a timeout, a broken connection), if any. */
  readonly error: DynalogError | undefined;
}
export type RequestObserver = (attempt: RequestAttempt) => void;

export interface TransportOptions {
  readonly url: string;
  readonly auth?: AuthConfig;
  readonly requestTimeout: number;
  readonly retry: ResolvedRetry;
  readonly fetch?: FetchFunction;
  readonly logger: Logger;
  readonly clientId?: string;
}

export interface RequestOptions {
  readonly method: "GET" | "POST" | "DELETE";
  readonly path: string;
  readonly query?: Readonly<Record<string, string | number | undefined>>;
  readonly body?: unknown;
  /**
   * May an indefinite outcome be retried? True for reads, offset commits and writes that carry the
   * same producer/transaction sequence (the broker deduplicates them); false otherwise.
   */
  readonly idempotent: boolean;
  /** Override the retry policy; `false` = one attempt (the caller retries). */
  readonly retry?: ResolvedRetry | false;
  /** Added to `requestTimeout` (e.g. a long poll's `maxWaitMs`). */
  readonly extraTimeoutMs?: number;
  readonly signal?: AbortSignal;
  /**
   * The `Accept` header (default application/json). An answer whose content type is not JSON
   * resolves with its body's bytes (a Uint8Array) instead of parsed JSON; errors are JSON either way.
   */
  readonly accept?: string;
}

/** Connection errors that mean the request never left this machine. */
const NOT_SENT = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ENETUNREACH", "EHOSTUNREACH", "UND_ERR_CONNECT_TIMEOUT", "ERR_INVALID_URL"]);

export class Transport {
  readonly baseUrl: string;
  private readonly fetchImpl: FetchFunction;
  private readonly auth: AuthHeaderProvider | undefined;

  constructor(
    private readonly options: TransportOptions,
    private readonly observer?: RequestObserver,
    auth?: AuthHeaderProvider,
  ) {
    this.baseUrl = options.url.replace(/\/+$/, "");
    this.fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
    this.auth = auth ?? authProvider(options.auth);
  }

  /** The same transport (auth and all) reporting every attempt to `observer`: one per client, for its events. */
  withObserver(observer: RequestObserver): Transport {
    return new Transport(this.options, observer, this.auth);
  }

  get clientId(): string | undefined {
    return this.options.clientId;
  }

  /**
   * The API key as a bare token (`dlk_<keyId>_<secret>`), for channels that cannot carry an
   * Authorization header (the notification WebSocket); undefined with SigV4 or a custom signer.
   */
  get apiKeyToken(): string | undefined {
    const auth = this.options.auth;
    if (auth === undefined || typeof auth === "function" || "sigv4" in auth) return undefined;
    return auth.type === "bearer" ? auth.token : `dlk_${auth.username}_${auth.password}`;
  }

  /** Whether requests are signed per request (SigV4 or a custom signer): nothing a WebSocket URL can carry. */
  get signsRequests(): boolean {
    const auth = this.options.auth;
    return auth !== undefined && (typeof auth === "function" || "sigv4" in auth);
  }

  get retryPolicy(): ResolvedRetry {
    return this.options.retry;
  }

  /** One request with the retry policy applied; resolves with the parsed JSON body. */
  async request<T>(options: RequestOptions): Promise<T> {
    const retry = options.retry === undefined ? this.options.retry : options.retry;
    const started = Date.now();
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.once<T>(options);
      } catch (error) {
        if (options.signal?.aborted) throw error;
        if (retry === false || attempt >= retry.retries || !mayRetry(error, options.idempotent)) throw error;
        const wait = Math.max(backoff(retry, attempt), retryAfterMs(error) ?? 0);
        if (Date.now() - started + wait > retry.maxRetryTime) throw error;
        this.options.logger.debug("Retrying request", { method: options.method, path: options.path, attempt: attempt + 1, waitMs: wait, error: (error as Error).message });
        await sleep(wait, options.signal);
      }
    }
  }

  /** One attempt, no retries. */
  async once<T>(options: RequestOptions): Promise<T> {
    const createdAt = Date.now();
    try {
      const answer = await this.attempt<T>(options);
      if (this.observer) this.report(options, createdAt, answer.status, undefined);
      return answer.value;
    } catch (error) {
      if (this.observer && error instanceof DynalogError) this.report(options, createdAt, error.status, error);
      throw error;
    }
  }

  private report(options: RequestOptions, createdAt: number, status: number | undefined, error: DynalogError | undefined): void {
    try {
      this.observer!({ method: options.method, path: options.path, status, createdAt, duration: Date.now() - createdAt, error });
    } catch {
      // An observer's failure is not the request's.
    }
  }

  private async attempt<T>(options: RequestOptions): Promise<{ value: T; status: number }> {
    const url = this.url(options.path, options.query);
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const headers: Record<string, string> = { accept: options.accept ?? "application/json" };
    if (body !== undefined) headers["content-type"] = "application/json";
    if (this.options.clientId) headers["x-dynalog-client-id"] = this.options.clientId;
    if (this.auth) Object.assign(headers, await this.auth({ method: options.method, url, headers: { ...headers }, body }));

    const timeout = AbortSignal.timeout(this.options.requestTimeout + (options.extraTimeoutMs ?? 0));
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    let response: Response;
    let text: string;
    try {
      response = await this.fetchImpl(url, { method: options.method, headers, body, signal });
      if (response.ok && options.accept !== undefined && !isJson(response.headers.get("content-type"))) {
        const bytes = new Uint8Array(await response.arrayBuffer());
        return { value: bytes as T, status: response.status };
      }
      text = await response.text();
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason ?? error;
      throw this.networkError(error, url, timeout.aborted);
    }
    let parsed: unknown;
    try {
      parsed = text.length === 0 ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (response.ok) return { value: parsed as T, status: response.status };
    const envelope = (parsed as { error?: unknown } | undefined)?.error;
    if (envelope && typeof envelope === "object") throw DynalogError.fromEnvelope(envelope as Record<string, unknown>, response.status, parsed);
    throw httpError(response.status, text, url);
  }

  url(path: string, query?: Readonly<Record<string, string | number | undefined>>): string {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(query ?? {})) if (value !== undefined) search.set(key, String(value));
    const qs = search.toString();
    return `${this.baseUrl}${path}${qs ? `?${qs}` : ""}`;
  }

  private networkError(error: unknown, url: string, timedOut: boolean): DynalogConnectionError {
    if (timedOut) {
      return new DynalogConnectionError({
        code: CLIENT_ERROR_CODES.CLIENT_TIMEOUT,
        message: `No answer from ${this.baseUrl} within ${this.options.requestTimeout} ms; the outcome is unknown`,
        retriable: true,
        outcome: "indefinite",
        url,
        cause: error,
      });
    }
    const code = errorCode(error);
    if (code !== undefined && NOT_SENT.has(code)) {
      return new DynalogConnectionError({
        code: CLIENT_ERROR_CODES.CONNECTION_ERROR,
        message: `Cannot reach Dynalog at ${this.baseUrl} (${describeCode(code)})`,
        retriable: true,
        outcome: "definite",
        url,
        details: { cause: code },
        cause: error,
      });
    }
    return new DynalogConnectionError({
      code: CLIENT_ERROR_CODES.NETWORK_ERROR,
      message: `The connection to ${this.baseUrl} failed before an answer arrived (${code ?? rootMessage(error)}); the outcome is unknown`,
      retriable: true,
      outcome: "indefinite",
      url,
      details: code ? { cause: code } : {},
      cause: error,
    });
  }
}

function isJson(contentType: string | null): boolean {
  return contentType === null || /^application\/(?:[\w.+-]+\+)?json\b/i.test(contentType.trim());
}

/** Every auth option as one function from the request to the headers to add. */
function authProvider(auth: AuthConfig | undefined): AuthHeaderProvider | undefined {
  if (auth === undefined || auth === null) return undefined;
  if (typeof auth === "function") return auth;
  if ("sigv4" in auth) return sigv4Signer(auth.sigv4);
  if (auth.type === "bearer") {
    const headers = { authorization: `Bearer ${auth.token}` };
    return () => headers;
  }
  if (auth.type === "basic") {
    const headers = { authorization: `Basic ${toBase64(utf8Bytes(`${auth.username}:${auth.password}`))}` };
    return () => headers;
  }
  throw new TypeError("auth must be { type: 'bearer', token }, { type: 'basic', username, password }, { sigv4: { region, credentials } } or a function returning headers");
}

function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current && typeof current === "object"; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") return code;
    // AggregateError (happy eyeballs: IPv4 and IPv6 both refused)
    const errors = (current as { errors?: unknown[] }).errors;
    if (Array.isArray(errors) && errors.length > 0) {
      current = errors[0];
      continue;
    }
    current = (current as { cause?: unknown }).cause;
  }
  if (error instanceof TypeError && /invalid url/i.test(error.message)) return "ERR_INVALID_URL";
  return undefined;
}

function rootMessage(error: unknown): string {
  let current: unknown = error;
  let message = "unknown";
  for (let depth = 0; depth < 5 && current && typeof current === "object"; depth++) {
    const text = (current as { message?: unknown }).message;
    if (typeof text === "string" && text.length > 0) message = text;
    current = (current as { cause?: unknown }).cause;
  }
  return message;
}

function describeCode(code: string): string {
  if (code === "ECONNREFUSED") return "connection refused";
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return "host not found";
  if (code === "ERR_INVALID_URL") return "invalid URL";
  return code;
}

/** An HTTP error without Dynalog's envelope: a gateway, proxy or load balancer answered. */
function httpError(status: number, text: string, url: string): DynalogError {
  const gateway = status === 502 || status === 503 || status === 504;
  const snippet = text.replace(/\s+/g, " ").slice(0, 200);
  return new DynalogConnectionError({
    code: CLIENT_ERROR_CODES.HTTP_ERROR,
    message: `HTTP ${status} from ${url}${snippet ? `: ${snippet}` : ""}`,
    // A gateway error says nothing about whether the broker wrote; a 4xx was refused before it.
    retriable: gateway || status === 429,
    outcome: status >= 500 ? "indefinite" : "definite",
    status,
    url,
  });
}
