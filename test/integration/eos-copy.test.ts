/**
 * The exactly-once copy test (issue: exactly-once). A consume-transform-produce copier moves
 * 10,000 messages from a 4-partition input topic to a 4-partition output topic in transactions of
 * ~100, and is killed and restarted at several points: before committing, after committing but
 * before noticing, and with the commit's response lost. Once, two copiers are alive at the same
 * time (the old one a zombie). Output must equal input exactly once each, in per-partition order,
 * with the committed offsets at the end of the input.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { TableNames } from "../../shared/storage/tables.js";
import { createTestBroker, createTestTables, timeoutError, topicName, type TestBroker } from "../support/broker.js";
import { uniqueName } from "../support/dynamodb.js";

const PARTITIONS = 4;
const MESSAGES = 10_000;
const PER_PARTITION_PER_TRANSACTION = 25; // ~100 records per transaction

let tables: TableNames;
beforeAll(async () => {
  tables = await createTestTables("eos");
});

type KillPoint = "before-commit" | "after-commit" | "lost-response";

/** One copier instance: its own broker (a separate Lambda, with its own caches). */
class Copier {
  private readonly lambda: TestBroker;
  private producerId = 0;
  private epoch = 0;
  private sequence = 0;
  private positions: number[] = [];

  constructor(
    private readonly input: string,
    private readonly output: string,
    private readonly group: string,
    private readonly transactionalId: string,
  ) {
    this.lambda = createTestBroker(tables);
  }

  /** Start (or restart): fence older instances, resume from the committed offsets. */
  async start(): Promise<void> {
    const producer = await this.lambda.broker.initProducer({ transactionalId: this.transactionalId });
    this.producerId = producer.producerId;
    this.epoch = producer.epoch;
    this.sequence = 0;
    const committed = await this.lambda.broker.committedOffsets(this.group, this.input);
    this.positions = committed.map((c) => Math.max(0, c.offset));
  }

  /** One consume-transform-produce transaction. Returns false when the input is exhausted. */
  async step(kill?: KillPoint): Promise<boolean> {
    const fetched = await this.lambda.broker.fetch({
      partitions: this.positions.map((offset, partition) => ({ topic: this.input, partition, offset, maxRecords: PER_PARTITION_PER_TRANSACTION })),
    });
    const records = [];
    const next = [...this.positions];
    for (const result of fetched) {
      if ("error" in result) throw result.error;
      for (const r of result.records) records.push({ topic: this.output, partition: result.partition, key: r.key, value: Buffer.from(`copied:${Buffer.from(r.value!).toString()}`), headers: [] });
      next[result.partition] = result.nextOffset;
    }
    if (records.length === 0) return false;
    if (kill === "before-commit") return true; // the process dies with its transaction uncommitted
    if (kill === "lost-response") this.lambda.faults.once(/TransactWriteItems/, { kind: "drop-response", error: timeoutError() });
    await this.lambda.broker.commitTransaction({
      transactionalId: this.transactionalId,
      producerId: this.producerId,
      producerEpoch: this.epoch,
      transactionSequence: this.sequence,
      records,
      offsets: { group: this.group, offsets: next.map((offset, partition) => ({ topic: this.input, partition, offset })) },
    });
    if (kill === "after-commit") return true; // committed, but the process dies before moving on
    this.sequence++;
    this.positions = next;
    return true;
  }
}

async function readAll(broker: TestBroker, topic: string, partition: number): Promise<string[]> {
  const values: string[] = [];
  let offset = 0;
  for (;;) {
    const [result] = await broker.broker.fetch({ partitions: [{ topic, partition, offset }], maxRecords: 5_000 });
    if (!result || "error" in result) throw new Error(`fetch failed: ${JSON.stringify(result)}`);
    values.push(...result.records.map((r) => Buffer.from(r.value!).toString()));
    if (result.nextOffset >= result.highWatermark) return values;
    offset = result.nextOffset;
  }
}

describe("exactly-once consume-transform-produce", () => {
  it("copies 10,000 messages exactly once across crashes, restarts and a zombie", async () => {
    const admin = createTestBroker(tables);
    const input = topicName("eos-in");
    const output = topicName("eos-out");
    await admin.broker.createTopic({ name: input, partitions: PARTITIONS });
    await admin.broker.createTopic({ name: output, partitions: PARTITIONS });
    for (let partition = 0; partition < PARTITIONS; partition++) {
      for (let start = 0; start < MESSAGES / PARTITIONS; start += 1_250) {
        await admin.broker.produce({
          topic: input,
          partitions: [{ partition, records: Array.from({ length: 1_250 }, (_, i) => ({ key: null, value: Buffer.from(`p${partition}-m${start + i}`), headers: [] })) }],
        });
      }
    }

    const group = uniqueName("copier");
    const transactionalId = uniqueName("copier-tx");
    // Deterministic crash plan: step number → how the running copier dies.
    const crashes = new Map<number, KillPoint>([
      [7, "before-commit"],
      [19, "after-commit"],
      [31, "lost-response"],
      [44, "before-commit"],
      [58, "after-commit"],
    ]);
    const zombieAt = 70;
    let copier = new Copier(input, output, group, transactionalId);
    await copier.start();
    let restarts = 0;
    let zombieFenced = false;
    for (let step = 0; step < 1_000; step++) {
      if (step === zombieAt) {
        // A new instance starts while the old one is still running: the old one is now a zombie.
        const successor = new Copier(input, output, group, transactionalId);
        await successor.start();
        await expect(copier.step()).rejects.toMatchObject({ code: "PRODUCER_FENCED" });
        zombieFenced = true;
        copier = successor;
        continue;
      }
      const kill = crashes.get(step);
      const more = await copier.step(kill);
      if (kill) {
        restarts++;
        copier = new Copier(input, output, group, transactionalId);
        await copier.start();
        continue;
      }
      if (!more) break;
    }
    expect(restarts).toBe(crashes.size);
    expect(zombieFenced).toBe(true);

    for (let partition = 0; partition < PARTITIONS; partition++) {
      const expected = await readAll(admin, input, partition);
      expect(expected).toHaveLength(MESSAGES / PARTITIONS);
      expect(await readAll(admin, output, partition)).toEqual(expected.map((v) => `copied:${v}`));
    }
    const committed = await admin.broker.committedOffsets(group, input);
    expect(committed.map((c) => c.offset)).toEqual(Array.from({ length: PARTITIONS }, () => MESSAGES / PARTITIONS));
  }, 180_000);
});
