/**
 * The benchmark's measurements, each returning figures for bench/run.ts to print: produce and
 * fetch throughput against their raw-DynamoDB baselines (medians over repeated runs), write and
 * read units per message, the idle long poll, and new-record latency.
 */
import { diff, type CapacitySnapshot } from "./capacity.js";
import { brokerPartitionKey, rawFetch, rawProduce } from "./baseline.js";
import { runBinaryConsumer } from "./binary-consumer.js";
import type { BenchWorld } from "./setup.js";
import { quantile } from "./stats.js";
import { createTopic, highWatermark, initProducers, runConsumer, runProducers, type EventPool } from "./workload.js";

export type Codec = "none" | "gzip" | "brotli";
/** The broker's default topic codec (shared/core/context.ts): the throughput cells and their raw baselines use it, and the targets judge it. */
export const DEFAULT_CODEC: Codec = "brotli";
/** Codecs whose count-bound cells are also read back once (the cost table compares them). */
export const READ_BACK_CODECS: readonly Codec[] = ["brotli", "gzip"];
export const median = (values: readonly number[]): number => quantile(values, 0.5);

const progress = (text: string) => process.stderr.write(`… ${text}\n`);
let topicCounter = 0;
const runId = Date.now().toString(36);
export const newTopic = (label: string) => `bench-${runId}-${label}-${++topicCounter}`;

export interface ProduceCell {
  readonly producers: number;
  readonly batch: number;
  /** msg/s of each run (broker over HTTP, and raw DynamoDB). */
  readonly brokerRates: number[];
  readonly rawRates: number[];
  readonly latencies: number[];
  readonly rawLatencies: number[];
  readonly errors: number;
  readonly rawConflicts: number;
  readonly problems: string[];
  readonly wruPerMessage: number;
  /** The last broker run's topic and message count (the fetch comparison reads it). */
  readonly topic: string;
  readonly messages: number;
}

export async function measureProduce(world: BenchWorld, pool: EventPool, producers: number, batch: number, runMs: number, runs: number): Promise<ProduceCell> {
  const brokerRates: number[] = [];
  const rawRates: number[] = [];
  const latencies: number[] = [];
  const rawLatencies: number[] = [];
  const problems: string[] = [];
  let errors = 0;
  let rawConflicts = 0;
  let wru = 0;
  let totalMessages = 0;
  let messages = 0;
  let topic = "";
  for (let run = 0; run < runs; run++) {
    topic = newTopic(`p${producers}-b${batch}`);
    await createTopic(world.http, topic, DEFAULT_CODEC);
    progress(`produce run ${run + 1}/${runs}: ${producers} producer(s), batch ${batch}, broker then raw`);
    const identities = await initProducers(world.http, producers);
    const before = world.meter.snapshot();
    const result = await runProducers({ http: world.http, topic, pool, identities, batchSize: batch, durationMs: runMs, poolOffset: run * 997 });
    wru += diff(world.meter.snapshot(), before).computedWrite;
    messages = result.messages;
    totalMessages += result.messages;
    brokerRates.push(result.messages / (result.elapsedMs / 1000));
    latencies.push(...result.latencies);
    errors += result.errors;
    const hw = await highWatermark(world.http, topic);
    if (hw !== result.messages) problems.push(`high watermark ${hw} ≠ ${result.messages} sent`);
    if (result.orderViolations > 0) problems.push(`${result.orderViolations} out-of-order acks`);
    const raw = await rawProduce(world, pool, { producers, batchSize: batch, durationMs: runMs, poolOffset: run * 997, codec: DEFAULT_CODEC });
    rawRates.push(raw.messages / (raw.elapsedMs / 1000));
    rawLatencies.push(...raw.latencies);
    rawConflicts += raw.errors;
  }
  return { producers, batch, brokerRates, rawRates, latencies, rawLatencies, errors, rawConflicts, problems, wruPerMessage: wru / totalMessages, topic, messages };
}

export interface FetchCell {
  readonly source: ProduceCell;
  /** The SDK's default: the binary fetch, decoded by the SDK's decoder (bench/binary-consumer.ts). */
  readonly brokerRates: number[];
  /** The same read in JSON (GET …/records, base64). */
  readonly jsonRates: number[];
  readonly rawRates: number[];
  readonly rruPer1k: number;
  readonly messagesPerRequest: number;
  readonly verified: boolean;
}

export async function measureFetch(world: BenchWorld, source: ProduceCell, runs: number): Promise<FetchCell> {
  const brokerRates: number[] = [];
  const jsonRates: number[] = [];
  const rawRates: number[] = [];
  let rru = 0;
  let read = 0;
  let requests = 0;
  let verified = true;
  const p = await brokerPartitionKey(world, source.topic);
  for (let run = 0; run < runs; run++) {
    progress(`fetch run ${run + 1}/${runs}: ${source.topic} (${source.messages} messages), broker then raw`);
    const before = world.meter.snapshot();
    const broker = await runConsumer(world.http, source.topic, source.messages, "maxBytes=1048576");
    rru += diff(world.meter.snapshot(), before).computedRead;
    read += broker.messages;
    requests += broker.requests;
    verified &&= broker.contiguous && broker.messages === source.messages && broker.errors === 0;
    jsonRates.push(broker.messages / (broker.elapsedMs / 1000));
    const binary = await runBinaryConsumer(world.http, source.topic, source.messages, 1_048_576);
    verified &&= binary.contiguous && binary.messages === source.messages && binary.errors === 0;
    brokerRates.push(binary.messages / (binary.elapsedMs / 1000));
    const raw = await rawFetch(world, p, source.messages, source.batch);
    verified &&= raw.messages === source.messages;
    rawRates.push(raw.messages / (raw.elapsedMs / 1000));
  }
  return { source, brokerRates, jsonRates, rawRates, rruPer1k: (rru / read) * 1000, messagesPerRequest: read / requests, verified };
}

export interface UnitCell {
  readonly codec: Codec;
  readonly batch: number;
  readonly messages: number;
  readonly wruPerMessage: number;
  readonly wruLocalPerMessage: number;
  readonly cost: CapacitySnapshot;
  readonly produceServerMs: number;
  readonly requestBytes: number;
  /** Read back once with the default fetch (READ_BACK_CODECS cells only). */
  readonly fetch?: { rruPerMessage: number; messagesPerRequest: number; serverMs: number; responseBytes: number };
  readonly verified: boolean;
}

/** Count-bound produce by one idempotent producer, then (for READ_BACK_CODECS) one full read-back. */
export async function measureUnits(world: BenchWorld, pool: EventPool, codec: Codec, batch: number, messages: number): Promise<UnitCell> {
  const topic = newTopic(`cost-${codec}-b${batch}`);
  await createTopic(world.http, topic, codec);
  progress(`units: ${codec}, batch ${batch}, ${messages} messages`);
  const identities = await initProducers(world.http, 1);
  const before = world.meter.snapshot();
  const produceTimesBefore = world.serverMs.produce.length;
  const result = await runProducers({ http: world.http, topic, pool, identities, batchSize: batch, messagesPerProducer: messages });
  const cost = diff(world.meter.snapshot(), before);
  const produceServerMs = median(world.serverMs.produce.slice(produceTimesBefore));
  const hw = await highWatermark(world.http, topic);
  let verified = hw === result.messages && result.errors === 0 && cost.failedWrites === 0;
  let fetch: UnitCell["fetch"];
  if (READ_BACK_CODECS.includes(codec)) {
    const fetchBefore = world.meter.snapshot();
    const fetchTimesBefore = world.serverMs.fetch.length;
    const read = await runConsumer(world.http, topic, result.messages, "maxBytes=1048576");
    const readCost = diff(world.meter.snapshot(), fetchBefore);
    verified &&= read.contiguous && read.messages === result.messages;
    fetch = { rruPerMessage: readCost.computedRead / read.messages, messagesPerRequest: read.messages / read.requests, serverMs: median(world.serverMs.fetch.slice(fetchTimesBefore)), responseBytes: read.wireBytes / read.requests };
  }
  const requestBytes = 120 + (result.payloadBytes * 1.05) / result.requests; // JSON-escaped events plus the envelope
  return { codec, batch, messages: result.messages, wruPerMessage: cost.computedWrite / result.messages, wruLocalPerMessage: cost.reportedWrite / result.messages, cost, produceServerMs, requestBytes, ...(fetch && { fetch }), verified };
}

export interface IdleFigures {
  readonly waitMs: number;
  readonly requests: number;
  readonly serverMs: number;
  readonly rruPerSecond: number;
  readonly latencies: number[];
}

/**
 * Long polls on an empty partition (units and handler time per second of waiting), then the
 * new-record latency: a consumer long-polls, a producer sends one record after a random pause,
 * latency = consumer receipt − produce request start.
 */
export async function measureIdle(world: BenchWorld, pool: EventPool, waitMs: number, polls: number, samples: number): Promise<IdleFigures> {
  const topic = newTopic("idle");
  await createTopic(world.http, topic);
  progress(`idle: ${polls} long poll(s) of ${waitMs} ms on an empty partition`);
  const before = world.meter.snapshot();
  const timesBefore = world.serverMs.fetch.length;
  const t0 = performance.now();
  for (let i = 0; i < polls; i++) {
    const response = await world.http.request("GET", `/v1/topics/${topic}/partitions/0/records?offset=0&maxWaitMs=${waitMs}`);
    if (response.status !== 200) throw new Error(`idle poll: HTTP ${response.status} ${response.text}`);
  }
  const seconds = (performance.now() - t0) / 1000;
  const rruPerSecond = diff(world.meter.snapshot(), before).computedRead / seconds;
  const serverMs = median(world.serverMs.fetch.slice(timesBefore));

  progress(`new-record latency: ${samples} samples`);
  const latencies: number[] = [];
  for (let i = 0; i < samples; i++) {
    const poll = world.http.request("GET", `/v1/topics/${topic}/partitions/0/records?offset=${i}&maxWaitMs=5000`).then(() => performance.now());
    await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 400));
    const sent = performance.now();
    const { json } = pool.slice(i, 1);
    const produced = await world.http.request("POST", `/v1/topics/${topic}/records`, `{"encoding":"utf8","partitions":[{"partition":0,"records":${json}}]}`);
    if (produced.status !== 200) throw new Error(`latency produce: HTTP ${produced.status} ${produced.text}`);
    latencies.push((await poll) - sent);
  }
  return { waitMs, requests: polls, serverMs, rruPerSecond, latencies };
}
