/**
 * The admin client: KafkaJS's admin methods where Dynalog has the concept (topics, groups,
 * offsets), plus `fetchGroupLag` and `describeTopic`. Offsets are numbers. This class holds the
 * events and the instrumented transport; each area's requests and answer types are in a module of
 * their own (admin-topics, admin-groups, admin-security, admin-lifecycle, admin-history,
 * admin-subscriptions), which the methods below call with that transport.
 */
import { clientStateError } from "./errors.js";
import { Instrumentation, instrumentedTransport, type InstrumentationEvent, type RemoveInstrumentationEventListener } from "./events.js";
import * as groups from "./admin-groups.js";
import type { GroupDescription, GroupLag, GroupOverview } from "./admin-groups.js";
import * as history from "./admin-history.js";
import * as lifecycle from "./admin-lifecycle.js";
import * as security from "./admin-security.js";
import type { AclRule, ApiKeyInfo } from "./admin-security.js";
import * as subscriptions from "./admin-subscriptions.js";
// Not `topics`: that is the name of the topic methods' own parameters.
import * as topicCalls from "./admin-topics.js";
import type { ITopicConfig, PartitionOffsets } from "./admin-topics.js";
import type { Logger } from "./logger.js";
import type { TopicDescription } from "./metadata.js";
import type { Transport } from "./transport.js";

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

  // ---- Topics (admin-topics.ts) ---------------------------------------------------------------------

  /** Creates the topics; resolves false if any of them already existed (like KafkaJS), true otherwise. */
  async createTopics({ topics, validateOnly }: { topics: readonly ITopicConfig[]; validateOnly?: boolean; waitForLeaders?: boolean; timeout?: number }): Promise<boolean> {
    if (validateOnly) throw clientStateError("validateOnly is not supported by Dynalog");
    return topicCalls.createTopics(this.transport, topics);
  }

  async deleteTopics({ topics }: { topics: readonly string[]; timeout?: number }): Promise<void> {
    return topicCalls.deleteTopics(this.transport, topics);
  }

  async listTopics(): Promise<string[]> {
    return topicCalls.listTopics(this.transport);
  }

  /** Every topic's settings (Dynalog's `GET /v1/topics`). */
  async listTopicDetails(): Promise<Omit<TopicDescription, "partitions">[]> {
    return topicCalls.listTopicDetails(this.transport);
  }

  /** Settings plus each partition's log-start offset and high watermark. */
  async describeTopic(topic: string): Promise<TopicDescription> {
    return topicCalls.describeTopic(this.transport, topic);
  }

  /** KafkaJS's shape: partitions with ids (leader/replicas are placeholders: DynamoDB replicates). */
  async fetchTopicMetadata(options: { topics?: readonly string[] } = {}): Promise<{ topics: { name: string; partitions: { partitionErrorCode: 0; partitionId: number; leader: 0; replicas: number[]; isr: number[] }[] }[] }> {
    return topicCalls.fetchTopicMetadata(this.transport, options.topics);
  }

  /** Per partition: `high` (high watermark), `low` (log start), and `offset` = high. */
  async fetchTopicOffsets(topic: string): Promise<PartitionOffsets[]> {
    return topicCalls.fetchTopicOffsets(this.transport, topic);
  }

  /** The first offset at or after `timestamp` per partition (the high watermark when there is none). */
  async fetchTopicOffsetsByTimestamp(topic: string, timestamp?: number): Promise<{ partition: number; offset: number }[]> {
    return topicCalls.fetchTopicOffsetsByTimestamp(this.transport, topic, timestamp);
  }

  // ---- Groups and their offsets (admin-groups.ts) -------------------------------------------------

  /**
   * Committed offsets of a group (KafkaJS 2.x shape); `-1` where nothing is committed. Default: every topic the group knows.
   * `resolveOffsets` is accepted and has nothing to do: `resetOffsets` stores real offsets, not KafkaJS's -1/-2 markers.
   */
  async fetchOffsets({ groupId, topics }: { groupId: string; topics?: readonly string[]; resolveOffsets?: boolean }): Promise<{ topic: string; partitions: { partition: number; offset: number; metadata: string | null }[] }[]> {
    return groups.fetchOffsets(this.transport, groupId, topics);
  }

  /** Sets committed offsets. Like Kafka, only while the group has no live members (else NON_EMPTY_GROUP). */
  async setOffsets({ groupId, topic, partitions }: { groupId: string; topic: string; partitions: readonly { partition: number; offset: number | string; metadata?: string }[] }): Promise<void> {
    return groups.setOffsets(this.transport, groupId, topic, partitions);
  }

  /** Moves a group's offsets of a topic to the earliest (log start) or latest (high watermark) offsets. */
  async resetOffsets({ groupId, topic, earliest = false }: { groupId: string; topic: string; earliest?: boolean }): Promise<{ partition: number; offset: number }[]> {
    return groups.resetOffsets(this.transport, groupId, topic, earliest);
  }

  async listGroups(): Promise<{ groups: GroupOverview[] }> {
    return groups.listGroups(this.transport);
  }

  async describeGroups(groupIds: readonly string[]): Promise<{ groups: GroupDescription[] }> {
    return { groups: await Promise.all(groupIds.map((id) => groups.describeGroup(this.transport, id))) };
  }

  /** One group: members, their assignments, committed offsets and lag. */
  async describeGroup(groupId: string): Promise<GroupDescription> {
    return groups.describeGroup(this.transport, groupId);
  }

  /** Lag per partition (high watermark − committed offset), per topic and in total. */
  async fetchGroupLag({ groupId, topics }: { groupId: string; topics?: readonly string[] }): Promise<GroupLag> {
    return groups.fetchGroupLag(this.transport, groupId, topics);
  }

  // ---- security (the caller needs Cluster Alter, or Describe to list; admin-security.ts) ----------

  /** Adds ACL rules; returns them with their ids. */
  async createAcls({ acls }: { acls: readonly AclRule[] }): Promise<(AclRule & { id: string; createdAt: string })[]> {
    return security.createAcls(this.transport, acls);
  }

  async describeAcls(): Promise<(AclRule & { id: string; createdAt: string })[]> {
    return security.describeAcls(this.transport);
  }

  async deleteAcls({ ids }: { ids: readonly string[] }): Promise<void> {
    return security.deleteAcls(this.transport, ids);
  }

  /** Issues an API key; the token (and secret) are returned only here, once. */
  async createApiKey({ principal, description }: { principal: string; description?: string }): Promise<ApiKeyInfo & { token: string; secret: string }> {
    return security.createApiKey(this.transport, principal, description);
  }

  async listApiKeys(): Promise<ApiKeyInfo[]> {
    return security.listApiKeys(this.transport);
  }

  async revokeApiKey(keyId: string): Promise<void> {
    return security.revokeApiKey(this.transport, keyId);
  }

  /** Removes a member (its partitions move at once; its commits are refused from now on). */
  async removeGroupMember({ groupId, memberId }: { groupId: string; memberId: string }): Promise<void> {
    return groups.removeGroupMember(this.transport, groupId, memberId);
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

  /** One compaction pass over a compacted topic (default: every partition); docs/compaction.md. */
  compactTopic({ topic, partitions }: { topic: string; partitions?: readonly number[] }): Promise<lifecycle.TopicCompaction> {
    return lifecycle.compactTopic(this.transport, topic, partitions);
  }

  /** Deletes records below each offset (moves the log start; "-1" = up to the high watermark). */
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
