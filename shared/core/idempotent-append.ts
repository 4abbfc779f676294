/**
 * The idempotent append without a transaction (docs/append.md):
 *   1. reserve offsets [X, X+n)                    UpdateItem on the partition counter
 *   2. claim the sequences at X                    conditional UpdateItem on the producer state
 *   3. put the batch item at X                     conditional PutItem (attribute_not_exists)
 * Each step is one plain write (a transaction costs twice the units). A claim is a promise, not proof:
 * a writer can die between 2 and 3. So whoever meets a claim whose batch it has not seen settles it
 * by reading the log at X: a batch is the claimed batch (only the claimer writes at X); a void means
 * it never landed and never will; nothing yet means the writer is slow or dead — after a short grace
 * the settler voids X itself (a conditional put, exactly what a reader's hole filling does later).
 * Claims whose slots are void are rewound, so the producer's sequence is as if they never happened.
 *
 * Order: batch N+1 may only land once batch N has (Kafka's idempotent producer never acknowledges
 * N+1 over a lost N). Step 2 returns the claim before ours; we check that it landed before step 3 —
 * from memory when this process wrote or saw it, otherwise with one consistent read.
 */
import { DynalogError } from "../errors.js";
import { backoffMs, writeReserved } from "./append-write.js";
import type { BrokerContext } from "./context.js";
import { chunkBytes, placeChunks, type UnplacedBatch } from "./batches.js";
import type { PartitionRef, ProducerAppend, ProducerState, RememberedBatch } from "./ports.js";
import { abandonReservation, type UnusedReservation } from "./reservations.js";
import { judgeSequence } from "./sequence.js";

export interface IdempotentAppendInput {
  readonly topic: string;
  readonly ref: PartitionRef;
  readonly recordCount: number;
  readonly chunks: readonly UnplacedBatch[];
  readonly producer: ProducerAppend;
  readonly expiresAtSeconds?: number;
  readonly requestId: string;
}

export type IdempotentAppendResult = { readonly baseOffset: number; readonly duplicate: boolean } | "stale";

const MAX_ATTEMPTS = 8;
/** Polls of an unproven claim's slot before the settler voids it: about 1.5 s of backoff in all. */
const SETTLE_POLLS = 8;
/** Landed batches this process remembers (so a producer's next batch needs no read to check order). */
const LANDED_MEMORY = 10_000;

export class IdempotentAppender {
  /** Keys of claimed batches known to be in the log (a batch item is write-once). */
  private readonly landed = new Set<string>();

  constructor(private readonly ctx: BrokerContext) {}

  async append(input: IdempotentAppendInput): Promise<IdempotentAppendResult> {
    const { log, producers } = this.ctx.storage;
    const { ref, recordCount, producer } = input;
    const where = { topic: input.topic, partition: ref.partition };
    const bytes = chunkBytes(input.chunks);
    let lastError: DynalogError | undefined;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (attempt > 0) await this.ctx.sleep(backoffMs(attempt, this.ctx.random));
      const reservedAt = this.ctx.clock();
      const baseOffset = await log.reserve(ref, recordCount, reservedAt, bytes);
      if (baseOffset === undefined) return "stale";
      const reservation: UnusedReservation = { ref, baseOffset, count: recordCount, reservedAt, expiresAtSeconds: input.expiresAtSeconds, bytes };

      let claim;
      try {
        claim = await producers.claimSequence(ref, producer, baseOffset);
      } catch (error) {
        if (!(error instanceof DynalogError) || error.outcome === "definite") {
          await abandonReservation(this.ctx, reservation, error instanceof DynalogError);
          throw error;
        }
        // The claim may have been applied and name our offsets: void them, never give them back.
        // The next attempt meets the claim (if any) and settles it.
        await abandonReservation(this.ctx, reservation, false);
        lastError = error;
        continue;
      }

      let previous: RememberedBatch | undefined;
      if (claim.status === "claimed") {
        previous = claim.previous;
      } else {
        const verdict = judgeSequence(producer, claim.state, where);
        if (verdict.kind === "duplicate" && verdict.baseOffset === baseOffset) {
          // Our own claim, applied by an earlier copy the SDK sent (its response was lost).
          previous = predecessor(claim.state!, baseOffset);
        } else {
          // Nothing was claimed at our offsets (unless an earlier copy is still in flight: then void).
          await abandonReservation(this.ctx, reservation, !claim.retried);
          if (verdict.kind === "refuse") throw verdict.error;
          if (verdict.kind === "retry") continue;
          const settled = await this.settle(ref, producer.producerId, claim.state!, verdict.baseOffset, input.expiresAtSeconds);
          if (settled === "landed") return { baseOffset: verdict.baseOffset, duplicate: true };
          if (settled instanceof DynalogError) throw settled;
          continue; // rewound (or raced by another settler): claim again on a new reservation
        }
      }

      if (previous && (await this.slotOf(ref, producer.producerId, previous, input.expiresAtSeconds)) === "void") {
        // The batch before ours never landed and now never will: ours must not land over the gap.
        await log.voidOwnReservation(ref, baseOffset, recordCount, this.ctx.clock(), input.expiresAtSeconds);
        const state = await producers.readSequenceState(ref, producer.producerId);
        const index = state?.recent.findIndex((b) => sameBatch(b, previous!)) ?? -1;
        if (state && index >= 0) await this.rewind(ref, producer.producerId, state, index, input.expiresAtSeconds);
        throw new DynalogError("OUT_OF_ORDER_SEQUENCE_NUMBER", `Expected sequence ${previous.baseSequence} from producer ${producer.producerId} on ${where.topic}-${where.partition}, got ${producer.baseSequence}: batch ${previous.baseSequence}-${previous.lastSequence} was lost`, {
          details: { producerId: producer.producerId, producerEpoch: producer.epoch, baseSequence: producer.baseSequence, topic: where.topic, partition: where.partition, expectedSequence: previous.baseSequence },
        });
      }

      const outcome = await writeReserved(this.ctx, { reservation, batches: placeChunks(input.chunks, baseOffset), requestId: input.requestId, attempt, mayRelease: false, producerId: producer.producerId });
      if (outcome.kind === "appended") {
        this.remember(ref, producer.producerId, { epoch: producer.epoch, baseSequence: producer.baseSequence, lastSequence: producer.lastSequence, baseOffset });
        return { baseOffset, duplicate: false };
      }
      // Our slot is void: the next attempt's claim meets our claim, settles it (void) and rewinds it.
      lastError = outcome.error ?? lastError;
    }
    throw lastError ?? new DynalogError("STORAGE_ERROR", `Could not append to ${input.topic}-${ref.partition} after ${MAX_ATTEMPTS} attempts; nothing was written`);
  }

  /**
   * A retry met the claim of its own batch at `offset`: did it land? If not, the claim and every
   * later one are rewound (their slots void first), so the batch can be claimed again.
   */
  private async settle(ref: PartitionRef, producerId: number, state: ProducerState, offset: number, expiresAtSeconds?: number): Promise<"landed" | "rewound" | DynalogError> {
    const index = state.recent.findIndex((b) => b.baseOffset === offset);
    const claimed = state.recent[index]!;
    if ((await this.slotOf(ref, producerId, claimed, expiresAtSeconds)) === "batch") return "landed";
    return this.rewind(ref, producerId, state, index, expiresAtSeconds);
  }

  private async rewind(ref: PartitionRef, producerId: number, state: ProducerState, index: number, expiresAtSeconds?: number): Promise<"rewound" | DynalogError> {
    // Claims after a void one cannot have landed (each waits for its predecessor); make sure anyway.
    for (const later of state.recent.slice(index + 1)) {
      if ((await this.slotOf(ref, producerId, later, expiresAtSeconds)) === "batch") {
        return new DynalogError("OUT_OF_ORDER_SEQUENCE_NUMBER", `Producer ${producerId}: batch ${later.baseSequence}-${later.lastSequence} is in the log but an earlier one is not`, { details: { producerId, expectedSequence: state.recent[index]!.baseSequence } });
      }
    }
    await this.ctx.storage.producers.rewindSequence(ref, producerId, state, index);
    return "rewound";
  }

  /** Whether a claimed batch is in the log; an empty slot is waited on briefly, then voided. */
  private async slotOf(ref: PartitionRef, producerId: number, claimed: RememberedBatch, expiresAtSeconds?: number): Promise<"batch" | "void"> {
    if (this.landed.has(landedKey(ref, producerId, claimed))) return "batch";
    const { log } = this.ctx.storage;
    const found = async (): Promise<"batch" | "void" | undefined> => {
      const entry = await log.entryAt(ref, claimed.baseOffset);
      if (entry?.kind === "batch") this.remember(ref, producerId, claimed);
      return entry?.kind;
    };
    for (let poll = 0; ; poll++) {
      const kind = await found();
      if (kind) return kind;
      if (poll === SETTLE_POLLS) break;
      await this.ctx.sleep(backoffMs(poll + 1, this.ctx.random));
    }
    const count = claimed.lastSequence - claimed.baseSequence + 1;
    // Below the log start the slot is empty because retention removed it, not because nothing
    // landed: answer as the claim says (a batch that never landed was voided long ago, and its
    // client told so), and never write a void into expired offsets.
    if (claimed.baseOffset + count <= (await log.readHead(ref)).logStartHint) return "batch";
    // Still empty: its writer is dead or very slow. A void makes sure it can never land late.
    if (await log.voidOwnReservation(ref, claimed.baseOffset, count, this.ctx.clock(), expiresAtSeconds)) return "void";
    return (await found()) ?? "void";
  }

  private remember(ref: PartitionRef, producerId: number, batch: RememberedBatch): void {
    if (this.landed.size >= LANDED_MEMORY) this.landed.delete(this.landed.values().next().value!);
    this.landed.add(landedKey(ref, producerId, batch));
  }
}

function landedKey(ref: PartitionRef, producerId: number, b: RememberedBatch): string {
  return `${ref.topicId}#${ref.partition}#${producerId}#${b.epoch}#${b.baseSequence}#${b.lastSequence}#${b.baseOffset}`;
}

function sameBatch(a: RememberedBatch, b: RememberedBatch): boolean {
  return a.epoch === b.epoch && a.baseSequence === b.baseSequence && a.lastSequence === b.lastSequence && a.baseOffset === b.baseOffset;
}

/** The claim right before the one at `offset`, if it continues the same epoch's sequence. */
function predecessor(state: ProducerState, offset: number): RememberedBatch | undefined {
  const index = state.recent.findIndex((b) => b.baseOffset === offset);
  const ours = state.recent[index];
  const before = state.recent[index - 1];
  return ours && before && before.epoch === ours.epoch && before.lastSequence === ours.baseSequence - 1 ? before : undefined;
}
