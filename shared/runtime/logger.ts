/**
 * Structured JSON logs for the Lambda functions: one JSON object per line on stdout (DEBUG, INFO)
 * or stderr (WARN, ERROR), which Lambda ships to CloudWatch Logs, where Logs Insights reads the
 * fields without any parsing rule.
 *
 * Why not Powertools Logger (used until issue 17): it was 16 KB of every bundle plus 4 KB of
 * Powertools commons, and ~16 ms of every cold start (measured in docs/deploy.md), against the
 * ≤ 400 KB / ≤ 100 ms budget per API function; the broker used a fraction of it (no sampling, no
 * buffering, no child loggers, no custom formatters). This keeps Powertools' field names and
 * order, so saved Logs Insights queries and the console's log links keep working:
 *
 *   level, message, timestamp, service, cold_start, function_arn, function_memory_size,
 *   function_name, function_request_id, sampling_rate, xray_trace_id, <persistent keys>,
 *   correlation_id, <appended keys>, <the call's attributes>
 *
 * Errors are written as Powertools wrote them: `{ name, location, message, stack, cause, …own
 * enumerable fields }`, under `error` when passed as the call's extra argument.
 */
import type { Context } from "aws-lambda";
import type { LogLevel } from "./config.js";

export type LogAttributes = Readonly<Record<string, unknown>>;
/** What a log call may add: attributes merged into the line, an Error (→ `error`), or a string (→ `extra`). */
export type LogExtra = LogAttributes | Error | string;

const THRESHOLD: Readonly<Record<LogLevel, number>> = { DEBUG: 8, INFO: 12, WARN: 16, ERROR: 20 };

/** Keys a call's attributes may not overwrite (Powertools drops them too). */
const RESERVED = new Set(["level", "message", "timestamp", "service", "cold_start", "function_arn", "function_memory_size", "function_name", "function_request_id", "sampling_rate", "xray_trace_id"]);

export interface LoggerOptions {
  readonly serviceName: string;
  readonly logLevel: LogLevel;
  /** Keys on every line for the life of the instance (e.g. `{ function: "fetch" }`). */
  readonly persistentKeys?: LogAttributes;
}

interface LambdaFields {
  readonly cold_start: boolean;
  readonly function_arn: string;
  readonly function_memory_size: string | number;
  readonly function_name: string;
  readonly function_request_id: string;
}

/**
 * Cold start as Powertools reported it: true for the first invocation context of an on-demand
 * instance, false after that and for provisioned concurrency (its init ran before any request).
 * Process-wide, like Powertools', so several loggers in one function agree.
 */
let coldStart = process.env["AWS_LAMBDA_INITIALIZATION_TYPE"] === "on-demand";

export class Logger {
  private readonly threshold: number;
  private readonly persistent: LogAttributes;
  private lambda: LambdaFields | undefined;
  private temporary: Record<string, unknown> = {};

  constructor(private readonly options: LoggerOptions) {
    this.threshold = THRESHOLD[options.logLevel];
    this.persistent = options.persistentKeys ?? {};
  }

  debug(message: string, extra?: LogExtra): void {
    this.log("DEBUG", message, extra);
  }

  info(message: string, extra?: LogExtra): void {
    this.log("INFO", message, extra);
  }

  warn(message: string, extra?: LogExtra): void {
    this.log("WARN", message, extra);
  }

  error(message: string, extra?: LogExtra): void {
    this.log("ERROR", message, extra);
  }

  /** The invocation's Lambda context, on every line from now on (kept across resetKeys, as in Powertools). */
  addContext(context: Pick<Context, "invokedFunctionArn" | "awsRequestId" | "memoryLimitInMB" | "functionName">): void {
    this.lambda = {
      cold_start: coldStart,
      function_arn: context.invokedFunctionArn,
      function_memory_size: context.memoryLimitInMB,
      function_name: context.functionName,
      function_request_id: context.awsRequestId,
    };
    coldStart = false;
  }

  /** `correlation_id` on every line until resetKeys (the invocation's end). */
  setCorrelationId(id: string | undefined): void {
    this.appendKeys({ correlation_id: id });
  }

  /** Keys on every line until resetKeys. */
  appendKeys(keys: LogAttributes): void {
    Object.assign(this.temporary, keys);
  }

  /** Forget the appended keys and the correlation id (the persistent keys and Lambda context stay). */
  resetKeys(): void {
    this.temporary = {};
  }

  private log(level: LogLevel, message: string, extra: LogExtra | undefined): void {
    if (THRESHOLD[level] < this.threshold) return;
    const line: Record<string, unknown> = {
      level,
      message,
      timestamp: new Date().toISOString(),
      service: this.options.serviceName,
      ...this.lambda,
      sampling_rate: 0,
      xray_trace_id: xrayTraceId(),
      ...this.persistent,
      ...this.temporary,
    };
    if (extra instanceof Error) line["error"] = extra;
    else if (typeof extra === "string") line["extra"] = extra;
    else if (extra) for (const [key, value] of Object.entries(extra)) if (!RESERVED.has(key)) line[key] = value;
    // Top-level keys without a value are left out, as Powertools did (undefined, null and "").
    for (const key of Object.keys(line)) if (line[key] === undefined || line[key] === null || line[key] === "") delete line[key];
    // Straight to the streams, not console.*: Lambda's console prefixes each line (time, request
    // id, level), which would break the JSON. WARN and ERROR on stderr, as Powertools wrote them.
    (level === "WARN" || level === "ERROR" ? process.stderr : process.stdout).write(`${JSON.stringify(line, jsonReplacer())}\n`);
  }
}

/** The Root of `_X_AMZN_TRACE_ID`, which Lambda sets per invocation ("Root=1-…;Parent=…;Sampled=1"). */
function xrayTraceId(): string | undefined {
  const header = process.env["_X_AMZN_TRACE_ID"];
  return header?.split(";", 1)[0]?.replace("Root=", "") || undefined;
}

/** An Error as Powertools formatted it, its cause included. */
export function formatError(error: Error): Record<string, unknown> {
  const formatted: Record<string, unknown> = {
    name: error.name,
    location: codeLocation(error.stack),
    message: error.message,
    stack: error.stack,
    cause: error.cause instanceof Error ? formatError(error.cause) : error.cause,
  };
  for (const key in error) if (!["name", "message", "stack", "cause"].includes(key)) formatted[key] = (error as unknown as Record<string, unknown>)[key];
  return formatted;
}

/** `file:line` of the first stack frame that names one. */
function codeLocation(stack: string | undefined): string {
  for (const frame of stack?.split("\n") ?? []) {
    const match = /\(([^()]*?):(\d+?):(\d+?)\)\\?$/.exec(frame);
    if (match) return `${match[1]}:${Number(match[2])}`;
  }
  return "";
}

/** Errors anywhere in a line formatted, bigints as strings, circular references dropped (as Powertools did). */
function jsonReplacer(): (this: unknown, key: string, value: unknown) => unknown {
  const ancestors: unknown[] = [];
  return function (this: unknown, _key, value) {
    const replaced = value instanceof Error ? formatError(value) : value;
    if (typeof replaced === "bigint") return replaced.toString();
    if (typeof replaced === "object" && replaced !== null) {
      while (ancestors.length > 0 && ancestors.at(-1) !== this) ancestors.pop();
      if (ancestors.includes(replaced)) return undefined;
      ancestors.push(replaced);
    }
    return replaced;
  };
}
