/**
 * The Upstash-compatible REST dialect (docs/upstash.md): the routes @upstash/kafka 1.3.5 calls, at
 * the root beside /v1, as an adapter over the same broker core — parse, authorize, call the core,
 * shape the answer the client expects. Consumer-instance routes are in consumers.ts.
 */
import type { Broker, OffsetSpec } from "../../core/broker.js";
import { DynalogError } from "../../errors.js";
import { authorize, mayAccess, topic, type AuthEnv } from "../authorization.js";
import { parseWith, readJson } from "../request-body.js";
import type { ConsumerRouteId } from "./consumers.js";
import type { CurlRouteId } from "./curl-routes.js";
import { fetchMessages, toMilliseconds, type UpstashHandler } from "./mapping.js";
import { outgoing, produceRecords } from "./produce.js";
import { nonNegativeIntegerText, upstashFetchBodySchema, upstashProduceBodySchema, upstashTopicPartitionsSchema } from "./schemas.js";

/**
 * Every route of the dialect. Each function composes only its own handlers
 * (shared/http/function-routes/<fn>.ts): these, consumers.ts and curl-routes.ts.
 */
export type UpstashRouteId = "upstashProduce" | "upstashFetch" | "upstashTopics" | "upstashOffsets" | ConsumerRouteId | CurlRouteId;

/** The produce function's route of the dialect. */
export function upstashProduceHandlers(): Record<"upstashProduce", UpstashHandler<Pick<Broker, "produce">>> {
  return {
    /** One record or an array; always answers an array, in request order. */
    async upstashProduce(c, broker) {
      const body = await readJson(c, upstashProduceBodySchema);
      const records = (Array.isArray(body) ? body : [body]).map(outgoing);
      return c.json(await produceRecords(c, broker, records));
    },
  };
}

/** The fetch function's routes of the dialect. */
export function upstashFetchHandlers(): Record<"upstashFetch" | "upstashOffsets", UpstashHandler<Pick<Broker, "fetch" | "listOffsets">>> {
  return {
    async upstashFetch(c, broker) {
      const body = await readJson(c, upstashFetchBodySchema);
      const partitions = [...(body.topicPartitionOffsets ?? [])];
      if (body.topic !== undefined) partitions.push({ topic: body.topic, partition: body.partition!, offset: body.offset! });
      await authorize(c, ...partitions.map((p) => topic(p.topic, "Read")));
      const { messages } = await fetchMessages(broker, partitions, body.timeout);
      return c.json(messages);
    },

    /** earliest, latest, or the first offset at or after a timestamp (seconds or ms); none after it → latest. */
    async upstashOffsets(c, broker) {
      const raw = c.req.param("timestamp")!;
      const spec: OffsetSpec =
        raw === "earliest" || raw === "latest"
          ? { kind: raw }
          : { kind: "timestamp", timestamp: toMilliseconds(Number(parseWith(nonNegativeIntegerText, raw, "path.timestamp (earliest, latest, or seconds or milliseconds since the epoch)"))) };
      const body = await readJson(c, upstashTopicPartitionsSchema);
      if (!Array.isArray(body) || body.length === 0) throw new DynalogError("INVALID_REQUEST", "The body must be a non-empty array of {topic, partition}");
      await authorize(c, ...body.map((p) => topic(p.topic, "Describe")));
      const offsets = await Promise.all(
        body.map(async (p) => {
          const listed = await broker.listOffsets(p.topic, p.partition, spec);
          const offset = listed.offset ?? (await broker.listOffsets(p.topic, p.partition, { kind: "latest" })).offset!;
          return { topic: p.topic, partition: p.partition, offset };
        }),
      );
      return c.json(offsets);
    },
  };
}

/** The admin function's topic listing of the dialect (its consumer listing is in consumers.ts). */
export function upstashTopicHandlers(): Record<"upstashTopics", UpstashHandler<Pick<Broker, "listTopics">>> {
  return {
    async upstashTopics(c, broker) {
      const topics = await broker.listTopics();
      const visible: Record<string, number> = {};
      for (const t of topics) if (await mayAccess(c, topic(t.name, "Describe"))) visible[t.name] = t.partitions;
      return c.json(visible);
    },
  };
}
