/**
 * `dynalog` — a thin command-line shell over the SDK (client/). Run it as `npx dynalog …`.
 *
 * Exit codes: 0 ok · 1 refused or failed · 2 usage · 3 broker unreachable · 4 authentication or
 * authorization failed · 5 unknown topic or group · 130 interrupted twice.
 */
import { fstatSync, readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { registerVerifyCommand } from "./commands/verify.js";
import { registerSmoke } from "./commands/smoke.js";
import { registerLifecycleCommands } from "./commands/lifecycle.js";
import { registerSubscriptionCommands } from "./commands/subscriptions.js";
import { registerSecurityCommands } from "./commands/security.js";
import { printJson, printTable } from "./output.js";
import { Dynalog, DynalogError, logLevel, type Consumer, type KafkaMessage, type Message } from "../client/index.js";
import { formatBytes, Progress } from "./progress.js";
import { onInterrupt } from "./interrupt.js";

export const DEFAULT_URL = "http://127.0.0.1:8790";

const EXIT = { ok: 0, failed: 1, usage: 2, unreachable: 3, auth: 4, notFound: 5 } as const;

interface GlobalOptions {
  url: string;
  token?: string;
  timeout: number;
}

/** Runs the CLI; resolves with the exit code. */
export async function main(argv: readonly string[], io: { stdin?: NodeJS.ReadableStream } = {}): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = buildProgram((code) => (exitCode = code), io.stdin ?? process.stdin);
  try {
    await program.parseAsync([...argv]);
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === "dynalog.usage") process.stderr.write(`dynalog: ${error.message}\n`);
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    const { message, code } = describeFailure(error, program.opts<GlobalOptions>().url);
    process.stderr.write(`dynalog: ${message}\n`);
    return code;
  }
  return exitCode;
}

function buildProgram(setExit: (code: number) => void, stdin: NodeJS.ReadableStream): Command {
  const program = new Command("dynalog")
    .description("Dynalog from the command line: topics, produce, consume, consumer groups, offsets, and verify (audit a deployment).")
    .version(packageVersion())
    .addOption(new Option("--url <url>", "the broker's URL").env("DYNALOG_URL").default(DEFAULT_URL))
    .addOption(new Option("--token <token>", "an API key (dlk_…), sent as a Bearer token").env("DYNALOG_TOKEN"))
    .addOption(new Option("--timeout <ms>", "per-request timeout").argParser(positiveInt).default(30_000))
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();
  const client = () => {
    const { url, token, timeout } = program.opts<GlobalOptions>();
    return new Dynalog({
      url,
      auth: token ? { type: "bearer", token } : undefined,
      clientId: "dynalog-cli",
      requestTimeout: timeout,
      logLevel: logLevel.NOTHING,
      // Fail fast: a person is waiting.
      retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 5_000 },
    });
  };

  // ---- topics ----------------------------------------------------------------------------------
  const topics = program.command("topics").description("create, list, describe and delete topics");
  topics
    .command("create <name>")
    .description("create a topic")
    .option("-p, --partitions <n>", "number of partitions (1-1000)", positiveInt, 1)
    .option("--retention-ms <ms>", "how long records are kept, or 'forever'", retention)
    .addOption(new Option("--compression <codec>", "storage codec").choices(["none", "gzip", "brotli"]))
    .addOption(new Option("--timestamp-type <type>", "record timestamps").choices(["CreateTime", "LogAppendTime"]))
    .addOption(new Option("--cleanup-policy <policy>", "keep the latest record per key (docs/compaction.md)").choices(["delete", "compact", "compact,delete"]))
    .action(async (name: string, opts: { partitions: number; retentionMs?: number | "forever"; compression?: "none" | "gzip" | "brotli"; timestampType?: "CreateTime" | "LogAppendTime"; cleanupPolicy?: "delete" | "compact" | "compact,delete" }) => {
      const created = await client()
        .admin()
        .createTopics({
          topics: [
            {
              topic: name,
              numPartitions: opts.partitions,
              retentionMs: opts.retentionMs === "forever" ? null : opts.retentionMs,
              compression: opts.compression,
              timestampType: opts.timestampType,
              cleanupPolicy: opts.cleanupPolicy,
            },
          ],
        });
      if (!created) {
        process.stderr.write(`dynalog: topic '${name}' already exists\n`);
        setExit(EXIT.failed);
        return;
      }
      process.stdout.write(`Created topic ${name} with ${opts.partitions} partition${opts.partitions === 1 ? "" : "s"}\n`);
    });
  topics
    .command("list")
    .description("list topics")
    .option("--json", "print JSON")
    .action(async (opts: { json?: boolean }) => {
      const list = await client().admin().listTopicDetails();
      if (opts.json) return printJson(list);
      printTable(
        ["TOPIC", "PARTITIONS", "RETENTION", "COMPRESSION", "TIMESTAMPS"],
        list.map((t) => [t.name, String(t.partitionCount), t.retentionMs === null ? "forever" : `${t.retentionMs} ms`, t.compression, t.timestampType]),
      );
    });
  topics
    .command("describe <name>")
    .description("a topic's settings and each partition's offsets and approximate size")
    .option("--json", "print JSON")
    .action(async (name: string, opts: { json?: boolean }) => {
      const t = await client().admin().describeTopic(name);
      if (opts.json) return printJson(t);
      process.stdout.write(`Topic ${t.name}  id ${t.topicId}  partitions ${t.partitionCount}  retention ${t.retentionMs === null ? "forever" : `${t.retentionMs} ms`}  compression ${t.compression}  timestamps ${t.timestampType}  created ${t.createdAt}\n`);
      if (t.cleanupPolicy !== undefined && t.cleanupPolicy !== "delete") {
        process.stdout.write(`Cleanup ${t.cleanupPolicy}  delete.retention.ms ${t.deleteRetentionMs}  min.compaction.lag.ms ${t.minCompactionLagMs}\n`);
        printTable(
          ["PARTITION", "LOG-START", "HIGH-WATERMARK", "CLEANED-UP-TO", "LAST-COMPACTION", "EST-SIZE"],
          t.partitions.map((p) => [String(p.partition), String(p.logStartOffset), String(p.highWatermark), p.compaction ? String(p.compaction.cleanedUpTo) : "-", p.compaction ? new Date(p.compaction.lastRunAt).toISOString() : "never", formatBytes(p.retainedBytesEstimate)]),
        );
        return;
      }
      printTable(
        ["PARTITION", "LOG-START", "HIGH-WATERMARK", "EST-SIZE", "BYTES-WRITTEN"],
        t.partitions.map((p) => [String(p.partition), String(p.logStartOffset), String(p.highWatermark), formatBytes(p.retainedBytesEstimate), formatBytes(p.bytesWritten)]),
      );
    });
  topics
    .command("delete <name>")
    .description("delete a topic and its records")
    .action(async (name: string) => {
      await client().admin().deleteTopics({ topics: [name] });
      process.stdout.write(`Deleted topic ${name}\n`);
    });

  // ---- produce -----------------------------------------------------------------------------------
  program
    .command("produce <topic>")
    .description("produce one message per line of standard input")
    .option("-k, --key <key>", "the key of every message")
    .option("--key-separator <sep>", "split each line into key<sep>value")
    .option("-H, --header <key=value>", "a header for every message (repeatable)", collectHeader, [] as { key: string; value: string }[])
    .option("-p, --partition <n>", "write to this partition", nonNegativeInt)
    .addOption(new Option("--compression <codec>", "storage codec for these batches").choices(["none", "gzip", "brotli"]))
    .action(async (topic: string, opts: { key?: string; keySeparator?: string; header: { key: string; value: string }[]; partition?: number; compression?: "none" | "gzip" | "brotli" }) => {
      const producer = client().producer({ linger: 5, compression: opts.compression });
      await producer.connect();
      const progress = new Progress({ verb: "Produced", where: `to ${topic}`, totalBytes: stdinFileSize(stdin) });
      const outstanding = new Set<Promise<unknown>>();
      let failure: unknown;
      let chunk: Message[] = [];
      let chunkBytes = 0; // of stdin, newline included: the ETA compares them with the file's size
      const flush = async () => {
        if (chunk.length === 0) return;
        const messages = chunk;
        const bytes = chunkBytes;
        chunk = [];
        chunkBytes = 0;
        const sending = producer.send({ topic, messages }).then(
          () => progress.add(messages.length, bytes),
          (error) => (failure ??= error),
        );
        outstanding.add(sending);
        void sending.finally(() => outstanding.delete(sending));
        if (outstanding.size >= 8) await Promise.race(outstanding);
      };
      const lines = createInterface({ input: stdin, crlfDelay: Infinity });
      for await (const line of lines) {
        if (failure) break;
        let key: string | undefined = opts.key;
        let value = line;
        if (opts.keySeparator !== undefined) {
          const at = line.indexOf(opts.keySeparator);
          if (at >= 0) {
            key = line.slice(0, at);
            value = line.slice(at + opts.keySeparator.length);
          }
        }
        chunk.push({ key: key ?? null, value, headers: opts.header.length > 0 ? opts.header : undefined, partition: opts.partition });
        chunkBytes += Buffer.byteLength(line) + 1;
        if (chunk.length >= 500) await flush();
      }
      if (!failure) await flush();
      await Promise.allSettled(outstanding);
      await producer.disconnect();
      process.stderr.write(`${progress.finish()}\n`);
      if (failure) throw failure;
    });

  // ---- consume -----------------------------------------------------------------------------------
  program
    .command("consume <topic>")
    .description("print messages as they arrive; follows until Ctrl-C (or --max)")
    .option("-g, --group <group>", "consume as a member of this consumer group (commits what it printed)")
    .option("--from-beginning", "without a committed offset, start at the oldest record (default: only new ones)")
    .addOption(new Option("-f, --format <format>", "output").choices(["value", "json"]).default("value"))
    .option("-n, --max <n>", "exit after this many messages", positiveInt)
    .action(async (topic: string, opts: { group?: string; fromBeginning?: boolean; format: "value" | "json"; max?: number }) => {
      const dynalog = client();
      await dynalog.admin().describeTopic(topic); // a clear error for an unknown topic (a group would just wait for it)
      const consumer = dynalog.consumer({ groupId: opts.group, maxWaitTimeInMs: 2_000 });
      const stop = deferred<unknown>();
      consumer.on(consumer.events.CRASH, (event) => {
        if (!event.payload.restart) stop.resolve(event.payload.error);
      });
      let printed = 0;
      // Live progress only when the messages go elsewhere than the terminal (`> file`, `| tool`).
      const progress = new Progress({ verb: "Consumed", where: `from ${topic}`, live: process.stderr.isTTY === true && process.stdout.isTTY !== true, totalRecords: opts.max });
      await consumer.subscribe({ topics: [topic], fromBeginning: opts.fromBeginning === true });
      await consumer.run({
        eachBatchAutoResolve: false,
        eachBatch: async ({ batch, resolveOffset, isRunning, isStale }) => {
          for (const message of batch.messages) {
            if (opts.max !== undefined && printed >= opts.max) break;
            if (!isRunning() || isStale()) break;
            const text = format(batch.topic, batch.partition, message, opts.format);
            process.stdout.write(text);
            resolveOffset(message.offset);
            printed++;
            progress.add(1, Buffer.byteLength(text));
          }
          if (opts.max !== undefined && printed >= opts.max) stop.resolve(undefined);
        },
      });
      const interrupted = onInterrupt(() => stop.resolve(undefined));
      const error = await stop.promise;
      interrupted.dispose();
      await disconnectWithin(consumer, 10_000);
      progress.finish();
      if (error) throw error;
    });

  // ---- groups --------------------------------------------------------------------------------------
  const groups = program.command("groups").description("list and describe consumer groups, show lag");
  groups
    .command("list")
    .description("list consumer groups")
    .option("--json", "print JSON")
    .action(async (opts: { json?: boolean }) => {
      const { groups: list } = await client().admin().listGroups();
      if (opts.json) return printJson(list);
      printTable(
        ["GROUP", "STATE", "MEMBERS", "EPOCH"],
        list.map((g) => [g.groupId, g.state, String(g.members), String(g.groupEpoch)]),
      );
    });
  groups
    .command("describe <group>")
    .description("members, their partitions, committed offsets and lag")
    .option("--json", "print JSON")
    .action(async (group: string, opts: { json?: boolean }) => {
      const g = await client().admin().describeGroup(group);
      if (opts.json) return printJson(g);
      process.stdout.write(`Group ${g.groupId}  state ${g.state}  epoch ${g.groupEpoch}  assignor ${g.protocol}  members ${g.members.length}  total lag ${g.totalLag}\n`);
      if (g.members.length > 0) {
        process.stdout.write("\n");
        printTable(
          ["MEMBER", "INSTANCE", "EPOCH", "STATE", "ASSIGNED", "REVOKING"],
          g.members.map((m) => [m.memberId, m.instanceId ?? "-", String(m.memberEpoch), m.state, partitionsText(m.assignment), partitionsText(m.revoking)]),
        );
      }
      process.stdout.write("\n");
      printLag(g.topics);
    });
  groups
    .command("lag <group>")
    .description("lag per partition: high watermark − committed offset")
    .option("--json", "print JSON")
    .action(async (group: string, opts: { json?: boolean }) => {
      const lag = await client().admin().fetchGroupLag({ groupId: group });
      if (opts.json) return printJson(lag);
      printLag(lag.topics);
      process.stdout.write(`Total lag: ${lag.totalLag}\n`);
    });

  // ---- offsets -------------------------------------------------------------------------------------
  const offsets = program.command("offsets").description("move a consumer group's committed offsets");
  offsets
    .command("reset <group>")
    .description("set a stopped group's offsets of a topic (the group must have no live members)")
    .requiredOption("-t, --topic <topic>", "the topic")
    .option("-p, --partition <n...>", "only these partitions (default: all)")
    .option("--to-earliest", "to the oldest retained record")
    .option("--to-latest", "to the end (skip everything)")
    .option("--to-offset <offset>", "to this offset", nonNegativeInt)
    .option("--to-timestamp <time>", "to the first record at or after this time (ms or ISO 8601)", timestamp)
    .action(async (group: string, opts: { topic: string; partition?: string[]; toEarliest?: boolean; toLatest?: boolean; toOffset?: number; toTimestamp?: number }) => {
      const targets = [opts.toEarliest, opts.toLatest, opts.toOffset !== undefined, opts.toTimestamp !== undefined].filter(Boolean).length;
      if (targets !== 1) throw new CommanderError(EXIT.usage, "dynalog.usage", "give exactly one of --to-earliest, --to-latest, --to-offset, --to-timestamp");
      const admin = client().admin();
      const topicOffsets = await admin.fetchTopicOffsets(opts.topic);
      const wanted = opts.partition?.map((p) => nonNegativeInt(p));
      for (const p of wanted ?? []) {
        if (!topicOffsets.some((t) => t.partition === p)) throw new DynalogError({ code: "UNKNOWN_TOPIC_OR_PARTITION", message: `Topic '${opts.topic}' has no partition ${p}`, retriable: false, outcome: "definite" });
      }
      const selected = topicOffsets.filter((t) => !wanted || wanted.includes(t.partition));
      const byTime = opts.toTimestamp !== undefined ? await admin.fetchTopicOffsetsByTimestamp(opts.topic, opts.toTimestamp) : [];
      const partitions = selected.map((t) => ({
        partition: t.partition,
        offset: opts.toEarliest ? t.low : opts.toLatest ? t.high : opts.toOffset !== undefined ? opts.toOffset : byTime.find((b) => b.partition === t.partition)!.offset,
      }));
      await admin.setOffsets({ groupId: group, topic: opts.topic, partitions });
      printTable(
        ["TOPIC", "PARTITION", "NEW-OFFSET"],
        partitions.map((p) => [opts.topic, String(p.partition), String(p.offset)]),
      );
    });

  registerVerifyCommand(program, { connection: () => program.opts<GlobalOptions>(), setExit });

  registerSmoke(program, setExit);
  registerLifecycleCommands(topics, groups, client);
  registerSubscriptionCommands(program, client);
  registerSecurityCommands(program, client);
  return program;
}

// ---- errors ------------------------------------------------------------------------------------------

export function describeFailure(error: unknown, url: string): { message: string; code: number } {
  if (error instanceof CommanderError) return { message: error.message, code: EXIT.usage };
  if (!(error instanceof DynalogError)) return { message: (error as Error)?.message ?? String(error), code: EXIT.failed };
  const unreachable = ["CONNECTION_ERROR", "NETWORK_ERROR", "CLIENT_TIMEOUT"].includes(error.code) || (error.code === "HTTP_ERROR" && (error.status ?? 0) >= 500);
  if (unreachable) {
    const hint = url === DEFAULT_URL ? "is the local broker running? Start it with `npm start`, or point --url / DYNALOG_URL elsewhere" : "check --url / DYNALOG_URL";
    return { message: `${error.message} — ${hint}`, code: EXIT.unreachable };
  }
  if (error.code === "AUTHENTICATION_FAILED" || error.status === 401) {
    return { message: `authentication failed: ${error.message} — pass an API key with --token or DYNALOG_TOKEN`, code: EXIT.auth };
  }
  if (error.code.endsWith("_AUTHORIZATION_FAILED") || error.status === 403) {
    return { message: `not allowed: ${error.message}`, code: EXIT.auth };
  }
  if (error.code === "UNKNOWN_TOPIC_OR_PARTITION" || error.code === "GROUP_ID_NOT_FOUND" || error.code === "SUBSCRIPTION_NOT_FOUND") {
    return { message: `${error.message} (${error.code})`, code: EXIT.notFound };
  }
  if (error.code === "NON_EMPTY_GROUP") return { message: `${error.message} — stop the group's consumers first`, code: EXIT.failed };
  return { message: `${error.message} (${error.code})`, code: EXIT.failed };
}

// ---- output ------------------------------------------------------------------------------------------

function format(topic: string, partition: number, m: KafkaMessage, style: "value" | "json"): string {
  if (style === "value") return `${m.value === null ? "null" : m.value.toString("utf8")}\n`;
  const json: Record<string, unknown> = { topic, partition, offset: m.offset, timestamp: m.timestamp };
  Object.assign(json, bytesField("key", m.key), bytesField("value", m.value));
  const headers: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(m.headers)) headers[key] = Array.isArray(value) ? value.map(text) : text(value);
  json["headers"] = headers;
  return `${JSON.stringify(json)}\n`;
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });
function bytesField(name: string, bytes: Buffer | null): Record<string, unknown> {
  if (bytes === null) return { [name]: null };
  try {
    return { [name]: strictUtf8.decode(bytes) };
  } catch {
    return { [name]: bytes.toString("base64"), [`${name}Encoding`]: "base64" };
  }
}
function text(bytes: Buffer | null): string | null {
  return bytes === null ? null : bytes.toString("utf8");
}

function printLag(topics: readonly { topic: string; partitions: readonly { partition: number; committedOffset: number | null; highWatermark: number; lag: number | null; memberId: string | null }[] }[]): void {
  printTable(
    ["TOPIC", "PARTITION", "COMMITTED", "HIGH-WATERMARK", "LAG", "OWNER"],
    topics.flatMap((t) => t.partitions.map((p) => [t.topic, String(p.partition), p.committedOffset === null ? "-" : String(p.committedOffset), String(p.highWatermark), p.lag === null ? "-" : String(p.lag), p.memberId ?? "-"])),
  );
}

function partitionsText(list: readonly { topic: string; partitions: readonly number[] }[]): string {
  return list.length === 0 ? "-" : list.map((tp) => `${tp.topic}:${tp.partitions.join(",")}`).join(" ");
}

/** The size of standard input when it is a regular file (`< big.txt`), for the produce ETA. */
function stdinFileSize(stdin: NodeJS.ReadableStream): number | undefined {
  if (stdin !== process.stdin) return undefined;
  try {
    const stat = fstatSync(0);
    return stat.isFile() ? stat.size : undefined;
  } catch {
    return undefined;
  }
}

// ---- argument parsers ----------------------------------------------------------------------------------

function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError("expected a positive integer");
  return n;
}

function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new InvalidArgumentError("expected a non-negative integer");
  return n;
}

/** Milliseconds, or "forever" (kept as the string: a parser cannot return null to commander). */
function retention(value: string): number | "forever" {
  if (value === "forever" || value === "-1") return "forever";
  return positiveInt(value);
}

function timestamp(value: string): number {
  if (/^\d+$/.test(value)) return Number(value);
  const parsed = Date.parse(value);
  if (Number.isNaN(parsed)) throw new InvalidArgumentError("expected milliseconds since 1970 or an ISO 8601 time");
  return parsed;
}

function collectHeader(value: string, previous: { key: string; value: string }[]): { key: string; value: string }[] {
  const at = value.indexOf("=");
  if (at <= 0) throw new InvalidArgumentError("expected key=value");
  return [...previous, { key: value.slice(0, at), value: value.slice(at + 1) }];
}

// ---- helpers ------------------------------------------------------------------------------------------

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }).version;
  } catch {
    return "0.0.0";
  }
}

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}


async function disconnectWithin(consumer: Consumer, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([consumer.disconnect(), new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
