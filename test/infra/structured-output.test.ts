/**
 * The in-house JSON logger and EMF writer (shared/runtime/logger.ts, emf.ts) that replaced
 * Powertools: the lines are parsed and checked field by field against the formats CloudWatch
 * (the EMF specification) and existing Logs Insights queries (Powertools' field names) expect.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { EmfMetrics } from "../../shared/runtime/emf.js";
import { formatError, Logger } from "../../shared/runtime/logger.js";

let stdout: string[];
let stderr: string[];

beforeEach(() => {
  stdout = [];
  stderr = [];
  const into = (lines: string[]) => (chunk: string | Uint8Array) => {
    lines.push(...String(chunk).split("\n").filter(Boolean));
    return true;
  };
  vi.spyOn(process.stdout, "write").mockImplementation(into(stdout));
  vi.spyOn(process.stderr, "write").mockImplementation(into(stderr));
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

const parse = (lines: readonly string[]) => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
const context = { awsRequestId: "aws-req-9", functionName: "dynalog-fetch", memoryLimitInMB: "1024", invokedFunctionArn: "arn:aws:lambda:us-east-1:1:function:dynalog-fetch" };

interface EmfDocument {
  _aws: { Timestamp: number; CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] };
  [member: string]: unknown;
}

describe("the EMF writer", () => {
  it("writes one document per publish in the specification's shape: every declared metric and dimension is a root member", () => {
    const metrics = new EmfMetrics({ namespace: "Dynalog", serviceName: "svc-emf" });
    metrics.addDimension("route", "fetch");
    metrics.addMetric("Requests", "Count", 1);
    metrics.addMetric("ConsumerLag", "Count", 5);
    metrics.addMetric("ConsumerLag", "Count", 40);
    metrics.addMetric("Latency", "Milliseconds", 12);
    const before = Date.now();
    metrics.publishStoredMetrics();
    expect(stdout).toHaveLength(1);
    const doc = JSON.parse(stdout[0]!) as EmfDocument;
    expect(doc._aws.Timestamp).toBeGreaterThanOrEqual(before - 1);
    expect(doc._aws.Timestamp).toBeLessThanOrEqual(Date.now());
    expect(doc._aws.CloudWatchMetrics).toEqual([
      {
        Namespace: "Dynalog",
        Dimensions: [["service", "route"]],
        Metrics: [
          { Name: "Requests", Unit: "Count" },
          { Name: "ConsumerLag", Unit: "Count" },
          { Name: "Latency", Unit: "Milliseconds" },
        ],
      },
    ]);
    expect(doc).toMatchObject({ service: "svc-emf", route: "fetch", Requests: 1, ConsumerLag: [5, 40], Latency: 12 });
    // The specification's target members: each dimension (a string) and each metric (a number or numbers) at the root.
    const directive = doc._aws.CloudWatchMetrics[0]!;
    for (const name of directive.Dimensions.flat()) expect(typeof doc[name], name).toBe("string");
    for (const { Name } of directive.Metrics) expect([doc[Name]].flat().every((v) => typeof v === "number"), Name).toBe(true);
  });

  it("clears metrics and the invocation's dimensions at each publish, and writes nothing when nothing was recorded", () => {
    const metrics = new EmfMetrics({ namespace: "Dynalog", serviceName: "svc-emf2" });
    metrics.publishStoredMetrics();
    expect(stdout).toEqual([]);
    metrics.addDimension("route", "produce");
    metrics.addMetric("Requests", "Count", 1);
    metrics.publishStoredMetrics();
    metrics.addMetric("Requests", "Count", 1);
    metrics.publishStoredMetrics();
    const [first, second] = parse(stdout) as unknown as EmfDocument[];
    expect(first!["route"]).toBe("produce");
    expect(second!["route"]).toBeUndefined();
    expect(second!._aws.CloudWatchMetrics[0]!.Dimensions).toEqual([["service"]]);
  });

  it("keeps each metric within the specification's 100 values: a full one is published first, with the same dimensions", () => {
    const metrics = new EmfMetrics({ namespace: "Dynalog", serviceName: "svc-emf3" });
    metrics.addDimension("route", "fetch");
    for (let i = 0; i < 150; i++) metrics.addMetric("ConsumerLag", "Count", i);
    metrics.publishStoredMetrics();
    const docs = parse(stdout) as unknown as EmfDocument[];
    expect(docs.map((d) => (d["ConsumerLag"] as number[]).length)).toEqual([100, 50]);
    expect(docs.map((d) => d["route"])).toEqual(["fetch", "fetch"]);
    expect(docs.flatMap((d) => d["ConsumerLag"] as number[])).toEqual([...Array(150).keys()]);
  });
});

describe("the JSON logger", () => {
  it("writes Powertools' fields in Powertools' order, the context's and the appended keys included", () => {
    vi.stubEnv("_X_AMZN_TRACE_ID", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1");
    const logger = new Logger({ serviceName: "svc-log", logLevel: "DEBUG", persistentKeys: { function: "fetch" } });
    logger.addContext(context);
    logger.setCorrelationId("api-req-1");
    logger.appendKeys({ route: "fetch", coldStart: true });
    logger.debug("partition fetched", { topic: "orders", partition: 3, records: 10, lag: 5 });
    const [line] = parse(stdout);
    expect(Object.keys(line!)).toEqual([
      "level", "message", "timestamp", "service", "cold_start", "function_arn", "function_memory_size", "function_name", "function_request_id", "sampling_rate", "xray_trace_id",
      "function", "correlation_id", "route", "coldStart", "topic", "partition", "records", "lag",
    ]);
    expect(line).toMatchObject({
      level: "DEBUG", message: "partition fetched", service: "svc-log", cold_start: false, function_arn: context.invokedFunctionArn, function_memory_size: "1024",
      function_name: "dynalog-fetch", function_request_id: "aws-req-9", sampling_rate: 0, xray_trace_id: "1-5759e988-bd862e3fe1be46a994272793", function: "fetch", correlation_id: "api-req-1",
    });
    expect(new Date(line!["timestamp"] as string).toISOString()).toBe(line!["timestamp"]);
  });

  it("filters by level, writes WARN and ERROR to stderr, and forgets the appended keys at resetKeys (not the context)", () => {
    const logger = new Logger({ serviceName: "svc-log2", logLevel: "INFO" });
    logger.addContext(context);
    logger.appendKeys({ route: "produce" });
    logger.debug("hidden");
    logger.info("shown");
    logger.warn("careful");
    logger.resetKeys();
    logger.error("after reset");
    expect(parse(stdout).map((l) => l["message"])).toEqual(["shown"]);
    const errs = parse(stderr);
    expect(errs.map((l) => [l["level"], l["message"], l["route"]])).toEqual([["WARN", "careful", "produce"], ["ERROR", "after reset", undefined]]);
    expect(errs[1]!["function_request_id"]).toBe("aws-req-9");
  });

  it("formats errors as Powertools did (location, stack, cause, own fields) and a string as `extra`", () => {
    const logger = new Logger({ serviceName: "svc-log3", logLevel: "INFO" });
    const inner = new Error("inner");
    const error = Object.assign(new Error("boom", { cause: inner }), { code: "E_BOOM" });
    // The first frame that names a file in parentheses is the location (an anonymous frame has none).
    error.stack = "Error: boom\n    at /var/task/anonymous.mjs:1:1\n    at handle (/var/task/index.mjs:12:345)\n    at next (/var/task/index.mjs:1:2)";
    logger.error("unhandled error", error);
    logger.error("unexpected error", "a string");
    logger.info("nested", { failure: error, big: 12n, empty: "", none: null });
    const [first, second] = parse(stderr);
    expect(first!["error"]).toMatchObject({ name: "Error", message: "boom", code: "E_BOOM", cause: { name: "Error", message: "inner" } });
    expect((first!["error"] as { location: string }).location).toBe("/var/task/index.mjs:12");
    expect((first!["error"] as { stack: string }).stack).toContain("Error: boom");
    expect(second!["extra"]).toBe("a string");
    const [nested] = parse(stdout);
    expect(nested).toMatchObject({ failure: { message: "boom", code: "E_BOOM" }, big: "12" });
    expect("empty" in nested! || "none" in nested!).toBe(false);
    expect(formatError(new TypeError("t"))).toMatchObject({ name: "TypeError", message: "t" });
  });

  it("does not let a call's attributes overwrite the standard fields, and survives circular values", () => {
    const logger = new Logger({ serviceName: "svc-log4", logLevel: "INFO" });
    const loop: Record<string, unknown> = { a: 1 };
    loop["self"] = loop;
    logger.info("real message", { message: "spoofed", level: "ERROR", loop });
    const [line] = parse(stdout);
    expect(line).toMatchObject({ message: "real message", level: "INFO", loop: { a: 1 } });
    expect((line!["loop"] as Record<string, unknown>)["self"]).toBeUndefined();
  });
});
