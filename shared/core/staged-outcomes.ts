/**
 * What a reader does with a staged batch (docs/transactions.md): a batch written by a transaction
 * too large for one TransactWriteItems, which counts only once its attempt's commit record exists.
 *
 *   committed  → a batch like any other (and finalized into a plain one, best effort);
 *   aborted    → a void (and replaced by one, best effort);
 *   undecided  → the reader stops before it: Kafka's last stable offset. Once the attempt began
 *                longer ago than the hole timeout, its writer is gone (the same bound as a dead
 *                writer's gap, docs/append.md), so the reader writes the abort — conditionally, so
 *                a commit that got there first wins — and goes on.
 *
 * Decisions never change once written, so they are cached (bounded).
 */
import type { BrokerContext } from "./context.js";
import type { BatchEntry, PartitionRef, StagedDecision, StagedMark, TopicRecord } from "./ports.js";
import { itemExpiry } from "./topics.js";

const CACHE_LIMIT = 4_096;

export type StagedOutcome = StagedDecision | "undecided";

/** Decision records outlive the staged items they decide: a week past the items' own expiry. */
const DECISION_MARGIN_SECONDS = 7 * 24 * 3600;

/** TTL of a decision record: after every item it decides has expired (undefined = keep). */
export function decisionExpiry(itemExpiries: readonly (number | undefined)[]): number | undefined {
  if (itemExpiries.length === 0 || itemExpiries.some((x) => x === undefined)) return undefined;
  return Math.max(...(itemExpiries as number[])) + DECISION_MARGIN_SECONDS;
}

export class StagedOutcomes {
  private readonly decided = new Map<string, StagedDecision>();

  constructor(private readonly ctx: BrokerContext) {}

  /** The attempt's decision from cache or storage, without deciding anything. */
  async known(mark: StagedMark): Promise<StagedDecision | undefined> {
    const cached = this.decided.get(mark.attempt);
    if (cached) return cached;
    const stored = await this.ctx.storage.staged.readDecision(mark.attempt);
    if (stored) this.remember(mark.attempt, stored);
    return stored;
  }

  /**
   * Resolve a staged entry met while reading `ref`: abort it when it is abandoned, and tidy the item
   * for the next reader (finalize or void: best effort, the decision record is what counts).
   */
  async resolve(topic: TopicRecord, ref: PartitionRef, entry: BatchEntry & { readonly staged: StagedMark }): Promise<StagedOutcome> {
    const mark = entry.staged;
    let decision = await this.known(mark);
    if (!decision) {
      if (this.ctx.clock() - mark.startedAt < this.ctx.config.holeTimeoutMs) return "undecided";
      decision = await this.ctx.storage.staged.abort(mark.attempt, decisionExpiry([itemExpiry(topic, entry.appendTime)]));
      this.remember(mark.attempt, decision);
    }
    await this.tidy(topic, ref, entry, decision);
    return decision;
  }

  private async tidy(topic: TopicRecord, ref: PartitionRef, entry: BatchEntry & { readonly staged: StagedMark }, decision: StagedDecision): Promise<void> {
    const { staged } = this.ctx.storage;
    try {
      if (decision === "committed") await staged.finalize(ref, entry.baseOffset, entry.staged.attempt);
      else {
        const now = this.ctx.clock();
        await staged.voidStaged(ref, entry.baseOffset, entry.count, entry.staged.attempt, now, itemExpiry(topic, now));
      }
    } catch {
      // Left staged: the next reader resolves it again from the (cached or stored) decision.
    }
  }

  private remember(attempt: string, decision: StagedDecision): void {
    if (this.decided.size >= CACHE_LIMIT) this.decided.delete(this.decided.keys().next().value!);
    this.decided.set(attempt, decision);
  }
}
