/**
 * History subcommands (docs/console.md, "History"), added to `dynalog topics` and `dynalog groups`:
 *
 *   dynalog topics history <topic> [--minutes 60] [--partitions] [--json]   high watermarks and records/s per sample
 *   dynalog groups history <group> [--minutes 60] [--json]                  total lag per sample
 *
 * The samples are the broker's (one a minute, kept a day), not taken by the CLI: a new broker, or
 * one whose sampler is off, answers none.
 */
import type { Command } from "commander";
import type { Dynalog, GroupHistory, TopicHistory } from "../../client/index.js";
import { historyMinutes } from "../arguments.js";
import { printJson, printTable } from "../output.js";

const DEFAULT_MINUTES = 60;

/** Sample times to the second: the sampler takes one a minute. */
const time = (iso: string) => iso.replace(/\.\d{3}Z$/, "Z");

/** Records per second between two samples, for people: whole numbers from 100, two decimals below. */
export function perSecond(before: { at: string; count: number } | undefined, after: { at: string; count: number }): string {
  if (!before) return "-";
  const seconds = (Date.parse(after.at) - Date.parse(before.at)) / 1000;
  if (seconds <= 0) return "-";
  const rate = Math.max(0, after.count - before.count) / seconds;
  return rate >= 100 ? String(Math.round(rate)) : rate.toFixed(2);
}

function noSamples(what: string, minutes: number): void {
  process.stdout.write(`No samples of ${what} in the last ${minutes} minutes (the broker samples once a minute; a new broker or one with the sampler off has none)\n`);
}

export function topicHistoryRows(history: TopicHistory, byPartition: boolean): string[][] {
  const { samples } = history;
  if (!byPartition) {
    return samples.map((s, i) => {
      const before = samples[i - 1];
      return [time(s.at), String(s.highWatermark), perSecond(before && { at: before.at, count: before.highWatermark }, { at: s.at, count: s.highWatermark })];
    });
  }
  return samples.flatMap((s, i) => {
    const before = samples[i - 1];
    // Totals only (a very wide topic, or a very long window): one row with the total.
    if (!s.partitions) return [[time(s.at), "all", String(s.highWatermark), perSecond(before && { at: before.at, count: before.highWatermark }, { at: s.at, count: s.highWatermark })]];
    return s.partitions.map((p) => {
      const previous = before?.partitions?.find((q) => q.partition === p.partition);
      return [time(s.at), String(p.partition), String(p.highWatermark), perSecond(previous && before && { at: before.at, count: previous.highWatermark }, { at: s.at, count: p.highWatermark })];
    });
  });
}

export function groupHistoryRows(history: GroupHistory): string[][] {
  return history.samples.map((s, i) => {
    const before = history.samples[i - 1];
    return [time(s.at), String(s.totalLag), before ? signed(s.totalLag - before.totalLag) : "-", String(s.topics.length + s.omittedTopics)];
  });
}

const signed = (n: number) => (n > 0 ? `+${n}` : String(n));

export function registerHistoryCommands(topics: Command, groups: Command, client: () => Dynalog): void {
  topics
    .command("history <topic>")
    .description("the broker's samples of a topic (one a minute, kept a day): high watermark and records/s")
    .option("--minutes <n>", "how far back (1-1440)", historyMinutes, DEFAULT_MINUTES)
    .option("--partitions", "a row per partition and sample")
    .option("--json", "print JSON")
    .action(async (topic: string, opts: { minutes: number; partitions?: boolean; json?: boolean }) => {
      const history = await client().admin().topicHistory(topic, { minutes: opts.minutes });
      if (opts.json) return printJson(history);
      if (history.samples.length === 0) return noSamples(`topic ${topic}`, opts.minutes);
      const rows = topicHistoryRows(history, opts.partitions === true);
      printTable(opts.partitions ? ["TIME", "PARTITION", "HIGH-WATERMARK", "RECORDS/S"] : ["TIME", "HIGH-WATERMARK", "RECORDS/S"], rows);
    });
  groups
    .command("history <group>")
    .description("the broker's samples of a consumer group's total lag (one a minute, kept a day)")
    .option("--minutes <n>", "how far back (1-1440)", historyMinutes, DEFAULT_MINUTES)
    .option("--json", "print JSON")
    .action(async (group: string, opts: { minutes: number; json?: boolean }) => {
      const history = await client().admin().groupHistory(group, { minutes: opts.minutes });
      if (opts.json) return printJson(history);
      if (history.samples.length === 0) return noSamples(`group ${group}`, opts.minutes);
      printTable(["TIME", "TOTAL-LAG", "CHANGE", "TOPICS"], groupHistoryRows(history));
      if (history.stride > 1) process.stdout.write(`(one sample in ${history.stride}: the group reads so many topics that the broker thinned the answer)\n`);
    });
}
