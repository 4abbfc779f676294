/**
 * Writing the batch items of one reservation, and settling what an unknown outcome left behind.
 * Shared by plain and idempotent appends (docs/append.md).
 */
import { DynalogError } from "../errors.js";
import type { BrokerContext } from "./context.js";
import type { EncodedBatch } from "./ports.js";
import { abandonReservation, type UnusedReservation } from "./reservations.js";

export type WriteOutcome =
  | { readonly kind: "appended" }
  /** Nothing of ours is (or ever will be) at the reservation: take a new one. `error` = why, if worth reporting. */
  | { readonly kind: "lost"; readonly error?: DynalogError };

export interface ReservedWrite {
  readonly reservation: UnusedReservation;
  readonly batches: readonly EncodedBatch[];
  readonly requestId: string;
  /** Distinguishes this reservation's attempts in idempotency tokens. */
  readonly attempt: number;
  /**
   * False when something durable names the reservation's offsets (an idempotent claim): then an
   * unused range is voided, never given back, or a later writer could put another batch there.
   */
  readonly mayRelease: boolean;
  /** The idempotent producer writing: its id is recorded on the batch items. */
  readonly producerId?: number;
}

/** Jittered exponential backoff: 10, 20, 40 … ms, capped at 500 ms. */
export function backoffMs(attempt: number, random: () => number): number {
  const ceiling = Math.min(500, 10 * 2 ** attempt);
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/**
 * Put the batches at their reserved offsets. A definite failure abandons the reservation and throws;
 * an unknown outcome is settled by claiming our own slot with a void: if that fails, the slot holds
 * our batch (only we write a batch at our base offset) or a reader's void.
 */
export async function writeReserved(ctx: BrokerContext, write: ReservedWrite): Promise<WriteOutcome> {
  const { log } = ctx.storage;
  const { reservation, batches } = write;
  const { ref, baseOffset, count, expiresAtSeconds } = reservation;
  for (let conflictRetries = 0; ; conflictRetries++) {
    let result;
    try {
      result = await log.append({ ref, batches, appendTime: ctx.clock(), expiresAtSeconds, attempt: write.attempt * 100 + conflictRetries, requestId: write.requestId, ...(write.producerId === undefined ? {} : { producerId: write.producerId }) });
    } catch (error) {
      if (!(error instanceof DynalogError) || error.outcome === "definite") {
        await abandonReservation(ctx, reservation, write.mayRelease && error instanceof DynalogError);
        throw error;
      }
      const voided = await log.voidOwnReservation(ref, baseOffset, count, ctx.clock(), expiresAtSeconds);
      if (!voided && (await log.entryAt(ref, baseOffset))?.kind === "batch") return { kind: "appended" };
      return { kind: "lost", error };
    }
    if (result.status === "appended") return { kind: "appended" };
    if (result.status === "conflict" && conflictRetries < 3) {
      await ctx.sleep(backoffMs(conflictRetries + 1, ctx.random));
      continue;
    }
    // Persistent conflicts: nothing was written; give the range up. slot-taken: a reader (or a
    // settling retry) voided our slow reservation, nothing of ours can land there.
    if (result.status === "conflict") await abandonReservation(ctx, reservation, write.mayRelease && !result.retried);
    return { kind: "lost" };
  }
}
