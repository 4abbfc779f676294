/**
 * A Jepsen-style history of a Kafka-semantics workload: every operation's invocation and its
 * completion, in the order they happened, for cli/verify/checker.ts to judge.
 *
 * Pure TypeScript without Node built-ins: the CLI records with it, and so could a browser.
 *
 * Outcomes follow Jepsen: "ok" (it happened), "fail" (it definitely did not happen) and "info"
 * (indefinite: it may or may not have happened, e.g. a timeout). Values are unique strings the
 * workload chooses (e.g. "p1-17"); the checker follows each value through the log.
 *
 *     const history = new History();
 *     const op = history.invoke({ type: "send", process: "p1", topic: "t", partition: 0, value: "p1-0" });
 *     history.complete(op, { outcome: "ok", offset: 0 });
 *     history.record({ type: "assign", process: "c1", generation: 1, partitions: [{ topic: "t", partition: 0, position: 0 }] });
 */

/** "ok": happened · "fail": definitely did not happen · "info": unknown (may have happened). */
export type Outcome = "ok" | "fail" | "info";

export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

/** One record as read: its offset and the workload's value. */
export type ReadRecord = readonly [offset: number, value: string];

/** What one poll (or the drain) read from one partition, in the order it was returned. */
export interface PartitionRead extends TopicPartition {
  readonly records: readonly ReadRecord[];
}

/** A producer sends one value. */
export interface SendInvocation extends TopicPartition {
  readonly type: "send";
  /** The producer (its id or name); per-producer ordering is checked. */
  readonly process: string;
  readonly key?: string;
  readonly value: string;
  /**
   * Idempotent producers (the default, as in Kafka 3+) must never write a value twice; for
   * at-least-once producers (false) duplicates are counted in stats but are not anomalies.
   */
  readonly idempotent?: boolean;
}
export interface SendCompletion {
  readonly outcome: Outcome;
  /** The offset the broker acknowledged (with "ok"). */
  readonly offset?: number;
}

/** A transaction: sends and consumer-offset commits, then commit or abort. */
export interface TxnInvocation {
  readonly type: "txn";
  readonly process: string;
  readonly transactionalId?: string;
  readonly sends: readonly (TopicPartition & { readonly key?: string; readonly value: string })[];
  readonly offsets?: readonly (TopicPartition & { readonly group: string; readonly offset: number })[];
  /** How the workload ends it: an aborted transaction's records must never be read. */
  readonly end: "commit" | "abort";
}
export interface TxnCompletion {
  readonly outcome: Outcome;
  /** Acknowledged offsets, one per send in the same order (when the broker reported them). */
  readonly offsets?: readonly (number | undefined)[];
}

/** A consumer polls; the completion says what it read. */
export interface PollInvocation {
  readonly type: "poll";
  readonly process: string;
  /** The assignment epoch (consumer-group generation) the consumer believed it had. */
  readonly generation?: number;
  /** read_committed (default) must never see aborted records; read_uncommitted may. */
  readonly isolation?: "read_committed" | "read_uncommitted";
}
export interface PollCompletion {
  readonly outcome: Outcome;
  readonly reads?: readonly PartitionRead[];
}

/** A consumer commits offsets for its group (the offset is the next one to read, as in Kafka). */
export interface CommitInvocation {
  readonly type: "commit";
  readonly process: string;
  readonly group: string;
  readonly generation?: number;
  readonly offsets: readonly (TopicPartition & { readonly offset: number })[];
}
export interface CommitCompletion {
  readonly outcome: Outcome;
}

/** Reads every partition from its log start after the workload stopped (read_committed). */
export interface DrainInvocation {
  readonly type: "drain";
  readonly process?: string;
}
export interface DrainCompletion {
  readonly outcome: Outcome;
  /** `from` is the log start offset: records below it were removed by retention, not lost. */
  readonly reads?: readonly (PartitionRead & { readonly from?: number })[];
}

export type Invocation = SendInvocation | TxnInvocation | PollInvocation | CommitInvocation | DrainInvocation;

export type CompletionFor<I extends Invocation> = I extends SendInvocation
  ? SendCompletion
  : I extends TxnInvocation
    ? TxnCompletion
    : I extends PollInvocation
      ? PollCompletion
      : I extends CommitInvocation
        ? CommitCompletion
        : DrainCompletion;

/**
 * A consumer's assignment changed (a rebalance): it now owns `partitions` in `generation`. A
 * `position` says where it will resume (e.g. the group's committed offset); polls may then restart
 * from there, even backwards.
 */
export interface AssignEvent {
  readonly type: "assign";
  readonly process: string;
  readonly generation?: number;
  readonly partitions: readonly (TopicPartition & { readonly position?: number })[];
}

/** A consumer moved its position explicitly (seek): its next poll may start anywhere. */
export interface SeekEvent extends TopicPartition {
  readonly type: "seek";
  readonly process: string;
  readonly offset: number;
}

/** Instantaneous events: recorded once, with no completion. */
export type InstantEvent = AssignEvent | SeekEvent;

export type HistoryEvent =
  | { readonly index: number; readonly kind: "invoke"; readonly id: number; readonly op: Invocation; readonly time?: number }
  | { readonly index: number; readonly kind: "complete"; readonly id: number; readonly completion: CompletionFor<Invocation>; readonly time?: number }
  | { readonly index: number; readonly kind: "event"; readonly event: InstantEvent; readonly time?: number };

/** Handle of an invoked operation, to complete it later. */
export interface PendingOp<I extends Invocation = Invocation> {
  readonly id: number;
  readonly op: I;
}

export interface HistoryOptions {
  /** Timestamp source for events (e.g. Date.now); omitted → no times recorded. */
  readonly clock?: () => number;
}

/** Records a workload's history in real order. Safe to use from concurrent async tasks. */
export class History {
  private readonly log: HistoryEvent[] = [];
  private nextId = 0;
  private readonly open = new Set<number>();

  constructor(private readonly options: HistoryOptions = {}) {}

  /** Every event so far, in the order it happened. */
  get events(): readonly HistoryEvent[] {
    return this.log;
  }

  invoke<I extends Invocation>(op: I): PendingOp<I> {
    const id = this.nextId++;
    this.open.add(id);
    this.log.push({ index: this.log.length, kind: "invoke", id, op, ...this.time() });
    return { id, op };
  }

  complete<I extends Invocation>(pending: PendingOp<I>, completion: CompletionFor<I>): void {
    if (!this.open.delete(pending.id)) throw new Error(`operation ${pending.id} was already completed or never invoked`);
    this.log.push({ index: this.log.length, kind: "complete", id: pending.id, completion, ...this.time() });
  }

  /** Run `fn` as operation `op`: ok with its result, or "info" if it throws (the error is rethrown). */
  async run<I extends Invocation>(op: I, fn: () => Promise<Omit<CompletionFor<I>, "outcome">>): Promise<void> {
    const pending = this.invoke(op);
    try {
      const result = await fn();
      this.complete(pending, { ...result, outcome: "ok" } as CompletionFor<I>);
    } catch (error) {
      this.complete(pending, { outcome: "info" } as CompletionFor<I>);
      throw error;
    }
  }

  record(event: InstantEvent): void {
    this.log.push({ index: this.log.length, kind: "event", event, ...this.time() });
  }

  /** Operations still waiting for a completion (treated as indefinite by the checker). */
  get pending(): number {
    return this.open.size;
  }

  private time(): { time?: number } {
    return this.options.clock ? { time: this.options.clock() } : {};
  }
}

/** An invocation paired with its completion (undefined if it never completed: indefinite). */
export interface CompletedOp<I extends Invocation = Invocation> {
  readonly id: number;
  readonly op: I;
  readonly invokeIndex: number;
  readonly completeIndex?: number;
  readonly completion?: CompletionFor<I>;
  /** The completion's outcome, "info" when it never completed. */
  readonly outcome: Outcome;
}

/** Pair invocations with completions, in invocation order. Throws on a malformed history. */
export function pairOperations(events: readonly HistoryEvent[]): CompletedOp[] {
  const byId = new Map<number, { id: number; op: Invocation; invokeIndex: number; completeIndex?: number; completion?: CompletionFor<Invocation> }>();
  events.forEach((event, position) => {
    if (event.kind === "invoke") {
      if (byId.has(event.id)) throw new Error(`malformed history: operation ${event.id} invoked twice`);
      byId.set(event.id, { id: event.id, op: event.op, invokeIndex: position });
    } else if (event.kind === "complete") {
      const entry = byId.get(event.id);
      if (!entry) throw new Error(`malformed history: operation ${event.id} completed before it was invoked`);
      if (entry.completion) throw new Error(`malformed history: operation ${event.id} completed twice`);
      entry.completion = event.completion;
      entry.completeIndex = position;
    }
  });
  return [...byId.values()]
    .sort((a, b) => a.invokeIndex - b.invokeIndex)
    .map((entry) => ({ ...entry, outcome: entry.completion?.outcome ?? "info" }));
}
