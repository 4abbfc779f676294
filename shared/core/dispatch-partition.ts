/**
 * Delivers one subscription partition under its lease (dispatch.ts takes the lease and calls this):
 * one batch in flight, in offset order; the group's offset advances only past records the target
 * accepted. A failing batch is bisected down to the record that fails; that record is retried with
 * backoff (the retry is stored, so it survives restarts) and, after `maxRetries` failed attempts,
 * produced to the dead-letter topic with where it came from and why, and the partition moves on.
 */
import type { Broker } from "./broker.js";
import { buildEvent, readPartialBatchResponse, type Invoker } from "./dispatch-event.js";
import { ExactlyOnceOutput, readExactlyOnceResponse } from "./dispatch-exactly-once.js";
import type { FetchedRecord } from "./log-reader.js";
import type { TopicRecord } from "./ports.js";
import type { TransactionRecord } from "./transactions.js";
import type { PartitionProgress, PendingRetry, SubscriptionError, SubscriptionPartitionState, SubscriptionRecord } from "./subscription-model.js";

/** What dispatching needs from the broker core (subscription-model.ts for the store). */
export type DispatchBroker = Pick<Broker, "fetch" | "commitOffsets" | "committedOffsets" | "produce" | "listSubscriptions" | "topicConfigs" | "subscriptionStore" | "initProducer" | "commitTransaction">;

export interface DispatchSettings {
  readonly owner: string;
  readonly clock: () => number;
  readonly random: () => number;
  /** First retry delay of a failing record; doubles per attempt up to retryMaxMs (with jitter). */
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  /** Batches one partition delivers per run before yielding to the others. */
  readonly maxBatchesPerRun: number;
  /**
   * When this run must be done (ms; Infinity: never). A batch, and each invocation while bisecting,
   * starts only if one invocation timeout plus DEADLINE_MARGIN_MS still fits: the deployed
   * dispatcher's Lambda invocation ends at a hard timeout (docs/subscriptions.md, "Deployed").
   */
  readonly deadline: number;
}

/** Kept free before a run's deadline beyond one invocation: the commit, counters and lease release. */
export const DEADLINE_MARGIN_MS = 10_000;

/** The run's time budget would not fit another invocation: it stopped before starting one (nothing lost). */
export class BudgetExhaustedError extends Error {
  override readonly name = "BudgetExhaustedError";
}

/** Extra lease time beyond one invocation's timeout: DynamoDB calls, clock skew between dispatchers. */
export const LEASE_MARGIN_MS = 30_000;

/** A commit this close to the lease's end re-takes the lease first (clock skew between dispatchers). */
const COMMIT_LEASE_MARGIN_MS = 5_000;

/** How long a lease is taken for: two invocations and the margin; renewed before each invocation. */
export const leaseDuration = (subscription: SubscriptionRecord) => 2 * subscription.timeoutMs + LEASE_MARGIN_MS;

/** The lease passed to another dispatcher (ours expired): stop without writing anything more. */
export class LeaseLostError extends Error {
  override readonly name = "LeaseLostError";
}

export interface PartitionRunResult {
  readonly invocations: number;
  readonly delivered: number;
}

/** Fetches stop at this many bytes (3 MB): a batch's event stays under Lambda's 6 MB payload limit once base64-encoded. */
const BATCH_MAX_BYTES = 3_000_000;
const MAX_ERROR_CHARS = 1_000;

type RangeResult = { readonly ok: true } | { readonly ok: false; readonly offset: number; readonly error: string };

export const DLQ_HEADERS = {
  topic: "dynalog-dlq-topic",
  partition: "dynalog-dlq-partition",
  offset: "dynalog-dlq-offset",
  error: "dynalog-dlq-error",
  subscription: "dynalog-dlq-subscription",
} as const;

export class PartitionDispatch {
  private invocations = 0;
  private delivered = 0;
  private pending = { delivered: 0, failed: 0, deadLettered: 0 };
  private lastError: SubscriptionError | null | undefined = undefined;
  private lastLatencyMs: number | undefined;
  private lastDeliveredAt: number | undefined;

  constructor(
    private readonly broker: DispatchBroker,
    private readonly invoker: Invoker,
    private readonly settings: DispatchSettings,
    private readonly subscription: SubscriptionRecord,
    private readonly topic: TopicRecord,
    private readonly partition: number,
  ) {
    this.output = subscription.delivery === "exactly-once" ? new ExactlyOnceOutput(broker, subscription, topic.name, partition) : undefined;
  }

  private leaseUntil = 0;
  /** Exactly-once mode: the partition's transactional producer (dispatch-exactly-once.ts). */
  private readonly output: ExactlyOnceOutput | undefined;
  /** The group's committed offset as this run last read or wrote it. */
  private position = 0;

  /** Runs under the lease; `state` is the partition state the lease was taken with. */
  async run(state: SubscriptionPartitionState): Promise<PartitionRunResult> {
    this.leaseUntil = state.leaseUntil;
    let retry = state.retry;
    await this.output?.begin(); // fences any earlier holder of this partition
    for (let batch = 0; batch < this.settings.maxBatchesPerRun && this.hasTimeForInvocation(); batch++) {
      const position = await this.committedPosition();
      this.position = position;
      if (retry && retry.offset !== position) retry = null; // moved on meanwhile (e.g. offsets reset)
      if (retry && retry.nextAttemptAt > this.settings.clock()) break;
      const records = await this.read(position, retry ? 1 : this.subscription.batchSize);
      if (records.length === 0) break;
      let result: RangeResult;
      try {
        result = await this.deliverRange(records);
      } catch (error) {
        if (!(error instanceof BudgetExhaustedError)) throw error;
        await this.save(retry); // the counters of what was delivered; the retry as it was
        break;
      }
      if (result.ok) {
        retry = null;
        if (!(await this.save(null))) break;
        continue;
      }
      const attempts = (retry?.offset === result.offset ? retry.attempts : 0) + 1;
      this.lastError = { message: result.error.slice(0, MAX_ERROR_CHARS), offset: result.offset, at: this.settings.clock() };
      if (attempts > this.subscription.maxRetries && this.subscription.deadLetterTopic !== null) {
        await this.deadLetter(records.find((r) => r.offset === result.offset)!, result.error);
        retry = null;
        if (!(await this.save(null))) break;
        continue;
      }
      retry = { offset: result.offset, attempts, nextAttemptAt: this.settings.clock() + this.backoff(attempts) };
      await this.save(retry);
      break;
    }
    return { invocations: this.invocations, delivered: this.delivered };
  }

  private hasTimeForInvocation(): boolean {
    return this.settings.clock() + this.subscription.timeoutMs + DEADLINE_MARGIN_MS <= this.settings.deadline;
  }

  private async committedPosition(): Promise<number> {
    const [row] = await this.broker.committedOffsets(this.subscription.group, this.topic.name, { reset: "earliest", partitions: [this.partition] });
    return row!.position!;
  }

  private async read(offset: number, maxRecords: number): Promise<FetchedRecord[]> {
    const [result] = await this.broker.fetch({ partitions: [{ topic: this.topic.name, partition: this.partition, offset }], maxRecords, maxBytes: BATCH_MAX_BYTES });
    if (!result || "error" in result) throw result?.error ?? new Error("fetch answered nothing");
    return [...result.records];
  }

  /** Delivers `records` (offset order); on failure, bisects to the first record that fails alone. */
  private async deliverRange(records: readonly FetchedRecord[]): Promise<RangeResult> {
    const first = records[0]!.offset;
    const event = buildEvent(this.subscription, this.partition, this.topic.timestampType, records);
    // Bisecting takes several invocations; one that could not finish before the deadline is not
    // started (what was accepted so far is committed; the rest waits for the next run).
    if (!this.hasTimeForInvocation()) throw new BudgetExhaustedError(`${this.subscription.name}/${this.partition}: no time left for an invocation`);
    await this.keepLease();
    const started = this.settings.clock();
    this.invocations++;
    const outcome = await this.invoker.invoke(this.subscription, event);
    this.lastLatencyMs = this.settings.clock() - started;
    if (outcome.ok && this.output) {
      const answer = readExactlyOnceResponse(outcome.response);
      if (!answer.ok) return this.bisect(records, this.failed(first, answer.reason));
      const written = await this.commitExactlyOnce(answer.records, records[records.length - 1]!.offset + 1);
      if (written !== undefined) return this.bisect(records, this.failed(first, written));
      this.counted(records.length);
      return { ok: true };
    }
    if (outcome.ok) {
      const verdict = readPartialBatchResponse(outcome.response, this.topic.name, this.partition, records.map((r) => r.offset));
      if (verdict.kind === "all-succeeded") {
        await this.accept(records.length, records[records.length - 1]!.offset + 1);
        return { ok: true };
      }
      if (verdict.kind === "failed-from") {
        const error = this.failed(verdict.offset, `the target reported record ${verdict.offset} failed (batchItemFailures)`);
        if (verdict.offset > first) await this.accept(verdict.offset - first, verdict.offset);
        return { ok: false, offset: verdict.offset, error };
      }
      return this.bisect(records, this.failed(first, verdict.reason));
    }
    return this.bisect(records, this.failed(first, outcome.error));
  }

  /** Counts a failed invocation and remembers its error (describe shows it even once bisecting got past it). */
  private failed(offset: number, error: string): string {
    this.pending.failed++;
    this.lastError = { message: error.slice(0, MAX_ERROR_CHARS), offset, at: this.settings.clock() };
    return error;
  }

  /** An invocation must end inside the lease: renew it first when it might not. */
  private async keepLease(): Promise<void> {
    const now = this.settings.clock();
    if (now + this.subscription.timeoutMs + LEASE_MARGIN_MS <= this.leaseUntil) return;
    const until = now + leaseDuration(this.subscription);
    const renewed = await this.broker.subscriptionStore.acquireLease(this.subscription.name, this.partition, this.settings.owner, now, until);
    if (!renewed) throw new LeaseLostError(`Lost the lease of ${this.subscription.name}/${this.partition}`);
    this.leaseUntil = until;
  }

  private async bisect(records: readonly FetchedRecord[], error: string): Promise<RangeResult> {
    if (records.length === 1) return { ok: false, offset: records[0]!.offset, error };
    const middle = Math.ceil(records.length / 2);
    const left = await this.deliverRange(records.slice(0, middle));
    if (!left.ok) return left;
    return this.deliverRange(records.slice(middle));
  }

  private async accept(count: number, nextOffset: number): Promise<void> {
    await this.commit(nextOffset);
    this.counted(count);
  }

  private counted(count: number): void {
    this.delivered += count;
    this.pending.delivered += count;
    this.lastDeliveredAt = this.settings.clock();
  }

  /** Output and input offsets in one fenced transaction; the error when the output cannot be written. */
  private async commitExactlyOnce(records: readonly TransactionRecord[], nextOffset: number): Promise<string | undefined> {
    const outcome = await this.output!.commit(records, nextOffset);
    if (outcome.kind === "fenced") throw new LeaseLostError(`${this.subscription.name}/${this.partition} was taken over by another dispatcher; this one is fenced (${outcome.error})`);
    if (outcome.kind === "failed") return outcome.error;
    this.position = nextOffset;
    return undefined;
  }

  /**
   * Commits as the group, only while this run still owns the partition. When the lease may have
   * lapsed (a stalled process), it is taken again first — and if another dispatcher delivered
   * meanwhile (the committed offset moved), this run stops instead of moving the offset back.
   */
  private async commit(offset: number): Promise<void> {
    if (this.settings.clock() + COMMIT_LEASE_MARGIN_MS > this.leaseUntil) {
      const now = this.settings.clock();
      const until = now + leaseDuration(this.subscription);
      if (!(await this.broker.subscriptionStore.acquireLease(this.subscription.name, this.partition, this.settings.owner, now, until))) {
        throw new LeaseLostError(`Lost the lease of ${this.subscription.name}/${this.partition} before committing`);
      }
      this.leaseUntil = until;
      if ((await this.committedPosition()) !== this.position) throw new LeaseLostError(`${this.subscription.name}/${this.partition} was delivered by another dispatcher meanwhile`);
    }
    await this.broker.commitOffsets(this.subscription.group, [{ topic: this.topic.name, partition: this.partition, offset }]);
    this.position = offset;
  }

  /** Produces the record to the dead-letter topic and commits past it (exactly-once: in one transaction). */
  private async deadLetter(record: FetchedRecord, error: string): Promise<void> {
    const text = (value: string | number) => new TextEncoder().encode(String(value));
    const letter = {
      key: record.key,
      value: record.value,
      timestamp: record.timestamp,
      headers: [
        ...record.headers,
        { key: DLQ_HEADERS.topic, value: text(this.topic.name) },
        { key: DLQ_HEADERS.partition, value: text(this.partition) },
        { key: DLQ_HEADERS.offset, value: text(record.offset) },
        { key: DLQ_HEADERS.error, value: text(error.slice(0, MAX_ERROR_CHARS)) },
        { key: DLQ_HEADERS.subscription, value: text(this.subscription.name) },
      ],
    };
    if (this.output) {
      const failed = await this.commitExactlyOnce([{ topic: this.subscription.deadLetterTopic!, ...letter }], record.offset + 1);
      if (failed !== undefined) throw new Error(`${this.subscription.name}/${this.partition}: dead-lettering offset ${record.offset} failed: ${failed}`);
    } else {
      const result = await this.broker.produce({ topic: this.subscription.deadLetterTopic!, records: [letter] });
      const failedPartition = result.partitions.find((p) => "error" in p);
      if (failedPartition && "error" in failedPartition) throw failedPartition.error;
      await this.commit(record.offset + 1);
    }
    this.pending.deadLettered++;
  }

  /** Full jitter over an exponential backoff: retries of many partitions do not arrive in waves. */
  private backoff(attempts: number): number {
    const ceiling = Math.min(this.settings.retryMaxMs, this.settings.retryBaseMs * 2 ** Math.min(30, attempts - 1));
    return Math.round(ceiling / 2 + (this.settings.random() * ceiling) / 2);
  }

  /** Writes the counters and retry under the lease; false when the lease was lost (stop). */
  private async save(retry: PendingRetry | null): Promise<boolean> {
    const progress: PartitionProgress = {
      ...this.pending,
      retry,
      ...(this.lastError !== undefined && { lastError: this.lastError }),
      ...(this.lastDeliveredAt !== undefined && { lastDeliveredAt: this.lastDeliveredAt }),
      ...(this.lastLatencyMs !== undefined && { lastLatencyMs: this.lastLatencyMs }),
    };
    this.pending = { delivered: 0, failed: 0, deadLettered: 0 };
    this.lastError = undefined;
    return this.broker.subscriptionStore.saveProgress(this.subscription.name, this.partition, this.settings.owner, progress);
  }
}
