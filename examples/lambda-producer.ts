/**
 * An AWS Lambda handler that produces to Dynalog (e.g. behind an API Gateway route or a queue).
 * The producer is created once per execution environment and reused by every invocation;
 * idempotence makes the SDK's retries safe, and `send` resolves only once the broker has the
 * records durably.
 *
 * Deployed, give it DYNALOG_URL (the Dynalog API's URL) and either DYNALOG_TOKEN (an API key whose
 * principal may Write the topic) or DYNALOG_SIGV4=1: then the SDK signs with SigV4 using the
 * function's own role (Node's standard credential chain; the principal is `IAM:<role arn>`).
 *
 * Run it locally against the broker from the README quick start (`npm start`):
 *
 *   npx dynalog topics create orders --partitions 3
 *   npx tsx examples/lambda-producer.ts '{"body":"{\"customerId\":\"42\",\"total\":1999}"}'
 *   npx dynalog consume orders --from-beginning --max 1 --format json
 */
import { pathToFileURL } from "node:url";
import { Dynalog, logLevel } from "dynalog/client";
// Node-only helpers (AWS's credential chain).
import { sigv4FromEnvironment } from "dynalog/client/node";

interface ApiEvent {
  readonly body?: string | null;
}

const dynalog = new Dynalog({
  url: process.env.DYNALOG_URL ?? "http://127.0.0.1:8790",
  auth: process.env.DYNALOG_TOKEN ? { type: "bearer", token: process.env.DYNALOG_TOKEN } : process.env.DYNALOG_SIGV4 ? sigv4FromEnvironment() : undefined,
  clientId: process.env.AWS_LAMBDA_FUNCTION_NAME ?? "lambda-producer",
  logLevel: logLevel.WARN,
  // Stay well inside the function's timeout.
  requestTimeout: 5_000,
  retry: { retries: 3, maxRetryTime: 8_000 },
});
const producer = dynalog.producer(); // idempotent by default
const ready = producer.connect(); // once per cold start

export async function handler(event: ApiEvent): Promise<{ statusCode: number; body: string }> {
  await ready;
  let order: { customerId?: unknown };
  try {
    order = JSON.parse(event.body ?? "{}");
  } catch {
    return { statusCode: 400, body: JSON.stringify({ error: "body must be JSON" }) };
  }
  if (typeof order.customerId !== "string") return { statusCode: 400, body: JSON.stringify({ error: "customerId (string) is required" }) };
  const [written] = await producer.send({
    topic: process.env.TOPIC ?? "orders",
    // Same customer → same partition (murmur2, like Kafka), so one customer's orders stay in order.
    messages: [{ key: order.customerId, value: JSON.stringify(order), headers: { "content-type": "application/json" } }],
  });
  return { statusCode: 202, body: JSON.stringify({ partition: written!.partition, offset: written!.baseOffset }) };
}

// `npx tsx examples/lambda-producer.ts '<event JSON>'` invokes the handler once, like Lambda would.
if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const event = JSON.parse(process.argv[2] ?? '{"body":"{\\"customerId\\":\\"42\\",\\"total\\":1999}"}') as ApiEvent;
  console.log(await handler(event));
  await producer.disconnect();
}
