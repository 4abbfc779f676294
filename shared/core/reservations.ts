/**
 * What a writer does with an offset range it reserved but did not fill (DESIGN.md §1.3).
 *
 * Kafka's offsets are dense: a refused, duplicate or fenced request must not leave a hole. So the
 * writer first tries to give the range back (possible while it is still the partition's latest
 * reservation: nobody else has seen those offsets); only when a later reservation exists does it
 * void the range, as before. Giving back is only safe while no copy of the write can still land:
 * not after the SDK retried the write (an earlier copy may be in flight), and not once the range
 * is old enough for a reader to fill it (then it is past half the hole timeout, well before).
 */
import type { BrokerContext } from "./context.js";
import type { PartitionRef } from "./ports.js";

export interface UnusedReservation {
  readonly ref: PartitionRef;
  readonly baseOffset: number;
  readonly count: number;
  /** When the reservation was made (the broker's clock). */
  readonly reservedAt: number;
  /** TTL of a void item, if one is written. */
  readonly expiresAtSeconds?: number;
  /** Bytes the reservation added to the partition's bytes-written counter (taken off if it is given back). */
  readonly bytes?: number;
}

/**
 * Release the range, or void it when that is not possible. Best effort: a failure here leaves a gap
 * that readers fill after the hole timeout, so errors are swallowed. `mayRelease` is false when a
 * copy of the failed write may still be in flight.
 */
export async function abandonReservation(ctx: BrokerContext, reservation: UnusedReservation, mayRelease: boolean): Promise<void> {
  const { log } = ctx.storage;
  const { ref, baseOffset, count, expiresAtSeconds, bytes } = reservation;
  const young = ctx.clock() - reservation.reservedAt < ctx.config.holeTimeoutMs / 2;
  try {
    if (mayRelease && young && (await log.releaseReservation(ref, baseOffset, count, bytes))) return;
    await log.voidOwnReservation(ref, baseOffset, count, ctx.clock(), expiresAtSeconds);
  } catch {
    // Left as a gap: readers fill it once it is older than the hole timeout.
  }
}
