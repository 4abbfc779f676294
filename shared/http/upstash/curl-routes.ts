/**
 * The dialect's forms documented for curl rather than called by @upstash/kafka (docs/upstash.md):
 * a message in the path, a topic in the path, a consume by GET, and webhooks (the request body is
 * the value). Same core, authentication and answers as the JSON routes.
 */
import * as z from "../../zod.js";
import type { ProduceRecord } from "../../core/produce.js";
import { parseWith, readJson, readRawBody } from "../request-body.js";
import type { Broker } from "../../core/broker.js";
import { consume, instanceParams, type ConsumerCore } from "./consumers.js";
import type { UpstashHandler } from "./mapping.js";
import { idempotencyKeyOf, outgoing, produceRecords } from "./produce.js";
import { nonNegativeIntegerText, upstashTopicMessagesBodySchema } from "./schemas.js";

export type CurlRouteId = "upstashProduceMessage" | "upstashProduceTopic" | "upstashConsumeTopic" | "upstashWebhook";

const utf8 = new TextEncoder();

/**
 * Request headers that describe the HTTP exchange, not the event: a webhook does not turn them
 * into record headers. Exact names, then prefixes (proxies', API Gateway's, CDNs', browsers').
 */
const TRANSPORT_HEADERS = new Set([
  "accept", "accept-charset", "accept-encoding", "accept-language", "authorization", "cache-control", "connection",
  "content-encoding", "content-length", "content-type", "cookie", "date", "expect", "forwarded", "from", "host",
  "if-match", "if-modified-since", "if-none-match", "if-range", "if-unmodified-since", "keep-alive", "origin",
  "pragma", "priority", "proxy-authorization", "proxy-connection", "range", "referer", "te", "trailer",
  "transfer-encoding", "upgrade", "user-agent", "via", "x-real-ip", "x-request-id",
]);
const TRANSPORT_PREFIXES = ["x-forwarded-", "x-amz-", "x-amzn-", "cloudfront-", "cf-", "sec-"];

function isTransportHeader(name: string): boolean {
  return TRANSPORT_HEADERS.has(name) || TRANSPORT_PREFIXES.some((p) => name.startsWith(p));
}

const webhookTopicSchema = z.string().check(z.minLength(1, "name the target topic: /webhook?topic=<topic>"));

/** The produce function's curl forms. */
export function curlProduceHandlers(): Record<Exclude<CurlRouteId, "upstashConsumeTopic">, UpstashHandler<Pick<Broker, "produce">>> {
  return {
    /** `GET /produce/{topic}/{message}?key=`: the path segment (percent-decoded) is the value. */
    async upstashProduceMessage(c, broker) {
      const topic = c.req.param("topic")!;
      const key = c.req.query("key");
      const answers = await produceRecords(c, broker, [outgoing({ topic, value: c.req.param("message")!, ...(key === undefined ? {} : { key }) })]);
      return c.json(answers[0]!);
    },

    /** `POST /produce/{topic}`: a JSON message without `topic`, or an array; answers in kind (one place, or an array). */
    async upstashProduceTopic(c, broker) {
      const topic = c.req.param("topic")!;
      const body = await readJson(c, upstashTopicMessagesBodySchema, { anyMediaType: true });
      const answers = await produceRecords(c, broker, (Array.isArray(body) ? body : [body]).map((m) => outgoing({ ...m, topic })));
      return c.json(Array.isArray(body) ? answers : answers[0]!);
    },

    /**
     * `POST /webhook?topic=`: the body, as sent, is the value; the request's own headers (not the
     * transport's) are the record's headers, names lower-cased.
     */
    async upstashWebhook(c, broker) {
      const topic = parseWith(webhookTopicSchema, c.req.query("topic") ?? "", "query.topic");
      const headers = Object.entries(c.req.header())
        .filter(([name]) => !isTransportHeader(name))
        .map(([key, value]) => ({ key, value }));
      const body = await readRawBody(c);
      const record: ProduceRecord = { key: null, value: body, headers: headers.map((h) => ({ key: h.key, value: utf8.encode(h.value) })) };
      const answers = await produceRecords(c, broker, [{ topic, record, idempotencyKey: idempotencyKeyOf(headers) }]);
      return c.json(answers[0]!);
    },
  };
}

/** The commit function's curl form: a consume by GET. */
export function curlConsumeHandlers(): Record<"upstashConsumeTopic", UpstashHandler<ConsumerCore>> {
  return {
    /** `GET /consume/{group}/{instance}/{topic}?timeout=`: `POST /consume/{group}/{instance}` for one topic. */
    async upstashConsumeTopic(c, broker) {
      instanceParams(c);
      const raw = c.req.query("timeout");
      const timeout = raw === undefined ? undefined : Number(parseWith(nonNegativeIntegerText, raw, "query.timeout"));
      return consume(c, broker, { topic: c.req.param("topic")!, timeout });
    },
  };
}
