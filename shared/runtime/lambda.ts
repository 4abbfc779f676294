/**
 * Builds a Lambda handler for one function: configuration, DynamoDB client and broker are created
 * once per cold start and reused by every invocation of the warm instance.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { handle } from "hono/aws-lambda";
import { createBroker } from "../core/broker.js";
import { createApi } from "../http/app.js";
import type { FunctionName } from "../http/routes.js";
import { createDynamoStorage } from "../storage/dynamo-storage.js";
import { runtimeConfigFromEnv } from "./config.js";

export function lambdaHandler(fn: FunctionName) {
  const config = runtimeConfigFromEnv();
  const client = new DynamoDBClient({
    region: config.region,
    ...(config.dynamodbEndpoint ? { endpoint: config.dynamodbEndpoint, credentials: { accessKeyId: "local", secretAccessKey: "local" } } : {}),
  });
  const broker = createBroker({ storage: createDynamoStorage(client, config.tables), config: config.broker });
  const app = createApi(broker, {
    functions: [fn],
    onUnexpectedError: (error) => {
      console.error(JSON.stringify({ level: "error", function: fn, message: "unexpected error", error: error instanceof Error ? { name: error.name, message: error.message, stack: error.stack } : String(error) }));
    },
  });
  return handle(app);
}
