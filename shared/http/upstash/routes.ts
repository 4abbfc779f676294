/**
 * The Upstash-compatible REST dialect (docs/upstash.md): the routes @upstash/kafka 1.3.5 calls, at
 * the root beside /v1, as an adapter over the same broker core — parse, authorize, call the core,
 * shape the answer the client expects. Consumer-instance routes are in consumers.ts.
 */
import type { Context } from "hono";
import type { Broker, OffsetSpec } from "../../core/broker.js";
import { DynalogError } from "../../errors.js";
import { authorize, mayAccess, topic, type AuthEnv } from "../authorization.js";
import { parseWith, readJson } from "../request-body.js";
import { consumerHandlers, type ConsumerRouteId } from "./consumers.js";
import { fetchMessages, toMilliseconds, toProduceRecord, type UpstashHandler } from "./mapping.js";
import { nonNegativeIntegerText, upstashFetchBodySchema, upstashProduceBodySchema, upstashTopicPartitionsSchema, type UpstashProduceRecord } from "./schemas.js";

export type UpstashRouteId = "upstashProduce" | "upstashFetch" | "upstashTopics" | "upstashOffsets" | ConsumerRouteId;

/** Each record is its own core produce (routes.ts): capped so a request ends well within Lambda's time. */
export const MAX_RECORDS_PER_UPSTASH_PRODUCE = 500;

interface ProducedRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly timestamp: number;
}

async function produceOne(c: Context<AuthEnv>, broker: Broker, record: UpstashProduceRecord): Promise<ProducedRecord> {
  const now = Date.now();
  const result = await broker.produce({ topic: record.topic, records: [toProduceRecord(record)], principal: c.var.principal });
  const written = result.partitions[0]!;
  if ("error" in written) throw written.error;
  const timestamp = record.timestamp === undefined ? now : toMilliseconds(record.timestamp);
  return { topic: record.topic, partition: written.partition, offset: written.baseOffset, timestamp };
}

/** Every route of the dialect; each function composes only its own (functions/*.ts). */
export function upstashHandlers(): Record<UpstashRouteId, UpstashHandler> {
  return { ...consumerHandlers(), ...upstashProduceHandlers(), ...upstashFetchHandlers(), ...upstashTopicHandlers() };
}

/** The produce function's route of the dialect. */
export function upstashProduceHandlers(): Record<"upstashProduce", UpstashHandler> {
  return {
    /** One record or an array; always answers an array, in request order. */
    async upstashProduce(c, broker) {
      const body = await readJson(c, upstashProduceBodySchema);
      const records = Array.isArray(body) ? body : [body];
      if (records.length > MAX_RECORDS_PER_UPSTASH_PRODUCE) {
        throw new DynalogError("REQUEST_TOO_LARGE", `At most ${MAX_RECORDS_PER_UPSTASH_PRODUCE} records per produce request on this route, got ${records.length}`);
      }
      await authorize(c, ...records.map((r) => topic(r.topic, "Write")));
      // Each topic's records in order, one at a time (so each gets its own partition and offset
      // back); topics in parallel.
      const byTopic = new Map<string, number[]>();
      records.forEach((r, i) => byTopic.set(r.topic, [...(byTopic.get(r.topic) ?? []), i]));
      const answers: ProducedRecord[] = new Array<ProducedRecord>(records.length);
      await Promise.all(
        [...byTopic.values()].map(async (indexes) => {
          for (const i of indexes) answers[i] = await produceOne(c, broker, records[i]!);
        }),
      );
      return c.json(answers);
    },
  };
}

/** The fetch function's routes of the dialect. */
export function upstashFetchHandlers(): Record<"upstashFetch" | "upstashOffsets", UpstashHandler> {
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
export function upstashTopicHandlers(): Record<"upstashTopics", UpstashHandler> {
  return {
    async upstashTopics(c, broker) {
      const topics = await broker.listTopics();
      const visible: Record<string, number> = {};
      for (const t of topics) if (await mayAccess(c, topic(t.name, "Describe"))) visible[t.name] = t.partitions;
      return c.json(visible);
    },
  };
}
