/**
 * Push subscriptions, locally (docs/subscriptions.md): end-to-end latency produce → webhook invoked
 * (p50/p99, one record at a time on an idle partition: the local dispatcher's idle poll, 250 ms,
 * dominates it), and records/s per partition through a webhook that answers at once (a backlog
 * delivered in batches of 100). The dispatcher is the local broker's (local/dispatcher.ts) over the
 * bench's DynamoDB Local; the webhook is an HTTP server in this process.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { SubscriptionEvent } from "../shared/core/dispatch-event.js";
import { startLocalDispatcher } from "../local/dispatcher.js";
import type { BenchWorld } from "./setup.js";

export interface SubscriptionBenchResult {
  /** Produce request sent → webhook request received (ms), one record each. */
  readonly latencies: number[];
  readonly backlog: number;
  readonly backlogMs: number;
  readonly recordsPerSecond: number;
  readonly batchSize: number;
}

async function call(world: BenchWorld, method: string, path: string, body?: unknown): Promise<any> {
  const response = await world.http.json(method, path, body);
  if (response.status >= 300) throw new Error(`${method} ${path}: HTTP ${response.status} ${JSON.stringify(response.body)}`);
  return response.body;
}

export async function measureSubscriptions(world: BenchWorld, options: { readonly label: string; readonly samples: number; readonly backlog: number }): Promise<SubscriptionBenchResult> {
  const arrivals = new Map<string, number>();
  let delivered = 0;
  let onDelivered: (() => void) | undefined;
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (c: Buffer) => chunks.push(c));
    request.on("end", () => {
      const now = performance.now();
      const event = JSON.parse(Buffer.concat(chunks).toString("utf8")) as SubscriptionEvent;
      for (const r of Object.values(event.records).flat()) {
        arrivals.set(Buffer.from(r.value ?? "", "base64").toString("utf8"), now);
        delivered++;
      }
      response.writeHead(200).end();
      onDelivered?.();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const webhook = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  const dispatcher = startLocalDispatcher({ endpoint: world.dynamo.endpoint, tables: world.tables, config: { subscriptionAllowHttp: true } });
  const until = (done: () => boolean) =>
    new Promise<void>((resolve) => {
      if (done()) return resolve();
      onDelivered = () => {
        if (done()) {
          onDelivered = undefined;
          resolve();
        }
      };
    });
  try {
    // Latency: one record at a time on an idle partition.
    const latencyTopic = `${options.label}-latency`;
    await call(world, "POST", "/v1/topics", { name: latencyTopic, partitions: 1 });
    await call(world, "POST", "/v1/subscriptions", { name: `${options.label}-latency`, topic: latencyTopic, webhook });
    const latencies: number[] = [];
    for (let i = 0; i < options.samples; i++) {
      const value = `latency-${i}`;
      const sent = performance.now();
      await call(world, "POST", `/v1/topics/${latencyTopic}/records`, { encoding: "utf8", records: [{ value }] });
      await until(() => arrivals.has(value));
      latencies.push(arrivals.get(value)! - sent);
    }

    // Throughput: a backlog on one partition, delivered from the earliest offset in batches.
    const backlogTopic = `${options.label}-backlog`;
    await call(world, "POST", "/v1/topics", { name: backlogTopic, partitions: 1 });
    for (let start = 0; start < options.backlog; start += 500) {
      const records = Array.from({ length: Math.min(500, options.backlog - start) }, (_, i) => ({ value: `backlog-${start + i}` }));
      await call(world, "POST", `/v1/topics/${backlogTopic}/records`, { encoding: "utf8", records });
    }
    const before = delivered;
    const started = performance.now();
    await call(world, "POST", "/v1/subscriptions", { name: `${options.label}-backlog`, topic: backlogTopic, webhook, startingPosition: "earliest", batchSize: 100 });
    await until(() => delivered - before >= options.backlog);
    const backlogMs = performance.now() - started;
    return { latencies, backlog: options.backlog, backlogMs, recordsPerSecond: options.backlog / (backlogMs / 1000), batchSize: 100 };
  } finally {
    await dispatcher.stop();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
