/**
 * Topic-lifecycle subcommands, added to `dynalog topics` and `dynalog groups`:
 *
 *   dynalog topics configs <topic>                                   Kafka config names and values
 *   dynalog topics alter <topic> --config retention.ms=3600000 [--config compression.type=gzip …]
 *   dynalog topics add-partitions <topic> --count 8                   increase only (as Kafka)
 *   dynalog topics delete-records <topic> --partition 0 --offset 42   (-1: up to the high watermark)
 *   dynalog topics compact <topic> [--partition 0 …]                  one compaction pass (compacted topics)
 *   dynalog groups delete <group>                                     refused while members are live
 */
import { InvalidArgumentError, type Command } from "commander";
import { ConfigResourceTypes, type Dynalog } from "../../client/index.js";

function configEntry(value: string, previous: { name: string; value: string }[]): { name: string; value: string }[] {
  const at = value.indexOf("=");
  if (at <= 0) throw new InvalidArgumentError("use name=value, e.g. retention.ms=3600000");
  return [...previous, { name: value.slice(0, at), value: value.slice(at + 1) }];
}

function integer(min: number) {
  return (value: string): number => {
    if (!/^-?\d+$/.test(value) || Number(value) < min) throw new InvalidArgumentError(`expected an integer ≥ ${min}`);
    return Number(value);
  };
}

export function registerLifecycleCommands(topics: Command, groups: Command, client: () => Dynalog): void {
  topics
    .command("configs <topic>")
    .description("a topic's configs, by Kafka's names")
    .action(async (topic: string) => {
      const { resources } = await client().admin().describeConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }] });
      for (const e of resources[0]!.configEntries) process.stdout.write(`${e.configName}=${e.configValue}${e.readOnly ? "  (read-only)" : ""}\n`);
    });
  topics
    .command("alter <topic>")
    .description("change configs: retention.ms (-1 = forever), compression.type, message.timestamp.type, cleanup.policy, delete.retention.ms, min.compaction.lag.ms, max.message.bytes")
    .requiredOption("--config <name=value>", "a config to set (repeatable)", configEntry, [])
    .action(async (topic: string, opts: { config: { name: string; value: string }[] }) => {
      await client().admin().alterConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configEntries: opts.config }] });
      process.stdout.write(`Altered topic ${topic}: ${opts.config.map((c) => `${c.name}=${c.value}`).join(", ")}\n`);
    });
  topics
    .command("add-partitions <topic>")
    .description("increase the partition count (keyed records then map by the new count)")
    .requiredOption("--count <n>", "the new partition count", integer(1))
    .action(async (topic: string, opts: { count: number }) => {
      await client().admin().createPartitions({ topicPartitions: [{ topic, count: opts.count }] });
      process.stdout.write(`Topic ${topic} now has ${opts.count} partitions\n`);
    });
  topics
    .command("delete-records <topic>")
    .description("delete a partition's records below an offset (moves its log start)")
    .requiredOption("--partition <p>", "the partition", integer(0))
    .requiredOption("--offset <offset>", "delete records below this offset; -1 = all", integer(-1))
    .action(async (topic: string, opts: { partition: number; offset: number }) => {
      await client().admin().deleteTopicRecords({ topic, partitions: [{ partition: opts.partition, offset: String(opts.offset) }] });
      process.stdout.write(`Deleted records of ${topic}-${opts.partition} below offset ${opts.offset === -1 ? "the high watermark" : opts.offset}\n`);
    });
  topics
    .command("compact <topic>")
    .description("run one compaction pass: keep the latest record per key (cleanup.policy compact)")
    .option("--partition <p>", "only this partition (repeatable; default all)", (value: string, previous: number[]) => [...previous, integer(0)(value)], [] as number[])
    .action(async (topic: string, opts: { partition: number[] }) => {
      const result = await client()
        .admin()
        .compactTopic({ topic, ...(opts.partition.length > 0 ? { partitions: opts.partition } : {}) });
      for (const p of result.partitions) {
        if (p.skipped !== null) {
          process.stdout.write(`${topic}-${p.partition}: unchanged since the pass at ${new Date(p.lastRunAt).toISOString()} (clean up to offset ${p.cleanedUpTo}), nothing read\n`);
          continue;
        }
        process.stdout.write(
          `Compacted ${topic}-${p.partition} up to offset ${p.cleanedUpTo}: ${p.removedRecords} of ${p.scannedRecords} records removed (${p.removedTombstones} tombstones), ${p.rewrittenBatches} batches rewritten${p.skippedBatches > 0 ? `, ${p.skippedBatches} changed meanwhile (next pass)` : ""}\n`,
        );
      }
    });
  groups
    .command("delete <group>")
    .description("delete a consumer group without live members, and its committed offsets")
    .action(async (group: string) => {
      await client().admin().deleteGroups([group]);
      process.stdout.write(`Deleted group ${group}\n`);
    });
}
