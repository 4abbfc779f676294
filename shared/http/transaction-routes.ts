/** HTTP handler of the transactions function: records and offsets committed in one DynamoDB transaction. */
import { parseCompression } from "../core/batches.js";
import { authorize, group, topic, transactionalId } from "./authorization.js";
import type { Broker } from "../core/broker.js";
import type { Handler } from "./compose.js";
import { readJson } from "./request-body.js";
import { toProduceRecord } from "./route-helpers.js";
import { transactionBodySchema } from "./schemas.js";

export type TransactionRouteId = "commitTransaction";

export const transactionHandlers: Record<TransactionRouteId, Handler<Pick<Broker, "commitTransaction">>> = {
  async commitTransaction(c, broker) {
    const body = await readJson(c, transactionBodySchema);
    await authorize(
      c,
      ...(body.transactionalId !== undefined ? [transactionalId(body.transactionalId, "Write")] : []),
      ...(body.records ?? []).map((r) => topic(r.topic, "Write")),
      ...(body.offsets ? [group(body.offsets.group, "Read"), ...body.offsets.offsets.map((o) => topic(o.topic, "Read"))] : []),
    );
    const encoding = body.encoding ?? "base64";
    const result = await broker.commitTransaction({
      transactionalId: body.transactionalId,
      producerId: body.producerId,
      producerEpoch: body.producerEpoch,
      transactionSequence: body.transactionSequence,
      compression: parseCompression(body.compression),
      records: (body.records ?? []).map((r, i) => ({ ...toProduceRecord(r, encoding, `records[${i}]`), topic: r.topic })),
      offsets: body.offsets,
      principal: c.var.principal,
    });
    return c.json({ committed: true, ...result });
  },
};
