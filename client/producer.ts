/**
 * The producer: KafkaJS's `send` / `sendBatch`, idempotent by default, with client-side batching.
 *
 * How a message travels:
 * 1. `send` validates it and picks its partition (explicit > key hashed with Kafka's murmur2 — the
 *    broker's own function, shared/partitioner.ts — > sticky partition for null keys, which moves on
 *    every time a batch for it is sent, as in KIP-480).
 * 2. It waits in its partition's queue. A partition has at most ONE batch in flight; while it is in
 *    flight new messages accumulate and go out together as the next batch. With `linger` > 0 a
 *    partition with nothing in flight waits up to `linger` ms (or until `batchSize` bytes are queued)
 *    before sending. Ready batches of different partitions of a topic share one HTTP request.
 * 3. Idempotence: every batch carries the producer id, epoch and the partition's next
 *    `baseSequence`. A retry after an indefinite outcome (lost response, timeout, STORAGE_ERROR)
 *    resends the SAME batch with the SAME sequence, so the broker writes it at most once and
 *    answers the original offsets. Sequences advance only for batches the broker accepted. If a
 *    batch's outcome stays unknown after all retries, or the broker reports a broken sequence
 *    chain, the producer takes a new producer id (sequences restart at 0) before sending more.
 *
 * A transactional producer (`transactionalId`) sends only inside `producer.transaction()`.
 * Queues and batches: producer-batch.ts; a request and what its answer means: producer-send.ts.
 */
import { RoundRobinPartitioner } from "../shared/partitioner.js";
import { prepareRecord, worstWireSize, type Message, type PreparedRecord } from "./codec.js";
import { DynalogError, clientStateError } from "./errors.js";
import { Instrumentation, requestEventPayload, type RemoveInstrumentationEventListener, type InstrumentationEvent } from "./events.js";
import type { Logger } from "./logger.js";
import { TopicMetadata } from "./metadata.js";
import {
  checkCompression,
  defaultPartitioner,
  partitionList,
  type CompressionType,
  type Partitioner,
  type ProducerBatch,
  type ProducerConfig,
  type ProducerIdentity,
  type ProducerRecord,
  type RecordMetadata,
} from "./producer-types.js";
import { resolveRetry, type ResolvedRetry } from "./retry.js";
import {
  MAX_PARTITION_BYTES,
  MAX_RECORDS_PER_REQUEST,
  MAX_SEQUENCE,
  PartitionState,
  splitByBudget,
  summarize,
  takeBatch,
  type Ack,
  type Batch,
  type Pending,
} from "./producer-batch.js";
import { BatchSender } from "./producer-send.js";
import { Transaction, type TransactionalProducer } from "./transaction.js";
import type { Transport } from "./transport.js";
import type { ConsumerRegistry } from "./group-registry.js";

export const PRODUCER_EVENTS = {
  CONNECT: "producer.connect",
  DISCONNECT: "producer.disconnect",
  /** A produce request went out: `{topic, partitions, records, attempt}`. */
  REQUEST: "producer.network.request",
  /** A request got no answer within `requestTimeout` (payload as the consumer's REQUEST_TIMEOUT). */
  REQUEST_TIMEOUT: "producer.network.request_timeout",
} as const;
type ProducerEventName = (typeof PRODUCER_EVENTS)[keyof typeof PRODUCER_EVENTS];

export { CompressionTypes, Partitioners } from "./producer-types.js";
export type { CompressionType, ICustomPartitioner, Partitioner, PartitionerArgs, ProducerBatch, ProducerConfig, ProducerIdentity, ProducerRecord, RecordMetadata, TopicMessages } from "./producer-types.js";

export class Producer implements TransactionalProducer {
  readonly events = PRODUCER_EVENTS;
  private readonly instrumentation = new Instrumentation<ProducerEventName>(Object.values(PRODUCER_EVENTS));
  /** @internal The Dynalog instance's transport, reporting this producer's timeouts as its events. */
  readonly transport: Transport;
  private readonly retry: ResolvedRetry;
  private readonly metadata: TopicMetadata;
  private readonly partitioner: Partitioner;
  private readonly linger: number;
  private readonly batchSize: number;
  private readonly idempotent: boolean;
  private readonly sender: BatchSender;
  private readonly partitions = new Map<string, PartitionState>();
  private readonly sticky = new Map<string, number>();
  private readonly roundRobin = new RoundRobinPartitioner();
  private identity: ProducerIdentity | undefined;
  private identityPromise: Promise<ProducerIdentity> | undefined;
  private connected = false;
  private fenced: DynalogError | undefined;
  private kickScheduled = false;
  private lingerTimer: ReturnType<typeof setTimeout> | undefined;
  private unacknowledged = 0;
  private idleWaiters: (() => void)[] = [];
  // --- transactions ---
  /** @internal */ txIdentity: ProducerIdentity | undefined;
  /** @internal */ txSequence = 0;
  /** @internal */ txNeedsInit = true;
  /** @internal */ activeTransaction: Transaction | undefined;

  constructor(
    transport: Transport,
    /** @internal */ readonly config: ProducerConfig,
    /** @internal */ readonly log: Logger,
    /** @internal The running consumers of the same Dynalog instance (transactions fence offsets with them). */
    readonly consumers?: ConsumerRegistry,
  ) {
    checkCompression(config.compression);
    this.transport = transport.withObserver((attempt) => {
      if (attempt.error?.code === "CLIENT_TIMEOUT") this.instrumentation.emit(PRODUCER_EVENTS.REQUEST_TIMEOUT, requestEventPayload(attempt, transport.baseUrl, transport.clientId));
    });
    this.retry = resolveRetry(transport.retryPolicy, config.retry);
    this.metadata = new TopicMetadata(this.transport, config.metadataMaxAge ?? 300_000);
    this.partitioner = (config.createPartitioner ?? defaultPartitioner)();
    this.linger = Math.max(0, config.linger ?? 0);
    this.batchSize = Math.max(1, Math.min(config.batchSize ?? 1_048_576, MAX_PARTITION_BYTES));
    this.idempotent = config.transactionalId !== undefined || config.idempotent !== false;
    this.sender = new BatchSender({
      transport: this.transport,
      retry: this.retry,
      metadata: this.metadata,
      idempotent: this.idempotent,
      log,
      onRequest: (payload) => this.instrumentation.emit(PRODUCER_EVENTS.REQUEST, payload),
      currentIdentity: () => this.identity,
      resetIdentity: (reason) => this.resetIdentity(reason),
      fence: (error) => (this.fenced = error),
      drainSoon: () => this.drainSoon(),
    });
  }

  get transactionalId(): string | undefined {
    return this.config.transactionalId;
  }

  isIdempotent(): boolean {
    return this.idempotent;
  }

  /** Initializes the producer id (idempotent) or the transactional id (fencing older instances). */
  async connect(): Promise<void> {
    if (this.config.transactionalId !== undefined) await this.initTransactions();
    else if (this.idempotent) await this.ensureIdentity();
    this.connected = true;
    this.instrumentation.emit("producer.connect", null);
  }

  /** Sends everything still queued, then stops. */
  async disconnect(): Promise<void> {
    await this.flush();
    if (this.lingerTimer) clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
    this.connected = false;
    this.instrumentation.emit("producer.disconnect", null);
  }

  /** Resolves when every message sent so far has been acknowledged or has failed. */
  flush(): Promise<void> {
    if (this.unacknowledged === 0) return Promise.resolve();
    this.drainSoon();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  on(eventName: ProducerEventName, listener: (event: InstrumentationEvent<any>) => void): RemoveInstrumentationEventListener {
    return this.instrumentation.on(eventName, listener);
  }

  logger(): Logger {
    return this.log;
  }

  async send(record: ProducerRecord): Promise<RecordMetadata[]> {
    return this.sendBatch({ topicMessages: [{ topic: record.topic, messages: record.messages }], compression: record.compression });
  }

  async sendBatch(batch: ProducerBatch): Promise<RecordMetadata[]> {
    if (this.config.transactionalId !== undefined) {
      throw clientStateError("A transactional producer sends inside a transaction: const tx = await producer.transaction(); await tx.send(…); await tx.commit()");
    }
    if (this.fenced) throw this.fenced;
    const compression = batch.compression ?? this.config.compression;
    checkCompression(compression);
    // Validate and partition everything first: a bad message fails the send before anything is queued.
    const planned: { topic: string; partition: number; record: PreparedRecord }[] = [];
    for (const [t, { topic, messages }] of (batch.topicMessages ?? []).entries()) {
      if (typeof topic !== "string" || topic.length === 0) throw new TypeError(`topicMessages[${t}].topic must be a topic name`);
      if (!Array.isArray(messages)) throw new TypeError(`messages for topic '${topic}' must be an array`);
      if (messages.length === 0) continue;
      const count = await this.metadata.partitionCount(topic);
      const partitionMetadata = partitionList(count);
      messages.forEach((message, i) => {
        const where = `${topic} message[${i}]`;
        const record = prepareRecord(message, where);
        let partition = message.partition ?? this.partitioner({ topic, partitionMetadata, message });
        if (partition === undefined || partition < 0) partition = this.stickyPartition(topic, count);
        if (!Number.isInteger(partition) || partition >= count) {
          throw new DynalogError({ code: "UNKNOWN_TOPIC_OR_PARTITION", message: `${where}: topic '${topic}' has partitions 0-${count - 1}, not ${partition}`, retriable: false, outcome: "definite", details: { topic, partition } });
        }
        planned.push({ topic, partition, record });
      });
    }
    if (planned.length === 0) return [];
    if (!this.connected && this.idempotent && !this.identity) await this.ensureIdentity();
    const acks = planned.map(({ topic, partition, record }) => this.enqueue(topic, partition, record, compression).then((ack) => ({ topic, ack })));
    const settled = await Promise.allSettled(acks);
    const failure = settled.find((s) => s.status === "rejected");
    if (failure) throw (failure as PromiseRejectedResult).reason;
    return summarize(settled.map((s) => (s as PromiseFulfilledResult<{ topic: string; ack: Ack }>).value));
  }

  /** Starts a transaction (transactional producers only). Everything is buffered until `commit()`. */
  async transaction(): Promise<Transaction> {
    if (this.config.transactionalId === undefined) throw clientStateError("transaction() needs a producer created with a transactionalId");
    if (this.fenced) throw this.fenced;
    if (this.activeTransaction?.isActive()) throw clientStateError("There is already an ongoing transaction for this producer");
    if (this.txNeedsInit) await this.initTransactions();
    this.activeTransaction = new Transaction(this);
    return this.activeTransaction;
  }

  // ---- transactional internals ----------------------------------------------------------------

  /** @internal POST /v1/producers {transactionalId}: a new epoch, sequence 0, older instances fenced. */
  async initTransactions(): Promise<void> {
    const answer = await this.transport.request<{ producerId: number; epoch: number }>({
      method: "POST",
      path: "/v1/producers",
      body: { transactionalId: this.config.transactionalId },
      idempotent: true,
    });
    this.txIdentity = { producerId: answer.producerId, epoch: answer.epoch };
    this.txSequence = 0;
    this.txNeedsInit = false;
    this.log.info("Transactional producer initialized", { transactionalId: this.config.transactionalId, producerId: answer.producerId, epoch: answer.epoch });
  }

  /** @internal */
  markFenced(error: DynalogError): void {
    this.fenced = error;
  }

  /** @internal */
  partitionCount(topic: string): Promise<number> {
    return this.metadata.partitionCount(topic);
  }

  /** @internal */
  partitionFor(topic: string, count: number, message: Message): number | undefined {
    if (message.partition !== undefined) return message.partition;
    if (!this.config.createPartitioner) return undefined; // the broker partitions by key (same murmur2)
    const partition = this.partitioner({ topic, partitionMetadata: partitionList(count), message });
    return partition === undefined || partition < 0 ? undefined : partition;
  }

  // ---- idempotent internals -------------------------------------------------------------------

  private ensureIdentity(): Promise<ProducerIdentity> {
    if (this.identity) return Promise.resolve(this.identity);
    if (!this.identityPromise) {
      this.identityPromise = this.transport
        .request<{ producerId: number; epoch: number }>({ method: "POST", path: "/v1/producers", body: {}, idempotent: true })
        .then((answer) => {
          this.identity = { producerId: answer.producerId, epoch: answer.epoch };
          for (const state of this.partitions.values()) state.nextSequence = 0;
          this.log.debug("Idempotent producer initialized", { ...this.identity });
          return this.identity;
        })
        .finally(() => {
          this.identityPromise = undefined;
        });
    }
    return this.identityPromise;
  }

  /** The sequence chain is broken or unknown: take a new producer id before the next batch. */
  private resetIdentity(reason: string): void {
    if (!this.idempotent) return;
    this.log.warn("Taking a new producer id", { reason, previous: this.identity });
    this.identity = undefined;
  }

  private stickyPartition(topic: string, count: number): number {
    let partition = this.sticky.get(topic);
    if (partition === undefined || partition >= count) {
      partition = this.roundRobin.next(count);
      this.sticky.set(topic, partition);
    }
    return partition;
  }

  private enqueue(topic: string, partition: number, record: PreparedRecord, compression: CompressionType | undefined): Promise<Ack> {
    const key = `${topic}\u0000${partition}`;
    let state = this.partitions.get(key);
    if (!state) this.partitions.set(key, (state = new PartitionState(topic, partition)));
    this.unacknowledged++;
    return new Promise<Ack>((resolve, reject) => {
      const cost = worstWireSize(record);
      state.queue.push({
        record,
        arrivedAt: Date.now(),
        compression,
        cost,
        resolve: (ack) => {
          resolve(ack);
          this.acknowledged();
        },
        reject: (error) => {
          reject(error);
          this.acknowledged();
        },
      });
      state.queuedBytes += cost;
      if (this.linger === 0 || state.queuedBytes >= this.batchSize) this.drainSoon();
      else if (!this.lingerTimer) {
        this.lingerTimer = setTimeout(() => {
          this.lingerTimer = undefined;
          void this.drain();
        }, this.linger);
      }
    });
  }

  private acknowledged(): void {
    this.unacknowledged--;
    if (this.unacknowledged === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  /** Drain on the next turn of the event loop, so sends made together share requests. */
  private drainSoon(): void {
    if (this.kickScheduled) return;
    this.kickScheduled = true;
    // A macrotask: runs after this turn in every runtime (browsers lack Node's immediate queue).
    setTimeout(() => {
      this.kickScheduled = false;
      void this.drain();
    }, 0);
  }

  private async drain(): Promise<void> {
    let identity: ProducerIdentity | undefined;
    if (this.idempotent) {
      try {
        identity = await this.ensureIdentity();
      } catch (error) {
        // Without a producer id nothing can be sent: fail what is waiting.
        for (const state of this.partitions.values()) if (!state.busy) this.failQueue(state, error);
        return;
      }
    }
    const now = Date.now();
    let waitingForLinger = false;
    const byRequest = new Map<string, Batch[]>();
    for (const state of this.partitions.values()) {
      if (state.busy || state.queue.length === 0) continue;
      if (this.linger > 0 && state.queuedBytes < this.batchSize && now - state.queue[0]!.arrivedAt < this.linger && !this.flushing()) {
        waitingForLinger = true;
        continue;
      }
      if (this.fenced) {
        this.failQueue(state, this.fenced);
        continue;
      }
      if (identity && state.nextSequence + Math.min(state.queue.length, MAX_RECORDS_PER_REQUEST) > MAX_SEQUENCE) {
        // Sequences are Kafka's int32: continue under a new producer id, starting again at 0.
        if (this.identity === identity) this.resetIdentity("sequence numbers exhausted");
        this.drainSoon();
        continue;
      }
      const batch = takeBatch(state, identity, this.batchSize);
      if (this.sticky.get(state.topic) === state.partition) this.sticky.delete(state.topic); // KIP-480: move on
      const requestKey = `${state.topic}\u0000${batch.compression ?? ""}`;
      const list = byRequest.get(requestKey) ?? [];
      list.push(batch);
      byRequest.set(requestKey, list);
    }
    if (waitingForLinger && !this.lingerTimer) {
      this.lingerTimer = setTimeout(() => {
        this.lingerTimer = undefined;
        void this.drain();
      }, this.linger);
    }
    for (const batches of byRequest.values()) {
      for (const group of splitByBudget(batches)) void this.sender.dispatch(group);
    }
  }

  private flushing(): boolean {
    return this.idleWaiters.length > 0;
  }

  private failQueue(state: PartitionState, error: unknown): void {
    const items = state.queue;
    state.queue = [];
    state.queuedBytes = 0;
    for (const item of items) item.reject(error);
  }
}
