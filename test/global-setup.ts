/// <reference path="./support/provided-context.d.ts" />
import type { TestProject } from "vitest/node";
import { JavaMissingError, assertLocalEndpoint, startDynamoDbLocal } from "../local/dynamodb-local.js";
import type { DynamoDbLocalHandle } from "../local/dynamodb-local.js";

const TEST_HEAP_MB = 768;

/**
 * Vitest globalSetup: provides `dynamodbEndpoint` to every test file.
 * Uses DYNALOG_TEST_DYNAMODB_ENDPOINT (must be local) when set, otherwise
 * starts an in-memory DynamoDB Local for the duration of the run.
 */
export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  // The AWS SDK warns on every process that Node 20 support ends in 2027: noise in test output.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

  const external = process.env.DYNALOG_TEST_DYNAMODB_ENDPOINT?.trim();
  if (external) {
    try {
      assertLocalEndpoint(external);
    } catch (err) {
      fail(`DYNALOG_TEST_DYNAMODB_ENDPOINT: ${(err as Error).message}`);
    }
    project.provide("dynamodbEndpoint", external);
    return undefined;
  }

  let handle: DynamoDbLocalHandle;
  try {
    handle = await startDynamoDbLocal({ heapMb: TEST_HEAP_MB });
  } catch (err) {
    if (err instanceof JavaMissingError) {
      // A friendly message, not a stack trace (throwing here makes vitest also print a
      // misleading "No test files found"), so report and exit directly.
      fail(`${err.message}\n(Or set DYNALOG_TEST_DYNAMODB_ENDPOINT to an already running local DynamoDB.)`);
    }
    throw err;
  }

  project.provide("dynamodbEndpoint", handle.endpoint);
  return async () => {
    await handle.stop();
  };
}

function fail(message: string): never {
  process.stderr.write(`\n\x1b[31mCannot run the test suite:\x1b[39m ${message}\n\n`);
  process.exit(1);
}
