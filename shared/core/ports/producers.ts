/**
 * Producer ids and idempotent producers' per-partition state (shared/core/producer-ids.ts,
 * idempotent-append.ts, keyed-append.ts, sequence.ts; items in shared/storage/producer-store.ts).
 */
import type { PartitionRef } from "./partition-items.js";

/**
 * What the broker recorded when it issued a producer id: who it was issued to and the highest
 * epoch issued so far. The binding (principal, transactional id) never changes; only the epoch
 * rises, and only when the broker re-initializes the transactional id.
 */
export interface ProducerIdIssue {
  readonly producerId: number;
  /** The principal that initialized it ("User:anonymous" with security off). */
  readonly principal: string;
  /** The transactional id it serves; undefined for a plain idempotent producer. */
  readonly transactionalId: string | undefined;
  readonly maxEpoch: number;
}

/** What an idempotent producer's append asserts about, and writes to, its per-partition state. */
export interface ProducerAppend {
  readonly producerId: number;
  readonly epoch: number;
  readonly baseSequence: number;
  readonly lastSequence: number;
  /**
   * Set for a write named by an idempotency key (ProduceInput.idempotencyKey) rather than by an
   * issued producer id (`producerId` is then 0, `epoch` 0, sequences from 0): its state is one
   * remembered batch per (partition, scoped key), written in the append's own transaction
   * (AppendRequest.idempotencyKey, keyed-append.ts) and ignored — then overwritten — once
   * `expiresAtSeconds` has passed.
   */
  readonly idempotencyKey?: IdempotencyKeyClaim;
}

/** A write's claim of an idempotency key (Upstash dialect), scoped to the caller. */
export interface IdempotencyKeyClaim {
  readonly scopedKey: string;
  readonly expiresAtSeconds: number;
  /** The append time records without their own timestamp carry: remembered so a duplicate answers it. */
  readonly appendTime: number;
}

/** A batch remembered in producer state, so a retry can get its original offsets back. */
export interface RememberedBatch {
  readonly epoch: number;
  readonly baseSequence: number;
  readonly lastSequence: number;
  readonly baseOffset: number;
}

export interface ProducerState {
  readonly epoch: number;
  readonly lastSequence: number;
  /** Oldest first, at most 5. */
  readonly recent: readonly RememberedBatch[];
  /** An idempotency key's state only: the append time of the write it names (its answer's timestamp). */
  readonly appendTime?: number;
}

/** What claiming an idempotent batch's sequence range did (docs/append.md). */
export type ClaimResult =
  /** Claimed at our reservation; `previous` = this epoch's claim right before ours, which must have landed before ours may. */
  | { readonly status: "claimed"; readonly previous?: RememberedBatch }
  /**
   * The continuity/epoch condition failed; `state` is the stored state (undefined = none). Nothing was
   * claimed — unless `retried` (the SDK sent the claim more than once) and the state shows our own claim.
   */
  | { readonly status: "mismatch"; readonly state: ProducerState | undefined; readonly retried: boolean };

export interface ProducerStore {
  /** A fresh producer id (never reused), not yet issued to anyone. */
  allocateProducerId(): Promise<number>;
  /** A fresh idempotent producer id (epoch 0), recorded as issued to `principal`. */
  issueIdempotent(principal: string): Promise<number>;
  /** What was recorded when `producerId` was issued (strongly consistent); undefined = never issued. */
  readIssue(producerId: number): Promise<ProducerIdIssue | undefined>;
  /** Producer state of every producer of a partition, to purge on topic deletion. */
  purgePartition(ref: PartitionRef): Promise<void>;
  /**
   * Claim an idempotent batch's sequences at `baseOffset` (already reserved), conditioned on
   * continuity and epoch. One plain conditional write; the batch item is put afterwards.
   */
  claimSequence(ref: PartitionRef, producer: ProducerAppend, baseOffset: number): Promise<ClaimResult>;
  /** The producer's state on a partition (strongly consistent). */
  readSequenceState(ref: PartitionRef, producerId: number): Promise<ProducerState | undefined>;
  /**
   * Drop the claims `observed.recent[keep..]` (their slots are known void): the sequence goes back to
   * just before the first dropped one. False if the state is no longer `observed`.
   */
  rewindSequence(ref: PartitionRef, producerId: number, observed: ProducerState, keep: number): Promise<boolean>;
}
