/**
 * The DynamoDB client every Lambda function creates at cold start. A module of its own so the
 * authorizer, which serves no routes, does not load the HTTP runtime (shared/runtime/lambda.ts
 * imports Hono and the route table) just for these settings.
 */
import { DynamoDBClient, type DynamoDBClientConfig } from "@aws-sdk/client-dynamodb";
import { dynamoDbClientCreated } from "./client-hooks.js";
import { DYNAMODB_CLIENT_LIMITS } from "./client-limits.js";
import type { RuntimeConfig } from "./config.js";

/** Not applied against DynamoDB Local, whose latency on a loaded 2-core CI machine is not AWS's. */
export function dynamoDbClientConfig(config: RuntimeConfig): DynamoDBClientConfig {
  if (config.dynamodbEndpoint) {
    return { region: config.region, endpoint: config.dynamodbEndpoint, credentials: { accessKeyId: "local", secretAccessKey: "local" } };
  }
  return {
    region: config.region,
    maxAttempts: DYNAMODB_CLIENT_LIMITS.maxAttempts,
    requestHandler: { connectionTimeout: DYNAMODB_CLIENT_LIMITS.connectionTimeoutMs, requestTimeout: DYNAMODB_CLIENT_LIMITS.requestTimeoutMs },
  };
}

/** A client for `config`, passed through the process-wide hooks (client-hooks.ts) first. */
export function createDynamoDbClient(config: RuntimeConfig): DynamoDBClient {
  return dynamoDbClientCreated(new DynamoDBClient(dynamoDbClientConfig(config)));
}
