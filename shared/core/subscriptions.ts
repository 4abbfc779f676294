/**
 * Push subscriptions as an admin resource: create (validated completely before any write), list,
 * describe (lag and last error per partition), pause, resume, delete. Delivery itself is the
 * dispatcher's (dispatch.ts). Model and validation: subscription-model.ts.
 */
import { randomBytes } from "node:crypto";
import { DynalogError } from "../errors.js";
import type { BrokerContext } from "./context.js";
import { liveMembers } from "./group-members.js";
import type { ConsumerGroups } from "./groups.js";
import type { LogReader } from "./log-reader.js";
import type { OffsetCommitInput } from "./offsets.js";
import type { TopicRecord } from "./ports.js";
import {
  DEFAULT_SECRET_GRACE_MS,
  MAX_SECRET_GRACE_MS,
  emptyPartitionState,
  subscriptionNotFound,
  validateSubscription,
  validateSubscriptionName,
  type CreateSubscriptionInput,
  type StartingPosition,
  type SubscriptionPartitionState,
  type SubscriptionRecord,
  type SubscriptionState,
} from "./subscription-model.js";
import { mapWithConcurrency, partitionRefs, validateTopicName, type TopicCatalog } from "./topics.js";

export interface SubscriptionPartitionDescription extends SubscriptionPartitionState {
  /** The group's committed offset: the next record to deliver. */
  readonly committedOffset: number;
  readonly highWatermark: number;
  readonly lag: number;
}

export interface SubscriptionDescription {
  readonly subscription: SubscriptionRecord;
  /** False when the topic was deleted (or re-created: a new incarnation is not delivered). */
  readonly topicExists: boolean;
  readonly partitions: readonly SubscriptionPartitionDescription[];
  readonly totalLag: number;
}

/** 32 random bytes, base64url, with a prefix that says what it is (secret scanners match on it). */
export function newSubscriptionSecret(): string {
  return `dlsub_${randomBytes(32).toString("base64url")}`;
}

export class Subscriptions {
  constructor(
    private readonly ctx: BrokerContext,
    private readonly topics: TopicCatalog,
    private readonly reader: LogReader,
    private readonly groups: ConsumerGroups,
  ) {}

  private get store() {
    return this.ctx.storage.subscriptions;
  }

  /**
   * Validates everything (shape, target, topics, name free) before writing, then pins where
   * delivery starts (the starting position becomes the group's committed offset for partitions it
   * has none for, so "latest" means "from now", not "from whenever the dispatcher first looks"),
   * then writes the subscription item.
   */
  async create(input: CreateSubscriptionInput): Promise<SubscriptionRecord> {
    const valid = validateSubscription(input, this.ctx.config);
    validateTopicName(valid.topic);
    if (valid.deadLetterTopic !== null) validateTopicName(valid.deadLetterTopic);
    if (valid.target.kind === "webhook") await this.ctx.webhookCheck?.(valid.target.url);
    const topic = await this.topics.require(valid.topic, { fresh: true });
    if (valid.deadLetterTopic !== null) await this.topics.require(valid.deadLetterTopic, { fresh: true });
    if (await this.store.get(valid.name)) throw alreadyExists(valid.name);
    // The dispatcher commits without a member: a group with live members would refuse every
    // commit, and the subscription would redeliver its first batch forever.
    const members = liveMembers(await this.ctx.storage.groups.load(valid.group), this.ctx.clock());
    if (members.length > 0) {
      throw new DynalogError("NON_EMPTY_GROUP", `Group '${valid.group}' has ${members.length} live member(s); a subscription needs a group of its own`, {
        details: { group: valid.group, members: members.length },
      });
    }
    await this.pinStartingOffsets(valid.group, topic, valid.startingPosition);
    const now = this.ctx.clock();
    const record: SubscriptionRecord = { ...valid, topicId: topic.topicId, state: "active", secret: newSubscriptionSecret(), createdAt: now, updatedAt: now, version: 1 };
    await this.store.create(record);
    return record;
  }

  private async pinStartingOffsets(group: string, topic: TopicRecord, position: StartingPosition): Promise<void> {
    const committed = await this.groups.committedOffsets(group, topic.name);
    const missing = committed.filter((c) => c.offset < 0).map((c) => c.partition);
    if (missing.length === 0) return;
    const refs = partitionRefs(topic);
    const offsets: OffsetCommitInput[] = await mapWithConcurrency(missing, 16, async (partition) => {
      const ref = refs[partition]!;
      let offset: number;
      if (position.kind === "earliest") offset = await this.reader.refreshLogStart(topic, ref);
      else if (position.kind === "latest") offset = await this.reader.highWatermark(topic, ref);
      else offset = (await this.reader.offsetForTimestamp(topic, ref, position.timestamp))?.offset ?? (await this.reader.highWatermark(topic, ref));
      return { topic: topic.name, partition, offset };
    });
    await this.groups.commitOffsets(group, offsets);
  }

  list(): Promise<SubscriptionRecord[]> {
    return this.store.list().then((all) => all.sort((a, b) => a.name.localeCompare(b.name)));
  }

  async require(name: string): Promise<SubscriptionRecord> {
    validateSubscriptionName(name);
    const found = await this.store.get(name);
    if (!found) throw subscriptionNotFound(name);
    return found;
  }

  async describe(name: string): Promise<SubscriptionDescription> {
    const subscription = await this.require(name);
    const topic = await this.ctx.storage.topics.get(subscription.topic);
    const states = new Map((await this.store.partitions(name)).map((s) => [s.partition, s]));
    if (!topic || topic.topicId !== subscription.topicId) {
      return { subscription, topicExists: false, partitions: [...states.values()].map((s) => ({ ...s, committedOffset: -1, highWatermark: -1, lag: 0 })), totalLag: 0 };
    }
    const committed = await this.groups.committedOffsets(subscription.group, topic.name, { reset: "earliest" });
    const refs = partitionRefs(topic);
    const heads = await this.ctx.storage.log.readHeads(refs);
    const partitions = await mapWithConcurrency(refs, 16, async (ref, i) => {
      const highWatermark = await this.reader.highWatermark(topic, ref, heads[i]);
      const committedOffset = committed[i]?.position ?? 0;
      return { ...(states.get(ref.partition) ?? emptyPartitionState(ref.partition)), committedOffset, highWatermark, lag: Math.max(0, highWatermark - committedOffset) };
    });
    return { subscription, topicExists: true, partitions, totalLag: partitions.reduce((sum, p) => sum + p.lag, 0) };
  }

  pause(name: string): Promise<SubscriptionRecord> {
    return this.setState(name, "paused");
  }

  resume(name: string): Promise<SubscriptionRecord> {
    return this.setState(name, "active");
  }

  private async setState(name: string, state: SubscriptionState): Promise<SubscriptionRecord> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = await this.require(name);
      if (current.state === state) return current;
      const next = { ...current, state, updatedAt: this.ctx.clock(), version: current.version + 1 };
      if (await this.store.replace(next, current.version)) return next;
    }
    throw new DynalogError("CONCURRENT_TRANSACTIONS", `Subscription '${name}' kept changing while being ${state === "paused" ? "paused" : "resumed"}; retry`);
  }

  /**
   * A new signing secret; the one it replaces keeps signing deliveries (a second signature) for
   * `graceMs`, so receivers can move to the new one without refusing anything meanwhile.
   */
  async rotateSecret(name: string, graceMs = DEFAULT_SECRET_GRACE_MS): Promise<SubscriptionRecord> {
    if (!Number.isSafeInteger(graceMs) || graceMs < 0 || graceMs > MAX_SECRET_GRACE_MS) {
      throw new DynalogError("INVALID_SUBSCRIPTION", `gracePeriodMs must be an integer from 0 to ${MAX_SECRET_GRACE_MS}, got ${graceMs}`, { details: { field: "gracePeriodMs", min: 0, max: MAX_SECRET_GRACE_MS } });
    }
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = await this.require(name);
      const now = this.ctx.clock();
      const previousSecret = graceMs > 0 ? { secret: current.secret, until: now + graceMs } : null;
      const next: SubscriptionRecord = { ...current, secret: newSubscriptionSecret(), previousSecret, updatedAt: now, version: current.version + 1 };
      if (await this.store.replace(next, current.version)) return next;
    }
    throw new DynalogError("CONCURRENT_TRANSACTIONS", `Subscription '${name}' kept changing while its secret was rotated; retry`);
  }

  /** Stops delivery. The group's committed offsets stay (delete the group to forget them). */
  async delete(name: string): Promise<SubscriptionRecord> {
    validateSubscriptionName(name);
    const removed = await this.store.remove(name);
    if (!removed) throw subscriptionNotFound(name);
    return removed;
  }
}

function alreadyExists(name: string): DynalogError {
  return new DynalogError("SUBSCRIPTION_ALREADY_EXISTS", `Subscription '${name}' already exists`, { details: { subscription: name } });
}
