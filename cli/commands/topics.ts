/** `dynalog topics create|list|describe|delete`. Returns the `topics` command, which other modules extend. */
import { Option, type Command } from "commander";
import type { Dynalog } from "../../client/index.js";
import { positiveInt, retention } from "../arguments.js";
import { EXIT } from "../exit-codes.js";
import { printJson, printTable } from "../output.js";
import { formatBytes } from "../progress.js";

export function registerTopicCommands(program: Command, client: () => Dynalog, setExit: (code: number) => void): Command {
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
  return topics;
}
