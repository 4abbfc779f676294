/**
 * The benchmark's clients: idempotent producers and a sequential consumer, over real HTTP.
 */
import type { BenchHttpClient } from "./http-client.js";

/** Pre-serialized records (`{"value":"<event JSON, escaped>"}`) from the payload generator. */
export class EventPool {
  /** The event JSON strings themselves (for the raw-DynamoDB baselines). */
  readonly events: readonly string[];
  readonly records: readonly string[];
  readonly valueBytes: readonly number[];

  constructor(events: readonly string[]) {
    if (events.length === 0) throw new Error("EventPool needs events");
    this.events = events;
    this.records = events.map((event) => `{"value":${JSON.stringify(event)}}`);
    this.valueBytes = events.map((event) => Buffer.byteLength(event, "utf8"));
  }

  get size(): number {
    return this.records.length;
  }

  /** `count` consecutive records from `start`, wrapping around, as a JSON array body fragment. */
  slice(start: number, count: number): { json: string; bytes: number } {
    const parts: string[] = [];
    let bytes = 0;
    for (let i = 0; i < count; i++) {
      const index = (start + i) % this.records.length;
      parts.push(this.records[index]!);
      bytes += this.valueBytes[index]!;
    }
    return { json: `[${parts.join(",")}]`, bytes };
  }
}

export async function createTopic(http: BenchHttpClient, name: string, compression?: "none" | "gzip" | "brotli"): Promise<void> {
  const response = await http.json("POST", "/v1/topics", { name, partitions: 1, ...(compression ? { compression } : {}) });
  if (response.status !== 201) throw new Error(`create topic ${name}: HTTP ${response.status} ${JSON.stringify(response.body)}`);
}

export async function highWatermark(http: BenchHttpClient, topic: string): Promise<number> {
  const response = await http.json("GET", `/v1/topics/${topic}`);
  if (response.status !== 200) throw new Error(`describe ${topic}: HTTP ${response.status} ${JSON.stringify(response.body)}`);
  return Number(response.body.partitions[0].highWatermark);
}

export interface ProducerIdentity {
  readonly producerId: number;
  readonly epoch: number;
}

/** POST /v1/producers once per producer (kept out of the measured window: a one-time cost). */
export async function initProducers(http: BenchHttpClient, count: number): Promise<ProducerIdentity[]> {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const response = await http.json<ProducerIdentity>("POST", "/v1/producers", {});
      if (response.status !== 200) throw new Error(`init producer: HTTP ${response.status} ${JSON.stringify(response.body)}`);
      return response.body;
    }),
  );
}

export interface ProduceRunOptions {
  readonly http: BenchHttpClient;
  /** One idempotent producer per identity (from initProducers). */
  readonly identities: readonly ProducerIdentity[];
  readonly topic: string;
  readonly pool: EventPool;
  readonly batchSize: number;
  /** Stop starting new requests after this long (time-bound run)… */
  readonly durationMs?: number;
  /** …or after each producer has sent this many messages (count-bound run). */
  readonly messagesPerProducer?: number;
  /** Where in the pool producer 0 starts (others start spread over the pool). */
  readonly poolOffset?: number;
}

export interface ProduceRunResult {
  /** Messages acknowledged (each exactly once). */
  readonly messages: number;
  /** Payload bytes of those messages (event JSON). */
  readonly payloadBytes: number;
  /** Successful produce requests. */
  readonly requests: number;
  readonly elapsedMs: number;
  /** Latency of every produce request (ms), including failed attempts. */
  readonly latencies: number[];
  /** Client-visible errors: non-200 responses or transport errors (each retried with the same sequence). */
  readonly errors: number;
  readonly errorSamples: string[];
  /** Acknowledgements flagged duplicate (expected only after a retried error). */
  readonly duplicates: number;
  /** Acknowledgements whose offsets did not follow the producer's previous ones. */
  readonly orderViolations: number;
}

const MAX_RETRIES = 10;

/**
 * Runs one idempotent producer per identity against partition 0 of `topic`, each with one request
 * in flight: sequential POST /v1/topics/:t/records with consecutive baseSequence. A failed request is retried unchanged (same sequence), as a Kafka producer does.
 */
export async function runProducers(options: ProduceRunOptions): Promise<ProduceRunResult> {
  const { http, topic, pool, identities, batchSize } = options;
  const producers = identities.length;
  if ((options.durationMs === undefined) === (options.messagesPerProducer === undefined)) {
    throw new Error("give exactly one of durationMs and messagesPerProducer");
  }
  const latencies: number[] = [];
  const errorSamples: string[] = [];
  let messages = 0;
  let payloadBytes = 0;
  let requests = 0;
  let errors = 0;
  let duplicates = 0;
  let orderViolations = 0;
  const started = performance.now();
  const deadline = options.durationMs !== undefined ? started + options.durationMs : Number.POSITIVE_INFINITY;
  const spread = Math.floor(pool.size / producers);

  await Promise.all(
    identities.map(async ({ producerId, epoch }, index) => {
      let cursor = (options.poolOffset ?? 0) + index * spread;
      let sequence = 0;
      let lastOffset = -1;
      const path = `/v1/topics/${topic}/records`;
      for (;;) {
        if (options.messagesPerProducer !== undefined ? sequence >= options.messagesPerProducer : performance.now() >= deadline) break;
        const count = options.messagesPerProducer !== undefined ? Math.min(batchSize, options.messagesPerProducer - sequence) : batchSize;
        const records = pool.slice(cursor, count);
        const body =
          `{"encoding":"utf8","producerId":${producerId},"producerEpoch":${epoch},` +
          `"partitions":[{"partition":0,"baseSequence":${sequence},"records":${records.json}}]}`;
        for (let attempt = 0; ; attempt++) {
          const t0 = performance.now();
          let status = 0;
          let text = "";
          try {
            const response = await http.request("POST", path, body);
            status = response.status;
            text = response.text;
          } catch (error) {
            text = String(error);
          }
          latencies.push(performance.now() - t0);
          if (status === 200) {
            const result = JSON.parse(text).partitions[0] as { baseOffset: number; lastOffset: number; recordCount: number; duplicate: boolean };
            if (result.recordCount !== count) throw new Error(`acknowledged ${result.recordCount} records, sent ${count}`);
            if (result.duplicate) duplicates++;
            if (result.baseOffset <= lastOffset) orderViolations++;
            lastOffset = result.lastOffset;
            break;
          }
          errors++;
          if (errorSamples.length < 5) errorSamples.push(`HTTP ${status}: ${text.slice(0, 300)}`);
          if (attempt >= MAX_RETRIES) throw new Error(`produce failed ${MAX_RETRIES + 1} times; last: HTTP ${status} ${text.slice(0, 500)}`);
          await new Promise((resolve) => setTimeout(resolve, 20 * (attempt + 1)));
        }
        requests++;
        messages += count;
        payloadBytes += records.bytes;
        sequence += count;
        cursor += count;
      }
    }),
  );
  return { messages, payloadBytes, requests, elapsedMs: performance.now() - started, latencies, errors, errorSamples, duplicates, orderViolations };
}

export interface FetchRunResult {
  readonly messages: number;
  /** Decoded value bytes (the event JSON). */
  readonly payloadBytes: number;
  /** Response body bytes on the wire. */
  readonly wireBytes: number;
  readonly requests: number;
  readonly elapsedMs: number;
  readonly latencies: number[];
  readonly errors: number;
  /** Offsets came back 0, 1, 2, … without a gap or repeat up to the high watermark. */
  readonly contiguous: boolean;
}

/** Length of the bytes a base64 string decodes to. */
function base64Length(text: string): number {
  const padding = text.endsWith("==") ? 2 : text.endsWith("=") ? 1 : 0;
  return (text.length / 4) * 3 - padding;
}

/** One consumer reading partition 0 from offset 0 to `end` with GET …/records?offset=&maxBytes=. */
export async function runConsumer(http: BenchHttpClient, topic: string, end: number, query: string): Promise<FetchRunResult> {
  const latencies: number[] = [];
  let offset = 0;
  let expected = 0;
  let contiguous = true;
  let messages = 0;
  let payloadBytes = 0;
  let wireBytes = 0;
  let requests = 0;
  let errors = 0;
  const started = performance.now();
  while (offset < end) {
    const t0 = performance.now();
    const response = await http.request("GET", `/v1/topics/${topic}/partitions/0/records?offset=${offset}&${query}`);
    latencies.push(performance.now() - t0);
    if (response.status !== 200) {
      errors++;
      if (errors > 10) throw new Error(`fetch failed: HTTP ${response.status} ${response.text.slice(0, 500)}`);
      continue;
    }
    requests++;
    wireBytes += response.bytes;
    const body = JSON.parse(response.text) as { records: { offset: number; value: string | null }[]; nextOffset: number };
    for (const record of body.records) {
      if (record.offset !== expected) contiguous = false;
      expected = record.offset + 1;
      messages++;
      if (record.value) payloadBytes += base64Length(record.value);
    }
    if (body.nextOffset <= offset) throw new Error(`fetch made no progress at offset ${offset}`);
    offset = body.nextOffset;
  }
  if (expected !== end) contiguous = false;
  return { messages, payloadBytes, wireBytes, requests, elapsedMs: performance.now() - started, latencies, errors, contiguous };
}
