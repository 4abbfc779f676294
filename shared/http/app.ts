/**
 * The HTTP API as a Hono app: Request → Response, runtime-agnostic. Lambda (via the adapter in
 * shared/runtime), the local server and in-process tests all serve this same app. Handlers here
 * parse and validate, call the broker core, and shape the response; nothing else.
 */
import { Hono, type Context } from "hono";
import type { Broker, OffsetSpec } from "../core/broker.js";
import type { FetchedRecord } from "../core/log-reader.js";
import type { PartitionFetchResult } from "../core/fetch.js";
import type { ProduceRecord } from "../core/produce.js";
import type { TopicRecord } from "../core/ports.js";
import { parseCompression } from "../core/batches.js";
import { parseCleanupPolicy, parseTimestampType } from "../core/topics.js";
import { DynalogError } from "../errors.js";
import { encodedStringBytes } from "../limits.js";
import { decodeHeaders, decodeNullableBytes, encodeBytes } from "./encoding.js";
import { parseWith, readJson } from "./request-body.js";
import { errorResponse, errorResponse as jsonErrorResponse, toDynalogError } from "./responses.js";
import { ROUTES, SUBSCRIPTION_ROUTES, matchesPath, type FunctionName, type RouteId, type SubscriptionRouteId } from "./routes.js";
import { DEFAULT_SECURITY_CONFIG, Security } from "../security/security.js";
import type { SecurityStore } from "../security/ports.js";
import { authorize, authorizeAny, cluster, group, mayAccess, securityMiddleware, topic, transactionalId, type AuthEnv } from "./authorization.js";
import { securityHandlers, type SecurityRouteId } from "./security-routes.js";
import { lifecycleHandlers, type LifecycleRouteId } from "./lifecycle-routes.js";
import { subscriptionHandlers } from "./subscription-routes.js";
import { isUpstashPath, upstashErrorResponse } from "./upstash/mapping.js";
import { upstashHandlers, type UpstashRouteId } from "./upstash/routes.js";
import {
  commitBodySchema,
  createTopicBodySchema,
  encodingSchema,
  fetchBodySchema,
  heartbeatBodySchema,
  initProducerBodySchema,
  produceBodySchema,
  queryInteger,
  transactionBodySchema,
  queryOffset,
  type Encoding,
  type RecordBody,
} from "./schemas.js";

export interface ApiOptions {
  /** Serve only the routes of these functions (a Lambda serves its own); default all. */
  readonly functions?: readonly FunctionName[];
  /** Authentication, ACLs and quotas; default off (every caller is a super-user). */
  readonly security?: Security;
  /** The caller's SigV4-verified IAM identity, when the runtime has one (API Gateway's IAM auth). */
  readonly iamIdentity?: (c: Context) => string | undefined;
  /**
   * Serve the push-subscription routes (SUBSCRIPTION_ROUTES): only where a dispatcher delivers
   * them (the local broker); default off.
   */
  readonly subscriptions?: boolean;
  /** Called for every unexpected (500) error, e.g. to log it. */
  readonly onUnexpectedError?: (error: unknown) => void;
}

type Handler = (c: Context<AuthEnv>, broker: Broker) => Promise<Response>;

/** Security switched off: never reads its store. */
const OPEN = new Security(
  new Proxy({} as SecurityStore, { get: () => () => Promise.reject(new Error("security is disabled")) }),
  DEFAULT_SECURITY_CONFIG,
);

/** The API as a Hono app; `app.fetch` serves it on any runtime. */
export type DynalogApi = Hono<AuthEnv>;

export function createApi(broker: Broker, options: ApiOptions = {}): DynalogApi {
  const app = new Hono<AuthEnv>();
  const routes = options.subscriptions ? [...ROUTES, ...SUBSCRIPTION_ROUTES] : ROUTES;
  const served = routes.filter((r) => !options.functions || options.functions.includes(r.fn));
  const security = options.security ?? OPEN;
  // Once per path (several methods share one): authentication and quota before any handler.
  // Before anything else, authentication included: a path that does not decode cannot name
  // anything, and every parameter handlers read is then well-formed.
  app.use("*", async (c, next) => {
    refuseUndecodablePath(c.req.raw.url);
    await next();
  });
  const guard = securityMiddleware(security, (c) => ({ authorization: c.req.header("authorization"), iamArn: options.iamIdentity?.(c) }));
  for (const path of new Set(served.map((r) => r.path))) app.use(path, guard);
  const handlers: Record<RouteId, Handler> = { ...HANDLERS, ...lifecycleHandlers, ...securityHandlers(security), ...upstashHandlers(), ...subscriptionHandlers };
  for (const route of served) {
    const handler = handlers[route.id];
    app.on(route.method, route.path, (c) => handler(c, broker));
  }
  app.notFound((c) => {
    const path = new URL(c.req.url).pathname;
    const errorResponse = isUpstashPath(path) ? upstashErrorResponse : jsonErrorResponse;
    const known = served.filter((r) => matchesPath(r, path));
    if (known.length > 0) {
      const allowed = [...new Set(known.map((r) => r.method))].join(", ");
      const response = errorResponse(new DynalogError("METHOD_NOT_ALLOWED", `${c.req.method} is not allowed on ${path}; use ${allowed}`));
      response.headers.set("Allow", allowed);
      return response;
    }
    return errorResponse(new DynalogError("NOT_FOUND", `No route ${c.req.method} ${path}`));
  });
  app.onError((error, c) => {
    const mapped = toDynalogError(error);
    if (mapped.code === "UNKNOWN_SERVER_ERROR") options.onUnexpectedError?.(error);
    // The Upstash dialect's clients read `error` as a message string (docs/upstash.md).
    const response = (isUpstashPath(new URL(c.req.url).pathname) ? upstashErrorResponse : errorResponse)(mapped);
    if (mapped.code === "THROTTLING_QUOTA_EXCEEDED") response.headers.set("Retry-After", String(Math.max(1, Math.ceil(Number(mapped.details["retryAfterMs"] ?? 1000) / 1000))));
    if (mapped.code === "AUTHENTICATION_FAILED") response.headers.set("WWW-Authenticate", 'Bearer realm="dynalog"');
    return response;
  });
  return app;
}

// ---- request parsing -------------------------------------------------------------------------

/** A malformed percent-escape (`%zz`) or escaped bytes that are not UTF-8 (`%ED%A0%80`) → 400. */
function refuseUndecodablePath(url: string): void {
  const path = url.replace(/^[a-z]+:\/\/[^/]*/i, "").split(/[?#]/, 1)[0]!;
  try {
    decodeURIComponent(path);
  } catch {
    throw new DynalogError("INVALID_REQUEST", `The path is not valid percent-encoded UTF-8: ${path.slice(0, 200)}`, { details: { path: path.slice(0, 200) } });
  }
}

function queryInt(c: Context, name: string): number | undefined {
  const raw = c.req.query(name);
  return raw === undefined ? undefined : parseWith(queryInteger, raw, `query.${name}`);
}

function pathInt(c: Context, name: string): number {
  return parseWith(queryInteger, c.req.param(name), `path.${name}`);
}

function queryEncoding(c: Context): Encoding {
  const raw = c.req.query("encoding");
  return raw === undefined ? "base64" : parseWith(encodingSchema, raw, "query.encoding");
}

function toProduceRecord(record: Omit<RecordBody, "partition"> & { partition?: number }, encoding: Encoding, where: string): ProduceRecord {
  return {
    key: decodeNullableBytes(record.key, encoding, `${where}.key`),
    value: decodeNullableBytes(record.value, encoding, `${where}.value`),
    headers: decodeHeaders(record.headers, encoding, where),
    timestamp: record.timestamp,
    partition: record.partition,
  };
}

// ---- response shaping ------------------------------------------------------------------------

function topicJson(topic: TopicRecord) {
  return {
    name: topic.name,
    topicId: topic.topicId,
    partitionCount: topic.partitions,
    retentionMs: topic.retentionMs,
    compression: topic.compression,
    timestampType: topic.timestampType,
    cleanupPolicy: topic.cleanupPolicy,
    deleteRetentionMs: topic.deleteRetentionMs,
    minCompactionLagMs: topic.minCompactionLagMs,
    createdAt: new Date(topic.createdAt).toISOString(),
  };
}

function recordJson(record: FetchedRecord, encoding: Encoding) {
  const json: Record<string, unknown> = { offset: record.offset, timestamp: record.timestamp };
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
function recordEncoder(encoding: Encoding) {
  const encoded = new WeakMap<FetchedRecord, Record<string, unknown>>();
  const json = (record: FetchedRecord): Record<string, unknown> => {
    let value = encoded.get(record);
    if (value === undefined) encoded.set(record, (value = recordJson(record, encoding)));
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

// ---- handlers --------------------------------------------------------------------------------

const HANDLERS: Record<Exclude<RouteId, SecurityRouteId | LifecycleRouteId | UpstashRouteId | SubscriptionRouteId>, Handler> = {
  async createTopic(c, broker) {
    const body = await readJson(c, createTopicBodySchema);
    await authorizeAny(c, topic(body.name, "Create"), cluster("Create"));
    const created = await broker.createTopic({
      ...body,
      compression: parseCompression(body.compression),
      timestampType: parseTimestampType(body.timestampType),
      cleanupPolicy: parseCleanupPolicy(body.cleanupPolicy),
    });
    return c.json(topicJson(created), 201);
  },

  async listTopics(c, broker) {
    const topics = await broker.listTopics();
    const visible = await filterAsync(topics, (t) => mayAccess(c, topic(t.name, "Describe")));
    return c.json({ topics: visible.map(topicJson) });
  },

  async describeTopic(c, broker) {
    await authorize(c, topic(c.req.param("topic")!, "Describe"));
    const description = await broker.describeTopic(c.req.param("topic")!);
    return c.json({ ...topicJson(description.topic), partitions: description.partitions });
  },

  async deleteTopic(c, broker) {
    await authorize(c, topic(c.req.param("topic")!, "Delete"));
    const removed = await broker.deleteTopic(c.req.param("topic")!);
    return c.json({ deleted: removed.name, topicId: removed.topicId });
  },

  async initProducer(c, broker) {
    const body = await readJson(c, initProducerBodySchema);
    if (body.transactionalId !== undefined) await authorize(c, transactionalId(body.transactionalId, "Write"));
    else await c.var.security.requireIdempotentWrite(c.var.principal);
    // Producer ids are a resource like any other: capped per principal and hour.
    c.var.security.producerIdQuota.check(c.var.principal);
    const producer = await broker.initProducer({ ...body, principal: c.var.principal });
    await c.var.security.producerIdQuota.record(c.var.principal, 0, true);
    return c.json(body.transactionalId === undefined ? producer : { ...producer, transactionalId: body.transactionalId });
  },

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

  async fetch(c, broker) {
    const body = await readJson(c, fetchBodySchema);
    await authorize(c, ...body.partitions.map((p) => topic(p.topic, "Read")));
    const encoder = recordEncoder(body.encoding ?? "base64");
    const results = await broker.fetch({ ...body, measureRecord: encoder.bytes });
    return c.json({ partitions: results.map((r) => fetchResultJson(r, encoder.json)) });
  },

  async fetchPartition(c, broker) {
    const encoder = recordEncoder(queryEncoding(c));
    const rawOffset = c.req.query("offset");
    const offset = rawOffset === undefined ? undefined : parseWith(queryOffset, rawOffset, "query.offset");
    if (offset === undefined) throw new DynalogError("INVALID_REQUEST", "query.offset is required");
    await authorize(c, topic(c.req.param("topic")!, "Read"));
    const [result] = await broker.fetch({
      partitions: [{ topic: c.req.param("topic")!, partition: pathInt(c, "partition"), offset }],
      maxRecords: queryInt(c, "maxRecords"),
      maxBytes: queryInt(c, "maxBytes"),
      maxWaitMs: queryInt(c, "maxWaitMs"),
      measureRecord: encoder.bytes,
    });
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

  async commitOffsets(c, broker) {
    const body = await readJson(c, commitBodySchema);
    const groupId = c.req.param("group")!;
    await authorize(c, group(groupId, "Read"), ...body.offsets.map((o) => topic(o.topic, "Read")));
    await broker.commitOffsets(groupId, body.offsets, { memberId: body.memberId, memberEpoch: body.memberEpoch });
    return c.json({ group: groupId, offsets: body.offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset })) });
  },

  async committedOffsets(c, broker) {
    const topicName = c.req.query("topic");
    if (topicName === undefined) throw new DynalogError("INVALID_REQUEST", "query.topic is required");
    const groupId = c.req.param("group")!;
    await authorize(c, group(groupId, "Describe"), topic(topicName, "Describe"));
    const reset = c.req.query("reset");
    if (reset !== undefined && reset !== "earliest" && reset !== "latest" && reset !== "none") {
      throw new DynalogError("INVALID_REQUEST", "query.reset must be earliest, latest or none");
    }
    const rawPartitions = c.req.query("partitions");
    const partitions = rawPartitions === undefined ? undefined : rawPartitions.split(",").map((p) => parseWith(queryInteger, p, "query.partitions"));
    const result = await broker.committedOffsets(groupId, topicName, { reset, partitions });
    return c.json({
      group: groupId,
      topic: topicName,
      partitions: result.map((p) => ({ ...p, committedAt: p.committedAt === null ? null : new Date(p.committedAt).toISOString() })),
    });
  },

  async groupHeartbeat(c, broker) {
    const body = await readJson(c, heartbeatBodySchema);
    await authorize(c, group(c.req.param("group")!, "Read"), ...(body.topics ?? []).map((t) => topic(t, "Describe")));
    const result = await broker.heartbeat(c.req.param("group")!, {
      ...body,
      instanceId: body.instanceId ?? undefined,
      serverAssignor: body.serverAssignor ?? undefined,
    });
    return c.json(result);
  },

  async removeGroupMember(c, broker) {
    const groupId = c.req.param("group")!;
    const memberId = c.req.param("memberId")!;
    await authorize(c, group(groupId, "Read"));
    const result = await broker.removeMember(groupId, memberId);
    return c.json({ group: groupId, memberId, removed: true, groupEpoch: result.groupEpoch });
  },

  async listGroups(c, broker) {
    const groups = await broker.listGroups();
    return c.json({ groups: await filterAsync(groups, (g) => mayAccess(c, group(g.group, "Describe"))) });
  },

  async describeGroup(c, broker) {
    await authorize(c, group(c.req.param("group")!, "Describe"));
    const description = await broker.describeGroup(c.req.param("group")!);
    const iso = (ms: number) => new Date(ms).toISOString();
    // Offsets, high watermarks and lag are topic data: shown only for topics the caller may describe.
    const topics = await filterAsync(description.topics, (t) => mayAccess(c, topic(t.topic, "Describe")));
    return c.json({
      ...description,
      topics,
      totalLag: topics.reduce((sum, t) => sum + t.lag, 0),
      members: description.members.map((m) => ({ ...m, joinedAt: iso(m.joinedAt), lastHeartbeatAt: iso(m.lastHeartbeatAt), expiresAt: iso(m.expiresAt) })),
    });
  },
};

async function filterAsync<T>(items: readonly T[], keep: (item: T) => Promise<boolean>): Promise<T[]> {
  const verdicts = await Promise.all(items.map(keep));
  return items.filter((_, i) => verdicts[i]);
}
