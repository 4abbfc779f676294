/**
 * Structured JSON logs (logger.ts) and CloudWatch EMF metrics (emf.ts) for one Lambda function. The core reports what only it sees through the BrokerObserver hooks; everything
 * else (requests, latency, status classes, DynamoDB throttles) is measured here, around it.
 *
 * Cost matters more than detail: metrics carry two dimensions (`service`, `route`), never the
 * topic or partition (each distinct dimension value is a billed custom metric). Per-topic detail
 * goes to DEBUG logs, where Logs Insights can break it down without a standing cost.
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from "aws-lambda";
import type { BrokerObserver } from "../core/context.js";
import { ROUTES, apiGatewayPath, type FunctionName } from "../http/routes.js";
import type { LogLevel } from "./config.js";
import { EmfMetrics, type MetricUnit } from "./emf.js";
import { Logger } from "./logger.js";
import { METRIC, METRICS_NAMESPACE } from "./metric-names.js";

export type LambdaHttpHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyResultV2>;

export interface TelemetryOptions {
  readonly fn: FunctionName;
  readonly serviceName: string;
  readonly logLevel: LogLevel;
  readonly metricsEnabled: boolean;
}

export interface Telemetry {
  readonly logger: Logger;
  /** Feeds the core's reports into metrics and logs. */
  readonly observer: BrokerObserver;
  /** Count throttled DynamoDB attempts (each retry separately) on this client. */
  instrument(client: DynamoDBClient): void;
  /** Wrap a handler: request id in every log line, request metrics, one EMF flush per invocation. */
  wrap(handler: LambdaHttpHandler): LambdaHttpHandler;
}

/** DynamoDB error names that mean "throttled" (the request was not applied). */
const THROTTLE_ERRORS = new Set(["ThrottlingException", "ProvisionedThroughputExceededException", "RequestLimitExceeded"]);

/** API Gateway route key ("POST /v1/topics/{topic}/records") → route id, for the `route` dimension. */
const ROUTE_BY_KEY = new Map(ROUTES.map((r) => [`${r.method} ${apiGatewayPath(r)}`, r.id]));

export function createTelemetry(options: TelemetryOptions): Telemetry {
  // Both write JSON lines to stdout, which Lambda ships to CloudWatch Logs; CloudWatch extracts
  // the EMF lines into metrics without any API call from the function.
  const logger = new Logger({ serviceName: options.serviceName, logLevel: options.logLevel, persistentKeys: { function: options.fn } });
  const metrics = options.metricsEnabled ? new EmfMetrics({ namespace: METRICS_NAMESPACE, serviceName: options.serviceName }) : undefined;
  const addMetric = (name: string, unit: MetricUnit, value: number): void => {
    metrics?.addMetric(name, unit, value);
  };

  const observer: BrokerObserver = {
    voidsFilled({ topic, partition, count }) {
      addMetric(METRIC.voidsFilled, "Count", count);
      // Rare and significant (a writer died mid-produce): always logged.
      logger.info("filled a dead writer's gap with voids", { topic, partition, count });
    },
    recordsAppended({ count }) {
      addMetric(METRIC.recordsProduced, "Count", count);
    },
    partitionFetched({ topic, partition, records, lag }) {
      addMetric(METRIC.recordsFetched, "Count", records);
      addMetric(METRIC.consumerLag, "Count", lag);
      logger.debug("partition fetched", { topic, partition, records, lag });
    },
  };

  return {
    logger,
    observer,

    instrument(client) {
      // The deserialize step runs once per attempt, inside the SDK's retry loop: every throttled
      // attempt is counted, including those a retry later hides from the broker.
      client.middlewareStack.add(
        (next) => async (args) => {
          try {
            return await next(args);
          } catch (error) {
            if (error instanceof Error && THROTTLE_ERRORS.has(error.name)) addMetric(METRIC.dynamodbThrottles, "Count", 1);
            throw error;
          }
        },
        { step: "deserialize", name: "dynalogThrottleCounter", priority: "high" },
      );
    },

    wrap(handler) {
      let coldStart = true;
      return async (event, context) => {
        const started = performance.now();
        const route = ROUTE_BY_KEY.get(event.routeKey) ?? "unknown";
        logger.addContext(context);
        // API Gateway's request id: the one a client sees (apigw-requestid header) and quotes.
        logger.setCorrelationId(event.requestContext?.requestId);
        logger.appendKeys({ route, coldStart });
        coldStart = false;
        metrics?.addDimension("route", route);
        let status = 500;
        try {
          const result = await handler(event, context);
          status = typeof result === "string" ? 200 : (result.statusCode ?? 200);
          return result;
        } catch (error) {
          logger.error("unhandled error", error as Error);
          throw error;
        } finally {
          const latencyMs = Math.round(performance.now() - started);
          addMetric(METRIC.requests, "Count", 1);
          addMetric(METRIC.latency, "Milliseconds", latencyMs);
          if (status >= 500) addMetric(METRIC.serverErrors, "Count", 1);
          else if (status >= 400) addMetric(METRIC.clientErrors, "Count", 1);
          logger.debug("request", { method: event.requestContext?.http?.method, path: event.rawPath, status, latencyMs });
          metrics?.publishStoredMetrics();
          logger.resetKeys();
        }
      };
    },
  };
}
