/**
 * The idempotent producer's decision, made from the producer state DynamoDB returned when the
 * append's condition failed (ALL_OLD) — no extra read. Pure, so it is unit-tested exhaustively.
 */
import { DynalogError } from "../errors.js";
import type { ProducerAppend, ProducerState } from "./ports.js";

export type SequenceVerdict =
  /** The same batch was appended before: answer with its original offsets, write nothing. */
  | { readonly kind: "duplicate"; readonly baseOffset: number; readonly appendTime?: number }
  /** The state changed under us between attempts (AWS races): try again. */
  | { readonly kind: "retry" }
  | { readonly kind: "refuse"; readonly error: DynalogError };

export function judgeSequence(request: ProducerAppend, stored: ProducerState | undefined, where: { readonly topic: string; readonly partition: number }): SequenceVerdict {
  const { producerId, epoch, baseSequence, lastSequence } = request;
  const partitionLabel = `${where.topic}-${where.partition}`;
  const facts = { producerId, producerEpoch: epoch, baseSequence, topic: where.topic, partition: where.partition };
  if (!stored) {
    // Only a batch starting at sequence 0 may create state; the condition failed, so this is not one.
    return refuse("UNKNOWN_PRODUCER_ID", `Producer ${producerId} has no state on ${partitionLabel}; its first batch must start at sequence 0, got ${baseSequence}`, facts);
  }
  if (stored.epoch > epoch) {
    return refuse("PRODUCER_FENCED", `Producer ${producerId} epoch ${epoch} is fenced by epoch ${stored.epoch} on ${partitionLabel}`, { ...facts, currentEpoch: stored.epoch });
  }
  if (stored.epoch < epoch) {
    if (baseSequence === 0) return { kind: "retry" };
    return refuse("OUT_OF_ORDER_SEQUENCE_NUMBER", `A new epoch (${epoch}) must start at sequence 0, got ${baseSequence} on ${partitionLabel}`, { ...facts, expectedSequence: 0 });
  }
  const remembered = stored.recent.find(
    (b) => b.epoch === epoch && b.baseSequence === baseSequence && b.lastSequence === lastSequence,
  );
  if (remembered) return { kind: "duplicate", baseOffset: remembered.baseOffset };
  const expected = stored.lastSequence + 1;
  if (baseSequence > expected) {
    return refuse("OUT_OF_ORDER_SEQUENCE_NUMBER", `Expected sequence ${expected} from producer ${producerId} on ${partitionLabel}, got ${baseSequence}: a batch is missing`, { ...facts, expectedSequence: expected });
  }
  if (baseSequence < expected) {
    return refuse(
      "DUPLICATE_SEQUENCE_NUMBER",
      `Sequences ${baseSequence}-${lastSequence} of producer ${producerId} on ${partitionLabel} were written before but are not among the last 5 batches (or the batch differs in size)`,
      { ...facts, expectedSequence: expected },
    );
  }
  return { kind: "retry" };
}

function refuse(code: "UNKNOWN_PRODUCER_ID" | "PRODUCER_FENCED" | "OUT_OF_ORDER_SEQUENCE_NUMBER" | "DUPLICATE_SEQUENCE_NUMBER", message: string, details: Record<string, string | number>): SequenceVerdict {
  return { kind: "refuse", error: new DynalogError(code, message, { details }) };
}

/**
 * The verdict for a write named by an idempotency key whose state already exists (and has not
 * expired): the key's one remembered batch is the first write, answered instead of writing again.
 */
export function judgeIdempotencyKey(request: ProducerAppend, stored: ProducerState | undefined): SequenceVerdict {
  const first = stored?.recent.at(-1);
  // No state after all (the condition raced an expiry overwrite): reserve again and retry.
  if (!first) return { kind: "retry" };
  if (first.baseSequence === 0 && first.lastSequence === request.lastSequence) return { kind: "duplicate", baseOffset: first.baseOffset, appendTime: stored!.appendTime };
  return {
    kind: "refuse",
    error: new DynalogError("INVALID_REQUEST", `This idempotency key named a write of ${first.lastSequence + 1} record(s) to this partition; this write has ${request.lastSequence + 1}. Use a new key for a different write`, {
      details: { firstRecordCount: first.lastSequence + 1, recordCount: request.lastSequence + 1 },
    }),
  };
}
