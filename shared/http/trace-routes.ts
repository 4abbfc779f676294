/**
 * GET /v1/topics/:topic/partitions/:partition/records/:offset/trace (docs/api.md, "Trace a record").
 * Describe on the topic; groups and transactions the caller may not describe are left out, and so
 * are a transaction's inputs and outputs on topics it may not describe.
 */
import type { TransactionRecord } from "../core/ports.js";
import { authorize, group, mayAccess, topic } from "./authorization.js";
import type { Context } from "hono";
import type { AuthEnv } from "./authorization.js";
import type { Broker } from "../core/broker.js";
import type { Handler } from "./compose.js";
import { filterAsync, pathInt } from "./route-helpers.js";

const iso = (ms: number) => new Date(ms).toISOString();

async function transactionJson(c: Context<AuthEnv>, record: TransactionRecord) {
  return {
    transactionalId: record.transactionalId,
    producerId: record.producerId,
    producerEpoch: record.epoch,
    transactionSequence: record.sequence,
    committedAt: iso(record.committedAt),
    group: record.group ?? null,
    inputs: (await filterAsync(record.inputs, (i) => mayAccess(c, topic(i.topic, "Describe")))).map((i) => ({ topic: i.topic, partition: i.partition, committedOffset: i.offset })),
    outputs: (await filterAsync(record.outputs, (o) => mayAccess(c, topic(o.topic, "Describe")))).map((o) => ({
      topic: o.topic,
      partition: o.partition,
      baseOffset: o.baseOffset,
      count: o.lastOffset - o.baseOffset + 1,
    })),
  };
}

export const traceHandlers: { traceRecord: Handler<Pick<Broker, "traceRecord">> } = {
  async traceRecord(c, broker) {
    const topicName = c.req.param("topic")!;
    const partition = pathInt(c, "partition");
    const offset = pathInt(c, "offset");
    await authorize(c, topic(topicName, "Describe"));
    const trace = await broker.traceRecord(topicName, partition, offset);
    const groups = await filterAsync(trace.groups, (g) => mayAccess(c, group(g.group, "Describe")));
    const consumedBy = await filterAsync(trace.consumedBy, (t) => (t.group === undefined ? Promise.resolve(false) : mayAccess(c, group(t.group, "Describe"))));
    return c.json({
      topic: trace.topic,
      partition: trace.partition,
      offset: trace.offset,
      batch: { ...trace.batch, appendTime: iso(trace.batch.appendTime) },
      transactional: trace.transactional,
      producerId: trace.producerId,
      groups: groups.map((g) => ({ ...g, committedAt: iso(g.committedAt) })),
      consumedBy: await Promise.all(consumedBy.map((t) => transactionJson(c, t))),
      producedBy: trace.producedBy ? await transactionJson(c, trace.producedBy) : null,
    });
  },
};
