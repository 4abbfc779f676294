/**
 * The producer's send loop: one produce request for a group of ready batches, and what each
 * batch's answer means — acknowledged (the partition's sequence advances), retried with the SAME
 * sequence after a retriable error, resent alone after a request-level refusal, or failed (taking
 * a new producer id when the partition's sequence chain is unknown or broken).
 */
import { encodingFor, toWire } from "./codec.js";
import { DynalogError } from "./errors.js";
import type { Logger } from "./logger.js";
import type { TopicMetadata } from "./metadata.js";
import type { Batch, PartitionState } from "./producer-batch.js";
import type { ProducerIdentity } from "./producer-types.js";
import { backoff, mayRetry, retryAfterMs, type ResolvedRetry } from "./retry.js";
import type { Transport } from "./transport.js";

/** What the send loop needs from its producer. */
export interface BatchSenderHost {
  readonly transport: Transport;
  readonly retry: ResolvedRetry;
  readonly metadata: TopicMetadata;
  readonly idempotent: boolean;
  readonly log: Logger;
  /** A produce request went out (the producer's `producer.network.request` event). */
  onRequest(payload: { topic: string; partitions: number[]; records: number; attempt: number }): void;
  /** The producer's current idempotent identity (undefined while a new one is being taken). */
  currentIdentity(): ProducerIdentity | undefined;
  resetIdentity(reason: string): void;
  fence(error: DynalogError): void;
  drainSoon(): void;
}

type PartitionEntry = { partition: number; error?: Record<string, unknown>; baseOffset?: number; duplicate?: boolean };

export class BatchSender {
  constructor(private readonly host: BatchSenderHost) {}

  async dispatch(batches: Batch[]): Promise<void> {
    const topic = batches[0]!.state.topic;
    const compression = batches[0]!.compression;
    const identity = batches[0]!.identity;
    const encoding = encodingFor(batches.flatMap((b) => b.items.map((i) => i.record)));
    const body: Record<string, unknown> = { encoding };
    if (compression) body["compression"] = compression;
    if (identity) {
      body["producerId"] = identity.producerId;
      body["producerEpoch"] = identity.epoch;
    }
    body["partitions"] = batches.map((b) => ({
      partition: b.state.partition,
      ...(b.baseSequence !== undefined ? { baseSequence: b.baseSequence } : {}),
      records: b.items.map((i) => toWire(i.record, encoding)),
    }));
    for (const b of batches) b.attempts++;
    this.host.onRequest({ topic, partitions: batches.map((b) => b.state.partition), records: batches.reduce((n, b) => n + b.items.length, 0), attempt: batches[0]!.attempts });

    let entries: PartitionEntry[] | undefined;
    let requestError: unknown;
    try {
      const answer = await this.host.transport.request<{ partitions: PartitionEntry[] | undefined }>({ method: "POST", path: `/v1/topics/${encodeURIComponent(topic)}/records`, body, idempotent: this.host.idempotent, retry: false });
      entries = answer?.partitions;
    } catch (error) {
      requestError = error;
      const partitions = (error as DynalogError)?.body as { partitions?: PartitionEntry[] } | undefined;
      if (error instanceof DynalogError && Array.isArray(partitions?.partitions)) entries = partitions!.partitions;
    }
    for (const batch of batches) {
      const entry = entries?.find((e) => e.partition === batch.state.partition);
      if (entry && !entry.error) this.complete(batch, entry.baseOffset, entry.duplicate === true);
      else if (entry?.error) this.failed(batch, DynalogError.fromEnvelope(entry.error), false, batches.length);
      else this.failed(batch, requestError ?? new DynalogError({ code: "UNKNOWN_SERVER_ERROR", message: `The broker's answer has no result for partition ${batch.state.partition}`, retriable: false, outcome: "indefinite" }), true, batches.length);
    }
  }

  private complete(batch: Batch, baseOffset: number | undefined, duplicate: boolean): void {
    const { state } = batch;
    const current = this.host.currentIdentity();
    if (batch.identity && current && batch.identity.producerId === current.producerId && batch.identity.epoch === current.epoch) {
      state.nextSequence = batch.baseSequence! + batch.items.length;
    }
    batch.items.forEach((item, i) => item.resolve({ partition: state.partition, offset: baseOffset === undefined ? undefined : baseOffset + i, duplicate }));
    this.release(state);
  }

  private failed(batch: Batch, error: unknown, requestLevel: boolean, requestSize: number): void {
    const { state } = batch;
    const { retry, idempotent, log } = this.host;
    const dynalogError = error instanceof DynalogError ? error : undefined;
    const code = dynalogError?.code;
    if (code === "DUPLICATE_SEQUENCE_NUMBER" && batch.identity) {
      // Written before, but too long ago for the broker to know its offsets: a success.
      this.complete(batch, undefined, true);
      return;
    }
    if (code === "UNKNOWN_TOPIC_OR_PARTITION") this.host.metadata.invalidate(state.topic);
    if (mayRetry(error, idempotent) && batch.attempts <= retry.retries) {
      const wait = Math.max(backoff(retry, batch.attempts - 1), retryAfterMs(error) ?? 0);
      if (Date.now() - batch.firstSentAt + wait <= retry.maxRetryTime) {
        log.debug("Retrying batch with the same sequence", { topic: state.topic, partition: state.partition, baseSequence: batch.baseSequence, attempt: batch.attempts, waitMs: wait, code });
        setTimeout(() => void this.dispatch([batch]), wait);
        return;
      }
    }
    if (requestLevel && requestSize > 1 && !batch.isolated && dynalogError?.outcome === "definite") {
      // A request-level refusal (one bad record, one forbidden partition) fails the whole request
      // without writing anything: resend each batch alone so only the culprit fails.
      batch.isolated = true;
      batch.attempts = 0;
      void this.dispatch([batch]);
      return;
    }
    if (code === "PRODUCER_FENCED" && dynalogError) this.host.fence(dynalogError);
    if (batch.identity && (dynalogError?.outcome !== "definite" || code === "OUT_OF_ORDER_SEQUENCE_NUMBER" || code === "UNKNOWN_PRODUCER_ID")) {
      // The partition's sequence chain is unknown or broken: continue under a new producer id.
      if (this.host.currentIdentity()?.producerId === batch.identity.producerId) this.host.resetIdentity(code ?? "unknown outcome");
    }
    for (const item of batch.items) item.reject(error);
    this.release(state);
  }

  private release(state: PartitionState): void {
    state.busy = false;
    if (state.queue.length > 0) this.host.drainSoon();
  }
}
