/**
 * The fetch part of the benchmark alone (issue 17): a partition written by 16 idempotent producers
 * at batch 100 (and 10), then read from 0 to the end by one consumer over HTTP — JSON and the
 * binary batch format (docs/api.md "Binary fetch") — beside raw Query + decompress of the same
 * items, interleaved, medians over the runs; read units per 1,000 messages for each.
 *
 *   npx tsx bench/fetch-only.ts [--runs=3] [--messages=8000] [--formats=json,binary] [--batches=100,10] [--endpoint=http://127.0.0.1:8765]
 *
 * --batches=1,100 are the partitions `npm run bench` judges the fetch ratio on (16 producers).
 *
 * --endpoint uses an already running DynamoDB Local (tables under a unique prefix, dropped at the
 * end) instead of starting one.
 */
import { diff } from "./capacity.js";
import { brokerPartitionKey, rawFetch } from "./baseline.js";
import { runBinaryConsumer } from "./binary-consumer.js";
import { median, newTopic } from "./measure.js";
import { generateEvents } from "./payload.js";
import { startWorld } from "./setup.js";
import { fmt, markdownTable } from "./stats.js";
import { createTopic, EventPool, highWatermark, initProducers, runConsumer, runProducers, type FetchRunResult } from "./workload.js";

const argv = process.argv.slice(2);
const flag = (name: string): string | undefined => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const runs = Number(flag("runs") ?? 3);
const messages = Number(flag("messages") ?? 8_000);
const formats = (flag("formats") ?? "json,binary").split(",");
const batches = (flag("batches") ?? "100,10").split(",").map(Number);
const progress = (text: string) => process.stderr.write(`… ${text}\n`);

interface Row {
  readonly batch: number;
  readonly way: string;
  readonly rates: number[];
  readonly rawRates: number[];
  rru: number;
  rawRru: number;
  rawRead: number;
  calls: Record<string, number>;
  read: number;
  requests: number;
  serverMs: number[];
  verified: boolean;
}

async function main(): Promise<void> {
  const pool = new EventPool(generateEvents(10_000));
  const world = await startWorld(flag("endpoint"));
  const rows: Row[] = [];
  try {
    for (const batch of batches) {
      const topic = newTopic(`fetch-b${batch}`);
      await createTopic(world.http, topic);
      progress(`producing ${messages} messages at batch ${batch} with 16 producers`);
      await runProducers({ http: world.http, topic, pool, identities: await initProducers(world.http, 16), batchSize: batch, messagesPerProducer: Math.ceil(messages / 16) });
      const end = await highWatermark(world.http, topic);
      const p = await brokerPartitionKey(world, topic);
      const all: Record<string, () => Promise<FetchRunResult>> = {
        json: () => runConsumer(world.http, topic, end, "maxBytes=1048576"),
        binary: () => runBinaryConsumer(world.http, topic, end, 1_048_576),
      };
      const ways = Object.fromEntries(Object.entries(all).filter(([way]) => formats.includes(way)));
      const byWay = new Map<string, Row>();
      for (const way of Object.keys(ways)) {
        const row: Row = { batch, way, rates: [], rawRates: [], rru: 0, rawRru: 0, rawRead: 0, calls: {}, read: 0, requests: 0, serverMs: [], verified: true };
        byWay.set(way, row);
        rows.push(row);
      }
      for (let run = 0; run < runs; run++) {
        for (const [way, consume] of Object.entries(ways)) {
          progress(`batch ${batch}, run ${run + 1}/${runs}: ${way} then raw`);
          const row = byWay.get(way)!;
          const before = world.meter.snapshot();
          const timesBefore = world.serverMs.fetch.length;
          const result = await consume();
          const spent = diff(world.meter.snapshot(), before);
          row.rru += spent.computedRead;
          for (const [command, n] of Object.entries(spent.requests)) row.calls[command] = (row.calls[command] ?? 0) + n;
          row.serverMs.push(median(world.serverMs.fetch.slice(timesBefore)));
          row.read += result.messages;
          row.requests += result.requests;
          row.verified &&= result.contiguous && result.messages === end && result.errors === 0;
          row.rates.push(result.messages / (result.elapsedMs / 1000));
          const rawBefore = world.rawMeter.snapshot();
          const raw = await rawFetch(world, p, end, batch);
          row.rawRru += diff(world.rawMeter.snapshot(), rawBefore).computedRead;
          row.rawRead += raw.messages;
          row.rawRates.push(raw.messages / (raw.elapsedMs / 1000));
        }
      }
    }
  } finally {
    await world.close();
  }
  console.log(
    markdownTable(
      ["written at batch", "format", "broker msg/s", "raw msg/s", "broker / raw", "per-run ratios (median)", "msg/request", "RRU/1k msg", "raw RRU/1k", "DynamoDB calls per fetch", "handler p50 ms", "check"],
      rows.map((r) => [String(r.batch), r.way, fmt(median(r.rates)), fmt(median(r.rawRates)), `${fmt(median(r.rates) / median(r.rawRates), 2)}×`, perRunRatios(r), fmt(r.read / r.requests), fmt((r.rru / r.read) * 1000, 1), fmt((r.rawRru / r.rawRead) * 1000, 1), Object.entries(r.calls).map(([c, n]) => `${c.replace("Command", "")} ${fmt(n / r.requests, 2)}`).join(", "), fmt(median(r.serverMs), 1), r.verified ? "verified" : "FAILED"]),
    ),
  );
}

/**
 * Each run's broker rate over the raw rate measured right after it, median and range: on a loaded
 * machine a slow moment hits both sides of one run alike, where the ratio of the two medians can
 * pair a broker run with another run's raw rate.
 */
function perRunRatios(row: Row): string {
  const ratios = row.rates.map((rate, i) => rate / row.rawRates[i]!);
  return `${fmt(median(ratios), 2)}× (${fmt(Math.min(...ratios), 2)}–${fmt(Math.max(...ratios), 2)})`;
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
