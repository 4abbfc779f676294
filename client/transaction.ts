/**
 * A transaction of a transactional producer (KafkaJS's `producer.transaction()`).
 *
 * Dynalog commits a transaction in ONE request (`POST /v1/transactions`: records and consumer
 * offsets atomically — one DynamoDB transaction, or staged records and one small commit when they
 * do not fit one, docs/transactions.md), so `send` and `sendOffsets` only buffer here; `commit()`
 * sends the request and `abort()` drops the buffer — nothing was ever visible.
 *
 * Sequences: the producer counts committed transactions per epoch (`transactionSequence` 0, 1, 2…).
 * A commit whose answer is lost is retried with the same sequence and body, and the broker answers
 * `duplicate: true` instead of committing twice. If the outcome stays unknown after all retries,
 * the producer re-initializes (a new epoch, sequence 0) before the next transaction, so a later
 * transaction can never be mistaken for a retry of the unknown one.
 */
import type { Message, PreparedRecord } from "./codec.js";
import { encodingFor, prepareRecord, toWire } from "./codec.js";
import { DynalogError, clientStateError } from "./errors.js";
import type { ConsumerRegistry, GroupMetadataSource } from "./group-registry.js";
import { checkCompression, type CompressionType, type ProducerBatch, type ProducerConfig, type ProducerIdentity, type ProducerRecord } from "./producer-types.js";
import type { Transport } from "./transport.js";

/**
 * What a transaction needs of its producer. The Producer implements it; declaring it here (not
 * importing the Producer) keeps producer.ts → transaction.ts one-way.
 */
export interface TransactionalProducer {
  readonly config: ProducerConfig;
  readonly transport: Transport;
  readonly transactionalId: string | undefined;
  /** The epoch transactions commit under; set by initTransactions. */
  readonly txIdentity: ProducerIdentity | undefined;
  /** Transactions committed in this epoch: the next commit's `transactionSequence`. */
  txSequence: number;
  /** Set when a commit's outcome is unknown: take a new epoch before the next transaction. */
  txNeedsInit: boolean;
  partitionCount(topic: string): Promise<number>;
  partitionFor(topic: string, count: number, message: Message): number | undefined;
  markFenced(error: DynalogError): void;
  /** The running consumers of the producer's Dynalog instance: `sendOffsets({ consumerGroupId })` fences with them. */
  readonly consumers?: ConsumerRegistry | undefined;
}

export type { ConsumerGroupMetadata, GroupMetadataSource } from "./group-registry.js";

export interface TransactionOffsets {
  /** The consumer whose input offsets these are: its member id and epoch fence the commit (KIP-447). */
  readonly consumer?: GroupMetadataSource;
  /**
   * KafkaJS's form: the group alone. A consumer of that group running on the same Dynalog instance
   * lends its member id and epoch (preferring one that owns the partitions); without one the
   * offsets go unfenced, which the broker takes only for a group without live members.
   */
  readonly consumerGroupId?: string;
  readonly topics: readonly { readonly topic: string; readonly partitions: readonly { readonly partition: number; readonly offset: number | string; readonly metadata?: string | null }[] }[];
}

export interface TransactionResult {
  /** True when a retry found this transaction already committed. */
  readonly duplicate: boolean;
  readonly partitions: readonly { readonly topicName: string; readonly partition: number; readonly baseOffset: number; readonly lastOffset: number }[];
  readonly offsetsCommitted: number;
}

interface BufferedRecord {
  readonly topic: string;
  readonly partition: number | undefined;
  readonly record: PreparedRecord;
}

export class Transaction {
  private active = true;
  private readonly records: BufferedRecord[] = [];
  private compression: CompressionType | undefined;
  private group: string | undefined;
  private consumer: GroupMetadataSource | undefined;
  private readonly offsets = new Map<string, { topic: string; partition: number; offset: number; metadata?: string }>();

  constructor(private readonly producer: TransactionalProducer) {
    this.compression = producer.config.compression;
  }

  isActive(): boolean {
    return this.active;
  }

  /** Buffers the messages; they are written, atomically with everything else, by `commit()`. */
  async send(record: ProducerRecord): Promise<void> {
    await this.sendBatch({ topicMessages: [{ topic: record.topic, messages: record.messages }], compression: record.compression });
  }

  async sendBatch(batch: ProducerBatch): Promise<void> {
    this.ensureActive();
    checkCompression(batch.compression);
    if (batch.compression !== undefined) {
      if (this.compression !== undefined && this.compression !== batch.compression && this.records.length > 0) {
        throw clientStateError(`A transaction is one request with one compression: '${this.compression}' already, not '${batch.compression}'`);
      }
      this.compression = batch.compression;
    }
    const buffered: BufferedRecord[] = [];
    for (const { topic, messages } of batch.topicMessages) {
      if (messages.length === 0) continue;
      const count = this.producer.config.createPartitioner || messages.some((m) => m.partition !== undefined) ? await this.producer.partitionCount(topic) : undefined;
      messages.forEach((message: Message, i) => {
        const record = prepareRecord(message, `${topic} message[${i}]`);
        const partition = count === undefined ? undefined : this.producer.partitionFor(topic, count, message);
        if (partition !== undefined && (!Number.isInteger(partition) || partition < 0 || partition >= count!)) {
          throw new DynalogError({ code: "UNKNOWN_TOPIC_OR_PARTITION", message: `Topic '${topic}' has partitions 0-${count! - 1}, not ${partition}`, retriable: false, outcome: "definite", details: { topic, partition } });
        }
        buffered.push({ topic, partition, record });
      });
    }
    this.records.push(...buffered);
  }

  /**
   * Commits these consumer offsets with the transaction (the next offsets to read). Pass the
   * `consumer` (exactly-once consume-transform-produce): its member id and epoch go along, and the
   * broker refuses the whole transaction if that member has been fenced meanwhile.
   */
  async sendOffsets(offsets: TransactionOffsets): Promise<void> {
    this.ensureActive();
    const group = offsets.consumer ? offsets.consumer.groupMetadata().groupId : offsets.consumerGroupId;
    if (!group) throw new TypeError("sendOffsets needs a consumer or a consumerGroupId");
    if (this.group !== undefined && this.group !== group) throw clientStateError(`A transaction commits offsets of one group: '${this.group}' already, not '${group}'`);
    this.group = group;
    if (offsets.consumer) this.consumer = offsets.consumer;
    for (const { topic, partitions } of offsets.topics) {
      for (const { partition, offset, metadata } of partitions) {
        const value = Number(offset);
        if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`Offset of ${topic}-${partition} must be a non-negative integer, got ${String(offset)}`);
        this.offsets.set(`${topic}\u0000${partition}`, { topic, partition, offset: value, ...(metadata ? { metadata } : {}) });
      }
    }
  }

  /** Writes everything in one atomic request. An empty transaction commits nothing. */
  async commit(): Promise<TransactionResult> {
    this.ensureActive();
    const producer = this.producer;
    if (this.records.length === 0 && this.offsets.size === 0) {
      this.active = false;
      return { duplicate: false, partitions: [], offsetsCommitted: 0 };
    }
    const identity = producer.txIdentity!;
    const encoding = encodingFor(this.records.map((r) => r.record));
    const body: Record<string, unknown> = {
      transactionalId: producer.transactionalId,
      producerId: identity.producerId,
      producerEpoch: identity.epoch,
      transactionSequence: producer.txSequence,
      encoding,
    };
    if (this.compression) body["compression"] = this.compression;
    if (this.records.length > 0) {
      body["records"] = this.records.map(({ topic, partition, record }) => ({ topic, ...toWire(record, encoding), ...(partition !== undefined ? { partition } : {}) }));
    }
    let memberFenced = false;
    if (this.offsets.size > 0) {
      const fence: Record<string, unknown> = {};
      const source = this.consumer ?? producer.consumers?.memberFor(this.group!, [...this.offsets.values()]);
      if (source) {
        const member = source.groupMetadata();
        if (member.memberId === undefined || member.memberEpoch <= 0) {
          this.active = false;
          throw clientStateError(`The consumer is not a member of group '${member.groupId}' right now (it may have lost its partitions); its offsets cannot be committed. The transaction was not committed`);
        }
        fence["memberId"] = member.memberId;
        fence["memberEpoch"] = member.memberEpoch;
        memberFenced = true;
      }
      body["offsets"] = { group: this.group, ...fence, offsets: [...this.offsets.values()] };
    }
    try {
      // Idempotent: same transactional id, epoch and sequence — the broker deduplicates a retry.
      const answer = await producer.transport.request<{ duplicate: boolean; partitions: { topic: string; partition: number; baseOffset: number; lastOffset: number }[]; offsetsCommitted: number }>({
        method: "POST",
        path: "/v1/transactions",
        body,
        idempotent: true,
      });
      producer.txSequence++;
      return {
        duplicate: answer.duplicate,
        partitions: answer.partitions.map((p) => ({ topicName: p.topic, partition: p.partition, baseOffset: p.baseOffset, lastOffset: p.lastOffset })),
        offsetsCommitted: answer.offsetsCommitted,
      };
    } catch (error) {
      if (error instanceof DynalogError && error.code === "NON_EMPTY_GROUP" && !memberFenced) throw nonEmptyGroup(this.group!, error);
      if (error instanceof DynalogError) {
        if (error.code === "PRODUCER_FENCED") producer.markFenced(error);
        else if (error.outcome === "indefinite" || error.code === "OUT_OF_ORDER_SEQUENCE_NUMBER" || error.code === "DUPLICATE_SEQUENCE_NUMBER") {
          // Unknown whether it committed: a new epoch before the next transaction.
          producer.txNeedsInit = true;
        }
      }
      throw error;
    } finally {
      this.active = false;
    }
  }

  /** Drops everything buffered: nothing of this transaction is ever visible. */
  async abort(): Promise<void> {
    this.active = false;
    this.records.length = 0;
    this.offsets.clear();
  }

  private ensureActive(): void {
    if (!this.active) throw clientStateError("The transaction has ended (committed, failed or aborted); start a new one with producer.transaction()");
  }
}


/** The broker refused unfenced offsets of a live group: say what would have worked. */
function nonEmptyGroup(group: string, refusal: DynalogError): DynalogError {
  return new DynalogError({
    code: refusal.code,
    message:
      `Group '${group}' has live members, so its offsets can only be committed by one of them; no consumer of '${group}' is running on this Dynalog instance. ` +
      `Create the producer and the consumer of '${group}' from the same Dynalog (Kafka) instance and commit while it runs (sendOffsets({ consumerGroupId }) then uses its member id and epoch), ` +
      `or pass the consumer itself: sendOffsets({ consumer, topics }). Nothing of the transaction was written`,
    retriable: false,
    outcome: "definite",
    status: refusal.status,
    details: { ...refusal.details, groupId: group },
    body: refusal.body,
    cause: refusal,
  });
}
