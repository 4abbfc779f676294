/**
 * The push-subscription dispatcher (docs/subscriptions.md): finds partitions of active
 * subscriptions with records to deliver, leases each (a conditional item, so one dispatcher at a
 * time delivers a partition, and a crashed one's lease simply expires) and delivers it
 * (dispatch-partition.ts). Pure: storage and targets come in as ports (the Invoker), so the same
 * core runs in the local broker's loop and, later, in a dispatcher Lambda.
 *
 * Idle is cheap: a round reads (subscriptions, partition states, committed offsets, the log head)
 * and writes nothing unless there is something to deliver.
 */
import { randomUUID } from "node:crypto";
import { isDynalogError } from "../errors.js";
import type { Invoker } from "./dispatch-event.js";
import { DEADLINE_MARGIN_MS, leaseDuration, PartitionDispatch, type DispatchBroker, type DispatchSettings } from "./dispatch-partition.js";
import type { PartitionRef, TopicRecord } from "./ports.js";
import { emptyPartitionState, type SubscriptionRecord } from "./subscription-model.js";
import { mapWithConcurrency } from "./topics.js";

export interface DispatcherOptions {
  readonly broker: DispatchBroker;
  readonly invoker: Invoker;
  /** Names this dispatcher in leases; default a random id. */
  readonly owner?: string;
  readonly clock?: () => number;
  readonly random?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Default 1 s, doubling per failed attempt up to retryMaxMs (default 60 s). */
  readonly retryBaseMs?: number;
  readonly retryMaxMs?: number;
  /** Default 10. */
  readonly maxBatchesPerRun?: number;
  /** Partitions delivered at once (each partition: one batch at a time); default 8. */
  readonly concurrency?: number;
  /** A partition's run failed unexpectedly (e.g. DynamoDB unavailable); it is retried next round. */
  readonly onError?: (error: unknown, where: { readonly subscription: string; readonly partition?: number }) => void;
}

/** Options of one pass: `deadline` (ms) bounds it (dispatch-partition.ts, DispatchSettings.deadline). */
export interface RunOptions {
  readonly deadline?: number;
}

export interface DispatchRound {
  readonly invocations: number;
  readonly delivered: number;
  /** Partitions with work that is not due yet (a retry's backoff, a batching window). */
  readonly waiting: number;
  /** When the earliest of those is due (ms), if any. */
  readonly nextDueAt: number | null;
}

export class Dispatcher {
  readonly owner: string;
  private readonly settings: DispatchSettings;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly concurrency: number;
  private loop: { stopped: boolean; done: Promise<void> } | undefined;

  constructor(private readonly options: DispatcherOptions) {
    this.owner = options.owner ?? `dispatcher-${randomUUID()}`;
    this.settings = {
      owner: this.owner,
      clock: options.clock ?? Date.now,
      random: options.random ?? Math.random,
      retryBaseMs: options.retryBaseMs ?? 1_000,
      retryMaxMs: options.retryMaxMs ?? 60_000,
      maxBatchesPerRun: options.maxBatchesPerRun ?? 10,
      deadline: Number.POSITIVE_INFINITY,
    };
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.concurrency = options.concurrency ?? 8;
  }

  /** One pass over every active subscription's partitions. */
  async runOnce(options: RunOptions = {}): Promise<DispatchRound> {
    const subscriptions = (await this.options.broker.listSubscriptions()).filter((s) => s.state === "active");
    const rounds = await mapWithConcurrency(subscriptions, 4, (s) => this.runSubscription(s, undefined, options));
    return rounds.reduce(addRounds, EMPTY_ROUND);
  }

  /**
   * One pass over just these topic partitions (what a log insert woke: the deployed dispatcher's
   * stream handler), for every active subscription of their topics.
   */
  async runPartitions(partitions: readonly PartitionRef[], options: RunOptions = {}): Promise<DispatchRound> {
    const byTopic = new Map<string, Set<number>>();
    for (const ref of partitions) byTopic.set(ref.topicId, (byTopic.get(ref.topicId) ?? new Set()).add(ref.partition));
    if (byTopic.size === 0) return EMPTY_ROUND;
    const subscriptions = (await this.options.broker.listSubscriptions()).filter((s) => s.state === "active" && byTopic.has(s.topicId));
    const rounds = await mapWithConcurrency(subscriptions, 4, (s) => this.runSubscription(s, byTopic.get(s.topicId), options));
    return rounds.reduce(addRounds, EMPTY_ROUND);
  }

  /**
   * Rounds until nothing is left to deliver or due (what tests call instead of sleeping): waits
   * only for retries' backoff and batching windows. Throws after `timeoutMs` without getting idle.
   */
  async drain(options: { readonly timeoutMs?: number } = {}): Promise<DispatchRound> {
    const deadline = this.settings.clock() + (options.timeoutMs ?? 60_000);
    let total = EMPTY_ROUND;
    for (;;) {
      const round = await this.runOnce();
      total = addRounds(total, round);
      if (round.invocations === 0 && round.waiting === 0) return total;
      if (this.settings.clock() > deadline) throw new Error(`Subscriptions still had work after ${options.timeoutMs ?? 60_000} ms of draining`);
      if (round.invocations === 0 && round.nextDueAt !== null) await this.sleep(Math.min(1_000, Math.max(1, round.nextDueAt - this.settings.clock())));
    }
  }

  /** Runs rounds in the background: at once while there is work, every `idleMs` when there is none. */
  start(idleMs = 500): void {
    if (this.loop) return;
    const loop = { stopped: false, done: Promise.resolve() };
    loop.done = (async () => {
      while (!loop.stopped) {
        let busy = false;
        try {
          busy = (await this.runOnce()).invocations > 0;
        } catch (error) {
          this.options.onError?.(error, { subscription: "*" });
        }
        if (!busy && !loop.stopped) await this.sleep(idleMs);
      }
    })();
    this.loop = loop;
  }

  /** Stops the background loop after the round in flight. */
  async stop(): Promise<void> {
    const loop = this.loop;
    if (!loop) return;
    loop.stopped = true;
    this.loop = undefined;
    await loop.done;
  }

  private async runSubscription(subscription: SubscriptionRecord, only: ReadonlySet<number> | undefined, options: RunOptions): Promise<DispatchRound> {
    let topic: TopicRecord;
    try {
      topic = await this.options.broker.topicConfigs(subscription.topic);
    } catch (error) {
      if (isDynalogError(error) && error.code === "UNKNOWN_TOPIC_OR_PARTITION") return EMPTY_ROUND; // deleted: nothing to deliver
      throw error;
    }
    if (topic.topicId !== subscription.topicId) return EMPTY_ROUND; // re-created: a new incarnation is not this subscription's
    const states = new Map((await this.options.broker.subscriptionStore.partitions(subscription.name)).map((s) => [s.partition, s]));
    const partitions = Array.from({ length: topic.partitions }, (_, p) => p).filter((p) => !only || only.has(p));
    const settings: DispatchSettings = { ...this.settings, deadline: options.deadline ?? Number.POSITIVE_INFINITY };
    const rounds = await mapWithConcurrency(partitions, this.concurrency, async (partition) => {
      try {
        return await this.runPartition(subscription, topic, partition, states.get(partition) ?? emptyPartitionState(partition), settings);
      } catch (error) {
        this.options.onError?.(error, { subscription: subscription.name, partition });
        return EMPTY_ROUND;
      }
    });
    return rounds.reduce(addRounds, EMPTY_ROUND);
  }

  private async runPartition(
    subscription: SubscriptionRecord,
    topic: TopicRecord,
    partition: number,
    state: ReturnType<typeof emptyPartitionState>,
    settings: DispatchSettings,
  ): Promise<DispatchRound> {
    const now = this.settings.clock();
    if (now + subscription.timeoutMs + DEADLINE_MARGIN_MS > settings.deadline) return EMPTY_ROUND; // no time for one invocation
    if (state.leaseOwner !== null && state.leaseOwner !== this.owner && state.leaseUntil > now) return EMPTY_ROUND;
    if (state.retry && state.retry.nextAttemptAt > now) return waitingUntil(state.retry.nextAttemptAt);
    // Anything to deliver? Reads only, so idle partitions cost no writes.
    const [committed] = await this.options.broker.committedOffsets(subscription.group, topic.name, { reset: "earliest", partitions: [partition] });
    const [peek] = await this.options.broker.fetch({ partitions: [{ topic: topic.name, partition, offset: committed!.position! }], maxRecords: subscription.batchSize });
    if (!peek || "error" in peek || peek.records.length === 0) return EMPTY_ROUND;
    const window = subscription.maxBatchingWindowMs;
    if (!state.retry && window > 0 && peek.records.length < subscription.batchSize && now - peek.records[0]!.timestamp < window) {
      return waitingUntil(peek.records[0]!.timestamp + window);
    }
    const leased = await this.options.broker.subscriptionStore.acquireLease(subscription.name, partition, this.owner, now, now + leaseDuration(subscription));
    if (!leased) return EMPTY_ROUND;
    try {
      const result = await new PartitionDispatch(this.options.broker, this.options.invoker, settings, subscription, topic, partition).run(leased);
      return { ...EMPTY_ROUND, invocations: result.invocations, delivered: result.delivered };
    } finally {
      await this.options.broker.subscriptionStore.releaseLease(subscription.name, partition, this.owner);
    }
  }
}

const EMPTY_ROUND: DispatchRound = { invocations: 0, delivered: 0, waiting: 0, nextDueAt: null };

function waitingUntil(dueAt: number): DispatchRound {
  return { ...EMPTY_ROUND, waiting: 1, nextDueAt: dueAt };
}

function addRounds(a: DispatchRound, b: DispatchRound): DispatchRound {
  const due = [a.nextDueAt, b.nextDueAt].filter((d): d is number => d !== null);
  return { invocations: a.invocations + b.invocations, delivered: a.delivered + b.delivered, waiting: a.waiting + b.waiting, nextDueAt: due.length ? Math.min(...due) : null };
}
