/**
 * Idle consumers (issue 17): what one consumer waiting on an empty partition costs a month,
 * long-polling vs waiting on the notification WebSocket (docs/performance.md, "Idle consumers"),
 * and the new-record latency both ways, measured on the local broker with the SDK consumer
 * (produce → the consumer's handler). Run alone with `npx tsx bench/idle-notifications.ts`
 * (DYNALOG_BENCH_DYNAMODB_ENDPOINT to reuse a running DynamoDB Local), or as part of `npm run bench`.
 */
import { Dynalog, logLevel } from "../client/index.js";
import { DEFAULT_FETCH_MEMORY_MB } from "../infra/capacity.js";
import { startLocalBroker } from "../local/local-broker.js";
import { loopbackWebSockets } from "../local/loopback-websocket.js";
import { HTTP_API_REQUEST_USD, LAMBDA_ARM_GB_SECOND_USD, LAMBDA_REQUEST_USD, DYNAMODB_RRU_USD, PRICES_CHECKED, PRICE_REGION } from "./prices.js";
import { markdownTable, ms, quantile } from "./stats.js";

/** API Gateway WebSocket APIs: per million connection minutes and per million messages (32 KB each), first tier (https://aws.amazon.com/api-gateway/pricing/, checked 2026-12-02). */
export const WEBSOCKET_CONNECTION_MINUTE_USD = 0.25 / 1e6;
export const WEBSOCKET_MESSAGE_USD = 1.0 / 1e6;
/** API Gateway's WebSocket limits (https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html): 2 h per connection, 10 min idle. */
export const WEBSOCKET_MAX_CONNECTION_MINUTES = 120;
const MINUTES_PER_MONTH = 730 * 60;

export interface IdleCostInputs {
  /** Long poll: the fetch function's memory and wait per poll. */
  readonly fetchMemoryMb: number;
  readonly longPollSeconds: number;
  /** Notifications: the consumer's fallback re-fetch and keep-alive intervals, and the connect function's memory and duration. */
  readonly fallbackSeconds: number;
  readonly pingSeconds: number;
  readonly connectMemoryMb: number;
  readonly connectDurationMs: number;
  /** An empty fetch (maxWaitMs 0): duration on Lambda and read units. */
  readonly emptyFetchMs: number;
  readonly emptyFetchReadUnits: number;
}

export const DEFAULT_IDLE_INPUTS: IdleCostInputs = {
  fetchMemoryMb: DEFAULT_FETCH_MEMORY_MB,
  longPollSeconds: 20,
  fallbackSeconds: 30,
  pingSeconds: 300,
  connectMemoryMb: 256,
  connectDurationMs: 30,
  emptyFetchMs: 30,
  emptyFetchReadUnits: 1,
};

const lambdaUsd = (memoryMb: number, durationMs: number) => LAMBDA_REQUEST_USD + (memoryMb / 1024) * (durationMs / 1000) * LAMBDA_ARM_GB_SECOND_USD;

/** Monthly cost lines of one idle consumer, each way (USD). */
export function idleConsumerCost(inputs: IdleCostInputs = DEFAULT_IDLE_INPUTS): { longPoll: [string, number][]; notifications: [string, number][] } {
  const polls = (MINUTES_PER_MONTH * 60) / inputs.longPollSeconds;
  // The long poll re-reads the partition head while it waits (DYNALOG_LONG_POLL_INTERVAL_MS, 200 ms): one strongly consistent read each.
  const headReads = (MINUTES_PER_MONTH * 60) / 0.2;
  const longPoll: [string, number][] = [
    [`Lambda: ${Math.round(polls).toLocaleString("en")} polls × ${inputs.longPollSeconds} s at ${inputs.fetchMemoryMb} MB`, polls * lambdaUsd(inputs.fetchMemoryMb, inputs.longPollSeconds * 1000)],
    ["API Gateway HTTP API requests", polls * HTTP_API_REQUEST_USD],
    [`DynamoDB: head reads while waiting (estimate: one read unit per 200 ms)`, headReads * DYNAMODB_RRU_USD],
  ];
  const fallbackFetches = (MINUTES_PER_MONTH * 60) / inputs.fallbackSeconds;
  const reconnects = MINUTES_PER_MONTH / WEBSOCKET_MAX_CONNECTION_MINUTES;
  const pings = (MINUTES_PER_MONTH * 60) / inputs.pingSeconds;
  // Messages: each ping and its pong, each reconnect's subscribe and its answer (connect/disconnect are not messages).
  const messages = 2 * pings + 2 * reconnects;
  // Function invocations: ping, subscribe, $connect, $disconnect.
  const invocations = pings + 3 * reconnects;
  const notifications: [string, number][] = [
    [`Connection minutes (${MINUTES_PER_MONTH.toLocaleString("en")})`, MINUTES_PER_MONTH * WEBSOCKET_CONNECTION_MINUTE_USD],
    [`Messages: ping every ${inputs.pingSeconds / 60} min, reconnect every 2 h (${Math.round(messages).toLocaleString("en")})`, messages * WEBSOCKET_MESSAGE_USD],
    [`notify-connect: ${Math.round(invocations).toLocaleString("en")} invocations at ${inputs.connectMemoryMb} MB`, invocations * lambdaUsd(inputs.connectMemoryMb, inputs.connectDurationMs)],
    [
      `Fallback re-fetch every ${inputs.fallbackSeconds} s (${Math.round(fallbackFetches).toLocaleString("en")} empty fetches: Lambda + HTTP API + reads)`,
      fallbackFetches * (lambdaUsd(inputs.fetchMemoryMb, inputs.emptyFetchMs) + HTTP_API_REQUEST_USD + inputs.emptyFetchReadUnits * DYNAMODB_RRU_USD),
    ],
  ];
  return { longPoll, notifications };
}

export function idleCostReport(inputs: IdleCostInputs = DEFAULT_IDLE_INPUTS): string {
  const { longPoll, notifications } = idleConsumerCost(inputs);
  const rows = (way: string, lines: [string, number][]) => [...lines.map(([what, usd]) => [way, what, `$${usd.toFixed(4)}`]), [way, "**total per month**", `**$${lines.reduce((s, [, usd]) => s + usd, 0).toFixed(2)}**`]];
  return `Prices: ${PRICE_REGION}, list, first tier, checked ${PRICES_CHECKED} (bench/prices.ts, bench/idle-notifications.ts).\n\n${markdownTable(["Way", "Line", "USD / month"], [...rows("long poll", longPoll), ...rows("notifications", notifications)])}`;
}

/** Produce → the SDK consumer's handler, `samples` times, each after the consumer went idle; both ways. */
export async function measureIdleLatency(samples: number, dynamodbEndpoint?: string): Promise<{ longPoll: number[]; notifications: number[] }> {
  const broker = await startLocalBroker({ ...(dynamodbEndpoint && { dynamodbEndpoint }), tablePrefix: `bench-idle-${Date.now().toString(36)}`, subscriptions: false, console: false, compactionIntervalMs: 0 });
  try {
    const loop = loopbackWebSockets(broker.notifications);
    const result = { longPoll: [] as number[], notifications: [] as number[] };
    for (const way of ["longPoll", "notifications"] as const) {
      const dynalog = new Dynalog({ url: broker.url, logLevel: logLevel.NOTHING });
      const topic = `idle-${way}-${Date.now().toString(36)}`;
      await dynalog.admin().createTopics({ topics: [{ topic, numPartitions: 1 }] });
      const consumer = dynalog.consumer({
        maxWaitTimeInMs: 20_000,
        ...(way === "notifications" && { notifications: { url: "ws://loopback", WebSocket: loop.WebSocket } }),
      });
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      let arrived: (() => void) | undefined;
      await consumer.run({ eachMessage: async () => arrived?.() });
      const producer = dynalog.producer();
      for (let i = 0; i < samples; i++) {
        // Idle first: the consumer is waiting (a long poll in flight, or on the channel).
        await new Promise((resolve) => setTimeout(resolve, 300));
        const started = performance.now();
        const received = new Promise<void>((resolve) => (arrived = resolve));
        await producer.send({ topic, messages: [{ value: `sample ${i}` }] });
        await received;
        result[way].push(performance.now() - started);
      }
      await consumer.disconnect();
      await producer.disconnect();
    }
    return result;
  } finally {
    await broker.stop();
  }
}

export function latencyReport(latencies: { longPoll: number[]; notifications: number[] }): string {
  const row = (way: string, values: number[]) => [way, String(values.length), ms(quantile(values, 0.5)), ms(quantile(values, 0.99))];
  return markdownTable(["Way", "Samples", "p50", "p99"], [row("long poll (20 s)", latencies.longPoll), row("notifications", latencies.notifications)]);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log("## Idle consumer: one consumer waiting on an empty partition, per month (deployed)\n");
  console.log(idleCostReport());
  const samples = Number(process.env["DYNALOG_BENCH_IDLE_SAMPLES"] ?? 30);
  const latencies = await measureIdleLatency(samples, process.env["DYNALOG_BENCH_DYNAMODB_ENDPOINT"]);
  console.log(`\n## New-record latency after an idle period: produce → consumer handler, local broker, SDK consumer\n`);
  console.log(latencyReport(latencies));
}
