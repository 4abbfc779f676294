/**
 * The admin client: KafkaJS's admin methods where Dynalog has the concept (topics, groups,
 * offsets), plus `fetchGroupLag` and `describeTopic`. Offsets are numbers.
 */
import { DynalogError, clientStateError } from "./errors.js";
import { Instrumentation, instrumentedTransport, type InstrumentationEvent, type RemoveInstrumentationEventListener } from "./events.js";
import * as history from "./admin-history.js";
import * as lifecycle from "./admin-lifecycle.js";
import * as subscriptions from "./admin-subscriptions.js";
import type { Logger } from "./logger.js";
import type { TopicDescription } from "./metadata.js";
import type { CompressionType } from "./producer.js";
import type { Transport } from "./transport.js";

export interface ITopicConfig {
  readonly topic: string;
  /** Default 1. */
  readonly numPartitions?: number;
  /** Accepted for KafkaJS compatibility: DynamoDB replicates. */
  readonly replicationFactor?: number;
  /** Kafka config names: `retention.ms` (-1 = forever), `compression.type`, `message.timestamp.type`, `cleanup.policy`, `delete.retention.ms`, `min.compaction.lag.ms`, `max.message.bytes`. */
  readonly configEntries?: readonly { readonly name: string; readonly value: string }[];
  /** Dynalog's own fields (win over configEntries). */
  readonly retentionMs?: number | null;
  readonly compression?: CompressionType;
  readonly timestampType?: "CreateTime" | "LogAppendTime";
  /** Kafka's cleanup.policy (docs/compaction.md); compacted topics take keyed records only. */
  readonly cleanupPolicy?: "delete" | "compact" | "compact,delete";
  readonly deleteRetentionMs?: number;
  readonly minCompactionLagMs?: number;
  /** Kafka's max.message.bytes, per record (encoded size); default and maximum 379,936. */
  readonly maxMessageBytes?: number;
}

export interface PartitionOffsets {
  readonly partition: number;
  /** The high watermark (where a consumer "at the end" starts). */
  readonly offset: number;
  readonly high: number;
  readonly low: number;
  /** Compacted topics: the partition's last compaction pass (null = none yet). */
  readonly compaction?: { readonly cleanedUpTo: number; readonly lastRunAt: number } | null;
}

export interface GroupOverview {
  readonly groupId: string;
  readonly protocolType: "consumer";
  readonly state: string;
  readonly groupEpoch: number;
  readonly members: number;
}

export interface PartitionLag {
  readonly partition: number;
  readonly committedOffset: number | null;
  readonly highWatermark: number;
  readonly lag: number | null;
  readonly memberId: string | null;
}

export interface GroupDescription {
  readonly groupId: string;
  readonly state: string;
  readonly groupEpoch: number;
  readonly assignmentEpoch: number;
  /** The assignor in use (KafkaJS's `protocol`). */
  readonly protocol: string;
  readonly protocolType: "consumer";
  readonly members: readonly {
    readonly memberId: string;
    readonly instanceId: string | null;
    readonly memberEpoch: number;
    readonly state: string;
    readonly subscription: readonly string[];
    readonly assignment: readonly { topic: string; partitions: number[] }[];
    readonly revoking: readonly { topic: string; partitions: number[] }[];
    readonly [key: string]: unknown;
  }[];
  readonly topics: readonly { readonly topic: string; readonly lag: number; readonly partitions: readonly PartitionLag[] }[];
  readonly totalLag: number;
}

export interface GroupLag {
  readonly groupId: string;
  readonly totalLag: number;
  readonly topics: readonly { readonly topic: string; readonly lag: number; readonly partitions: readonly PartitionLag[] }[];
}

/** KafkaJS's admin events. REQUEST / REQUEST_TIMEOUT: one per HTTP attempt (payload: see `requestEventPayload`). */
export const ADMIN_EVENTS = {
  CONNECT: "admin.connect",
  DISCONNECT: "admin.disconnect",
  REQUEST: "admin.network.request",
  REQUEST_TIMEOUT: "admin.network.request_timeout",
} as const;
export type AdminEventName = (typeof ADMIN_EVENTS)[keyof typeof ADMIN_EVENTS];

export class Admin {
  readonly events = ADMIN_EVENTS;
  private readonly instrumentation = new Instrumentation<AdminEventName>(Object.values(ADMIN_EVENTS));
  private readonly transport: Transport;

  constructor(
    transport: Transport,
    private readonly log: Logger,
  ) {
    this.transport = instrumentedTransport(transport, this.instrumentation, ADMIN_EVENTS.REQUEST, ADMIN_EVENTS.REQUEST_TIMEOUT);
  }

  /** Nothing to open (HTTP: every call is its own request); emits CONNECT as KafkaJS does. */
  async connect(): Promise<void> {
    this.instrumentation.emit(ADMIN_EVENTS.CONNECT, null);
  }

  async disconnect(): Promise<void> {
    this.instrumentation.emit(ADMIN_EVENTS.DISCONNECT, null);
  }

  on(eventName: AdminEventName, listener: (event: InstrumentationEvent<any>) => void): RemoveInstrumentationEventListener {
    return this.instrumentation.on(eventName, listener);
  }

  logger(): Logger {
    return this.log;
  }

  /** Creates the topics; resolves false if any of them already existed (like KafkaJS), true otherwise. */
  async createTopics({ topics, validateOnly }: { topics: readonly ITopicConfig[]; validateOnly?: boolean; waitForLeaders?: boolean; timeout?: number }): Promise<boolean> {
    if (validateOnly) throw clientStateError("validateOnly is not supported by Dynalog");
    let allCreated = true;
    const bodies = topics.map(topicBody); // every topic checked before any is created
    for (const body of bodies) {
      try {
        await this.transport.request({ method: "POST", path: "/v1/topics", body, idempotent: false });
      } catch (error) {
        if (error instanceof DynalogError && error.code === "TOPIC_ALREADY_EXISTS") {
          allCreated = false;
          continue;
        }
        throw error;
      }
    }
    return allCreated;
  }

  async deleteTopics({ topics }: { topics: readonly string[]; timeout?: number }): Promise<void> {
    for (const topic of topics) await this.transport.request({ method: "DELETE", path: `/v1/topics/${encodeURIComponent(topic)}`, idempotent: false });
  }

  async listTopics(): Promise<string[]> {
    const answer = await this.transport.request<{ topics: { name: string }[] }>({ method: "GET", path: "/v1/topics", idempotent: true });
    return answer.topics.map((t) => t.name);
  }

  /** Every topic's settings (Dynalog's `GET /v1/topics`). */
  async listTopicDetails(): Promise<Omit<TopicDescription, "partitions">[]> {
    return (await this.transport.request<{ topics: Omit<TopicDescription, "partitions">[] }>({ method: "GET", path: "/v1/topics", idempotent: true })).topics;
  }

  /** Settings plus each partition's log-start offset and high watermark. */
  async describeTopic(topic: string): Promise<TopicDescription> {
    return this.transport.request<TopicDescription>({ method: "GET", path: `/v1/topics/${encodeURIComponent(topic)}`, idempotent: true });
  }

  /** KafkaJS's shape: partitions with ids (leader/replicas are placeholders: DynamoDB replicates). */
  async fetchTopicMetadata(options: { topics?: readonly string[] } = {}): Promise<{ topics: { name: string; partitions: { partitionErrorCode: 0; partitionId: number; leader: 0; replicas: number[]; isr: number[] }[] }[] }> {
    const names = options.topics ?? (await this.listTopics());
    const topics = [];
    for (const name of names) {
      const described = await this.describeTopic(name);
      topics.push({ name, partitions: described.partitions.map((p) => ({ partitionErrorCode: 0 as const, partitionId: p.partition, leader: 0 as const, replicas: [0], isr: [0] })) });
    }
    return { topics };
  }

  /** Per partition: `high` (high watermark), `low` (log start), and `offset` = high. */
  async fetchTopicOffsets(topic: string): Promise<PartitionOffsets[]> {
    const described = await this.describeTopic(topic);
    return described.partitions.map((p) => ({
      partition: p.partition,
      offset: p.highWatermark,
      high: p.highWatermark,
      low: p.logStartOffset,
      ...(p.compaction !== undefined ? { compaction: p.compaction } : {}),
    }));
  }

  /** The first offset at or after `timestamp` per partition (the high watermark when there is none). */
  async fetchTopicOffsetsByTimestamp(topic: string, timestamp?: number): Promise<{ partition: number; offset: number }[]> {
    const described = await this.describeTopic(topic);
    return Promise.all(
      described.partitions.map(async (p) => {
        if (timestamp === undefined) return { partition: p.partition, offset: p.highWatermark };
        const answer = await this.transport.request<{ offset: number | null }>({
          method: "GET",
          path: `/v1/topics/${encodeURIComponent(topic)}/partitions/${p.partition}/offsets`,
          query: { at: Math.max(0, Math.floor(timestamp)) },
          idempotent: true,
        });
        return { partition: p.partition, offset: answer.offset ?? p.highWatermark };
      }),
    );
  }

  /**
   * Committed offsets of a group (KafkaJS 2.x shape); `-1` where nothing is committed. Default: every topic the group knows.
   * `resolveOffsets` is accepted and has nothing to do: `resetOffsets` stores real offsets, not KafkaJS's -1/-2 markers.
   */
  async fetchOffsets({ groupId, topics }: { groupId: string; topics?: readonly string[]; resolveOffsets?: boolean }): Promise<{ topic: string; partitions: { partition: number; offset: number; metadata: string | null }[] }[]> {
    const names = topics ?? (await this.describeGroup(groupId)).topics.map((t) => t.topic);
    const result = [];
    for (const topic of names) {
      const answer = await this.transport.request<{ partitions: { partition: number; offset: number; metadata: string }[] }>({
        method: "GET",
        path: `/v1/groups/${encodeURIComponent(groupId)}/offsets`,
        query: { topic },
        idempotent: true,
      });
      result.push({ topic, partitions: answer.partitions.map((p) => ({ partition: p.partition, offset: p.offset, metadata: p.metadata === "" ? null : p.metadata })) });
    }
    return result;
  }

  /** Sets committed offsets. Like Kafka, only while the group has no live members (else NON_EMPTY_GROUP). */
  async setOffsets({ groupId, topic, partitions }: { groupId: string; topic: string; partitions: readonly { partition: number; offset: number | string; metadata?: string }[] }): Promise<void> {
    if (partitions.length === 0) return;
    const offsets = partitions.map((p) => ({ topic, partition: p.partition, offset: Number(p.offset), ...(p.metadata ? { metadata: p.metadata } : {}) }));
    for (let i = 0; i < offsets.length; i += 1000) {
      await this.transport.request({ method: "POST", path: `/v1/groups/${encodeURIComponent(groupId)}/offsets`, body: { offsets: offsets.slice(i, i + 1000) }, idempotent: true });
    }
  }

  /** Moves a group's offsets of a topic to the earliest (log start) or latest (high watermark) offsets. */
  async resetOffsets({ groupId, topic, earliest = false }: { groupId: string; topic: string; earliest?: boolean }): Promise<{ partition: number; offset: number }[]> {
    const offsets = (await this.fetchTopicOffsets(topic)).map((p) => ({ partition: p.partition, offset: earliest ? p.low : p.high }));
    await this.setOffsets({ groupId, topic, partitions: offsets });
    return offsets;
  }

  async listGroups(): Promise<{ groups: GroupOverview[] }> {
    const answer = await this.transport.request<{ groups: { group: string; state: string; groupEpoch: number; members: number }[] }>({ method: "GET", path: "/v1/groups", idempotent: true });
    return { groups: answer.groups.map((g) => ({ groupId: g.group, protocolType: "consumer", state: g.state, groupEpoch: g.groupEpoch, members: g.members })) };
  }

  async describeGroups(groupIds: readonly string[]): Promise<{ groups: GroupDescription[] }> {
    return { groups: await Promise.all(groupIds.map((id) => this.describeGroup(id))) };
  }

  /** One group: members, their assignments, committed offsets and lag. */
  async describeGroup(groupId: string): Promise<GroupDescription> {
    const g = await this.transport.request<{ group: string; state: string; groupEpoch: number; assignmentEpoch: number; assignor: string; members: GroupDescription["members"]; topics: GroupDescription["topics"]; totalLag: number }>({
      method: "GET",
      path: `/v1/groups/${encodeURIComponent(groupId)}`,
      idempotent: true,
    });
    return { groupId: g.group, state: g.state, groupEpoch: g.groupEpoch, assignmentEpoch: g.assignmentEpoch, protocol: g.assignor, protocolType: "consumer", members: g.members, topics: g.topics, totalLag: g.totalLag };
  }

  /** Lag per partition (high watermark − committed offset), per topic and in total. */
  async fetchGroupLag({ groupId, topics }: { groupId: string; topics?: readonly string[] }): Promise<GroupLag> {
    const described = await this.describeGroup(groupId);
    const selected = topics ? described.topics.filter((t) => topics.includes(t.topic)) : described.topics;
    return { groupId, totalLag: selected.reduce((n, t) => n + t.lag, 0), topics: selected };
  }

  // ---- security (the caller needs Cluster Alter, or Describe to list) -----------------------------

  /** Adds ACL rules; returns them with their ids. */
  async createAcls({ acls }: { acls: readonly AclRule[] }): Promise<(AclRule & { id: string; createdAt: string })[]> {
    const created = [];
    for (const acl of acls) created.push(await this.transport.request<AclRule & { id: string; createdAt: string }>({ method: "POST", path: "/v1/acls", body: acl, idempotent: false }));
    return created;
  }

  async describeAcls(): Promise<(AclRule & { id: string; createdAt: string })[]> {
    return (await this.transport.request<{ acls: (AclRule & { id: string; createdAt: string })[] }>({ method: "GET", path: "/v1/acls", idempotent: true })).acls;
  }

  async deleteAcls({ ids }: { ids: readonly string[] }): Promise<void> {
    for (const id of ids) await this.transport.request({ method: "DELETE", path: `/v1/acls/${encodeURIComponent(id)}`, idempotent: true });
  }

  /** Issues an API key; the token (and secret) are returned only here, once. */
  async createApiKey({ principal, description }: { principal: string; description?: string }): Promise<ApiKeyInfo & { token: string; secret: string }> {
    return this.transport.request({ method: "POST", path: "/v1/api-keys", body: { principal, ...(description !== undefined ? { description } : {}) }, idempotent: false });
  }

  async listApiKeys(): Promise<ApiKeyInfo[]> {
    return (await this.transport.request<{ apiKeys: ApiKeyInfo[] }>({ method: "GET", path: "/v1/api-keys", idempotent: true })).apiKeys;
  }

  async revokeApiKey(keyId: string): Promise<void> {
    await this.transport.request({ method: "DELETE", path: `/v1/api-keys/${encodeURIComponent(keyId)}`, idempotent: true });
  }

  /** Removes a member (its partitions move at once; its commits are refused from now on). */
  async removeGroupMember({ groupId, memberId }: { groupId: string; memberId: string }): Promise<void> {
    await this.transport.request({ method: "DELETE", path: `/v1/groups/${encodeURIComponent(groupId)}/members/${encodeURIComponent(memberId)}`, idempotent: true });
  }

  // ---- Topic lifecycle (KafkaJS's names and shapes; implemented in admin-lifecycle.ts) ----------

  /** Topic configs under Kafka's names (retention.ms, compression.type, message.timestamp.type, max.message.bytes). */
  describeConfigs({ resources }: { resources: readonly lifecycle.DescribeConfigResource[]; includeSynonyms?: boolean }): Promise<lifecycle.DescribeConfigResponse> {
    return lifecycle.describeConfigs(this.transport, resources);
  }

  /** Changes the named configs; the others stay. Retention applies at once; the rest to new batches. */
  alterConfigs({ resources, validateOnly }: { resources: readonly lifecycle.AlterConfigResource[]; validateOnly?: boolean }) {
    if (validateOnly) throw clientStateError("validateOnly is not supported by Dynalog");
    return lifecycle.alterConfigs(this.transport, resources);
  }

  /** Increases partition counts (Kafka's rule: never decreases; keyed records map by the new count). */
  createPartitions({ topicPartitions, validateOnly }: { topicPartitions: readonly { topic: string; count: number }[]; validateOnly?: boolean; timeout?: number }): Promise<boolean> {
    if (validateOnly) throw clientStateError("validateOnly is not supported by Dynalog");
    return lifecycle.createPartitions(this.transport, topicPartitions);
  }

  /** Deletes records below each offset (moves the log start; "-1" = up to the high watermark). */
  /** One compaction pass over a compacted topic (default: every partition); docs/compaction.md. */
  compactTopic({ topic, partitions }: { topic: string; partitions?: readonly number[] }): Promise<lifecycle.TopicCompaction> {
    return lifecycle.compactTopic(this.transport, topic, partitions);
  }

  deleteTopicRecords({ topic, partitions }: { topic: string; partitions: readonly { partition: number; offset: string | number }[] }): Promise<void> {
    return lifecycle.deleteTopicRecords(this.transport, topic, partitions);
  }

  /** Deletes groups without live members, with their committed offsets (NON_EMPTY_GROUP otherwise). */
  deleteGroups(groupIds: readonly string[]): Promise<{ groupId: string; errorCode: "NONE" }[]> {
    return lifecycle.deleteGroups(this.transport, groupIds);
  }

  // ---- History (docs/api.md, "History"; admin-history.ts) -------------------------------------------

  /** The topic's samples of the last `minutes` (default 60, at most 1440): high watermarks and bytes written, one a minute. */
  topicHistory(name: string, options: history.HistoryOptions = {}): Promise<history.TopicHistory> {
    return history.topicHistory(this.transport, name, options);
  }

  /** Every topic's samples of the last `minutes` (totals only) in one request: the topics the caller may describe. */
  topicsHistory(options: history.HistoryOptions = {}): Promise<history.TopicsHistory> {
    return history.topicsHistory(this.transport, options);
  }

  /** The group's lag samples of the last `minutes` (default 60, at most 1440), one a minute. */
  groupHistory(groupId: string, options: history.HistoryOptions = {}): Promise<history.GroupHistory> {
    return history.groupHistory(this.transport, groupId, options);
  }

  // ---- Push subscriptions (docs/subscriptions.md; admin-subscriptions.ts) -------------------------

  /** Creates a push subscription; the answer's `secret` (the webhook signing key) is shown only now. */
  createSubscription(options: subscriptions.CreateSubscriptionOptions): Promise<subscriptions.SubscriptionInfo & { readonly secret: string }> {
    return subscriptions.createSubscription(this.transport, options);
  }

  listSubscriptions(): Promise<subscriptions.SubscriptionInfo[]> {
    return subscriptions.listSubscriptions(this.transport);
  }

  /** The subscription with lag, counters and the last error per partition. */
  describeSubscription(name: string): Promise<subscriptions.SubscriptionDescription> {
    return subscriptions.describeSubscription(this.transport, name);
  }

  /** Stops delivery after the batch in flight; resume continues at the committed offsets. */
  pauseSubscription(name: string): Promise<subscriptions.SubscriptionInfo> {
    return subscriptions.pauseSubscription(this.transport, name);
  }

  resumeSubscription(name: string): Promise<subscriptions.SubscriptionInfo> {
    return subscriptions.resumeSubscription(this.transport, name);
  }

  /** A new webhook signing secret, answered once; the old one also signs for `gracePeriodMs` (default 24 h). */
  rotateSubscriptionSecret(name: string, options: { readonly gracePeriodMs?: number } = {}) {
    return subscriptions.rotateSubscriptionSecret(this.transport, name, options);
  }

  /** Stops delivery for good; the group's committed offsets stay (deleteGroups forgets them). */
  deleteSubscription(name: string): Promise<void> {
    return subscriptions.deleteSubscription(this.transport, name);
  }
}

/** An ACL rule (Kafka semantics; see docs/api.md#security). */
export interface AclRule {
  readonly principal: string;
  readonly resourceType: "Topic" | "Group" | "TransactionalId" | "Cluster";
  readonly patternType?: "LITERAL" | "PREFIXED";
  readonly resourceName: string;
  readonly operation: "All" | "Read" | "Write" | "Create" | "Delete" | "Describe" | "Alter" | "IdempotentWrite";
  readonly permission?: "Allow" | "Deny";
}

export interface ApiKeyInfo {
  readonly keyId: string;
  readonly principal: string;
  readonly description: string;
  readonly createdAt: string;
  readonly revokedAt: string | null;
}

function topicBody(t: ITopicConfig): Record<string, unknown> {
  const body: Record<string, unknown> = { name: t.topic, partitions: t.numPartitions ?? 1 };
  for (const { name, value } of t.configEntries ?? []) {
    const plain = lifecycle.plainTopicConfig(name, value);
    if (plain) body[plain[0]] = plain[1];
    else if (name === "retention.ms") body["retentionMs"] = Number(value) < 0 ? null : Number(value);
    else if (name === "compression.type") body["compression"] = value === "uncompressed" ? "none" : value;
    else if (name === "message.timestamp.type") body["timestampType"] = value;
    else {
      // The broker's own code for a setting it does not take: nothing was sent, nothing created.
      throw new DynalogError({
        code: "INVALID_CONFIG",
        message: `Topic '${t.topic}': config '${name}' is not supported by Dynalog (supported: retention.ms, compression.type, message.timestamp.type, cleanup.policy, delete.retention.ms, min.compaction.lag.ms, max.message.bytes); nothing was created`,
        retriable: false,
        outcome: "definite",
        details: { topic: t.topic, config: name },
      });
    }
  }
  if (t.retentionMs !== undefined) body["retentionMs"] = t.retentionMs;
  if (t.compression !== undefined) body["compression"] = t.compression;
  if (t.timestampType !== undefined) body["timestampType"] = t.timestampType;
  if (t.cleanupPolicy !== undefined) body["cleanupPolicy"] = t.cleanupPolicy;
  if (t.deleteRetentionMs !== undefined) body["deleteRetentionMs"] = t.deleteRetentionMs;
  if (t.minCompactionLagMs !== undefined) body["minCompactionLagMs"] = t.minCompactionLagMs;
  if (t.maxMessageBytes !== undefined) body["maxMessageBytes"] = t.maxMessageBytes;
  return body;
}
