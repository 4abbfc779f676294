/**
 * Exactly-once delivery of a subscription partition (docs/subscriptions.md, "Exactly-once"): the
 * target answers the records it produced, and the dispatcher writes them AND commits the batch's
 * input offsets in ONE transaction (transactions.ts) under a transactional id per subscription
 * partition. Taking the lease bumps that id's epoch, so a dispatcher that lost its lease (a zombie
 * still waiting on its target) is fenced at commit: its output and offsets never land.
 *
 * Results of an invocation that failed (error, non-2xx, timeout) are never written: only an answer
 * the dispatcher accepted is committed, and only once, because the commit moves the input offsets
 * past the batch in the same transaction.
 */
import * as z from "zod";
import type { Broker } from "./broker.js";
import { isDynalogError } from "../errors.js";
import { MAX_RECORDS_PER_REQUEST } from "../limits.js";
import type { RecordHeader } from "../record-batch.js";
import type { TransactionRecord } from "./transactions.js";
import { SUBSCRIPTION_TRANSACTIONAL_ID_PREFIX } from "./reserved-ids.js";

/** Who the dispatcher's transactional ids are issued to: no caller's credentials can commit with them. */
export const DISPATCHER_PRINCIPAL = "dynalog:subscription-dispatcher";

/** One transactional id per subscription partition (':' never occurs in a subscription name). */
export const transactionalIdFor = (subscription: string, partition: number) => `${SUBSCRIPTION_TRANSACTIONAL_ID_PREFIX}${subscription}:${partition}`;

export type ExactlyOnceBroker = Pick<Broker, "initProducer" | "commitTransaction">;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const headerValue = z.union([z.array(z.number().int().min(0).max(255)).max(1_000_000), z.string()]);
const outputRecord = z
  .object({
    topic: z.string().min(1).max(249),
    partition: z.number().int().min(0).optional(),
    key: z.string().nullable().optional(),
    value: z.string().nullable().optional(),
    /** As in the event: a list of `{ name: bytes }`; a string header value is UTF-8. */
    headers: z.array(z.record(z.string(), headerValue)).max(1_000).optional(),
    /** How key and value are written: "base64" (default, as in the event) or "utf8" (plain text). */
    encoding: z.enum(["base64", "utf8"]).optional(),
    timestamp: z.number().int().min(0).optional(),
  })
  .strict();
const exactlyOnceResponse = z.object({ records: z.array(outputRecord).max(MAX_RECORDS_PER_REQUEST) }).passthrough();

export type OutputVerdict = { readonly ok: true; readonly records: TransactionRecord[] } | { readonly ok: false; readonly reason: string };

/**
 * Reads an exactly-once target's answer `{ records: [...] }`. Anything else — no answer, a partial
 * batch response, a malformed record — is a failed invocation (nothing of it is written).
 */
export function readExactlyOnceResponse(response: unknown): OutputVerdict {
  const failures = (response as { batchItemFailures?: unknown } | null | undefined)?.batchItemFailures;
  if (Array.isArray(failures) && failures.length > 0) {
    return { ok: false, reason: "exactly-once targets answer all or nothing: batchItemFailures is not accepted (fail the invocation instead)" };
  }
  const parsed = exactlyOnceResponse.safeParse(response);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return { ok: false, reason: `exactly-once answer must be { "records": [ { "topic", "key", "value", "headers" } ] }: ${issue.path.join(".") || "(answer)"}: ${issue.message}` };
  }
  const records: TransactionRecord[] = [];
  for (const [index, r] of parsed.data.records.entries()) {
    const encoding = r.encoding ?? "base64";
    const bytes = (field: "key" | "value"): Uint8Array | null => {
      const text = r[field];
      if (text === undefined || text === null) return null;
      if (encoding === "utf8") return new TextEncoder().encode(text);
      if (!BASE64.test(text)) throw new Error(`records.${index}.${field} is not base64 (set "encoding": "utf8" for plain text)`);
      return new Uint8Array(Buffer.from(text, "base64"));
    };
    try {
      const headers: RecordHeader[] = (r.headers ?? []).flatMap((h) =>
        Object.entries(h).map(([key, v]) => ({ key, value: typeof v === "string" ? new TextEncoder().encode(v) : Uint8Array.from(v) })),
      );
      records.push({ topic: r.topic, key: bytes("key"), value: bytes("value"), headers, ...(r.partition !== undefined && { partition: r.partition }), ...(r.timestamp !== undefined && { timestamp: r.timestamp }) });
    } catch (error) {
      return { ok: false, reason: `exactly-once answer: ${(error as Error).message}` };
    }
  }
  return { ok: true, records };
}

/** Codes that mean another dispatcher owns the transactional id now: stop, write nothing more. */
const FENCING_CODES = new Set(["PRODUCER_FENCED", "INVALID_PRODUCER_EPOCH", "TRANSACTIONAL_ID_NOT_FOUND", "OUT_OF_ORDER_SEQUENCE_NUMBER", "DUPLICATE_SEQUENCE_NUMBER", "UNKNOWN_PRODUCER_ID"]);

export type CommitOutcome =
  | { readonly kind: "committed" }
  /** Another dispatcher took the partition (its epoch is newer): this run must stop. */
  | { readonly kind: "fenced"; readonly error: string }
  /** The output cannot be written (e.g. unknown topic, too large for one transaction): a failed batch. */
  | { readonly kind: "failed"; readonly error: string };

/** The transactional producer of one subscription partition, for one lease. */
export class ExactlyOnceOutput {
  private producer: { producerId: number; epoch: number } | undefined;
  /** Transactions committed in this epoch (the transaction sequence). */
  private sequence = 0;

  constructor(
    private readonly broker: ExactlyOnceBroker,
    private readonly subscription: { readonly name: string; readonly group: string },
    private readonly topic: string,
    private readonly partition: number,
  ) {}

  /** Bumps the epoch: every earlier holder of this partition is fenced from now on. */
  async begin(): Promise<void> {
    this.producer = await this.broker.initProducer({ transactionalId: transactionalIdFor(this.subscription.name, this.partition), principal: DISPATCHER_PRINCIPAL });
    this.sequence = 0;
  }

  /** Writes `records` and commits the input up to `nextOffset` (exclusive) in one fenced transaction. */
  async commit(records: readonly TransactionRecord[], nextOffset: number): Promise<CommitOutcome> {
    if (!this.producer) throw new Error("ExactlyOnceOutput.commit before begin");
    try {
      await this.broker.commitTransaction({
        transactionalId: transactionalIdFor(this.subscription.name, this.partition),
        producerId: this.producer.producerId,
        producerEpoch: this.producer.epoch,
        transactionSequence: this.sequence,
        records,
        // Memberless, as the at-least-once commit: the subscription's group has no members (NON_EMPTY_GROUP otherwise).
        offsets: { group: this.subscription.group, offsets: [{ topic: this.topic, partition: this.partition, offset: nextOffset }] },
        principal: DISPATCHER_PRINCIPAL,
      });
      this.sequence++;
      return { kind: "committed" };
    } catch (error) {
      if (!isDynalogError(error)) throw error;
      if (FENCING_CODES.has(error.code)) return { kind: "fenced", error: `${error.code}: ${error.message}` };
      if (error.retriable || error.outcome !== "definite") throw error; // DynamoDB trouble: the run stops and is retried next round
      return { kind: "failed", error: `writing the target's output failed: ${error.code}: ${error.message}` };
    }
  }
}
