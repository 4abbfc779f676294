/**
 * The names of the broker's CloudWatch metrics (EMF), in their own tiny module so the CDK stack's
 * alarms and dashboard can name them without importing the Lambda runtime.
 */
export const METRICS_NAMESPACE = "Dynalog";

/** Dimensions of every broker metric: the deployment (`service`) and the API route. */
export const METRIC_DIMENSIONS = ["service", "route"] as const;

export const METRIC = {
  /** One per HTTP request served (any status). */
  requests: "Requests",
  /** Milliseconds from the Lambda event to the response, per request. */
  latency: "Latency",
  /** Responses with status 5xx (the broker's fault or DynamoDB's). */
  serverErrors: "ServerErrors",
  /** Responses with status 4xx (the client's fault). */
  clientErrors: "ClientErrors",
  /** DynamoDB requests throttled, counted per attempt (the SDK retries most of them). */
  dynamodbThrottles: "DynamoDBThrottles",
  /** Offsets of dead writers' gaps filled with voids by readers. */
  voidsFilled: "VoidsFilled",
  recordsProduced: "RecordsProduced",
  recordsFetched: "RecordsFetched",
  /** Per partition fetched: high watermark − next offset. Use the Maximum statistic. */
  consumerLag: "ConsumerLag",
} as const;

export type MetricName = (typeof METRIC)[keyof typeof METRIC];
