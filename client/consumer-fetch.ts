/**
 * The fetch loop: long-polls `POST /v1/fetch` for the owned, unpaused partitions (rotating which
 * come first, so one busy partition cannot starve the others of the byte budget) and hands each
 * partition's records to the runner, one partition after the other. With a notification channel
 * (client/notification-channel.ts) ready for those partitions it fetches without waiting and,
 * after an empty fetch, waits for a notification instead of long-polling.
 */
import type { ConsumerContext, FetchResult, OwnedPartition } from "./consumer-context.js";
import type { OffsetCommitter } from "./consumer-offsets.js";
import type { BatchRunner } from "./consumer-runner.js";
import { isFatal } from "./consumer-types.js";
import { DynalogError } from "./errors.js";
import { requestFetch } from "./fetch-request.js";
import { openNotificationChannel, type NotificationChannel } from "./notification-channel.js";
import { backoff } from "./retry.js";

export class FetchLoop {
  private rotation = 0;

  constructor(
    private readonly ctx: ConsumerContext,
    private readonly runner: BatchRunner,
    private readonly offsets: OffsetCommitter,
  ) {}

  async run(): Promise<void> {
    const ctx = this.ctx;
    let longPolling = false;
    // A signed (SigV4, custom) client has no key to offer the socket: it keeps long-polling.
    const channel = ctx.config.notifications && !ctx.transport.signsRequests
      ? openNotificationChannel(ctx.config.notifications, ctx.transport.apiKeyToken, ctx.log, () => {
          // Newly ready (or notified): a long poll in flight is no longer how this loop should wait.
          if (longPolling) ctx.fetchAbort?.abort();
          ctx.fetchWake.notify();
        })
      : undefined;
    try {
      await this.loop(channel, (value) => (longPolling = value));
    } finally {
      channel?.close();
    }
  }

  private async loop(channel: NotificationChannel | undefined, setLongPolling: (value: boolean) => void): Promise<void> {
    const ctx = this.ctx;
    const config = ctx.config;
    let failures = 0;
    while (ctx.running) {
      const active = [...ctx.owned.values()].filter((p) => !p.revoking && !ctx.isPaused(p) && p.position !== undefined);
      if (active.length === 0) {
        await ctx.fetchWake.wait(1_000);
        continue;
      }
      // Rotate, so one busy partition cannot starve the others of the byte budget.
      const start = this.rotation++ % active.length;
      const ordered = [...active.slice(start), ...active.slice(0, start)].slice(0, 100);
      const requested = ordered.map((p) => ({ p, offset: p.position!, generation: p.generation }));
      const abort = new AbortController();
      ctx.fetchAbort = abort;
      // Notified partitions are fetched without waiting: the wait happens on the channel, after an empty fetch.
      const notified = channel?.ready(ordered) ?? false;
      const sequence = channel?.sequence ?? 0;
      const maxWaitMs = notified ? 0 : Math.min(20_000, Math.max(0, config.maxWaitTimeInMs ?? 5_000));
      setLongPolling(maxWaitMs > 0);
      let results: FetchResult[];
      ctx.instrumentation.emit("consumer.fetch_start", { partitions: requested.length });
      const startedAt = Date.now();
      try {
        results = await requestFetch(
          ctx.transport,
          {
            // The binary format carries no per-record metadata: asking for it fetches JSON.
            ...(config.recordMetadata ? { metadata: true } : {}),
            maxWaitMs,
            maxBytes: Math.min(3_145_728, config.maxBytes ?? 3_145_728),
            maxRecords: Math.min(10_000, config.maxRecordsPerPartition ?? 500),
            partitions: requested.map(({ p, offset }) => ({ topic: p.topic, partition: p.partition, offset, maxBytes: Math.min(3_145_728, config.maxBytesPerPartition ?? 1_048_576) })),
          },
          { format: config.recordMetadata ? "json" : (config.fetchFormat ?? "binary"), signal: abort.signal },
        );
        failures = 0;
      } catch (error) {
        if (abort.signal.aborted || !ctx.running) continue;
        if (isFatal(error)) {
          ctx.crash(error, false);
          return;
        }
        ctx.log.warn("Fetch failed", { error: (error as Error).message });
        ctx.instrumentation.emit("consumer.crash", { error, groupId: ctx.groupId, restart: true });
        await ctx.fetchWake.wait(backoff(ctx.retry, Math.min(failures++, 8)));
        continue;
      } finally {
        setLongPolling(false);
        if (ctx.fetchAbort === abort) ctx.fetchAbort = undefined;
      }
      ctx.instrumentation.emit("consumer.fetch", { numberOfBatches: results.filter((r) => recordCount(r) > 0).length, duration: Date.now() - startedAt });
      for (const [i, result] of results.entries()) {
        if (!ctx.running) break;
        const { p, offset, generation } = requested[i]!;
        if (ctx.owned.get(p.key) !== p || p.revoking || p.generation !== generation || p.position !== offset || ctx.isPaused(p)) continue;
        if (result.error) {
          await this.fetchError(p, DynalogError.fromEnvelope(result.error));
          continue;
        }
        if (recordCount(result) === 0) {
          p.position = result.nextOffset ?? p.position; // walked past voids
          continue;
        }
        ctx.processing = this.runner.processBatch(p, result);
        try {
          await ctx.processing;
        } finally {
          ctx.processing = undefined;
        }
      }
      await this.offsets.maybeAutoCommit(false).catch((error) => ctx.log.warn("Auto-commit failed", { error: (error as Error).message }));
      const empty = results.every((r) => !r.error && (r.records?.length ?? 0) === 0);
      // Nothing new and no notification since before the fetch: wait for one (or the fallback
      // interval, or a wake-up: new partitions, a resume, the channel going down).
      if (notified && empty && ctx.running && channel!.sequence === sequence) await ctx.fetchWake.wait(channel!.fallbackIntervalMs);
    }
  }

  private async fetchError(p: OwnedPartition, error: DynalogError): Promise<void> {
    const ctx = this.ctx;
    if (error.code === "OFFSET_OUT_OF_RANGE") {
      const earliest = Number(error.details["logStartOffset"] ?? 0);
      const latest = Number(error.details["highWatermark"] ?? earliest);
      const reset = ctx.fromBeginning.get(p.topic) ? earliest : latest;
      ctx.log.warn("Offset out of range; resetting", { topic: p.topic, partition: p.partition, from: p.position, to: reset });
      p.position = reset;
      return;
    }
    ctx.log.warn("Fetching a partition failed", { topic: p.topic, partition: p.partition, code: error.code, error: error.message });
    if (error.code === "UNKNOWN_TOPIC_OR_PARTITION" && ctx.groupId === undefined) ctx.owned.delete(p.key);
    await ctx.fetchWake.wait(backoff(ctx.retry, Math.min(p.failures++, 8)));
  }
}

function recordCount(result: FetchResult): number {
  return result.messages?.length ?? result.records?.length ?? 0;
}
