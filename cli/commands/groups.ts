/** `dynalog groups list|describe|lag` and `dynalog offsets reset`. Returns the `groups` command, which other modules extend. */
import { CommanderError, type Command } from "commander";
import { DynalogError, type Dynalog } from "../../client/index.js";
import { nonNegativeInt, timestamp } from "../arguments.js";
import { EXIT } from "../exit-codes.js";
import { printJson, printTable } from "../output.js";

export function registerGroupCommands(program: Command, client: () => Dynalog): Command {
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
  return groups;
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

