/**
 * Record notifications (docs/api.md, "Notifications"): instead of long-polling an empty partition,
 * a consumer holds a WebSocket connection and is told when a batch is appended to a partition it
 * subscribed to; then it fetches. Waiting costs connection minutes, not a running function.
 *
 * This is the transport-free part, shared by the deployed functions (API Gateway WebSocket API and
 * the log table's stream: functions/notify-connect.ts, functions/notifier.ts) and the local broker
 * (local/notifications.ts): who may subscribe to what, where subscriptions are kept, and fanning a
 * notification out to the subscribed connections (dropping the ones that are gone).
 */
import { DynalogError } from "../errors.js";
import type { TopicStore } from "./ports.js";

/** One partition a connection asks to be told about. */
export interface PartitionSubscription {
  readonly topic: string;
  readonly partition: number;
}

/** What the broker pushes: a batch starting at `offset` was appended to the partition. */
export interface RecordNotification {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

/** A batch appended to the log, as the log table's stream (or the local broker) reports it. */
export interface AppendedBatch {
  /** The topic incarnation's id (the log item's key names it, not the topic's name). */
  readonly topicId: string;
  readonly partition: number;
  readonly baseOffset: number;
}

/** A subscription as stored: per topic incarnation, so a re-created topic's appends do not reach old subscribers. */
export interface StoredSubscription extends PartitionSubscription {
  readonly topicId: string;
  readonly connectionId: string;
}

/** Where connections and their subscriptions are kept (shared/storage/connection-store.ts). */
export interface ConnectionStore {
  /** Records an authenticated connection (kept at most `ttlSeconds`; API Gateway closes connections after 2 h anyway). */
  putConnection(connectionId: string, principal: string, ttlSeconds: number): Promise<void>;
  /** The connection's principal, or undefined when it is unknown (never connected, or removed). */
  getConnection(connectionId: string): Promise<{ readonly principal: string } | undefined>;
  addSubscriptions(connectionId: string, subscriptions: readonly StoredSubscription[], ttlSeconds: number): Promise<void>;
  /** The connections subscribed to one partition of one topic incarnation. */
  subscribers(topicId: string, partition: number): Promise<StoredSubscription[]>;
  /** Removes the connection and every subscription it holds (idempotent). */
  removeConnection(connectionId: string): Promise<void>;
}

/** Sends one message to one connection; "gone" when the connection no longer exists (API Gateway: 410). */
export interface ConnectionPoster {
  post(connectionId: string, message: string): Promise<"sent" | "gone">;
}

/** Decides whether a principal may see a topic (the broker's ACLs: Describe or Read on the topic). */
export interface TopicAccess {
  mayRead(principal: string, topic: string): Promise<boolean>;
}

/** API Gateway ends every WebSocket connection after 2 hours; items outlive it by a margin, then TTL removes leftovers. */
export const CONNECTION_TTL_SECONDS = 2 * 3600 + 600;
/** Partitions one subscribe message may name (one stored item each). */
export const MAX_SUBSCRIPTIONS_PER_MESSAGE = 100;

export class Notifications {
  constructor(
    private readonly store: ConnectionStore,
    private readonly topics: Pick<TopicStore, "get">,
    private readonly access: TopicAccess,
    /** The way out to connections; only what notifies needs it (the connect handler answers in its responses). */
    private readonly poster?: ConnectionPoster,
  ) {}

  connect(connectionId: string, principal: string): Promise<void> {
    return this.store.putConnection(connectionId, principal, CONNECTION_TTL_SECONDS);
  }

  disconnect(connectionId: string): Promise<void> {
    return this.store.removeConnection(connectionId);
  }

  /**
   * Subscribes the connection to the partitions, all or none: the caller's principal needs Read on
   * each topic (TOPIC_AUTHORIZATION_FAILED otherwise, naming the topic and never saying whether it
   * exists); unknown topics and partitions are UNKNOWN_TOPIC_OR_PARTITION.
   */
  async subscribe(connectionId: string, partitions: readonly PartitionSubscription[]): Promise<PartitionSubscription[]> {
    const connection = await this.store.getConnection(connectionId);
    if (!connection) throw new DynalogError("AUTHENTICATION_FAILED", "This connection is not known (it was closed, or never authenticated): reconnect");
    const stored: StoredSubscription[] = [];
    const byTopic = new Map<string, number[]>();
    for (const p of partitions) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p.partition]);
    for (const [topic, numbers] of byTopic) {
      if (!(await this.access.mayRead(connection.principal, topic))) {
        throw new DynalogError("TOPIC_AUTHORIZATION_FAILED", `${connection.principal} may not read topic '${topic}'`, {
          details: { principal: connection.principal, resourceType: "Topic", resource: topic, operation: "Read" },
        });
      }
      const record = await this.topics.get(topic);
      if (!record) throw new DynalogError("UNKNOWN_TOPIC_OR_PARTITION", `Topic '${topic}' does not exist`);
      for (const partition of new Set(numbers)) {
        if (partition >= record.partitions) throw new DynalogError("UNKNOWN_TOPIC_OR_PARTITION", `Topic '${topic}' has no partition ${partition}`);
        stored.push({ topic, partition, topicId: record.topicId, connectionId });
      }
    }
    await this.store.addSubscriptions(connectionId, stored, CONNECTION_TTL_SECONDS);
    return stored.map(({ topic, partition }) => ({ topic, partition }));
  }

  /**
   * Tells every subscriber of each partition that a batch was appended (one message per partition
   * and call: the latest base offset), and removes the connections that are gone. Returns how many
   * messages were sent, connections removed, and posts that failed (not retried).
   */
  async notify(batches: readonly AppendedBatch[]): Promise<{ sent: number; removed: number; failed: number }> {
    const latest = new Map<string, AppendedBatch>();
    for (const batch of batches) {
      const key = `${batch.topicId}#${batch.partition}`;
      const seen = latest.get(key);
      if (!seen || seen.baseOffset < batch.baseOffset) latest.set(key, batch);
    }
    const poster = this.poster;
    if (!poster) throw new Error("Notifications.notify needs a ConnectionPoster");
    let sent = 0;
    let failed = 0;
    const gone = new Set<string>();
    for (const batch of latest.values()) {
      const subscribers = await this.store.subscribers(batch.topicId, batch.partition);
      await Promise.all(
        subscribers
          .filter((s) => !gone.has(s.connectionId))
          .map(async (s) => {
            const message: RecordNotification = { topic: s.topic, partition: s.partition, offset: batch.baseOffset };
            // One failing post (throttled, a transient error) must not fail the others, nor make the
            // stream retry the batch and re-notify everyone: a notification is a hint, consumers re-fetch anyway.
            const outcome = await poster.post(s.connectionId, JSON.stringify({ type: "records", ...message })).catch(() => "failed" as const);
            if (outcome === "gone") gone.add(s.connectionId);
            else if (outcome === "failed") failed++;
            else sent++;
          }),
      );
    }
    for (const connectionId of gone) await this.store.removeConnection(connectionId);
    return { sent, removed: gone.size, failed };
  }
}
