/**
 * Exactly-once: a transaction carries records for any partitions of any topics plus consumer-group
 * offsets, and is applied by ONE DynamoDB TransactWriteItems (DESIGN.md §3). Nothing is visible
 * before the commit, so readers are read-committed by construction. A transaction whose batch
 * items do not fit one TransactWriteItems stages them first and commits with a small one that
 * writes a commit record (staged-commit.ts, docs/transactions.md); readers stop at staged items
 * until their commit or abort is decided. With a transactional id the
 * commit is fenced by epoch (zombies get PRODUCER_FENCED) and deduplicated by a per-epoch
 * transaction sequence; without one it is simply an atomic multi-partition write.
 */
import { createHash } from "node:crypto";
import { DynalogError } from "../errors.js";
import { MAX_OFFSET, MAX_RECORDS_PER_REQUEST, MAX_SEQUENCE } from "../limits.js";
import { RoundRobinPartitioner } from "../partitioner.js";
import type { CompressionCodec } from "../compression.js";
import { chunkBytes, encodePartition, groupByPartition, placeChunks, type EncodedPartition, type ProduceRecord } from "./batches.js";
import type { BrokerContext } from "./context.js";
import { validateOffsetCommits, type OffsetCommitInput } from "./offsets.js";
import type { ConsumerGroups } from "./groups.js";
import type { OffsetCommit, OffsetCommitFence, TopicRecord, TransactionalState, TransactionPartitionResult, TransactionWrite } from "./ports.js";
import { requestNonce, validateProducerIdentity } from "./produce.js";
import { ANONYMOUS_PRINCIPAL, validateTransactionalId, type ProducerIds } from "./producer-ids.js";
import { abandonReservation } from "./reservations.js";
import { StagedAttempt } from "./staged-commit.js";
import { transactionShape, type TransactionShape } from "./transaction-limits.js";
import { itemExpiry, StaleTopicError, type TopicCatalog } from "./topics.js";

export { MAX_TRANSACTION_ACTIONS, MAX_TRANSACTION_BYTES } from "./transaction-limits.js";
const MAX_ATTEMPTS = 4;
const MAX_CONFLICT_RETRIES = 3;

export interface TransactionRecord extends ProduceRecord {
  readonly topic: string;
}

export interface TransactionCommitInput {
  /** With an id: fenced by epoch and deduplicated by sequence. Without: an atomic write. */
  readonly transactionalId?: string;
  readonly producerId?: number;
  readonly producerEpoch?: number;
  /** 0, 1, 2 … per epoch: the client's count of committed transactions. */
  readonly transactionSequence?: number;
  readonly records: readonly TransactionRecord[];
  readonly compression?: CompressionCodec;
  /** Offsets to commit; with memberId + memberEpoch they are fenced by that group member (KIP-447). */
  readonly offsets?: { readonly group: string; readonly memberId?: string; readonly memberEpoch?: number; readonly offsets: readonly OffsetCommitInput[] };
  /** The authenticated caller: the producer id must have been issued to it (default: security off). */
  readonly principal?: string;
}

export interface TransactionCommitResult {
  /** True when this was a retry of a transaction already committed: nothing new was written. */
  readonly duplicate: boolean;
  readonly partitions: readonly TransactionPartitionResult[];
  readonly offsetsCommitted: number;
}

interface TransactionalIdentity {
  readonly transactionalId: string;
  readonly producerId: number;
  readonly epoch: number;
  readonly sequence: number;
}

/** A validated, encoded transaction, not yet reserved. */
interface PreparedTransaction {
  readonly identity?: TransactionalIdentity;
  readonly partitions: readonly (EncodedPartition & { readonly topic: TopicRecord })[];
  readonly offsets?: { readonly group: string; readonly commits: readonly OffsetCommit[]; readonly fence: OffsetCommitFence };
  /** One TransactWriteItems, or staged batches and a small commit (docs/transactions.md). */
  readonly shape: TransactionShape;
}

export type TransactionVerdict =
  | { readonly kind: "duplicate"; readonly result: readonly TransactionPartitionResult[] }
  | { readonly kind: "retry" }
  | { readonly kind: "refuse"; readonly error: DynalogError };

/** What a failed transactional-id condition means, from the stored state. Pure. */
export function judgeTransaction(identity: TransactionalIdentity, stored: TransactionalState | undefined): TransactionVerdict {
  const { transactionalId, producerId, epoch, sequence } = identity;
  const facts = { transactionalId, producerId, producerEpoch: epoch, transactionSequence: sequence };
  if (!stored) {
    return refuse("TRANSACTIONAL_ID_NOT_FOUND", `Transactional id '${transactionalId}' is unknown; initialize the producer with it first`, facts);
  }
  if (stored.producerId !== producerId || stored.epoch > epoch) {
    return refuse("PRODUCER_FENCED", `Transactional id '${transactionalId}' now belongs to producer ${stored.producerId} epoch ${stored.epoch}; this instance (producer ${producerId} epoch ${epoch}) is fenced`, {
      ...facts,
      currentProducerId: stored.producerId,
      currentEpoch: stored.epoch,
    });
  }
  if (stored.epoch < epoch) {
    return refuse("INVALID_PRODUCER_EPOCH", `Epoch ${epoch} of transactional id '${transactionalId}' was never issued (current: ${stored.epoch})`, facts);
  }
  if (stored.nextSequence === sequence + 1) return { kind: "duplicate", result: stored.lastResult };
  if (stored.nextSequence > sequence + 1) {
    return refuse("DUPLICATE_SEQUENCE_NUMBER", `Transaction ${sequence} of '${transactionalId}' was committed before and is no longer remembered (next is ${stored.nextSequence})`, {
      ...facts,
      expectedSequence: stored.nextSequence,
    });
  }
  if (stored.nextSequence < sequence) {
    return refuse("OUT_OF_ORDER_SEQUENCE_NUMBER", `Expected transaction sequence ${stored.nextSequence} for '${transactionalId}', got ${sequence}`, {
      ...facts,
      expectedSequence: stored.nextSequence,
    });
  }
  return { kind: "retry" };
}

function refuse(code: "TRANSACTIONAL_ID_NOT_FOUND" | "PRODUCER_FENCED" | "INVALID_PRODUCER_EPOCH" | "DUPLICATE_SEQUENCE_NUMBER" | "OUT_OF_ORDER_SEQUENCE_NUMBER", message: string, details: Record<string, string | number>): TransactionVerdict {
  return { kind: "refuse", error: new DynalogError(code, message, { details }) };
}

export class Transactions {
  private readonly nullKeyPartitioner: RoundRobinPartitioner;

  constructor(
    private readonly ctx: BrokerContext,
    private readonly topics: TopicCatalog,
    private readonly groups: ConsumerGroups,
    private readonly producerIds: ProducerIds,
  ) {
    this.nullKeyPartitioner = new RoundRobinPartitioner(ctx.random);
  }

  async commit(input: TransactionCommitInput): Promise<TransactionCommitResult> {
    try {
      return await this.commitOnce(input, false);
    } catch (error) {
      // A topic was deleted (and maybe recreated) since this instance cached it: look again.
      if (!(error instanceof StaleTopicError)) throw error;
      return await this.commitOnce(input, true);
    }
  }

  private async commitOnce(input: TransactionCommitInput, fresh: boolean): Promise<TransactionCommitResult> {
    const appendTime = this.ctx.clock();
    const prepared = await this.prepare(input, appendTime, fresh);
    // A fenced zombie or a retry of a committed transaction is answered before any offset is
    // reserved: refusals and duplicates must not consume offsets (one strongly consistent read).
    if (prepared.identity) {
      const verdict = judgeTransaction(prepared.identity, await this.ctx.storage.transactions.read(prepared.identity.transactionalId));
      if (verdict.kind === "duplicate") return { duplicate: true, partitions: verdict.result, offsetsCommitted: 0 };
      if (verdict.kind === "refuse") throw verdict.error;
    }
    const requestId = requestNonce(this.ctx.random);
    let lastError: DynalogError | undefined;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const outcome = await this.attempt(prepared, appendTime, attempt, requestId);
      if (outcome.kind === "done") {
        if (!outcome.result.duplicate) {
          for (const p of outcome.result.partitions) this.ctx.observer?.recordsAppended?.({ topic: p.topic, partition: p.partition, count: p.lastOffset - p.baseOffset + 1 });
        }
        return outcome.result;
      }
      lastError = outcome.error;
    }
    throw lastError ?? new DynalogError("CONCURRENT_TRANSACTIONS", "The transaction lost every race for its offsets; nothing was written, retry");
  }

  /** Validate and encode everything; throws before any write. */
  private async prepare(input: TransactionCommitInput, appendTime: number, fresh: boolean): Promise<PreparedTransaction> {
    const identity = transactionalIdentity(input);
    if (input.records.length === 0 && !input.offsets) throw new DynalogError("INVALID_REQUEST", "A transaction needs records, offsets, or both");
    if (input.records.length > MAX_RECORDS_PER_REQUEST) {
      throw new DynalogError("REQUEST_TOO_LARGE", `A transaction may carry at most ${MAX_RECORDS_PER_REQUEST} records, got ${input.records.length}`, {
        details: { limit: MAX_RECORDS_PER_REQUEST, actual: input.records.length },
      });
    }
    const byTopic = new Map<string, TransactionRecord[]>();
    for (const record of input.records) byTopic.set(record.topic, [...(byTopic.get(record.topic) ?? []), record]);
    const partitions: (EncodedPartition & { topic: TopicRecord })[] = [];
    for (const [name, records] of byTopic) {
      const topic = await this.topics.require(name, { fresh });
      for (const group of groupByPartition(topic, records, this.nullKeyPartitioner)) {
        partitions.push({ ...encodePartition(topic, group.partition, group.records, input.compression ?? topic.compression, appendTime), topic });
      }
    }
    let offsets: PreparedTransaction["offsets"];
    if (input.offsets) {
      const { group, memberId, memberEpoch } = input.offsets;
      const commits = await validateOffsetCommits(this.topics, group, input.offsets.offsets);
      offsets = { group, commits, fence: await this.groups.offsetCommitFence(group, { memberId, memberEpoch }) };
    }
    // Offsets come with one check of their group (the member, or that it is still empty).
    const shape = transactionShape(identity !== undefined, partitions, offsets?.commits ?? [], offsets !== undefined);
    // A producer id the broker did not issue to this caller for this transactional id is refused before any reservation.
    if (identity) await this.producerIds.verify({ producerId: identity.producerId, epoch: identity.epoch, transactionalId: identity.transactionalId }, input.principal ?? ANONYMOUS_PRINCIPAL);
    return { identity, partitions, offsets, shape };
  }

  private async attempt(prepared: PreparedTransaction, appendTime: number, attempt: number, requestId: string): Promise<{ kind: "done"; result: TransactionCommitResult } | { kind: "again"; error?: DynalogError }> {
    const { log } = this.ctx.storage;
    const startedAt = this.ctx.clock();
    const reserved = await Promise.all(
      prepared.partitions.map(async (p) => {
        const reservedAt = this.ctx.clock();
        const bytes = chunkBytes(p.chunks);
        return { partition: p, reservedAt, bytes, baseOffset: await log.reserve(p.ref, p.recordCount, reservedAt, bytes) };
      }),
    );
    const placed = reserved.filter((r): r is typeof r & { baseOffset: number } => r.baseOffset !== undefined);
    /** Give back (or void) every reservation: a refused or failed commit leaves nothing for readers to wait on. */
    const abandonReservations = (mayRelease: boolean) =>
      Promise.all(
        placed.map((r) =>
          abandonReservation(
            this.ctx,
            { ref: r.partition.ref, baseOffset: r.baseOffset, count: r.partition.recordCount, reservedAt: r.reservedAt, expiresAtSeconds: itemExpiry(r.partition.topic, appendTime), bytes: r.bytes },
            mayRelease,
          ),
        ),
      );
    if (placed.length < reserved.length) {
      await abandonReservations(true);
      throw new StaleTopicError(reserved.find((r) => r.baseOffset === undefined)!.partition.topic.topicId);
    }
    const result: TransactionPartitionResult[] = placed.map((r) => ({
      topic: r.partition.topic.name,
      partition: r.partition.ref.partition,
      baseOffset: r.baseOffset,
      lastOffset: r.baseOffset + r.partition.recordCount - 1,
    }));
    const identity = prepared.identity;
    const batches = placed.map((r) => ({ ref: r.partition.ref, topic: r.partition.topic, batches: placeChunks(r.partition.chunks, r.baseOffset), expiresAtSeconds: itemExpiry(r.partition.topic, appendTime) }));
    const success: TransactionCommitResult = { duplicate: false, partitions: result, offsetsCommitted: prepared.offsets?.commits.length ?? 0 };

    // Too large for one TransactWriteItems: stage the batches under this attempt's id first.
    const staging =
      prepared.shape === "staged"
        ? new StagedAttempt(this.ctx, { attempt: `${requestId}.${attempt}`, startedAt }, batches, appendTime, identity && { producerId: identity.producerId, epoch: identity.epoch, sequence: identity.sequence })
        : undefined;
    /** Give the attempt up. True when it committed after all (a staged commit that won its abort race). */
    const abandonAll = async (mayRelease: boolean): Promise<boolean> => {
      if (!staging) return (await abandonReservations(mayRelease), false);
      return (await staging.abandon()) === "committed";
    };
    if (staging) {
      let staged;
      try {
        staged = await staging.stageAll();
      } catch (error) {
        await abandonAll(false).catch(() => false); // the abort, if it lands, makes whatever was staged a void
        throw error;
      }
      if (staged === "slot-taken") return (await abandonAll(false)) ? { kind: "done", result: success } : { kind: "again" };
    }

    // Unique per request: offsets can be handed out again after a release, and DynamoDB refuses a
    // token reused with other parameters (and would answer a reused identical one without writing).
    const tokenSeed = [identity ? `${identity.producerId}/${identity.epoch}/${identity.sequence}` : "atomic", requestId, ...placed.map((r) => `${r.partition.ref.topicId}#${r.partition.ref.partition}@${r.baseOffset}`)].join("|");
    for (let conflicts = 0; ; conflicts++) {
      const write: TransactionWrite = {
        transactional: identity && { ...identity, result },
        partitions: staging ? [] : batches,
        offsets: prepared.offsets,
        // Stamped after the reservations: a gap's age is judged by the write after it (log-reader.ts).
        appendTime: this.ctx.clock(),
        token: createHash("sha256").update(`${tokenSeed}|${attempt}|${conflicts}`).digest("base64url").slice(0, 36),
        ...(staging ? { stagedCommit: { attempt: staging.mark.attempt, expiresAtSeconds: staging.decisionExpiresAtSeconds } } : {}),
      };
      let outcome;
      try {
        outcome = await this.ctx.storage.transactions.commit(write);
      } catch (error) {
        if (!(error instanceof DynalogError) || error.outcome === "definite") {
          // Nothing of the commit was applied: the abort wins (if it fails, readers abort after the timeout).
          if (await abandonAll(error instanceof DynalogError).catch(() => false)) return { kind: "done", result: success };
          throw error;
        }
        if (staging) return (await staging.abandon()) === "committed" ? { kind: "done", result: success } : { kind: "again", error };
        return (await this.committedDespiteError(prepared, placed)) ? { kind: "done", result: success } : (await abandonReservations(false), { kind: "again", error });
      }
      if (outcome.status === "committed") return { kind: "done", result: success };
      if (outcome.status === "conflict" && conflicts < MAX_CONFLICT_RETRIES) {
        await this.ctx.sleep(5 * 2 ** conflicts + this.ctx.random() * 10);
        continue;
      }
      if (await abandonAll(!outcome.retried)) return { kind: "done", result: success };
      if (outcome.status === "member-fenced") throw outcome.error;
      if (outcome.status === "transaction-state-mismatch") {
        const verdict = judgeTransaction(identity!, outcome.state);
        if (verdict.kind === "duplicate") return { kind: "done", result: { duplicate: true, partitions: verdict.result, offsetsCommitted: 0 } };
        if (verdict.kind === "refuse") throw verdict.error;
        return { kind: "again" };
      }
      if (outcome.status === "conflict") {
        return { kind: "again", error: new DynalogError("CONCURRENT_TRANSACTIONS", "The transaction kept conflicting with concurrent writes to the same items; nothing was written, retry") };
      }
      // slot-taken: a reader voided a slow reservation; aborted: a reader judged the staged attempt
      // abandoned (it was slower than the hole timeout). Reserve anew.
      return { kind: "again" };
    }
  }

  /**
   * After an error with unknown outcome: did the transaction commit? Its first batch item is the
   * witness (all or nothing): claim that slot with a void — if the void lands, the transaction
   * cannot commit any more. Without records, the transactional id's sequence tells.
   */
  private async committedDespiteError(prepared: PreparedTransaction, placed: readonly { partition: PreparedTransaction["partitions"][number]; baseOffset: number }[]): Promise<boolean> {
    const { log, transactions } = this.ctx.storage;
    const witness = placed[0];
    if (witness) {
      const now = this.ctx.clock();
      const voided = await log.voidOwnReservation(witness.partition.ref, witness.baseOffset, witness.partition.recordCount, now, itemExpiry(witness.partition.topic, now));
      return !voided && (await log.entryAt(witness.partition.ref, witness.baseOffset))?.kind === "batch";
    }
    if (!prepared.identity) return false;
    const state = await transactions.read(prepared.identity.transactionalId);
    return state !== undefined && state.epoch === prepared.identity.epoch && state.nextSequence === prepared.identity.sequence + 1;
  }
}

function transactionalIdentity(input: TransactionCommitInput): TransactionalIdentity | undefined {
  const { transactionalId, producerId, producerEpoch, transactionSequence } = input;
  if (transactionalId === undefined) {
    if (producerId !== undefined || producerEpoch !== undefined || transactionSequence !== undefined) {
      throw new DynalogError("INVALID_PRODUCER_EPOCH", "producerId, producerEpoch and transactionSequence belong to a transactional id");
    }
    return undefined;
  }
  validateTransactionalId(transactionalId);
  if (producerId === undefined || producerEpoch === undefined || transactionSequence === undefined) {
    throw new DynalogError("INVALID_PRODUCER_EPOCH", "A transactional commit needs producerId, producerEpoch and transactionSequence");
  }
  validateProducerIdentity(producerId, producerEpoch);
  if (!Number.isInteger(transactionSequence) || transactionSequence < 0 || transactionSequence > Math.min(MAX_SEQUENCE, MAX_OFFSET)) {
    throw new DynalogError("INVALID_PRODUCER_EPOCH", `transactionSequence must be an integer from 0 to ${MAX_SEQUENCE}`, { details: { transactionSequence } });
  }
  return { transactionalId, producerId, epoch: producerEpoch, sequence: transactionSequence };
}
