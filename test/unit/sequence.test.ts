/**
 * judgeSequence: the idempotent producer's decision after its append's producer-state condition
 * failed. Pure, so every branch is checked here, then the whole decision against a reference model.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DynalogError } from "../../shared/errors.js";
import type { ProducerAppend, ProducerState, RememberedBatch } from "../../shared/core/ports.js";
import { judgeIdempotencyKey, judgeSequence, type SequenceVerdict } from "../../shared/core/sequence.js";

const WHERE = { topic: "orders", partition: 3 };
const LABEL = "orders-3";

function request(over: Partial<ProducerAppend> = {}): ProducerAppend {
  const baseSequence = over.baseSequence ?? 0;
  return { producerId: 42, epoch: 0, baseSequence, lastSequence: baseSequence + 2, ...over };
}

function batch(epoch: number, baseSequence: number, lastSequence: number, baseOffset: number): RememberedBatch {
  return { epoch, baseSequence, lastSequence, baseOffset };
}

/** State after `count` batches of `size` records each at `epoch`, written at offsets 100, 200, … */
function stateAfter(count: number, size = 3, epoch = 0): ProducerState {
  const all = Array.from({ length: count }, (_, i) => batch(epoch, i * size, i * size + size - 1, 100 * (i + 1)));
  return { epoch, lastSequence: count * size - 1, recent: all.slice(-5) };
}

function refusal(verdict: SequenceVerdict): DynalogError {
  if (verdict.kind !== "refuse") throw new Error(`expected a refusal, got ${JSON.stringify(verdict)}`);
  return verdict.error;
}

describe("judgeSequence: no stored state", () => {
  it.each([1, 3, 17, 2_147_483_647])("refuses a first batch at sequence %i with UNKNOWN_PRODUCER_ID", (baseSequence) => {
    const error = refusal(judgeSequence(request({ baseSequence, lastSequence: baseSequence }), undefined, WHERE));
    expect(error).toBeInstanceOf(DynalogError);
    expect(error.code).toBe("UNKNOWN_PRODUCER_ID");
    expect(error.details).toEqual({ producerId: 42, producerEpoch: 0, baseSequence, topic: "orders", partition: 3 });
    expect(error.message).toContain(LABEL);
    expect(error.message).toContain(String(baseSequence));
  });

  it("refuses sequence 0 too: with no state its condition cannot have failed, so a retry would only loop", () => {
    // The adapter only asks when the condition failed; with no state that cannot be a sequence-0
    // batch, so the decision is still a refusal rather than a silent retry loop.
    expect(refusal(judgeSequence(request({ baseSequence: 0 }), undefined, WHERE)).code).toBe("UNKNOWN_PRODUCER_ID");
  });
});

describe("judgeSequence: epochs", () => {
  it("fences an older epoch, reporting the current one", () => {
    const stored: ProducerState = { epoch: 3, lastSequence: 8, recent: [batch(3, 0, 8, 10)] };
    const error = refusal(judgeSequence(request({ epoch: 2, baseSequence: 9 }), stored, WHERE));
    expect(error.code).toBe("PRODUCER_FENCED");
    expect(error.details).toMatchObject({ producerId: 42, producerEpoch: 2, currentEpoch: 3, topic: "orders", partition: 3 });
  });

  it("fences an older epoch even when it retries a batch it wrote before being fenced", () => {
    // The zombie's batch is remembered (epoch 0), but a newer epoch owns the producer now.
    const stored: ProducerState = { epoch: 1, lastSequence: 2, recent: [batch(0, 0, 2, 0), batch(1, 0, 2, 3)] };
    const error = refusal(judgeSequence(request({ epoch: 0, baseSequence: 0, lastSequence: 2 }), stored, WHERE));
    expect(error.code).toBe("PRODUCER_FENCED");
    expect(error.details["currentEpoch"]).toBe(1);
  });

  it("fences at every sequence, including 0", () => {
    const stored = stateAfter(2, 3, 5);
    for (const baseSequence of [0, 3, 6, 7, 1000]) {
      expect(refusal(judgeSequence(request({ epoch: 4, baseSequence }), stored, WHERE)).code).toBe("PRODUCER_FENCED");
    }
  });

  it("retries a newer epoch's first batch (sequence 0): the state changed under it", () => {
    expect(judgeSequence(request({ epoch: 1, baseSequence: 0 }), stateAfter(4), WHERE)).toEqual({ kind: "retry" });
    expect(judgeSequence(request({ epoch: 9, baseSequence: 0 }), stateAfter(1, 3, 2), WHERE)).toEqual({ kind: "retry" });
  });

  it("refuses a newer epoch that does not start at sequence 0 with OUT_OF_ORDER_SEQUENCE_NUMBER", () => {
    const stored = stateAfter(2); // last sequence 5 at epoch 0
    for (const baseSequence of [1, 6, 12]) {
      const error = refusal(judgeSequence(request({ epoch: 1, baseSequence }), stored, WHERE));
      expect(error.code).toBe("OUT_OF_ORDER_SEQUENCE_NUMBER");
      expect(error.details).toMatchObject({ expectedSequence: 0, producerEpoch: 1, baseSequence });
    }
  });
});

describe("judgeSequence: same epoch", () => {
  it("answers a retry of any of the last 5 batches with its original base offset", () => {
    const stored = stateAfter(7); // batches 2..6 remembered
    for (const remembered of stored.recent) {
      const verdict = judgeSequence(
        request({ baseSequence: remembered.baseSequence, lastSequence: remembered.lastSequence }),
        stored,
        WHERE,
      );
      expect(verdict).toEqual({ kind: "duplicate", baseOffset: remembered.baseOffset });
    }
    expect(stored.recent.map((b) => b.baseOffset)).toEqual([300, 400, 500, 600, 700]);
  });

  it("answers duplicates with fewer than 5 batches remembered", () => {
    const stored = stateAfter(2);
    expect(judgeSequence(request({ baseSequence: 0, lastSequence: 2 }), stored, WHERE)).toEqual({ kind: "duplicate", baseOffset: 100 });
    expect(judgeSequence(request({ baseSequence: 3, lastSequence: 5 }), stored, WHERE)).toEqual({ kind: "duplicate", baseOffset: 200 });
  });

  it("refuses the 6th-oldest batch with DUPLICATE_SEQUENCE_NUMBER (written, but offsets forgotten)", () => {
    const stored = stateAfter(6); // batch 0 (sequences 0-2) fell out of the list
    const error = refusal(judgeSequence(request({ baseSequence: 0, lastSequence: 2 }), stored, WHERE));
    expect(error.code).toBe("DUPLICATE_SEQUENCE_NUMBER");
    expect(error.details).toMatchObject({ expectedSequence: 18, baseSequence: 0 });
  });

  it("refuses a remembered base sequence with a different size (not the same batch)", () => {
    const stored = stateAfter(3);
    for (const lastSequence of [3, 4, 6, 9]) {
      const verdict = judgeSequence(request({ baseSequence: 3, lastSequence }), stored, WHERE);
      expect(refusal(verdict).code).toBe("DUPLICATE_SEQUENCE_NUMBER");
    }
  });

  it("does not take a batch remembered from an older epoch for a duplicate of the current one", () => {
    // Epoch 0 wrote sequences 0-2 at offset 0; epoch 1 wrote 0-2 at offset 3 and 3-5 at offset 6.
    const stored: ProducerState = { epoch: 1, lastSequence: 5, recent: [batch(0, 0, 2, 0), batch(1, 0, 2, 3), batch(1, 3, 5, 6)] };
    expect(judgeSequence(request({ epoch: 1, baseSequence: 0, lastSequence: 2 }), stored, WHERE)).toEqual({ kind: "duplicate", baseOffset: 3 });
    // Only the old epoch wrote 0-2 here: the current epoch never did, and it is behind → duplicate range.
    const onlyOld: ProducerState = { epoch: 1, lastSequence: 5, recent: [batch(0, 0, 2, 0), batch(1, 3, 5, 6)] };
    expect(refusal(judgeSequence(request({ epoch: 1, baseSequence: 0, lastSequence: 2 }), onlyOld, WHERE)).code).toBe("DUPLICATE_SEQUENCE_NUMBER");
  });

  it("refuses a gap with OUT_OF_ORDER_SEQUENCE_NUMBER and says which sequence was expected", () => {
    const stored = stateAfter(2); // last sequence 5 → expects 6
    for (const baseSequence of [7, 8, 100, 2_147_483_647]) {
      const error = refusal(judgeSequence(request({ baseSequence, lastSequence: baseSequence }), stored, WHERE));
      expect(error.code).toBe("OUT_OF_ORDER_SEQUENCE_NUMBER");
      expect(error.details).toEqual({ producerId: 42, producerEpoch: 0, baseSequence, topic: "orders", partition: 3, expectedSequence: 6 });
    }
  });

  it("retries the next expected sequence (the state moved between the append and its check)", () => {
    expect(judgeSequence(request({ baseSequence: 6, lastSequence: 8 }), stateAfter(2), WHERE)).toEqual({ kind: "retry" });
    expect(judgeSequence(request({ baseSequence: 0, lastSequence: 0 }), { epoch: 0, lastSequence: -1, recent: [] }, WHERE)).toEqual({ kind: "retry" });
  });

  it("refuses an old, unremembered sequence inside the written range", () => {
    const stored = stateAfter(7); // sequences 0..20 written; 6..20 remembered in batches of 3
    for (const baseSequence of [0, 1, 4, 7, 20]) {
      const verdict = judgeSequence(request({ baseSequence, lastSequence: baseSequence }), stored, WHERE);
      expect(refusal(verdict).code).toBe("DUPLICATE_SEQUENCE_NUMBER");
    }
  });
});

describe("judgeSequence: refusals are definite and not retriable", () => {
  it.each([
    ["UNKNOWN_PRODUCER_ID", () => judgeSequence(request({ baseSequence: 3 }), undefined, WHERE)],
    ["PRODUCER_FENCED", () => judgeSequence(request({ epoch: 0 }), stateAfter(1, 3, 1), WHERE)],
    ["OUT_OF_ORDER_SEQUENCE_NUMBER", () => judgeSequence(request({ baseSequence: 9 }), stateAfter(1), WHERE)],
    ["DUPLICATE_SEQUENCE_NUMBER", () => judgeSequence(request({ baseSequence: 0, lastSequence: 0 }), stateAfter(1), WHERE)],
  ] as const)("%s", (code, judge) => {
    const error = refusal(judge());
    expect(error.code).toBe(code);
    expect(error.outcome).toBe("definite");
    expect(error.retriable).toBe(false);
    expect(error.status).toBe(409);
    expect(error.toJSON()).toMatchObject({ code, retriable: false, outcome: "definite", topic: "orders", partition: 3 });
  });
});

describe("judgeSequence: against a reference model", () => {
  type Expected = { kind: "duplicate"; baseOffset: number } | { kind: "retry" } | { kind: "refuse"; code: string };

  /** Kafka's rules, written independently of the implementation. */
  function model(req: ProducerAppend, stored: ProducerState | undefined): Expected {
    if (stored === undefined) return { kind: "refuse", code: "UNKNOWN_PRODUCER_ID" };
    if (req.epoch < stored.epoch) return { kind: "refuse", code: "PRODUCER_FENCED" };
    if (req.epoch > stored.epoch) return req.baseSequence === 0 ? { kind: "retry" } : { kind: "refuse", code: "OUT_OF_ORDER_SEQUENCE_NUMBER" };
    for (const b of stored.recent) {
      if (b.epoch === req.epoch && b.baseSequence === req.baseSequence && b.lastSequence === req.lastSequence) return { kind: "duplicate", baseOffset: b.baseOffset };
    }
    if (req.baseSequence === stored.lastSequence + 1) return { kind: "retry" };
    return { kind: "refuse", code: req.baseSequence > stored.lastSequence + 1 ? "OUT_OF_ORDER_SEQUENCE_NUMBER" : "DUPLICATE_SEQUENCE_NUMBER" };
  }

  function normalize(verdict: SequenceVerdict): Expected {
    return verdict.kind === "refuse" ? { kind: "refuse", code: verdict.error.code } : verdict;
  }

  // States built the way the adapter builds them: consecutive batches of one epoch (after an
  // optional earlier epoch), the last five remembered oldest first.
  const stateArb = fc
    .record({
      epoch: fc.integer({ min: 0, max: 4 }),
      previousEpochBatches: fc.integer({ min: 0, max: 3 }),
      sizes: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 9 }),
    })
    .map(({ epoch, previousEpochBatches, sizes }): ProducerState => {
      const batches: RememberedBatch[] = [];
      let offset = 0;
      let sequence = 0;
      if (epoch > 0) {
        for (let i = 0; i < previousEpochBatches; i++) {
          batches.push(batch(epoch - 1, sequence, sequence + 1, offset));
          sequence += 2;
          offset += 2;
        }
      }
      sequence = 0;
      for (const size of sizes) {
        batches.push(batch(epoch, sequence, sequence + size - 1, offset));
        sequence += size;
        offset += size + 7; // other producers' records in between
      }
      return { epoch, lastSequence: sequence - 1, recent: batches.slice(-5) };
    });

  const requestArb = fc
    .record({ epoch: fc.integer({ min: 0, max: 5 }), baseSequence: fc.integer({ min: 0, max: 40 }), size: fc.integer({ min: 1, max: 4 }) })
    .map(({ epoch, baseSequence, size }): ProducerAppend => ({ producerId: 7, epoch, baseSequence, lastSequence: baseSequence + size - 1 }));

  it("agrees with the model on random states and requests", () => {
    fc.assert(
      fc.property(fc.option(stateArb, { nil: undefined }), requestArb, (stored, req) => {
        expect(normalize(judgeSequence(req, stored, WHERE))).toEqual(model(req, stored));
      }),
      { numRuns: 3000 },
    );
  });

  it("agrees with the model on retries of exactly the stored batches", () => {
    fc.assert(
      fc.property(stateArb, fc.nat(), (stored, pick) => {
        const b = stored.recent[pick % stored.recent.length]!;
        const req = { producerId: 7, epoch: b.epoch, baseSequence: b.baseSequence, lastSequence: b.lastSequence };
        const verdict = judgeSequence(req, stored, WHERE);
        expect(normalize(verdict)).toEqual(model(req, stored));
        if (b.epoch === stored.epoch) expect(verdict).toEqual({ kind: "duplicate", baseOffset: b.baseOffset });
        else expect(normalize(verdict)).toEqual({ kind: "refuse", code: "PRODUCER_FENCED" });
      }),
      { numRuns: 1000 },
    );
  });

  it("never changes its inputs", () => {
    fc.assert(
      fc.property(stateArb, requestArb, (stored, req) => {
        const before = JSON.stringify([stored, req]);
        judgeSequence(req, stored, WHERE);
        expect(JSON.stringify([stored, req])).toBe(before);
      }),
      { numRuns: 300 },
    );
  });
});

describe("judgeIdempotencyKey", () => {
  const claim = { scopedKey: "User:a\u0000k", expiresAtSeconds: 2_000_000_000, appendTime: 1_700_000_000_000 };
  const keyed = (records: number): ProducerAppend => ({ producerId: 0, epoch: 0, baseSequence: 0, lastSequence: records - 1, idempotencyKey: claim });
  const stored = (records: number, baseOffset: number): ProducerState => ({ epoch: 0, lastSequence: records - 1, recent: [batch(0, 0, records - 1, baseOffset)], appendTime: 1_600_000_000_000 });

  it("the key's write exists: a duplicate answering its offset and append time", () => {
    expect(judgeIdempotencyKey(keyed(1), stored(1, 17))).toEqual({ kind: "duplicate", baseOffset: 17, appendTime: 1_600_000_000_000 });
  });

  it("the key named a write of another size: refused as a client error, not answered", () => {
    const error = refusal(judgeIdempotencyKey(keyed(2), stored(1, 17)));
    expect(error).toMatchObject({ code: "INVALID_REQUEST", status: 400, details: { firstRecordCount: 1, recordCount: 2 } });
  });

  it("no state came back with the failed condition: try again", () => {
    expect(judgeIdempotencyKey(keyed(1), undefined)).toEqual({ kind: "retry" });
  });
});
