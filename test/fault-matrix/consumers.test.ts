/**
 * Fault matrix: consumer groups. A member vanishes without leaving (its session expires, TestClock)
 * and another resumes from the committed offsets; a member that expired keeps committing as if it
 * still owned its partitions (a zombie). At-least-once consumers must lose nothing; the
 * exactly-once copy (consume-transform-produce, offsets committed in the transaction, fenced by the
 * member's epoch) must copy every input record exactly once, and the zombie's commits are refused.
 */
import { uniqueName } from "../support/dynamodb.js";
import { Member, SESSION, settle } from "../support/group-member.js";
import type { Broker } from "../../shared/core/broker.js";
import type { ReadRecord } from "../../cli/verify/index.js";
import { matrix, type RowContext } from "./matrix.js";
import { IdempotentProducer, TransactionalProducer } from "./workloads.js";

const PARTITIONS = 2;

interface Topics {
  readonly input: string;
  readonly output: string;
  readonly group: string;
  /** Output value → the input value it copies. */
  readonly sourceOf: Map<string, string>;
}

async function setUp(ctx: RowContext, admin: Broker): Promise<Topics> {
  const input = await ctx.topic(admin, PARTITIONS, "mx-in");
  const output = await ctx.topic(admin, PARTITIONS, "mx-out");
  const producer = await IdempotentProducer.init(ctx, admin, "src");
  for (let partition = 0; partition < PARTITIONS; partition++) {
    for (let batch = 0; batch < 3; batch++) await producer.send([admin], input, partition, ctx.int(2, 5));
  }
  return { input, output, group: uniqueName("g"), sourceOf: new Map() };
}

/** A group member; with a transactional producer it copies input to output exactly once. */
class Consumer {
  readonly member: Member;
  private readonly positions = new Map<number, number>();

  constructor(
    private readonly ctx: RowContext,
    readonly name: string,
    private readonly broker: Broker,
    private readonly topics: Topics,
    private readonly copier?: TransactionalProducer,
  ) {
    this.member = new Member(broker, topics.group, [topics.input]);
  }

  /** Join, take the assignment and resume from the group's committed offsets (recorded as an assign). */
  async join(others: readonly Consumer[] = []): Promise<void> {
    await settle([this.member, ...others.map((o) => o.member)]);
    const committed = await this.broker.committedOffsets(this.topics.group, this.topics.input);
    const owned = this.member.owned.flatMap((tp) => tp.partitions);
    for (const partition of owned) this.positions.set(partition, Math.max(0, committed[partition]!.offset));
    this.ctx.history.record({
      type: "assign",
      process: this.name,
      generation: this.member.epoch,
      partitions: owned.map((partition) => ({ topic: this.topics.input, partition, position: this.positions.get(partition)! })),
    });
  }

  get partitions(): number[] {
    return [...this.positions.keys()];
  }

  /** Poll one partition and commit (copies and offsets in one transaction, or a plain fenced commit). */
  async step(partition: number, max: number): Promise<"committed" | "refused" | "nothing to commit"> {
    const offset = this.positions.get(partition)!;
    const polled = await this.ctx.poll(this.broker, { process: this.name, generation: this.member.epoch, topic: this.topics.input, partition, offset, maxRecords: max });
    if (polled.records.length === 0) return "nothing to commit";
    const commit = { topic: this.topics.input, partition, offset: polled.nextOffset };
    const fence = { memberId: this.member.memberId, memberEpoch: this.member.epoch };
    let outcome: string;
    if (this.copier) {
      const values = this.ctx.values(`${this.name}-out`, polled.records.length);
      polled.records.forEach(([, source], i) => this.topics.sourceOf.set(values[i]!, source));
      const resolution = await this.copier.commit([this.broker], polled.records.map(() => ({ topic: this.topics.output, partition })), {
        values,
        offsets: { group: this.topics.group, ...fence, offsets: [commit] },
      });
      outcome = resolution?.outcome ?? "info";
    } else {
      const op = this.ctx.history.invoke({ type: "commit", process: this.name, group: this.topics.group, generation: fence.memberEpoch, offsets: [commit] });
      const resolution = await this.ctx.retry([this.broker], 5, true, async (broker) => {
        await broker.commitOffsets(this.topics.group, [commit], fence);
        return commit.offset;
      });
      this.ctx.history.complete(op, { outcome: resolution.outcome });
      outcome = resolution.outcome;
    }
    if (outcome === "ok") this.positions.set(partition, polled.nextOffset);
    // Refused: it goes back to its last committed position (an explicit seek) before reading again.
    else this.ctx.history.record({ type: "seek", process: this.name, topic: this.topics.input, partition, offset });
    return outcome === "ok" ? "committed" : "refused";
  }

  /** Read on without committing (then crash: the successor reads these again). */
  async pollWithoutCommit(partition: number, max: number): Promise<void> {
    const offset = this.positions.get(partition)!;
    await this.ctx.poll(this.broker, { process: this.name, generation: this.member.epoch, topic: this.topics.input, partition, offset, maxRecords: max });
  }

  /** Copy or consume everything it owns. */
  async drainOwned(): Promise<void> {
    for (const partition of this.partitions) {
      for (let guard = 0; guard < 20; guard++) {
        const before = this.positions.get(partition);
        if ((await this.step(partition, this.ctx.int(2, 6))) !== "committed" || this.positions.get(partition) === before) break;
      }
    }
  }
}

/** Every input value was copied exactly once into the drained output. */
function checkExactlyOnce(ctx: RowContext, drained: Map<string, ReadRecord[]>, topics: Topics): void {
  const copies = new Map<string, number>();
  for (let partition = 0; partition < PARTITIONS; partition++) {
    for (const [, value] of drained.get(`${topics.output}-${partition}`) ?? []) {
      const source = topics.sourceOf.get(value);
      copies.set(source ?? `?${value}`, (copies.get(source ?? `?${value}`) ?? 0) + 1);
    }
  }
  for (let partition = 0; partition < PARTITIONS; partition++) {
    for (const [offset, value] of drained.get(`${topics.input}-${partition}`) ?? []) {
      const n = copies.get(value) ?? 0;
      if (n !== 1) ctx.violation(`input ${topics.input}-${partition}@${offset} (${value}) was copied ${n} times`);
    }
  }
}

async function copiers(ctx: RowContext, topics: Topics, name: string, broker: Broker): Promise<Consumer> {
  const producer = await TransactionalProducer.init(ctx, broker, name, uniqueName(`tid-${name}`));
  return new Consumer(ctx, name, broker, topics, producer);
}

async function zombieConsumer(ctx: RowContext): Promise<void> {
  const [a, b, reader] = [ctx.lambda(), ctx.lambda(), ctx.lambda()];
  const topics = await setUp(ctx, reader.broker);
  const first = await copiers(ctx, topics, "m1", a.broker);
  await first.join();
  for (let i = ctx.int(1, 3); i > 0; i--) for (const partition of first.partitions) await first.step(partition, ctx.int(1, 4));
  // m1 stops heartbeating; its session expires and m2 takes every partition over.
  ctx.clock.advance(SESSION + 1);
  const second = await copiers(ctx, topics, "m2", b.broker);
  await second.join();
  let zombieCommits = 0;
  await Promise.all([
    (async () => {
      // The zombie does not know: it keeps copying and committing with its old member epoch.
      for (let i = 0; i < 3; i++) {
        for (const partition of first.partitions) {
          if ((await first.step(partition, ctx.int(1, 3))) === "committed") zombieCommits += 1;
        }
      }
    })(),
    second.drainOwned(),
  ]);
  if (zombieCommits > 0) ctx.violation(`the expired member committed ${zombieCommits} times after its session ended`);
  const drained = await ctx.drain(reader.broker, [
    { topic: topics.input, partitions: PARTITIONS },
    { topic: topics.output, partitions: PARTITIONS },
  ]);
  checkExactlyOnce(ctx, drained, topics);
}

async function crashAndResume(ctx: RowContext): Promise<void> {
  const [a, b, reader] = [ctx.lambda(), ctx.lambda(), ctx.lambda()];
  const topics = await setUp(ctx, reader.broker);
  // The same group does both: a plain (at-least-once) consumer group and an exactly-once copier group.
  const eos: Topics = { ...topics, group: uniqueName("g-eos") };
  const plain1 = new Consumer(ctx, "c1", a.broker, topics);
  const copy1 = await copiers(ctx, eos, "e1", a.broker);
  await plain1.join();
  await copy1.join();
  for (const consumer of [plain1, copy1]) {
    for (let i = ctx.int(1, 3); i > 0; i--) for (const partition of consumer.partitions) await consumer.step(partition, ctx.int(1, 4));
    // Crash: what it polled after its last commit is processed again by its successor.
    for (const partition of consumer.partitions) await consumer.pollWithoutCommit(partition, ctx.int(1, 3));
  }
  ctx.clock.advance(SESSION + 1);
  const plain2 = new Consumer(ctx, "c2", b.broker, topics);
  const copy2 = await copiers(ctx, eos, "e2", b.broker);
  await plain2.join();
  await copy2.join();
  await Promise.all([plain2.drainOwned(), copy2.drainOwned()]);
  const drained = await ctx.drain(reader.broker, [
    { topic: topics.input, partitions: PARTITIONS },
    { topic: topics.output, partitions: PARTITIONS },
  ]);
  checkExactlyOnce(ctx, drained, eos);
  // At least once: every input record was polled by c1 or c2.
  const polled = new Set<string>();
  for (const event of ctx.history.events) {
    if (event.kind !== "complete" || !("reads" in event.completion)) continue;
    const op = ctx.history.events.find((e) => e.kind === "invoke" && e.id === event.id);
    if (op?.kind !== "invoke" || op.op.type !== "poll" || (op.op.process !== "c1" && op.op.process !== "c2")) continue;
    for (const read of event.completion.reads ?? []) for (const [, value] of read.records) polled.add(value);
  }
  for (let partition = 0; partition < PARTITIONS; partition++) {
    for (const [offset, value] of drained.get(`${topics.input}-${partition}`) ?? []) {
      if (!polled.has(value)) ctx.violation(`input ${topics.input}-${partition}@${offset} (${value}) was never consumed by c1 or c2`);
    }
  }
}

matrix("test/fault-matrix/consumers.test.ts", [
  { name: "rebalance with a zombie consumer committing", run: zombieConsumer, timeoutMs: 90_000 },
  { name: "consumer crash and resume", run: crashAndResume, timeoutMs: 90_000 },
]);
