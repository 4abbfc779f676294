/** HTTP handlers of the produce function: producer ids and produce. */
import { parseCompression } from "../core/batches.js";
import { isReservedTransactionalId, SUBSCRIPTION_TRANSACTIONAL_ID_PREFIX } from "../core/reserved-ids.js";
import { DynalogError } from "../errors.js";
import { authorize, topic, transactionalId } from "./authorization.js";
import type { Broker } from "../core/broker.js";
import type { Handler } from "./compose.js";
import { readJson } from "./request-body.js";
import { toProduceRecord } from "./route-helpers.js";
import { initProducerBodySchema, produceBodySchema } from "./schemas.js";

export type ProduceRouteId = "initProducer" | "produce";

/** The part of the broker these routes call. */
export type ProduceCore = Pick<Broker, "initProducer" | "produce">;

export const produceHandlers: Record<ProduceRouteId, Handler<ProduceCore>> = {
  async initProducer(c, broker) {
    const body = await readJson(c, initProducerBodySchema);
    if (body.transactionalId !== undefined && isReservedTransactionalId(body.transactionalId)) {
      throw new DynalogError("INVALID_REQUEST", `Transactional ids starting with '${SUBSCRIPTION_TRANSACTIONAL_ID_PREFIX}' are reserved for push subscriptions' exactly-once dispatcher`, {
        details: { transactionalId: body.transactionalId, reservedPrefix: SUBSCRIPTION_TRANSACTIONAL_ID_PREFIX },
      });
    }
    if (body.transactionalId !== undefined) await authorize(c, transactionalId(body.transactionalId, "Write"));
    else await c.var.security.requireIdempotentWrite(c.var.principal);
    // Producer ids are a resource like any other: capped per principal and hour.
    c.var.security.producerIdQuota.check(c.var.principal);
    const producer = await broker.initProducer({ ...body, principal: c.var.principal });
    await c.var.security.producerIdQuota.record(c.var.principal, 0, true);
    return c.json(body.transactionalId === undefined ? producer : { ...producer, transactionalId: body.transactionalId });
  },

  async produce(c, broker) {
    const body = await readJson(c, produceBodySchema);
    await authorize(c, topic(c.req.param("topic")!, "Write"));
    const encoding = body.encoding ?? "base64";
    if ((body.producerId === undefined) !== (body.producerEpoch === undefined)) {
      throw new DynalogError("INVALID_PRODUCER_EPOCH", "producerId and producerEpoch go together");
    }
    const result = await broker.produce({
      topic: c.req.param("topic")!,
      compression: parseCompression(body.compression),
      producer: body.producerId !== undefined ? { producerId: body.producerId, epoch: body.producerEpoch! } : undefined,
      principal: c.var.principal,
      records: body.records?.map((r, i) => toProduceRecord(r, encoding, `records[${i}]`)),
      partitions: body.partitions?.map((p, i) => ({
        partition: p.partition,
        baseSequence: p.baseSequence,
        records: p.records.map((r, j) => toProduceRecord(r, encoding, `partitions[${i}].records[${j}]`)),
      })),
    });
    const partitions = result.partitions.map((p) => ("error" in p ? { partition: p.partition, error: p.error.toJSON() } : p));
    const failures = result.partitions.flatMap((p) => ("error" in p ? [p.error] : []));
    if (failures.length === 0) return c.json({ topic: result.topic, partitions });
    // All failed: the first failure's status. Some failed: 207, and each partition says how it went.
    if (failures.length === result.partitions.length) {
      return c.json({ error: failures[0]!.toJSON(), topic: result.topic, partitions }, failures[0]!.status as 400);
    }
    return c.json({ topic: result.topic, partitions }, 207);
  },
};
