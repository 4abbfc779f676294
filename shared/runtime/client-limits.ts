/**
 * How long one DynamoDB request may take on AWS, and how often the SDK tries it. These bound how
 * long after a produce invocation ends one of its writes can still land, so the hole timeout must
 * exceed the writing function's timeout plus one request timeout (infra/functions.ts, asserted in
 * test/infra). A module of its own so the CDK app can read it without loading the Lambda runtime.
 */
export const DYNAMODB_CLIENT_LIMITS = {
  maxAttempts: 3,
  connectionTimeoutMs: 1_000,
  requestTimeoutMs: 5_000,
} as const;
