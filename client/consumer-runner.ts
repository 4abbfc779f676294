/**
 * Processing one fetched batch of one partition with the user's handler — `eachBatch`, or
 * `eachMessage` per message — under the run's delivery semantics:
 * - "at-least-once": a message/batch is marked processed after its handler returns; commits follow.
 * - "at-most-once": the batch's next offset is committed BEFORE its handler runs; failures are not retried.
 * - "exactly-once": nothing is committed here (the handler commits with its transaction); after a
 *   failure the partition goes back to its committed offset.
 */
import { fromWire } from "./codec.js";
import type { ConsumerContext, FetchResult, OwnedPartition } from "./consumer-context.js";
import type { OffsetCommitter } from "./consumer-offsets.js";
import { makeBatch, toOffset, toTopicOffsets, type EachBatchPayload, type EachMessagePayload } from "./consumer-types.js";
import { runInHandlerScope } from "./handler-scope.js";
import { backoff } from "./retry.js";

export class BatchRunner {
  constructor(
    private readonly ctx: ConsumerContext,
    private readonly offsets: OffsetCommitter,
  ) {}

  async processBatch(p: OwnedPartition, result: FetchResult): Promise<void> {
    const ctx = this.ctx;
    const generation = p.generation;
    const messages = result.messages ?? result.records!.map(fromWire);
    const nextOffset = result.nextOffset!;
    const batch = makeBatch(p.topic, p.partition, result.highWatermark ?? nextOffset, messages, nextOffset);
    // Lost (fenced, or sought elsewhere): nothing of this batch may be marked processed any more.
    const lost = () => ctx.owned.get(p.key) !== p || p.generation !== generation;
    // Being revoked too: stop early (what was processed is still committed before the release).
    const stale = () => lost() || p.revoking;
    const started = Date.now();
    const event = { topic: p.topic, partition: p.partition, highWatermark: batch.highWatermark, offsetLag: batch.offsetLag(), offsetLagLow: batch.offsetLagLow(), batchSize: messages.length, firstOffset: batch.firstOffset(), lastOffset: batch.lastOffset() };
    ctx.instrumentation.emit("consumer.start_batch_process", event);
    const mode = ctx.run.mode;

    if (mode === "at-most-once" && ctx.groupId === undefined) {
      p.position = nextOffset;
    } else if (mode === "at-most-once") {
      // Commit first: if we crash while processing, the rest of the batch is skipped, never repeated.
      const committed = await this.offsets.commit([{ topic: p.topic, partition: p.partition, offset: nextOffset }]).then(
        () => true,
        (error) => {
          ctx.log.warn("At-most-once commit before processing failed; not processing", { topic: p.topic, partition: p.partition, error: (error as Error).message });
          return false;
        },
      );
      if (!committed || stale()) return;
      p.position = nextOffset;
      p.resolved = nextOffset;
    }

    if (ctx.run.eachMessage) {
      for (const message of messages) {
        // At-most-once: the batch is committed already — finish it even when stopping (only a crash loses it).
        if (mode !== "at-most-once" && (!ctx.running || stale() || ctx.isPaused(p))) return;
        try {
          const payload: EachMessagePayload = { topic: p.topic, partition: p.partition, message, heartbeat: () => ctx.heartbeatIfDue(), pause: () => this.pauseOne(p) };
          await runInHandlerScope(() => ctx.run.eachMessage!(payload));
        } catch (error) {
          await this.processingFailed(p, generation, message.offset, error);
          return;
        }
        if (mode === "at-most-once" || lost()) continue;
        p.position = message.offset + 1;
        p.resolved = message.offset + 1;
        p.failures = 0;
        this.offsets.uncommittedCount++;
        await this.offsets.maybeAutoCommit(true).catch((error) => ctx.log.warn("Auto-commit failed", { error: (error as Error).message }));
      }
      if (mode !== "at-most-once" && !lost()) {
        p.position = nextOffset;
        p.resolved = nextOffset;
      }
    } else {
      let resolvedInBatch: number | undefined;
      const payload: EachBatchPayload = {
        batch,
        resolveOffset: (offset) => {
          if (lost()) return;
          resolvedInBatch = toOffset(offset) + 1;
          if (mode !== "at-most-once") {
            p.resolved = resolvedInBatch;
            this.offsets.uncommittedCount++;
          }
        },
        heartbeat: () => ctx.heartbeatIfDue(),
        commitOffsetsIfNecessary: async (offsets) => {
          if (offsets) {
            await this.offsets.commit(offsets.topics.flatMap((t) => t.partitions.map((x) => ({ topic: t.topic, partition: x.partition, offset: toOffset(x.offset) }))));
            return;
          }
          await this.offsets.maybeAutoCommit(true);
        },
        uncommittedOffsets: () => ({
          topics: toTopicOffsets([...ctx.owned.values()].filter((o) => o.resolved !== undefined && o.resolved !== o.committed).map((o) => [o.topic, o.partition, o.resolved!])),
        }),
        isRunning: () => ctx.running,
        isStale: stale,
        pause: () => this.pauseOne(p),
      };
      try {
        await runInHandlerScope(() => ctx.run.eachBatch!(payload));
      } catch (error) {
        await this.processingFailed(p, generation, resolvedInBatch ?? messages[0]!.offset, error);
        return;
      }
      if (mode !== "at-most-once" && !lost()) {
        p.failures = 0;
        if (ctx.run.eachBatchAutoResolve) {
          p.position = nextOffset;
          p.resolved = nextOffset;
          this.offsets.uncommittedCount += messages.length;
        } else if (resolvedInBatch !== undefined) {
          p.position = resolvedInBatch;
        }
      }
    }
    ctx.instrumentation.emit("consumer.end_batch_process", { ...event, duration: Date.now() - started });
  }

  /** A handler threw: at-least-once retries from the failed message, exactly-once from the committed offset. */
  private async processingFailed(p: OwnedPartition, generation: number, offset: number, error: unknown): Promise<void> {
    const ctx = this.ctx;
    const mode = ctx.run.mode;
    ctx.log.error("Processing failed", { topic: p.topic, partition: p.partition, offset, mode, error: (error as Error)?.message ?? String(error) });
    ctx.instrumentation.emit("consumer.crash", { error, groupId: ctx.groupId, restart: true });
    if (ctx.owned.get(p.key) !== p || p.generation !== generation) return;
    if (mode === "at-most-once") return; // already committed: never processed twice
    if (mode === "exactly-once") {
      // The transaction did not commit: go back to what is committed (it moved with the output).
      try {
        const answer = await ctx.transport.request<{ partitions: { partition: number; position: number }[] }>({
          method: "GET",
          path: ctx.groupPath("/offsets"),
          query: { topic: p.topic, partitions: String(p.partition), reset: ctx.fromBeginning.get(p.topic) ? "earliest" : "latest" },
          idempotent: true,
        });
        if (ctx.owned.get(p.key) === p && p.generation === generation) p.position = answer.partitions[0]?.position ?? p.position;
      } catch (readError) {
        ctx.log.warn("Could not read the committed offset after a failure; losing the partition's position", { error: (readError as Error).message });
        p.position = undefined;
        ctx.lose("position unknown after a failed transaction");
        return;
      }
    } else {
      p.position = offset;
      if (ctx.run.autoCommit) await this.offsets.commitResolved([p]).catch(() => undefined);
    }
    await ctx.fetchWake.wait(backoff(ctx.retry, Math.min(p.failures++, 8)));
  }

  private pauseOne(p: OwnedPartition): () => void {
    this.ctx.pause([{ topic: p.topic, partitions: [p.partition] }]);
    return () => this.ctx.resume([{ topic: p.topic, partitions: [p.partition] }]);
  }
}
