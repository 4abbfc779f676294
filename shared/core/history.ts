/**
 * Broker-side history for the console's charts (docs/console.md, "History"): a sampler that, once
 * per interval, records every topic's high watermarks and bytes written and every consumer group's
 * committed offsets and lag, and the readers that answer a window of those samples.
 *
 * The sampler computes what describeTopic and describeGroup answer (the same partition heads, the
 * same high watermark walk, lag = high watermark − committed offset), except that it writes no log
 * items: a gap or an undecided large transaction just ends its walk (LogReader.observedHighWatermark).
 * Each group's lag uses the high watermarks of the same run, so a group and its topics agree and
 * the group costs no extra log reads. One item per topic and per group per bucket, written once
 * (shared/storage/history-store.ts); a run that fails on one topic or group records the others.
 */
import { DynalogError } from "../errors.js";
import type { BrokerContext } from "./context.js";
import type { LogReader } from "./log-reader.js";
import { partitionLag, validateGroupId } from "./offsets.js";
import type { GroupTopicSample, PartitionSample, TopicRecord, TopicSample } from "./ports.js";
import { mapWithConcurrency, partitionRefs, validateTopicName, type TopicCatalog } from "./topics.js";

/** How long samples are kept (their items' TTL): a day of charts after an incident. */
export const HISTORY_RETENTION_MS = 24 * 3600_000;
/** One sample a minute: EventBridge's finest schedule, and what `npm start` uses. */
export const DEFAULT_HISTORY_INTERVAL_MS = 60_000;
export const DEFAULT_HISTORY_MINUTES = 60;
export const MAX_HISTORY_MINUTES = HISTORY_RETENTION_MS / 60_000;
/**
 * Most per-partition values one answer carries (samples × partitions); past it the answer has the
 * totals only (`partitions: null`), so a day of a 1,000-partition topic stays a small response.
 */
export const MAX_HISTORY_DETAIL_VALUES = 50_000;
/**
 * Most topic entries one group answer carries (samples × topics; a topic name is up to 249
 * characters): past it, every n-th sample is answered (`stride`), the latest always, so a day of
 * a group reading hundreds of topics stays far below Lambda's 6 MB response.
 */
export const MAX_HISTORY_TOPIC_ENTRIES = 10_000;
/**
 * Most samples one answer of the topics' list history carries (totals only, ~80 bytes each in
 * JSON): past it, every n-th sample of each topic (`stride`, the latest always), so an hour of a
 * thousand topics stays well under a megabyte.
 */
export const MAX_HISTORY_LIST_SAMPLES = 10_000;
/** Topics whose samples are read at once for the list history: one Query each. */
const LIST_HISTORY_CONCURRENCY = 8;

export interface HistoryRun {
  /** Start of the bucket written (ms). */
  readonly bucket: number;
  readonly topics: { readonly written: number; readonly existing: number };
  readonly groups: { readonly written: number; readonly existing: number };
  readonly failed: readonly { readonly kind: "topic" | "group"; readonly name: string; readonly error: unknown }[];
}

export interface TopicHistoryPoint {
  readonly at: number;
  readonly highWatermark: number;
  readonly bytesWritten: number;
  readonly partitions: readonly (PartitionSample & { readonly partition: number })[] | null;
}

export interface TopicHistory {
  readonly topic: string;
  readonly topicId: string;
  readonly from: number;
  readonly to: number;
  readonly samples: readonly TopicHistoryPoint[];
}

/** One topic of the topics' list history: totals only (the topic's own history has the partitions). */
export interface TopicsHistoryEntry {
  readonly topic: string;
  readonly topicId: string;
  readonly samples: readonly { readonly at: number; readonly highWatermark: number; readonly bytesWritten: number }[];
}

export interface TopicsHistory {
  readonly from: number;
  readonly to: number;
  /** 1: every sample of the window; n: every n-th of each topic (the latest included), to bound the answer. */
  readonly stride: number;
  /** In the topics' listing order; a topic without samples in the window is listed with none. */
  readonly topics: readonly TopicsHistoryEntry[];
}

export interface GroupHistoryTopic {
  readonly topic: string;
  readonly lag: number;
  readonly partitions: readonly { readonly partition: number; readonly committedOffset: number; readonly highWatermark: number; readonly lag: number }[] | null;
}

export interface GroupHistoryPoint {
  readonly at: number;
  readonly totalLag: number;
  /** Topics the stored sample left out to stay small (their lag is in totalLag). */
  readonly omittedTopics: number;
  readonly topics: readonly GroupHistoryTopic[];
}

export interface GroupHistory {
  readonly group: string;
  readonly from: number;
  readonly to: number;
  /** 1: every sample of the window; n: every n-th (the latest included), to bound the answer. */
  readonly stride: number;
  readonly samples: readonly GroupHistoryPoint[];
}

/** `minutes` of a history request: an integer from 1 to a day (INVALID_REQUEST otherwise). */
export function validateHistoryMinutes(minutes: number): void {
  if (!Number.isInteger(minutes) || minutes < 1 || minutes > MAX_HISTORY_MINUTES) {
    throw new DynalogError("INVALID_REQUEST", `minutes must be an integer from 1 to ${MAX_HISTORY_MINUTES} (history is kept for a day), got ${minutes}`, {
      details: { field: "minutes", min: 1, max: MAX_HISTORY_MINUTES },
    });
  }
}

export class History {
  constructor(
    private readonly ctx: BrokerContext,
    private readonly topics: TopicCatalog,
    private readonly reader: LogReader,
  ) {}

  /** One sample of every topic and group, in the bucket of `now` (buckets are `intervalMs` long). */
  async sample(now: number, intervalMs = DEFAULT_HISTORY_INTERVAL_MS): Promise<HistoryRun> {
    if (!Number.isInteger(intervalMs) || intervalMs < 1_000) throw new DynalogError("INVALID_REQUEST", `The history interval must be at least 1000 ms, got ${intervalMs}`);
    const bucket = Math.floor(now / intervalMs) * intervalMs;
    const expiresAt = Math.ceil((bucket + HISTORY_RETENTION_MS) / 1000);
    const { history } = this.ctx.storage;
    const failed: { kind: "topic" | "group"; name: string; error: unknown }[] = [];
    const topicCounts = { written: 0, existing: 0 };
    const groupCounts = { written: 0, existing: 0 };

    const highWatermarks = new Map<string, { topicId: string; byPartition: readonly number[] }>();
    await mapWithConcurrency(await this.topics.list(), 4, async (topic) => {
      try {
        const partitions = await this.samplePartitions(topic);
        if (!partitions) return; // deleted meanwhile
        highWatermarks.set(topic.name, { topicId: topic.topicId, byPartition: partitions.map((p) => p.highWatermark) });
        const sum = (pick: (p: PartitionSample) => number) => partitions.reduce((total, p) => total + pick(p), 0);
        const sample = { at: now, topicId: topic.topicId, highWatermark: sum((p) => p.highWatermark), bytesWritten: sum((p) => p.bytesWritten), partitions };
        topicCounts[(await history.putTopicSample(topic.name, bucket, sample, expiresAt)) === "written" ? "written" : "existing"]++;
      } catch (error) {
        failed.push({ kind: "topic", name: topic.name, error });
      }
    });

    const groups = (await this.ctx.storage.groups.list()).filter((g) => g.hasOffsets);
    await mapWithConcurrency(groups, 4, async ({ group }) => {
      try {
        const committed = await this.ctx.storage.offsets.readAll(group);
        const byTopic = new Map<string, GroupTopicSample>();
        for (const c of committed) {
          const current = highWatermarks.get(c.topic);
          // Offsets of a deleted topic, or of an earlier topic of the same name, have no lag now;
          // a topic whose sample failed in this run is left out of the group's sample too.
          if (!current || current.topicId !== c.topicId || c.partition >= current.byPartition.length) continue;
          const highWatermark = current.byPartition[c.partition]!;
          const entry = byTopic.get(c.topic) ?? { topic: c.topic, topicId: c.topicId, lag: 0, partitions: [] };
          byTopic.set(c.topic, { ...entry, lag: entry.lag + partitionLag(highWatermark, c.offset), partitions: [...(entry.partitions ?? []), { partition: c.partition, committedOffset: c.offset, highWatermark }] });
        }
        const topics = [...byTopic.values()].sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0));
        const sample = { at: now, totalLag: topics.reduce((total, t) => total + t.lag, 0), omittedTopics: 0, topics };
        groupCounts[(await history.putGroupSample(group, bucket, sample, expiresAt)) === "written" ? "written" : "existing"]++;
      } catch (error) {
        failed.push({ kind: "group", name: group, error });
      }
    });
    return { bucket, topics: topicCounts, groups: groupCounts, failed };
  }

  /** The topic's samples of the last `minutes` (UNKNOWN_TOPIC_OR_PARTITION for an unknown topic). */
  async topicHistory(name: string, minutes: number = DEFAULT_HISTORY_MINUTES): Promise<TopicHistory> {
    validateTopicName(name);
    validateHistoryMinutes(minutes);
    const topic = await this.topics.require(name, { fresh: true });
    const { from, to } = this.window(minutes);
    const samples = await this.samplesOf(topic, from, to);
    const detail = samples.reduce((total, s) => total + (s.partitions?.length ?? 0), 0) <= MAX_HISTORY_DETAIL_VALUES;
    return {
      topic: topic.name,
      topicId: topic.topicId,
      from,
      to,
      samples: samples.map((s) => ({
        at: s.at,
        highWatermark: s.highWatermark,
        bytesWritten: s.bytesWritten,
        partitions: detail && s.partitions ? s.partitions.map((p, partition) => ({ partition, ...p })) : null,
      })),
    };
  }

  /**
   * Every topic's samples of the last `minutes`, totals only, of the topics `visible` keeps (the
   * caller's describe rights): what a list of topics charts. One Query per topic, a few at a time.
   */
  async topicsHistory(
    minutes: number = DEFAULT_HISTORY_MINUTES,
    visible: (topic: string) => Promise<boolean> = async () => true,
    maxSamples: number = MAX_HISTORY_LIST_SAMPLES,
  ): Promise<TopicsHistory> {
    validateHistoryMinutes(minutes);
    const listed = await this.topics.list();
    const verdicts = await Promise.all(listed.map((t) => visible(t.name)));
    const topics = listed.filter((_, i) => verdicts[i]);
    const { from, to } = this.window(minutes);
    const read = await mapWithConcurrency(topics, LIST_HISTORY_CONCURRENCY, (topic) => this.samplesOf(topic, from, to));
    const total = read.reduce((sum, samples) => sum + samples.length, 0);
    const stride = Math.max(1, Math.ceil(total / maxSamples));
    return {
      from,
      to,
      stride,
      topics: topics.map((topic, t) => {
        const samples = read[t]!;
        return {
          topic: topic.name,
          topicId: topic.topicId,
          samples: everyNthFromLatest(samples, stride).map((s) => ({ at: s.at, highWatermark: s.highWatermark, bytesWritten: s.bytesWritten })),
        };
      }),
    };
  }

  /** The group's samples of the last `minutes` (GROUP_ID_NOT_FOUND when describeGroup would say so). */
  async groupHistory(group: string, minutes: number = DEFAULT_HISTORY_MINUTES): Promise<GroupHistory> {
    validateGroupId(group);
    validateHistoryMinutes(minutes);
    const { from, to } = this.window(minutes);
    const [snapshot, committed, samples] = await Promise.all([this.ctx.storage.groups.load(group), this.ctx.storage.offsets.readAll(group), this.ctx.storage.history.groupSamples(group, from, to)]);
    if (!snapshot.group && snapshot.members.length === 0 && committed.length === 0) {
      throw new DynalogError("GROUP_ID_NOT_FOUND", `Group '${group}' does not exist: nobody joined it or committed offsets for it`, { details: { group } });
    }
    const all = samples.filter((s) => s.at >= from);
    const entries = all.reduce((total, s) => total + s.topics.length, 0);
    const stride = Math.max(1, Math.ceil(entries / MAX_HISTORY_TOPIC_ENTRIES));
    const inWindow = everyNthFromLatest(all, stride);
    const values = inWindow.reduce((total, s) => total + s.topics.reduce((n, t) => n + (t.partitions?.length ?? 0), 0), 0);
    const detail = values <= MAX_HISTORY_DETAIL_VALUES;
    return {
      group,
      from,
      to,
      stride,
      samples: inWindow.map((s) => ({
        at: s.at,
        totalLag: s.totalLag,
        omittedTopics: s.omittedTopics,
        topics: s.topics.map((t) => ({
          topic: t.topic,
          lag: t.lag,
          partitions: detail && t.partitions ? t.partitions.map((p) => ({ ...p, lag: partitionLag(p.highWatermark, p.committedOffset) })) : null,
        })),
      })),
    };
  }

  /** The last `minutes` up to now. */
  private window(minutes: number): { from: number; to: number } {
    const to = this.ctx.clock();
    return { from: to - minutes * 60_000, to };
  }

  /** The topic's samples in [from, to]; those of an earlier topic of the same name (deleted, created again) are not this topic's. */
  private async samplesOf(topic: TopicRecord, from: number, to: number): Promise<TopicSample[]> {
    return (await this.ctx.storage.history.topicSamples(topic.name, from, to)).filter((s) => s.topicId === topic.topicId && s.at >= from);
  }

  /** Each partition's high watermark (as readers see it) and bytes written; undefined when the topic is gone. */
  private async samplePartitions(topic: TopicRecord): Promise<PartitionSample[] | undefined> {
    const refs = partitionRefs(topic);
    const heads = await this.ctx.storage.log.readHeads(refs);
    if (heads.some((h) => !h.exists)) return undefined;
    return mapWithConcurrency(refs, 16, async (ref, i) => {
      const head = heads[i]!;
      return { highWatermark: await this.reader.observedHighWatermark(topic, ref, head), bytesWritten: Math.max(0, head.bytesWritten) };
    });
  }
}

/** Every n-th of `samples` counted back from the latest, which is always kept (a thinned chart still ends now). */
function everyNthFromLatest<T>(samples: readonly T[], stride: number): T[] {
  return samples.filter((_, i) => (samples.length - 1 - i) % stride === 0);
}
