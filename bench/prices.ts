/**
 * List prices the benchmark's cost tables use: AWS us-east-1 (N. Virginia), on-demand, no free
 * tier, first volume tier. Looked up 2026-12-02; each constant names where its figure was read.
 * Prices change: re-check the source pages before quoting a figure elsewhere.
 */

export const PRICE_REGION = "us-east-1";
export const PRICES_CHECKED = "2026-12-02";

/** DynamoDB on-demand, per write / read request unit (https://aws.amazon.com/dynamodb/pricing/on-demand/; $0.625 and $0.125 per million since the Nov 2024 cut, as quoted by https://airbyte.com/data-engineering-resources/dynamodb-pricing). */
export const DYNAMODB_WRU_USD = 0.625 / 1e6;
export const DYNAMODB_RRU_USD = 0.125 / 1e6;

/** Lambda arm64, first tier: per GB-second and per request (https://aws.amazon.com/lambda/pricing/; figures as quoted by https://cloudchipr.com/blog/aws-lambda-pricing). */
export const LAMBDA_ARM_GB_SECOND_USD = 0.0000133334;
export const LAMBDA_REQUEST_USD = 0.2 / 1e6;

/** API Gateway HTTP API, first 300 M requests a month, metered in 512 KB increments (https://aws.amazon.com/api-gateway/pricing/; https://docs.aws.amazon.com/whitepapers/latest/best-practices-api-gateway-private-apis-integration/cost-optimization.html). */
export const HTTP_API_REQUEST_USD = 1.0 / 1e6;
export const HTTP_API_METER_BYTES = 512 * 1024;

/** SQS FIFO, per request; every 64 KB chunk of a request's payload is billed as one request (https://aws.amazon.com/sqs/pricing/; https://cloudburn.io/blog/amazon-sqs-pricing, March 2026). */
export const SQS_FIFO_REQUEST_USD = 0.5 / 1e6;
export const SQS_CHUNK_BYTES = 64 * 1024;
export const SQS_MAX_BATCH = 10;

/** Kinesis Data Streams on-demand: per stream-hour, per GB written (each record rounded up to 1 KB), per GB read (https://aws.amazon.com/kinesis/data-streams/pricing/). */
export const KINESIS_STREAM_HOUR_USD = 0.04;
export const KINESIS_INGEST_GB_USD = 0.08;
export const KINESIS_RETRIEVAL_GB_USD = 0.04;
export const KINESIS_RECORD_ROUNDING_BYTES = 1024;

export const HOURS_PER_MONTH = 730;
export const SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600;
const GB = 1024 ** 3;

/** Cost of one Lambda-behind-HTTP-API request: Lambda request + GB-s + API Gateway (by its 512 KB meter). */
export function requestCostUsd(memoryMb: number, durationMs: number, requestBytes: number, responseBytes: number): { lambda: number; gateway: number } {
  const gbSeconds = (memoryMb / 1024) * (Math.ceil(durationMs) / 1000);
  const meters = Math.max(1, Math.ceil(Math.max(requestBytes, responseBytes) / HTTP_API_METER_BYTES));
  return { lambda: LAMBDA_REQUEST_USD + gbSeconds * LAMBDA_ARM_GB_SECOND_USD, gateway: meters * HTTP_API_REQUEST_USD };
}

/** SQS FIFO, batched: SendMessageBatch, ReceiveMessage and DeleteMessageBatch of up to 10 each. */
export function sqsFifoPerMillionUsd(eventBytes: readonly number[], batch = SQS_MAX_BATCH): number {
  let requests = 0;
  for (let i = 0; i < eventBytes.length; i += batch) {
    const bytes = eventBytes.slice(i, i + batch).reduce((s, b) => s + b, 0);
    const chunks = Math.max(1, Math.ceil(bytes / SQS_CHUNK_BYTES));
    requests += 2 * chunks + 1; // send and receive carry the payload; delete carries receipt handles
  }
  return (requests / eventBytes.length) * 1e6 * SQS_FIFO_REQUEST_USD;
}

/** Kinesis on-demand per million messages (data in, rounded per record, + data read once); the stream-hour charge is separate. */
export function kinesisPerMillionUsd(eventBytes: readonly number[]): number {
  const ingested = eventBytes.reduce((s, b) => s + Math.ceil(b / KINESIS_RECORD_ROUNDING_BYTES) * KINESIS_RECORD_ROUNDING_BYTES, 0);
  const read = eventBytes.reduce((s, b) => s + b, 0);
  const total = (ingested / GB) * KINESIS_INGEST_GB_USD + (read / GB) * KINESIS_RETRIEVAL_GB_USD;
  return (total / eventBytes.length) * 1e6;
}
