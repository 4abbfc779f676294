/**
 * Stands in for `@smithy/core/event-streams` in the Lambda bundles that only talk to DynamoDB (an
 * esbuild alias, infra/lambda-build.ts). The SDK's shared protocol code reaches the event-stream
 * codec through a lazy `import()` that only event-stream operations take (S3 Select, Bedrock
 * streaming, Lambda's InvokeWithResponseStream, …); DynamoDB has none. Bundled anyway, it was
 * ~19 KB of every function against the 400 KB budget (issue 17, docs/deploy.md). The dispatcher,
 * whose Lambda client configures event streams at construction, keeps the real module.
 */
function unavailable(): never {
  throw new Error("AWS SDK event streams are not bundled into this function (infra/lambda-build.ts: only DynamoDB is called here)");
}

export class EventStreamSerde {
  constructor() {
    unavailable();
  }
}

export function eventStreamSerdeProvider(): never {
  return unavailable();
}
