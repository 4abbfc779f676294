/**
 * The admin client's history calls (docs/api.md, "History"): the samples the broker keeps of each
 * topic and consumer group, one a minute for a day (docs/console.md, "History"). Not KafkaJS API;
 * the Admin class (admin.ts) exposes them as methods.
 */
import type { Transport } from "./transport.js";

export interface HistoryOptions {
  /** How far back, in minutes: 1-1440 (the broker keeps a day); default 60. */
  readonly minutes?: number;
}

export interface TopicHistorySample {
  /** When the sample was taken (ISO 8601). */
  readonly at: string;
  /** Sum of the partitions' high watermarks: offsets ever written. Between two samples, its change is the records written. */
  readonly highWatermark: number;
  /** Record bytes ever written (an approximation, as describeTopic's bytesWritten). */
  readonly bytesWritten: number;
  /** Per partition; null when the broker kept totals only (very wide topics) or the answer would be too large. */
  readonly partitions: readonly { readonly partition: number; readonly highWatermark: number; readonly bytesWritten: number }[] | null;
}

export interface TopicHistory {
  readonly topic: string;
  readonly topicId: string;
  readonly from: string;
  readonly to: string;
  /** Oldest first. */
  readonly samples: readonly TopicHistorySample[];
}

export interface TopicsHistory {
  /** Every topic the caller may describe, in the broker's listing order; a topic without samples in the window has none. */
  readonly topics: readonly {
    readonly topic: string;
    readonly topicId: string;
    /** Oldest first; totals only (a topic's own history has its partitions). */
    readonly samples: readonly Omit<TopicHistorySample, "partitions">[];
  }[];
  readonly from: string;
  readonly to: string;
  /** 1: every sample of the window; n: every n-th of each topic (the latest included), when there are so many topics that the answer would be too large. */
  readonly stride: number;
}

export interface GroupHistorySample {
  readonly at: string;
  /** Sum of the lags of the topics shown (all of them, when the caller may describe every one). */
  readonly totalLag: number;
  /** Topics the broker left out of the stored sample to keep it small (their lag is in totalLag). */
  readonly omittedTopics: number;
  readonly topics: readonly {
    readonly topic: string;
    readonly lag: number;
    readonly partitions: readonly { readonly partition: number; readonly committedOffset: number; readonly highWatermark: number; readonly lag: number }[] | null;
  }[];
}

export interface GroupHistory {
  readonly group: string;
  readonly from: string;
  readonly to: string;
  /** 1: every sample of the window; n: every n-th (the latest included), when a group reads so many topics that the answer would be too large. */
  readonly stride: number;
  /** Oldest first. */
  readonly samples: readonly GroupHistorySample[];
}

const query = (options: HistoryOptions) => (options.minutes === undefined ? "" : `?minutes=${encodeURIComponent(String(options.minutes))}`);

export function topicHistory(transport: Transport, name: string, options: HistoryOptions = {}): Promise<TopicHistory> {
  return transport.request({ method: "GET", path: `/v1/topics/${encodeURIComponent(name)}/history${query(options)}`, idempotent: true });
}

/** GET /v1/history/topics: every topic's totals in one request (what a list of topics charts). */
export function topicsHistory(transport: Transport, options: HistoryOptions = {}): Promise<TopicsHistory> {
  return transport.request({ method: "GET", path: `/v1/history/topics${query(options)}`, idempotent: true });
}

export function groupHistory(transport: Transport, groupId: string, options: HistoryOptions = {}): Promise<GroupHistory> {
  return transport.request({ method: "GET", path: `/v1/groups/${encodeURIComponent(groupId)}/history${query(options)}`, idempotent: true });
}
