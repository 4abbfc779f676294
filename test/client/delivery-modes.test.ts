/**
 * The three delivery modes, each under a consumer crash in the middle of a batch.
 *
 * Consumer A fetches batches of 5 and dies while processing the third message of partition 0's
 * first batch (offset 2): its "process" is frozen mid-handler and its client never sends another
 * request — no commit, no leave, no heartbeat, as if the process had been killed. The broker's
 * clock then jumps past A's session timeout, and consumer B of the same group takes over.
 *
 * - at-most-once: never a duplicate; the rest of the crashed batch (p0 offsets 3 and 4) is lost.
 * - at-least-once: nothing lost; what A processed but had not committed comes again.
 * - exactly-once: every input in the output exactly once (consume → transform → produce in
 *   transactions that also commit the input offsets) — whether A dies mid-batch with an open
 *   transaction, or just after its transaction committed on the broker without A hearing so.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { topicName } from "../support/broker.js";
import { jsonClient } from "../support/http.js";
import type { Consumer, DeliverySemantics, Dynalog, KafkaMessage, Producer } from "../../client/index.js";
import { client, deferred, FetchControl, SkewClock, startBroker, waitFor, type ClientTestEnv } from "./support.js";

const PER_PARTITION = 12;
const SESSION = 6_000;

let env: ClientTestEnv;
let clock: SkewClock;
beforeAll(async () => {
  clock = new SkewClock();
  env = await startBroker("sdk-modes", { clock });
});
afterAll(async () => env?.close());

interface Scenario {
  readonly input: string;
  readonly output: string;
  readonly groupId: string;
}

async function prepare(dynalog: Dynalog): Promise<Scenario> {
  const scenario = { input: topicName("in"), output: topicName("out"), groupId: topicName("grp") };
  await dynalog.admin().createTopics({ topics: [{ topic: scenario.input, numPartitions: 2 }, { topic: scenario.output, numPartitions: 2 }] });
  const producer = dynalog.producer();
  const messages = [];
  for (let i = 0; i < PER_PARTITION; i++) for (const partition of [0, 1]) messages.push({ key: `k${partition}`, value: `p${partition}-${i}`, partition });
  await producer.send({ topic: scenario.input, messages });
  return scenario;
}

function consumerOf(dynalog: Dynalog, groupId: string): Consumer {
  return dynalog.consumer({ groupId, sessionTimeout: SESSION, heartbeatInterval: 200, maxWaitTimeInMs: 300, maxRecordsPerPartition: 5 });
}

const id = (partition: number, m: KafkaMessage) => `p${partition}@${m.offset}`;
const never = () => new Promise<never>(() => {});

/** Runs A until it crashes at p0@2 (after recording it as processed), then B until the group has no lag. */
async function crashAndRecover(mode: DeliverySemantics, scenario: Scenario, crashPoint: "handler" | "commit-answer-lost", process: (c: { consumer: Consumer; producer?: Producer; batchMessages: { partition: number; message: KafkaMessage }[]; batch?: { topic: string; partition: number; nextOffset: number } }) => Promise<void>) {
  const processed: string[] = [];
  const control = new FetchControl();
  const a = client(env.url, { fetch: control.fetch });
  const crashed = deferred();
  if (crashPoint === "commit-answer-lost") {
    // The transaction with partition 0's first batch commits on the broker; the process dies before hearing so.
    control.crashAfter((r) => r.path === "/v1/transactions" && r.body.offsets?.offsets?.some((o: any) => o.partition === 0), () => crashed.resolve());
  }

  async function start(dynalog: Dynalog, crashable: boolean) {
    const consumer = consumerOf(dynalog, scenario.groupId);
    const producer = mode === "exactly-once" ? dynalog.producer({ transactionalId: `${scenario.groupId}-copier` }) : undefined;
    await producer?.connect();
    await consumer.subscribe({ topics: [scenario.input], fromBeginning: true });
    const crashHere = async (partition: number, message: KafkaMessage) => {
      if (crashable && crashPoint === "handler" && partition === 0 && message.offset === 2) {
        control.crash(); // the process dies: nothing more leaves this client
        crashed.resolve();
        await never();
      }
    };
    if (mode === "exactly-once") {
      // Consume-transform-produce: one transaction per batch, with the batch's input offsets.
      await consumer.run({
        deliverySemantics: mode,
        eachBatch: async ({ batch }) => {
          const done: { partition: number; message: KafkaMessage }[] = [];
          for (const message of batch.messages) {
            done.push({ partition: batch.partition, message });
            await crashHere(batch.partition, message); // dies with part of the batch sent into its transaction
          }
          await process({ consumer, producer, batchMessages: done, batch });
        },
      });
    } else {
      await consumer.run({
        deliverySemantics: mode,
        eachMessage: async ({ partition, message }) => {
          processed.push(id(partition, message)); // the side effect happens…
          await crashHere(partition, message); // …and then the process dies
        },
      });
    }
    return { consumer, producer };
  }

  await start(a, true);
  await crashed.promise;
  clock.advance(SESSION + 1_000); // A's session runs out (the broker notices at B's join)

  const b = client(env.url);
  const admin = b.admin();
  const { consumer } = await start(b, false);
  const hw = PER_PARTITION;
  // Caught up: every offset committed, and (at-most-once commits first) everything expected processed.
  const expectedProcessed = mode === "at-most-once" ? 2 * PER_PARTITION - 2 : mode === "at-least-once" ? 2 * PER_PARTITION : 0;
  await waitFor(
    async () => {
      if (new Set(processed).size < expectedProcessed) return false;
      const lag = await admin.fetchGroupLag({ groupId: scenario.groupId });
      const parts = lag.topics.find((t) => t.topic === scenario.input)?.partitions ?? [];
      return parts.length === 2 && parts.every((p) => p.committedOffset === hw);
    },
    { what: "group caught up", intervalMs: 100 },
  );
  await consumer.disconnect();
  return { processed, admin };
}

const all = () => [0, 1].flatMap((p) => Array.from({ length: PER_PARTITION }, (_, i) => `p${p}@${i}`)).sort();
const counts = (ids: string[]) => ids.reduce((m, x) => m.set(x, (m.get(x) ?? 0) + 1), new Map<string, number>());

describe("delivery semantics under a consumer crash mid-batch", () => {
  it("at-most-once: commits before processing — never a duplicate, the rest of the crashed batch is lost", async () => {
    const setup = client(env.url);
    const scenario = await prepare(setup);
    const { processed } = await crashAndRecover("at-most-once", scenario, "handler", async () => {});
    const c = counts(processed);
    expect([...c.values()].every((n) => n === 1)).toBe(true); // never twice
    const lost = all().filter((x) => !c.has(x));
    expect(lost).toEqual(["p0@3", "p0@4"]); // committed past them before processing, then crashed
  });

  it("at-least-once: commits after processing — nothing lost, the uncommitted part comes again", async () => {
    const setup = client(env.url);
    const scenario = await prepare(setup);
    const { processed } = await crashAndRecover("at-least-once", scenario, "handler", async () => {});
    const c = counts(processed);
    expect([...c.keys()].sort()).toEqual(all()); // nothing lost
    const repeated = [...c.entries()].filter(([, n]) => n > 1).map(([x]) => x);
    expect(repeated).toEqual(expect.arrayContaining(["p0@0", "p0@1", "p0@2"])); // processed by A, never committed
    expect([...c.values()].every((n) => n <= 2)).toBe(true);
  });

  it.each(["handler", "commit-answer-lost"] as const)("exactly-once (crash: %s): output and input offsets commit in one transaction — every input exactly once in the output", async (crashPoint) => {
    const setup = client(env.url);
    const scenario = await prepare(setup);
    await crashAndRecover("exactly-once", scenario, crashPoint, async ({ consumer, producer, batchMessages, batch }) => {
      const tx = await producer!.transaction();
      try {
        await tx.send({ topic: scenario.output, messages: batchMessages.map(({ message }) => ({ key: message.key, value: `copy:${message.value!.toString()}` })) });
        await tx.sendOffsets({ consumer, topics: [{ topic: batch!.topic, partitions: [{ partition: batch!.partition, offset: batch!.nextOffset }] }] });
        await tx.commit();
      } catch (error) {
        await tx.abort();
        throw error;
      }
    });
    // Read the whole output topic.
    const api = jsonClient(env.url);
    const values: string[] = [];
    for (const partition of [0, 1]) {
      const read = await api.get(`/v1/topics/${scenario.output}/partitions/${partition}/records?offset=0&maxRecords=1000&encoding=utf8`);
      values.push(...read.body.records.map((r: any) => r.value));
    }
    const expected = [0, 1].flatMap((p) => Array.from({ length: PER_PARTITION }, (_, i) => `copy:p${p}-${i}`)).sort();
    // All there, none twice — though A died with p0@0..2 in an open transaction ("handler"), or
    // right after its transaction of p0@0..4 committed without it hearing so ("commit-answer-lost").
    expect(values.sort()).toEqual(expected);
  });
});
