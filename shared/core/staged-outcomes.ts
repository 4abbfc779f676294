/**
 * What a reader does with a staged batch (docs/transactions.md): a batch written by a transaction
 * too large for one TransactWriteItems, which counts only once its attempt's commit record exists.
 *
 *   committed  → a batch like any other;
 *   aborted    → a void;
 *   undecided  → the reader stops before it: Kafka's last stable offset. Once the attempt began
 *                longer ago than the hole timeout, its writer is gone (the same bound as a dead
 *                writer's gap, docs/append.md), so the reader writes the abort — conditionally, so
 *                a commit that got there first wins — and goes on.
 *
 * Decisions never change once written, so they are cached (bounded).
 */
import type { BrokerContext } from "./context.js";
import type { BatchEntry, StagedDecision, StagedMark, TopicRecord } from "./ports.js";
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
   * Resolve a staged entry met while reading: abort it when it is abandoned. Readers write nothing
   * else (their grant allows void-shaped items only, infra/permissions.ts): the committer finalizes
   * or voids its own staged items, and what a crashed committer left is resolved from the cached
   * decision until it expires with the topic's retention.
   */
  async resolve(topic: TopicRecord, entry: BatchEntry & { readonly staged: StagedMark }): Promise<StagedOutcome> {
    const mark = entry.staged;
    const decision = await this.known(mark);
    if (decision) return decision;
    if (this.ctx.clock() - mark.startedAt < this.ctx.config.holeTimeoutMs) return "undecided";
    const written = await this.ctx.storage.staged.abort(mark.attempt, decisionExpiry([itemExpiry(topic, entry.appendTime)]));
    this.remember(mark.attempt, written);
    return written;
  }

  private remember(attempt: string, decision: StagedDecision): void {
    if (this.decided.size >= CACHE_LIMIT) this.decided.delete(this.decided.keys().next().value!);
    this.decided.set(attempt, decision);
  }
}
