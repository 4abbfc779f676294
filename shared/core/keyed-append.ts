/**
 * A write named by an idempotency key (Upstash dialect, ProduceInput.idempotencyKey): reserve, then
 * ONE TransactWriteItems of the batch Put(s) and the key's state Update (AppendRequest.idempotencyKey).
 * Unlike idempotent producer ids (idempotent-append.ts, no transaction), the key and its batch land
 * together or not at all: keyed writes are rare, a key has no sequence to order claims by, and a
 * crash between a separate claim and put would otherwise leave a key naming nothing (docs/append.md).
 * A key already held answers the first write (its offsets and append time) as a duplicate.
 */
import { DynalogError } from "../errors.js";
import { backoffMs } from "./append-write.js";
import { chunkBytes, placeChunks, type UnplacedBatch } from "./batches.js";
import type { BrokerContext } from "./context.js";
import type { PartitionRef, ProducerAppend } from "./ports.js";
import { abandonReservation } from "./reservations.js";
import { judgeIdempotencyKey } from "./sequence.js";

export interface KeyedAppendInput {
  readonly label: string;
  readonly ref: PartitionRef;
  readonly recordCount: number;
  readonly chunks: readonly UnplacedBatch[];
  /** The one-batch producer the key stands for (`idempotencyKey` set, sequences 0..recordCount-1). */
  readonly producer: ProducerAppend & { readonly idempotencyKey: NonNullable<ProducerAppend["idempotencyKey"]> };
  readonly expiresAtSeconds?: number;
  readonly requestId: string;
}

/** Where the records are, and the append time they carry (the first write's, for a duplicate). */
export type KeyedAppendResult = { readonly baseOffset: number; readonly duplicate: boolean; readonly appendTime?: number } | "stale";

const MAX_ATTEMPTS = 6;

export async function appendKeyed(ctx: BrokerContext, input: KeyedAppendInput): Promise<KeyedAppendResult> {
  const { log } = ctx.storage;
  const { ref, recordCount, producer, expiresAtSeconds, requestId } = input;
  const key = producer.idempotencyKey;
  const bytes = chunkBytes(input.chunks);
  let lastError: DynalogError | undefined;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    if (attempt > 0) await ctx.sleep(backoffMs(attempt, ctx.random));
    const reservedAt = ctx.clock();
    const baseOffset = await log.reserve(ref, recordCount, reservedAt, bytes);
    if (baseOffset === undefined) return "stale";
    const reservation = { ref, baseOffset, count: recordCount, reservedAt, expiresAtSeconds, bytes };
    const batches = placeChunks(input.chunks, baseOffset);
    const success = { baseOffset, duplicate: false, appendTime: key.appendTime };
    let conflictRetries = 0;
    for (;;) {
      let result;
      try {
        result = await log.append({ ref, batches, idempotencyKey: key, appendTime: ctx.clock(), expiresAtSeconds, attempt: attempt * 100 + conflictRetries, requestId });
      } catch (error) {
        if (!(error instanceof DynalogError) || error.outcome === "definite") {
          await abandonReservation(ctx, reservation, error instanceof DynalogError);
          throw error;
        }
        // Outcome unknown: claim our own slot with a void. If that fails, the slot holds our batch
        // (only we write a batch at our base offset, and with it the key) or a reader's void.
        const voided = await log.voidOwnReservation(ref, baseOffset, recordCount, ctx.clock(), expiresAtSeconds);
        if (!voided && (await log.entryAt(ref, baseOffset))?.kind === "batch") return success;
        lastError = error;
        break;
      }
      if (result.status === "appended") return success;
      if (result.status === "conflict" && conflictRetries < 3) {
        conflictRetries++;
        await ctx.sleep(backoffMs(conflictRetries, ctx.random));
        continue;
      }
      if (result.status === "key-taken") {
        // Nobody else ever saw these offsets: give them back (dense log) unless a copy is in flight.
        await abandonReservation(ctx, reservation, !result.retried);
        const verdict = judgeIdempotencyKey(producer, result.state);
        if (verdict.kind === "duplicate") return { baseOffset: verdict.baseOffset, duplicate: true, ...(verdict.appendTime !== undefined && { appendTime: verdict.appendTime }) };
        if (verdict.kind === "refuse") throw verdict.error;
      } else if (result.status === "conflict") {
        await abandonReservation(ctx, reservation, !result.retried);
      }
      // slot-taken (a reader voided our slow reservation), the key expiring under us, or persistent
      // conflicts: nothing was written; take a new reservation.
      break;
    }
  }
  throw lastError ?? new DynalogError("STORAGE_ERROR", `Could not append to ${input.label} after ${MAX_ATTEMPTS} attempts; nothing was written`);
}
