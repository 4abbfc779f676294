/**
 * Producer ids are the broker's to issue. Each is recorded when issued — to which principal, for
 * which transactional id (if any), and the highest epoch issued — and every idempotent produce and
 * transactional commit proves its producer id against that record before anything is reserved or
 * written. Without this, anyone could write under another producer's (sequential, guessable) id:
 * its next batch would then be answered as a "duplicate" of records never stored, refused as a
 * duplicate sequence, or fenced by a made-up epoch.
 *
 * A warm instance remembers what it issued or verified: the binding never changes and the epoch
 * only rises, so only a request with a higher epoch than the one remembered costs another (strongly
 * consistent) read.
 */
import { DynalogError } from "../errors.js";
import { MAX_PRODUCER_EPOCH } from "../limits.js";
import type { BrokerContext } from "./context.js";
import type { ProducerIdIssue } from "./ports.js";

/** Who a request comes from when security is off (the same name the security layer uses). */
export const ANONYMOUS_PRINCIPAL = "User:anonymous";

/** A producer id, epoch and (for a transactional commit) transactional id, as a request claims them. */
export interface ProducerClaim {
  readonly producerId: number;
  readonly epoch: number;
  /** Undefined for a plain idempotent produce. */
  readonly transactionalId?: string;
}

/** Verified records kept per warm instance; past this, the oldest are forgotten (and re-read if used). */
const MAX_REMEMBERED = 10_000;

export class ProducerIds {
  private readonly verified = new Map<number, ProducerIdIssue>();

  constructor(private readonly ctx: BrokerContext) {}

  /** A fresh idempotent producer (epoch 0) issued to `principal`. */
  async issueIdempotent(principal: string): Promise<{ producerId: number; epoch: number }> {
    const producerId = await this.ctx.storage.producers.issueIdempotent(principal);
    this.remember({ producerId, principal, transactionalId: undefined, maxEpoch: 0 });
    return { producerId, epoch: 0 };
  }

  /** Register a transactional id, or bump its epoch: every older instance is fenced from now on. */
  async initTransactional(transactionalId: string, principal: string): Promise<{ producerId: number; epoch: number }> {
    validateTransactionalId(transactionalId);
    return this.issueTransactional(transactionalId, principal, MAX_PRODUCER_EPOCH);
  }

  /** Register (or re-initialize) a transactional id's producer, issued to `principal`. */
  async issueTransactional(transactionalId: string, principal: string, maxEpoch: number): Promise<{ producerId: number; epoch: number }> {
    const issued = await this.ctx.storage.transactions.initTransactional(transactionalId, principal, maxEpoch);
    this.remember({ producerId: issued.producerId, principal, transactionalId, maxEpoch: issued.epoch });
    return issued;
  }

  /** Throws, before anything is written, unless the broker issued this id and epoch to `principal` (and transactional id). */
  async verify(claim: ProducerClaim, principal: string): Promise<void> {
    const { producerId, epoch } = claim;
    let issue = this.verified.get(producerId);
    if (!issue || epoch > issue.maxEpoch) {
      issue = await this.ctx.storage.producers.readIssue(producerId);
      if (issue) this.remember(issue);
    }
    const facts = { producerId, producerEpoch: epoch };
    if (!issue) {
      throw new DynalogError("UNKNOWN_PRODUCER_ID", `Producer id ${producerId} was never issued by this broker; get one from POST /v1/producers`, { details: facts });
    }
    if (issue.principal !== principal) {
      // Says nothing about whom it was issued to.
      throw new DynalogError("PRODUCER_ID_AUTHORIZATION_FAILED", `Producer id ${producerId} was not issued to ${principal}; use a producer id initialized with your own credentials`, { details: facts });
    }
    if (issue.transactionalId !== claim.transactionalId) {
      throw new DynalogError("INVALID_PRODUCER_ID_MAPPING", mappingMessage(producerId, issue.transactionalId, claim.transactionalId), {
        details: claim.transactionalId === undefined ? facts : { ...facts, transactionalId: claim.transactionalId },
      });
    }
    if (epoch > issue.maxEpoch) {
      throw new DynalogError("INVALID_PRODUCER_EPOCH", `Epoch ${epoch} of producer id ${producerId} was never issued (the highest issued is ${issue.maxEpoch})`, {
        details: { ...facts, issuedEpoch: issue.maxEpoch },
      });
    }
  }

  private remember(issue: ProducerIdIssue): void {
    this.verified.delete(issue.producerId);
    this.verified.set(issue.producerId, issue);
    if (this.verified.size > MAX_REMEMBERED) this.verified.delete(this.verified.keys().next().value!);
  }
}

function mappingMessage(producerId: number, issuedFor: string | undefined, usedWith: string | undefined): string {
  if (issuedFor === undefined) return `Producer id ${producerId} is an idempotent producer's; it cannot commit for transactional id '${usedWith}'`;
  if (usedWith === undefined) return `Producer id ${producerId} belongs to a transactional id; it writes only through that transactional id's commits`;
  return `Producer id ${producerId} belongs to another transactional id, not '${usedWith}'`;
}

const TRANSACTIONAL_ID_PATTERN = /^[\x21-\x7e]{1,255}$/;

/** Here, not in transactions.ts: initializing a transactional producer is the produce function's, which carries no transaction commit code. */
export function validateTransactionalId(transactionalId: string): void {
  if (!TRANSACTIONAL_ID_PATTERN.test(transactionalId)) {
    throw new DynalogError("INVALID_REQUEST", "transactionalId must be 1-255 printable ASCII characters without spaces", { details: { field: "transactionalId" } });
  }
}
