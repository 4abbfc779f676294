/** HTTP handlers of the fetch function: fetching records and listing offsets. */
import type { OffsetSpec } from "../core/broker.js";
import type { PartitionFetchResult } from "../core/fetch.js";
import type { FetchedRecord } from "../core/log-reader.js";
import * as z from "../zod.js";
import { DynalogError } from "../errors.js";
import { encodedStringBytes } from "../limits.js";
import { authorize, topic } from "./authorization.js";
import type { Handler } from "./compose.js";
import { encodeBytes } from "./encoding.js";
import { BATCH_MEDIA_TYPE, batchWireBytes, encodeFetchFrame, negotiateBatches } from "./fetch-frame.js";
import type { Context } from "hono";
import type { Broker } from "../core/broker.js";
import type { FetchInput, PartitionFetchRequest } from "../core/fetch.js";
import { parseWith, readJson } from "./request-body.js";
import { pathInt, queryEncoding, queryInt } from "./route-helpers.js";
import { fetchBodySchema, queryInteger, queryOffset, type Encoding } from "./schemas.js";

const metadataFlag = z.enum(["true", "false"]);

export type FetchRouteId = "fetch" | "fetchPartition" | "listOffsets";

function recordJson(record: FetchedRecord, encoding: Encoding, metadata: boolean) {
  const json: Record<string, unknown> = { offset: record.offset, timestamp: record.timestamp };
  // Opt-in (`?metadata=true`): ordinary consumers do not pay for the bytes.
  if (metadata) {
    json["producerId"] = record.producerId ?? null;
    json["transactional"] = record.transaction !== undefined;
  }
  const key = record.key ? encodeBytes(record.key, encoding) : null;
  const value = record.value ? encodeBytes(record.value, encoding) : null;
  json["key"] = key?.text ?? null;
  json["value"] = value?.text ?? null;
  // In utf8 mode, bytes that are not UTF-8 come back as base64 and say so.
  if (key && key.encoding !== encoding) json["keyEncoding"] = key.encoding;
  if (value && value.encoding !== encoding) json["valueEncoding"] = value.encoding;
  json["headers"] = record.headers.map((h) => {
    const headerValue = h.value ? encodeBytes(h.value, encoding) : null;
    return headerValue && headerValue.encoding !== encoding
      ? { key: h.key, value: headerValue.text, valueEncoding: headerValue.encoding }
      : { key: h.key, value: headerValue?.text ?? null };
  });
  return json;
}

/**
 * One fetch request's record encoder: each record is encoded once, when fetch measures it, and the
 * response reuses that JSON (the records the core keeps are the same objects it measured).
 */
function recordEncoder(encoding: Encoding, metadata = false) {
  const encoded = new WeakMap<FetchedRecord, Record<string, unknown>>();
  const json = (record: FetchedRecord): Record<string, unknown> => {
    let value = encoded.get(record);
    if (value === undefined) encoded.set(record, (value = recordJson(record, encoding, metadata)));
    return value;
  };
  return {
    json,
    /**
     * What a fetched record costs in the Lambda result: its JSON (key, value and headers encoded),
     * then escaped again because the response body is itself a JSON string in the result, plus a
     * comma. Fetch's maxBytes counts this, so a quote-heavy record counts up to 4× its raw size.
     */
    bytes: (record: FetchedRecord): number => encodedStringBytes(JSON.stringify(json(record))) - 2 + 1,
  };
}

function fetchResultJson(result: PartitionFetchResult, encode: (record: FetchedRecord) => Record<string, unknown>) {
  if ("error" in result) return { topic: result.topic, partition: result.partition, error: result.error.toJSON() };
  return {
    topic: result.topic,
    partition: result.partition,
    records: result.records.map(encode),
    nextOffset: result.nextOffset,
    highWatermark: result.highWatermark,
    logStartOffset: result.logStartOffset,
  };
}

/** The frame names a partition in a u32 and a topic in at most 65,535 UTF-8 bytes. */
const MAX_FRAME_PARTITION = 2 ** 31 - 1;
const MAX_FRAME_TOPIC_BYTES = 65_535;

/**
 * The binary answer (fetch-frame.ts) when `Accept` asks for it, else undefined. The stored batches
 * go out as they are; the client keeps each partition's records in [offset, nextOffset).
 */
async function fetchBinary(c: Context, broker: Pick<Broker, "fetchBatches">, input: Omit<FetchInput, "measureRecord">, single = false): Promise<Response | undefined> {
  const negotiated = negotiateBatches(c.req.header("accept"));
  if (!negotiated) return undefined;
  for (const [i, p] of input.partitions.entries()) checkFramePartition(p, i);
  const results = await broker.fetchBatches({ ...input, acceptCodecs: negotiated.acceptCodecs, measureBatch: batchWireBytes });
  // The one-partition route answers a partition's error with the HTTP error, as its JSON form does.
  if (single && "error" in results[0]!) throw results[0].error;
  const frame = encodeFetchFrame(results, input.partitions.map((p) => p.offset), (r) => r.error.toJSON());
  return new Response(frame, { status: 200, headers: { "content-type": BATCH_MEDIA_TYPE, vary: "Accept" } });
}

function checkFramePartition(p: PartitionFetchRequest, index: number): void {
  if (!Number.isInteger(p.partition) || p.partition < 0 || p.partition > MAX_FRAME_PARTITION) {
    throw new DynalogError("INVALID_REQUEST", `partitions[${index}].partition must be an integer from 0 to ${MAX_FRAME_PARTITION} in a binary fetch, got ${p.partition}`, { details: { field: `partitions[${index}].partition` } });
  }
  if (new TextEncoder().encode(p.topic).length > MAX_FRAME_TOPIC_BYTES) {
    throw new DynalogError("INVALID_REQUEST", `partitions[${index}].topic is longer than ${MAX_FRAME_TOPIC_BYTES} bytes`, { details: { field: `partitions[${index}].topic` } });
  }
}

/** The part of the broker these routes call. */
export type FetchCore = Pick<Broker, "fetch" | "fetchBatches" | "listOffsets">;

export const fetchHandlers: Record<FetchRouteId, Handler<FetchCore>> = {
  async fetch(c, broker) {
    const body = await readJson(c, fetchBodySchema);
    await authorize(c, ...body.partitions.map((p) => topic(p.topic, "Read")));
    const { metadata, encoding: _encoding, ...input } = body;
    const binary = await fetchBinary(c, broker, input);
    if (binary) return binary;
    const encoder = recordEncoder(body.encoding ?? "base64", metadata ?? false);
    const results = await broker.fetch({ ...input, measureRecord: encoder.bytes });
    return c.json({ partitions: results.map((r) => fetchResultJson(r, encoder.json)) });
  },

  async fetchPartition(c, broker) {
    const encoder = recordEncoder(queryEncoding(c), parseWith(metadataFlag, c.req.query("metadata") ?? "false", "query.metadata") === "true");
    const rawOffset = c.req.query("offset");
    const offset = rawOffset === undefined ? undefined : parseWith(queryOffset, rawOffset, "query.offset");
    if (offset === undefined) throw new DynalogError("INVALID_REQUEST", "query.offset is required");
    await authorize(c, topic(c.req.param("topic")!, "Read"));
    const input = {
      partitions: [{ topic: c.req.param("topic")!, partition: pathInt(c, "partition"), offset }],
      maxRecords: queryInt(c, "maxRecords"),
      maxBytes: queryInt(c, "maxBytes"),
      maxWaitMs: queryInt(c, "maxWaitMs"),
    };
    const binary = await fetchBinary(c, broker, input, true);
    if (binary) return binary;
    const [result] = await broker.fetch({ ...input, measureRecord: encoder.bytes });
    if ("error" in result!) throw result.error;
    return c.json(fetchResultJson(result!, encoder.json));
  },

  async listOffsets(c, broker) {
    await authorize(c, topic(c.req.param("topic")!, "Describe"));
    const at = c.req.query("at") ?? "latest";
    let spec: OffsetSpec;
    if (at === "earliest" || at === "latest") spec = { kind: at };
    else spec = { kind: "timestamp", timestamp: parseWith(queryInteger, at, "query.at (earliest, latest or a timestamp in ms)") };
    return c.json(await broker.listOffsets(c.req.param("topic")!, pathInt(c, "partition"), spec));
  },
};
