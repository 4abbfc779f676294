import { DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import { Readable } from "node:stream";
import type { APIGatewayProxyEventV2, Context } from "aws-lambda";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { runtimeConfigFromEnv } from "../../shared/runtime/config.js";
import { METRIC, METRICS_NAMESPACE } from "../../shared/runtime/metric-names.js";
import { createTelemetry } from "../../shared/runtime/telemetry.js";

let lines: string[];

beforeEach(() => {
  lines = [];
  // The logger and the EMF writer write lines straight to the streams: info/debug and EMF to
  // stdout, warn/error to stderr (Lambda ships both to CloudWatch Logs).
  const capture = (chunk: string | Uint8Array) => {
    lines.push(...String(chunk).split("\n").filter(Boolean));
    return true;
  };
  vi.spyOn(process.stdout, "write").mockImplementation(capture);
  vi.spyOn(process.stderr, "write").mockImplementation(capture);
});
afterEach(() => vi.restoreAllMocks());

const json = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
const emf = () => json().filter((l) => l["_aws"] !== undefined);
const logs = () => json().filter((l) => l["_aws"] === undefined);

function event(routeKey: string, requestId = "req-123"): APIGatewayProxyEventV2 {
  const [method, path] = routeKey.split(" ") as [string, string];
  return {
    version: "2.0",
    routeKey,
    rawPath: path,
    rawQueryString: "",
    headers: {},
    isBase64Encoded: false,
    requestContext: {
      accountId: "0",
      apiId: "api",
      domainName: "x",
      domainPrefix: "x",
      http: { method, path, protocol: "HTTP/1.1", sourceIp: "127.0.0.1", userAgent: "test" },
      requestId,
      routeKey,
      stage: "$default",
      time: "",
      timeEpoch: 0,
    },
  };
}

const context = { awsRequestId: "lambda-req-1", functionName: "dynalog-produce", memoryLimitInMB: "1024", invokedFunctionArn: "arn", functionVersion: "$LATEST" } as Context;

describe("request telemetry", () => {
  it("emits one EMF document per invocation with the route, count, latency and status class", async () => {
    const telemetry = createTelemetry({ fn: "produce", serviceName: "svc-a", logLevel: "INFO", metricsEnabled: true });
    const handler = telemetry.wrap(async () => {
      telemetry.observer.recordsAppended?.({ topic: "t", partition: 0, count: 7 });
      return { statusCode: 503, body: "{}" };
    });
    await handler(event("POST /v1/topics/{topic}/records"), context);
    const [doc] = emf();
    expect(emf()).toHaveLength(1);
    expect(doc).toMatchObject({ service: "svc-a", route: "produce", [METRIC.requests]: 1, [METRIC.serverErrors]: 1, [METRIC.recordsProduced]: 7 });
    expect(doc![METRIC.clientErrors]).toBeUndefined();
    expect(typeof doc![METRIC.latency]).toBe("number");
    const directive = (doc!["_aws"] as { CloudWatchMetrics: { Namespace: string; Dimensions: string[][] }[] }).CloudWatchMetrics[0]!;
    expect(directive.Namespace).toBe(METRICS_NAMESPACE);
    expect(directive.Dimensions).toEqual([["service", "route"]]);
  });

  it("reports void fills (logged) and consumer lag (per partition, as separate values)", async () => {
    const telemetry = createTelemetry({ fn: "fetch", serviceName: "svc-b", logLevel: "INFO", metricsEnabled: true });
    const handler = telemetry.wrap(async () => {
      telemetry.observer.voidsFilled?.({ topic: "orders", partition: 3, count: 4 });
      telemetry.observer.partitionFetched?.({ topic: "orders", partition: 3, records: 10, lag: 5 });
      telemetry.observer.partitionFetched?.({ topic: "orders", partition: 4, records: 0, lag: 40 });
      return { statusCode: 200, body: "{}" };
    });
    await handler(event("GET /v1/topics/{topic}/partitions/{partition}/records", "req-lag"), context);
    expect(emf()[0]).toMatchObject({ route: "fetchPartition", [METRIC.voidsFilled]: 4, [METRIC.consumerLag]: [5, 40], [METRIC.recordsFetched]: [10, 0] });
    const fill = logs().find((l) => l["message"] === "filled a dead writer's gap with voids");
    expect(fill).toMatchObject({ level: "INFO", topic: "orders", partition: 3, count: 4, correlation_id: "req-lag", function: "fetch", route: "fetchPartition", function_request_id: "lambda-req-1" });
  });

  it("logs JSON with the API Gateway request id, and forgets it after the invocation", async () => {
    const telemetry = createTelemetry({ fn: "admin", serviceName: "svc-c", logLevel: "DEBUG", metricsEnabled: false });
    const handler = telemetry.wrap(async () => {
      telemetry.logger.warn("inside");
      return { statusCode: 404, body: "{}" };
    });
    await handler(event("GET /v1/topics/{topic}", "first"), context);
    telemetry.logger.warn("outside");
    const [inside, request, outside] = logs();
    expect(inside).toMatchObject({ message: "inside", correlation_id: "first", route: "describeTopic", service: "svc-c", level: "WARN" });
    expect(request).toMatchObject({ message: "request", status: 404, correlation_id: "first" });
    expect(outside!["correlation_id"]).toBeUndefined();
    expect(outside!["route"]).toBeUndefined();
    // Metrics off: no EMF at all.
    expect(emf()).toEqual([]);
  });

  it("counts an unhandled error as a server error and rethrows it", async () => {
    const telemetry = createTelemetry({ fn: "commit", serviceName: "svc-d", logLevel: "INFO", metricsEnabled: true });
    const handler = telemetry.wrap(async () => {
      throw new Error("boom");
    });
    await expect(handler(event("POST /v1/groups/{group}/offsets"), context)).rejects.toThrow("boom");
    expect(emf()[0]).toMatchObject({ route: "commitOffsets", [METRIC.serverErrors]: 1, [METRIC.requests]: 1 });
    expect(logs().find((l) => l["message"] === "unhandled error")).toMatchObject({ level: "ERROR", error: { message: "boom" } });
  });

  it("counts every throttled DynamoDB attempt, including the ones the SDK's retries hide", async () => {
    const telemetry = createTelemetry({ fn: "produce", serviceName: "svc-e", logLevel: "INFO", metricsEnabled: true });
    let attempts = 0;
    // A fake HTTP layer: DynamoDB throttles twice, then answers.
    const requestHandler = {
      handle: async () => {
        attempts++;
        const throttled = attempts <= 2;
        const body = throttled ? JSON.stringify({ __type: "com.amazonaws.dynamodb.v20120810#ThrottlingException", message: "slow down" }) : "{}";
        return {
          response: {
            statusCode: throttled ? 400 : 200,
            headers: { "content-type": "application/x-amz-json-1.0", "x-amzn-requestid": "r" },
            body: Readable.from([Buffer.from(body)]),
          },
        };
      },
    };
    const client = new DynamoDBClient({ region: "us-east-1", credentials: { accessKeyId: "a", secretAccessKey: "b" }, maxAttempts: 3, requestHandler });
    telemetry.instrument(client);
    const handler = telemetry.wrap(async () => {
      await client.send(new GetItemCommand({ TableName: "t", Key: { p: { S: "x" } } }));
      return { statusCode: 200, body: "{}" };
    });
    await handler(event("POST /v1/producers"), context);
    expect(attempts).toBe(3);
    expect(emf()[0]).toMatchObject({ route: "initProducer", [METRIC.dynamodbThrottles]: [1, 1] });
  }, 20_000);
});

describe("runtime configuration", () => {
  it("takes per-table names over the prefix, and keeps the prefix working", () => {
    const byPrefix = runtimeConfigFromEnv({ DYNALOG_TABLE_PREFIX: "p1" });
    expect(byPrefix.tables).toEqual({ topics: "p1-topics", partitions: "p1-partitions", log: "p1-log", producers: "p1-producers", offsets: "p1-offsets", security: "p1-security" });
    const mixed = runtimeConfigFromEnv({ DYNALOG_TABLE_PREFIX: "p1", DYNALOG_TABLE_LOG: "Stack-LogTable-ABC123", DYNALOG_TABLE_OFFSETS: "Stack-Offsets-9" });
    expect(mixed.tables).toEqual({ topics: "p1-topics", partitions: "p1-partitions", log: "Stack-LogTable-ABC123", producers: "p1-producers", offsets: "Stack-Offsets-9", security: "p1-security" });
  });

  it("reads telemetry settings and the default topic retention, refusing bad values", () => {
    const config = runtimeConfigFromEnv({ DYNALOG_SERVICE_NAME: "prod-broker", DYNALOG_LOG_LEVEL: "WARN", DYNALOG_METRICS_ENABLED: "false", DYNALOG_DEFAULT_RETENTION_MS: "3600000" });
    expect(config).toMatchObject({ serviceName: "prod-broker", logLevel: "WARN", metricsEnabled: false, broker: { defaultRetentionMs: 3_600_000 } });
    expect(runtimeConfigFromEnv({}).metricsEnabled).toBe(true);
    expect(runtimeConfigFromEnv({ DYNALOG_DEFAULT_RETENTION_MS: "forever" }).broker.defaultRetentionMs).toBeNull();
    expect(() => runtimeConfigFromEnv({ DYNALOG_DEFAULT_RETENTION_MS: "5" })).toThrow(/DYNALOG_DEFAULT_RETENTION_MS/);
    expect(() => runtimeConfigFromEnv({ DYNALOG_LOG_LEVEL: "LOUD" })).toThrow(/DYNALOG_LOG_LEVEL/);
    expect(() => runtimeConfigFromEnv({ DYNALOG_TABLE_LOG: "no spaces allowed" })).toThrow(/DYNALOG_TABLE_LOG/);
  });
});
