/**
 * Reading a partition: walk the write-once entries in offset order, never past an unfilled gap,
 * filling gaps older than the hole timeout with voids (DESIGN.md §1.4-1.5), and never past a large
 * transaction's undecided staged batch (docs/transactions.md). Also computes the
 * high watermark (end of the contiguous filled prefix) and the log-start offset (end of the
 * expired prefix), and keeps both as hints on the counter item so the next reader starts there.
 */
import { DynalogError } from "../errors.js";
import { BATCH_ITEM_BUDGET_BYTES } from "../limits.js";
import { decompressBlob, type CompressionCodec } from "../compression.js";
import { decodeRecordBatch } from "../record-batch-decode.js";
import type { BrokerContext } from "./context.js";
import type { BatchEntry, LogEntry, PartitionHead, PartitionRef, TopicRecord, TransactionRef } from "./ports.js";
import { BatchSink, PAGE_SIZE, PartitionShapes, RecordSink, recordOffsetMap, type FetchedBatch, type FetchedRecord, type ReadLimits, type ReadSink } from "./read-sinks.js";
import { StagedOutcomes } from "./staged-outcomes.js";

export { recordBytes, type FetchedBatch, type FetchedRecord, type ReadLimits } from "./read-sinks.js";
import { effectiveRetentionMs, itemExpiry, StaleTopicError } from "./topics.js";

export interface PartitionRead {
  readonly records: FetchedRecord[];
  readonly bytes: number;
  readonly nextOffset: number;
  readonly highWatermark: number;
  readonly logStartOffset: number;
}

export interface PartitionBatchRead {
  readonly batches: FetchedBatch[];
  readonly records: number;
  readonly nextOffset: number;
  readonly highWatermark: number;
  readonly logStartOffset: number;
}

interface WalkResult {
  /** Every offset below this was seen filled. */
  readonly contiguousEnd: number;
  /** Where the next read should start (first offset not returned). */
  readonly nextOffset: number;
  /** The first batch at or after the first requested offset, if the walk reached one. */
  readonly firstBatch?: BatchEntry;
}

/**
 * The walk's first page, Queried from the requested offset in parallel with the partition head
 * (readInto): `bound` is where its range stopped (`o BETWEEN offset AND bound - 1`).
 */
interface FirstPage {
  readonly entries: LogEntry[];
  readonly more: boolean;
  readonly bound: number;
}

export class LogReader {
  /** Decisions on large transactions' staged batches, cached (staged-outcomes.ts). */
  readonly staged: StagedOutcomes;
  /** What each partition's batches looked like to the latest read here: sizes the next first page. */
  private readonly shapes = new PartitionShapes();

  constructor(private readonly ctx: BrokerContext) {
    this.staged = new StagedOutcomes(ctx);
  }

  /** Records from `offset`, bounded by `limits`; OFFSET_OUT_OF_RANGE outside [log start, high watermark]. */
  async read(topic: TopicRecord, ref: PartitionRef, offset: number, limits: ReadLimits): Promise<PartitionRead> {
    const sink = new RecordSink(limits, this.shapes.get("records", ref));
    const read = await this.readInto(topic, ref, offset, sink);
    this.shapes.remember("records", ref, sink.shape());
    return { records: sink.records, bytes: sink.bytes, ...read };
  }

  /**
   * The stored batches from `offset`, whole and as stored (those in a codec outside
   * `acceptCodecs` decompressed), bounded by `limits` as FetchedBatch describes.
   */
  async readBatches(topic: TopicRecord, ref: PartitionRef, offset: number, limits: ReadLimits, acceptCodecs: ReadonlySet<CompressionCodec>): Promise<PartitionBatchRead> {
    const sink = new BatchSink(limits, acceptCodecs, this.shapes.get("batches", ref));
    const read = await this.readInto(topic, ref, offset, sink);
    this.shapes.remember("batches", ref, sink.shape());
    return { batches: sink.batches, records: sink.records, ...read };
  }

  private async readInto(topic: TopicRecord, ref: PartitionRef, offset: number, sink: ReadSink): Promise<{ nextOffset: number; highWatermark: number; logStartOffset: number }> {
    // The first page is asked for together with the head: one round trip instead of two (see
    // FirstPage). Settled into a value at once, so a failed page never goes unhandled when the
    // head decides to throw first.
    const speculative = this.firstPage(ref, offset, sink);
    // Strongly consistent: an eventually consistent head (tried for half the read units) let the
    // fault matrix's stale-reads row lose liveness — a consumer kept reading "nothing new" — so
    // every fetch pays the 1 read unit (docs/api.md, "Read consistency").
    const head = await this.ctx.storage.log.readHead(ref);
    if (!head.exists) throw new StaleTopicError(topic.topicId);
    if (offset < head.logStartHint) throw await this.outOfRange(topic, ref, head, offset);
    // Contiguity is known only below the hint: a start above it is checked from the hint up (the
    // page read from `offset` is then of no use: such a start is out of range or rare, see FirstPage).
    const from = Math.min(offset, head.highWatermarkHint);
    const first = from === offset ? await speculative : undefined;
    if (first && "error" in first) throw first.error;
    const walk = await this.walk(topic, ref, head, from, offset, sink, { prefetched: first });
    const highWatermark = Math.max(head.highWatermarkHint, walk.contiguousEnd);
    if (offset > highWatermark) throw await this.outOfRange(topic, ref, head, offset, highWatermark);
    let logStartOffset = head.logStartHint;
    // The first batch served has expired: the log start has moved past it (or past this offset).
    if (walk.firstBatch && this.isExpired(topic, walk.firstBatch)) {
      logStartOffset = await this.refreshLogStart(topic, ref, head);
      if (offset < logStartOffset) throw await this.outOfRange(topic, ref, head, offset, highWatermark);
    }
    await this.raiseHighWatermark(ref, head, highWatermark);
    return { nextOffset: walk.nextOffset, highWatermark, logStartOffset };
  }

  /**
   * The Query for the walk's first page, sent before the head is known. It cannot use the head's
   * hint, so its range stops at `offset + records wanted` instead (the bound is a cost choice, not a
   * safety one: a bounded page is never taken to say anything beyond its bound, see walk's
   * nextPage). Not sent for offsets no log can hold (those end OFFSET_OUT_OF_RANGE).
   */
  private firstPage(ref: PartitionRef, offset: number, sink: ReadSink): Promise<FirstPage | { error: unknown }> | undefined {
    const bound = offset + sink.recordsLeft();
    if (offset < 0 || !Number.isSafeInteger(bound)) return undefined;
    return this.ctx.storage.log.entriesFrom(ref, offset, sink.pageLimit(true), bound).then(
      (page) => ({ ...page, bound }),
      (error: unknown) => ({ error }),
    );
  }

  /** High watermark: walks from the hint to the first unfilled gap (filling old ones). */
  async highWatermark(topic: TopicRecord, ref: PartitionRef, head?: PartitionHead, raiseHint = true): Promise<number> {
    return this.walkToHighWatermark(topic, ref, head ?? (await this.ctx.storage.log.readHead(ref)), { raiseHint });
  }

  /**
   * The high watermark as readers see it now, for the history sampler (history.ts): the walk stops
   * at any gap and at any undecided staged batch instead of filling or aborting it — a sampler
   * writes no log items — but it still raises the hint, so the next sample walks only what was
   * appended since (without that, a topic nobody reads would be walked from its start each time).
   */
  async observedHighWatermark(topic: TopicRecord, ref: PartitionRef, head: PartitionHead): Promise<number> {
    return this.walkToHighWatermark(topic, ref, head, { raiseHint: true, observeOnly: true });
  }

  /** The end of the contiguous prefix: walks from the hint to the first gap the walk may not pass. */
  private async walkToHighWatermark(topic: TopicRecord, ref: PartitionRef, head: PartitionHead, options: { readonly raiseHint: boolean; readonly observeOnly?: boolean }): Promise<number> {
    if (head.highWatermarkHint >= head.nextOffset) return head.highWatermarkHint;
    const walk = await this.walk(topic, ref, head, head.highWatermarkHint, head.nextOffset, null, { observeOnly: options.observeOnly });
    const highWatermark = Math.max(head.highWatermarkHint, walk.contiguousEnd);
    if (options.raiseHint) await this.raiseHighWatermark(ref, head, highWatermark);
    return highWatermark;
  }

  /** Log-start offset: moves the hint past entries whose retention has run out. */
  async refreshLogStart(topic: TopicRecord, ref: PartitionRef, head?: PartitionHead): Promise<number> {
    const current = head ?? (await this.ctx.storage.log.readHead(ref));
    if (effectiveRetentionMs(topic) === null) return current.logStartHint;
    let position = current.logStartHint; // the log start: end of the last expired batch
    let scanned = position;
    scanning: for (;;) {
      const page = await this.ctx.storage.log.entriesFrom(ref, scanned, PAGE_SIZE);
      for (const entry of page.entries) {
        const end = entry.baseOffset + entry.count;
        if (end <= scanned) continue;
        // A gap is not expired data: stop. (Gaps below the high watermark were filled long ago.)
        if (entry.baseOffset > scanned) break scanning;
        // Voids hold no data: the log start moves past them only together with expired data after
        // them, so a consumer positioned on a void is never told its offset is gone.
        if (entry.kind === "void") {
          scanned = end;
          continue;
        }
        if (!this.isExpired(topic, entry)) break scanning;
        scanned = end;
        position = end;
      }
      if (!page.more) break;
    }
    if (position > current.logStartHint) {
      await this.ctx.storage.log.raiseHints(ref, {
        logStart: position,
        ...(position > current.highWatermarkHint ? { highWatermark: position } : {}),
      });
    }
    return position;
  }

  /** A batch is expired once its retention has run out (voids never are: they hold no data). */
  private isExpired(topic: TopicRecord, entry: LogEntry): boolean {
    const retentionMs = effectiveRetentionMs(topic);
    if (retentionMs === null || entry.kind === "void") return false;
    return entry.appendTime + retentionMs <= this.ctx.clock();
  }

  private async raiseHighWatermark(ref: PartitionRef, head: PartitionHead, highWatermark: number): Promise<void> {
    // Raised before answering: a consumer's next offset is then never above the stored hint, so
    // an eventually consistent read cannot make its position look out of range.
    if (highWatermark > head.highWatermarkHint) await this.ctx.storage.log.raiseHints(ref, { highWatermark });
  }

  private async outOfRange(topic: TopicRecord, ref: PartitionRef, head: PartitionHead, offset: number, knownHighWatermark?: number): Promise<DynalogError> {
    // A refusal writes nothing, not even a hint.
    const highWatermark = knownHighWatermark ?? (await this.highWatermark(topic, ref, head, false));
    const logStartOffset = await this.refreshLogStart(topic, ref, head);
    return new DynalogError(
      "OFFSET_OUT_OF_RANGE",
      `Offset ${offset} is out of range for ${topic.name}-${ref.partition}: valid offsets are ${logStartOffset} to ${highWatermark}`,
      { details: { topic: topic.name, partition: ref.partition, offset, logStartOffset, highWatermark } },
    );
  }

  /**
   * Walk entries from `from` in offset order, handing the batches at offsets >= `collectFrom` to
   * `sink` (none when it is null). Stops at a young gap, at the end of the log, or when the sink is full.
   */
  private async walk(topic: TopicRecord, ref: PartitionRef, head: PartitionHead, from: number, collectFrom: number, sink: ReadSink | null, options: { readonly observeOnly?: boolean; readonly prefetched?: FirstPage } = {}): Promise<WalkResult> {
    const { log } = this.ctx.storage;
    const { holeTimeoutMs, maxVoidFillPerRead } = this.ctx.config;
    const observeOnly = options.observeOnly === true;
    const prefetched = options.prefetched;
    let position = from;
    // Observing only: no budget, so every gap stops the walk.
    let fillBudget = observeOnly ? 0 : maxVoidFillPerRead;
    let queue: LogEntry[] = [];
    let more = true;
    let firstPage = true;
    let firstBatch: BatchEntry | undefined;
    let stoppedAt: number | undefined;

    /** The next page from `position`: the prefetched one first (it starts at `from`), then Queries. */
    const nextPage = async (): Promise<{ entries: LogEntry[]; more: boolean }> => {
      if (firstPage && prefetched) {
        // Read in parallel with `head` (readInto), bounded at `prefetched.bound`. Past the bound it
        // says nothing, exactly like the bounded pages below, with one exception the head allows:
        // no item can start at or past head.nextOffset (offsets are reserved before they are
        // written, and the head is strongly consistent), so when the bound reaches it the page is
        // as complete as an unbounded one (a caught-up consumer: one Query, not two). An item
        // written after the head was read may be missing; a stale page may miss items too, and
        // the walk copes with both the same way (a gap; filling it is a conditional put).
        // Below the hint an empty page is certainly stale: asked again, as an empty bounded page is.
        const complete = prefetched.bound >= head.nextOffset;
        if (prefetched.entries.length === 0 && (!complete || position < head.highWatermarkHint)) return log.entriesFrom(ref, position, sink ? sink.pageLimit(true) : PAGE_SIZE);
        return { entries: prefetched.entries, more: prefetched.more || !complete };
      }
      // Inside the contiguous prefix (below the high-watermark hint) every offset is covered, so
      // an item starting at or past position + the records still wanted cannot be needed (a
      // dense batch holds one record per offset; a sparse one fewer, and then the walk asks
      // again): the Query's range stops there, and its page can be larger at no risk.
      const below = sink ? Math.min(position + sink.recordsLeft(), head.highWatermarkHint) : position;
      const bounded = below > position;
      const limit = sink ? sink.pageLimit(bounded) : PAGE_SIZE;
      const page = await log.entriesFrom(ref, position, limit, bounded ? below : undefined);
      // A bounded page says nothing about what lies past its bound; an empty one (a stale
      // eventually consistent read) is asked again unbounded, so it is never taken for a gap.
      if (bounded && page.entries.length === 0) return log.entriesFrom(ref, position, limit);
      return bounded ? { ...page, more: true } : page;
    };

    const nextEntry = async (): Promise<LogEntry | undefined> => {
      if (queue.length === 0 && more) {
        const page = await nextPage();
        queue = page.entries;
        more = page.more;
        if (firstPage) {
          firstPage = false;
          // A seek into the middle of a batch: the batch holding `position` starts before it. None
          // can when nothing at or past `position` was reserved (a caught-up consumer: no read).
          if (queue[0]?.baseOffset !== position && position < head.nextOffset) {
            const previous = await log.entryBefore(ref, position);
            if (previous && previous.baseOffset + previous.count > position) queue.unshift(previous);
          }
        }
      }
      return queue.shift();
    };

    /** Fill [position, end) if old enough. Returns false when the walk must stop here. */
    const fillGap = async (end: number, gapIsOld: boolean): Promise<boolean> => {
      if (!gapIsOld || fillBudget <= 0) return false;
      const target = Math.min(end, position + fillBudget);
      const now = this.ctx.clock();
      const fill = await log.fillWithVoids(ref, position, target, now, itemExpiry(topic, now));
      fillBudget -= fill.filledUpTo - position;
      if (fill.filledUpTo > position) this.ctx.observer?.voidsFilled?.({ topic: topic.name, partition: ref.partition, count: fill.filledUpTo - position });
      position = fill.filledUpTo;
      if (fill.blocked) {
        // A real entry appeared where our (eventually consistent) page showed none: read it.
        const entry = await log.entryAt(ref, position);
        queue = entry ? [entry] : [];
        more = true;
        return entry !== undefined;
      }
      return position >= end;
    };

    for (;;) {
      if (sink?.full()) break;
      const entry = await nextEntry();
      if (!entry) {
        // The tail: offsets reserved (counter) but not written. Every one was reserved at or before
        // the latest reservation, so the tail is old once that is: a crashed writer at the end of
        // the log stalls readers for the hole timeout after the latest reservation.
        if (position < head.nextOffset && (await fillGap(head.nextOffset, head.reservedAt <= this.ctx.clock() - holeTimeoutMs))) continue;
        break;
      }
      const end = entry.baseOffset + entry.count;
      if (end <= position) continue;
      if (entry.baseOffset > position) {
        // Age is measured from the gap's right edge: every offset in the gap was reserved before
        // the next entry's writer reserved, which it did before writing at `appendTime`. So the
        // gap's writers all started before `appendTime` and can write no later than one function
        // timeout (+ request timeout + skew) after it; the hole timeout exceeds that. A crashed
        // writer's gap therefore stalls readers for exactly the hole timeout after the next write.
        const gapIsOld = entry.appendTime <= this.ctx.clock() - holeTimeoutMs;
        const gapEnd = entry.baseOffset;
        if (!(await fillGap(gapEnd, gapIsOld))) break;
        if (position < gapEnd) continue; // blocked by a newly seen entry, now queued
      }
      if (entry.kind === "batch" && entry.staged) {
        // A large transaction's staged batch (docs/transactions.md): never read past it undecided.
        const outcome = observeOnly ? ((await this.staged.known(entry.staged)) ?? "undecided") : await this.staged.resolve(topic, { ...entry, staged: entry.staged });
        if (outcome === "undecided") break;
        if (outcome === "aborted") {
          position = Math.max(position, end);
          continue;
        }
      }
      if (firstBatch === undefined && entry.kind === "batch" && end > collectFrom) firstBatch = entry;
      if (sink && entry.kind === "batch" && end > collectFrom) {
        const stopped = sink.take(entry, Math.max(position, collectFrom));
        if (stopped !== undefined) {
          stoppedAt = stopped;
          position = end;
          break;
        }
      }
      position = end;
    }
    return { contiguousEnd: position, nextOffset: stoppedAt ?? Math.max(collectFrom, position), firstBatch };
  }

  /**
   * First offset whose record timestamp is >= `timestamp`, or null. Binary search over batches by
   * their max timestamp (exact when timestamps do not decrease along the log, as with
   * LogAppendTime; like Kafka's time index otherwise), then a scan inside the batch found.
   */
  async offsetForTimestamp(topic: TopicRecord, ref: PartitionRef, timestamp: number): Promise<{ offset: number; timestamp: number } | null> {
    const head = await this.ctx.storage.log.readHead(ref);
    const highWatermark = await this.highWatermark(topic, ref, head);
    let low = await this.refreshLogStart(topic, ref, head);
    let high = highWatermark;
    while (low < high) {
      const middle = Math.floor((low + high) / 2);
      const batch = await this.batchAtOrAfter(ref, middle, high);
      if (!batch) high = middle; // no data in [middle, high)
      else if (batch.maxTimestamp >= timestamp) high = Math.max(low, batch.baseOffset);
      else low = batch.baseOffset + batch.count;
    }
    // Scan forward from `low` for the first matching record.
    let position = low;
    while (position < highWatermark) {
      const batch = await this.batchAtOrAfter(ref, position, highWatermark);
      if (!batch) return null;
      if (batch.maxTimestamp >= timestamp) {
        const decoded = decodeRecordBatch(decompressBlob(batch.codec, batch.blob, BATCH_ITEM_BUDGET_BYTES * 2));
        const offsetOf = recordOffsetMap(batch);
        const index = decoded.findIndex((r, i) => offsetOf(i) >= position && r.timestamp >= timestamp);
        if (index >= 0) return { offset: offsetOf(index), timestamp: decoded[index]!.timestamp };
      }
      position = batch.baseOffset + batch.count;
    }
    return null;
  }

  /** A batch counts unless it is staged by a large transaction not known to have committed (docs/transactions.md). */
  private async counts(entry: BatchEntry): Promise<boolean> {
    return !entry.staged || (await this.staged.known(entry.staged)) === "committed";
  }

  /** The batch holding `offset`, or the first batch after it below `limit` (voids skipped). */
  private async batchAtOrAfter(ref: PartitionRef, offset: number, limit: number): Promise<BatchEntry | undefined> {
    const { log } = this.ctx.storage;
    const holding = await log.entryBefore(ref, offset + 1);
    if (holding && holding.kind === "batch" && holding.baseOffset + holding.count > offset && (await this.counts(holding))) return holding;
    let position = offset;
    while (position < limit) {
      const page = await log.entriesFrom(ref, position, PAGE_SIZE);
      for (const entry of page.entries) {
        if (entry.kind === "batch" && entry.baseOffset < limit && (await this.counts(entry))) return entry;
      }
      if (!page.more || page.entries.length === 0) return undefined;
      const last = page.entries[page.entries.length - 1]!;
      position = last.baseOffset + last.count;
    }
    return undefined;
  }
}
