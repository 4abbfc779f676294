/**
 * The writer's side of a transaction too large for one TransactWriteItems (docs/transactions.md):
 * stage every batch item under an attempt id, then ONE small TransactWriteItems commits (the
 * transactional id, the attempt's commit record, the offsets — transactions.ts). The staged items
 * stay as they are: the commit record is what makes them count.
 * Anything short of the commit record leaves only staging that readers take for nothing and abort
 * after the hole timeout; the writer aborts its own attempt at once when it gives up on it.
 */
import type { BrokerContext } from "./context.js";
import type { EncodedBatch, PartitionRef, StagedDecision, StagedMark, TopicRecord, TransactionRef } from "./ports.js";
import { decisionExpiry } from "./staged-outcomes.js";
import { itemExpiry, mapWithConcurrency } from "./topics.js";

/** Staging puts in flight at once for one transaction. */
const STAGING_CONCURRENCY = 16;

export interface StagedPartition {
  readonly ref: PartitionRef;
  readonly topic: TopicRecord;
  readonly batches: readonly EncodedBatch[];
}

export class StagedAttempt {
  readonly decisionExpiresAtSeconds: number | undefined;
  private readonly items: readonly { readonly partition: StagedPartition; readonly batch: EncodedBatch }[];

  constructor(
    private readonly ctx: BrokerContext,
    readonly mark: StagedMark,
    partitions: readonly StagedPartition[],
    private readonly appendTime: number,
    private readonly transaction: TransactionRef | undefined,
  ) {
    this.items = partitions.flatMap((partition) => partition.batches.map((batch) => ({ partition, batch })));
    this.decisionExpiresAtSeconds = decisionExpiry(partitions.map((p) => itemExpiry(p.topic, appendTime)));
  }

  /** Put every staged item; "slot-taken" when a reader voided part of a reservation first (the attempt must then be given up). */
  async stageAll(): Promise<"staged" | "slot-taken"> {
    const { staged } = this.ctx.storage;
    // Stamped after the reservations: a gap's age is judged by the write after it (log-reader.ts).
    const stagedAt = this.ctx.clock();
    let taken = false;
    await mapWithConcurrency(this.items, STAGING_CONCURRENCY, async ({ partition, batch }) => {
      if (taken) return;
      const outcome = await staged.stage(partition.ref, batch, stagedAt, itemExpiry(partition.topic, this.appendTime), this.mark, this.transaction);
      if (outcome === "slot-taken") taken = true;
    });
    return taken ? "slot-taken" : "staged";
  }

  /**
   * Give the attempt up: write its abort (unless its commit got there first — then it committed,
   * and that is returned) and void its slots. Throws when the abort's outcome is unknown: the
   * attempt may still commit, and only the decision record can tell.
   */
  async abandon(): Promise<StagedDecision> {
    const decision = await this.ctx.storage.staged.abort(this.mark.attempt, this.decisionExpiresAtSeconds);
    if (decision === "committed") return decision;
    const { staged } = this.ctx.storage;
    const now = this.ctx.clock();
    await mapWithConcurrency(this.items, STAGING_CONCURRENCY, async ({ partition, batch }) => {
      try {
        await staged.voidStaged(partition.ref, batch.baseOffset, batch.count, this.mark.attempt, now, itemExpiry(partition.topic, now));
      } catch {
        // Left staged (readers step over it: the abort is written) or a gap (readers void it).
      }
    });
    return decision;
  }
}
