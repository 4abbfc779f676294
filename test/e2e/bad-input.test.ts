/**
 * Bad input over real HTTP: every refusal is `{error: {code, message, retriable, outcome}}` with the
 * status from the error table, makes zero DynamoDB writes, and is never a 500. At the end a valid
 * produce still works and the partition holds exactly the records of the valid requests.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ERROR_TABLE, type ErrorCode } from "../../shared/errors.js";
import { MAX_OFFSET_METADATA_BYTES, MAX_RECORD_BYTES, MAX_REQUEST_BODY_BYTES, MAX_SEQUENCE } from "../../shared/limits.js";
import { createTestBroker, createTestTables, serveApp, topicName, type Served, type TestBroker } from "../support/broker.js";
import { b64, jsonClient, unb64, type JsonClient } from "../support/http.js";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { createDynamoSecurityStore } from "../../shared/storage/security-store.js";
import { jsonText, keySizes, mediaTypes, pathEncoding, type Case } from "./bad-input-cases.js";

let served: Served;
let api: JsonClient;
let harness: TestBroker;
/** An existing topic with 3 partitions; partition 0 holds the 3 setup records. */
let topic: string;
/** A topic name that was never created. */
const missing = topicName("never-created");
let producerId: number;
const group = "bad-input-group";

/** Values of every record a valid request wrote to `topic` partition 0, in offset order. */
const stored: string[] = [];

beforeAll(async () => {
  harness = createTestBroker(await createTestTables("badinput"));
  served = await serveApp(harness.app);
  api = jsonClient(served.url);
  topic = topicName("bad");
  expect((await api.post("/v1/topics", { name: topic, partitions: 3 })).status).toBe(201);
  const setupValues = ["setup-0", "setup-1", "setup-2"];
  const produced = await api.post(`/v1/topics/${topic}/records`, { encoding: "utf8", partitions: [{ partition: 0, records: setupValues.map((value) => ({ value })) }] });
  expect(produced.status).toBe(200);
  stored.push(...setupValues);
  const init = await api.post("/v1/producers", {});
  expect(init.status).toBe(200);
  producerId = init.body.producerId;
  // From here on every refusal is checked for zero writes (per request, by command).
  harness.writes.reset();
});
afterAll(async () => served?.close());

// ---- the cases ---------------------------------------------------------------------------------

const P = "{T}"; // readability in paths
const produce = `/v1/topics/${P}/records`;
const rec = (value: string | null = "aGk=") => ({ value });
const big = (bytes: number) => b64(randomBytes(bytes));

const malformed: Case[] = [
  { name: "truncated JSON", method: "POST", path: produce, raw: '{"records": [', status: 400, code: "INVALID_REQUEST" },
  { name: "not JSON at all", method: "POST", path: produce, raw: "records=1", status: 400, code: "INVALID_REQUEST" },
  { name: "JSON with a trailing comma", method: "POST", path: "/v1/topics", raw: '{"name": "x", "partitions": 1,}', status: 400, code: "INVALID_REQUEST" },
  { name: "JSON null body", method: "POST", path: produce, raw: "null", status: 400, code: "INVALID_REQUEST" },
  { name: "JSON array body", method: "POST", path: "/v1/fetch", raw: "[]", status: 400, code: "INVALID_REQUEST" },
  { name: "JSON string body on commit", method: "POST", path: `/v1/groups/${group}/offsets`, raw: '"offsets"', status: 400, code: "INVALID_REQUEST" },
  { name: "empty produce body", method: "POST", path: produce, raw: "", status: 400, code: "INVALID_REQUEST" },
];

const wrongTypes: Case[] = [
  { name: "create: partitions as a string", method: "POST", path: "/v1/topics", body: { name: "ok-name", partitions: "3" }, status: 400, code: "INVALID_REQUEST" },
  { name: "create: fractional partitions", method: "POST", path: "/v1/topics", body: { name: "ok-name", partitions: 1.5 }, status: 400, code: "INVALID_REQUEST" },
  { name: "create: name as a number", method: "POST", path: "/v1/topics", body: { name: 42, partitions: 1 }, status: 400, code: "INVALID_REQUEST" },
  { name: "create: missing partitions", method: "POST", path: "/v1/topics", body: { name: "ok-name" }, status: 400, code: "INVALID_REQUEST" },
  { name: "produce: value as a number", method: "POST", path: produce, body: { records: [{ value: 123 }] }, status: 400, code: "INVALID_REQUEST" },
  { name: "produce: key as an object", method: "POST", path: produce, body: { records: [{ key: { a: 1 }, value: "aGk=" }] }, status: 400, code: "INVALID_REQUEST" },
  { name: "produce: records as an object", method: "POST", path: produce, body: { records: { value: "aGk=" } }, status: 400, code: "INVALID_REQUEST" },
  { name: "produce: partition as a string", method: "POST", path: produce, body: { records: [{ value: "aGk=", partition: "0" }] }, status: 400, code: "INVALID_REQUEST" },
  { name: "produce: partitions[].partition as a string", method: "POST", path: produce, body: { partitions: [{ partition: "0", records: [rec()] }] }, status: 400, code: "INVALID_REQUEST" },
  { name: "produce: timestamp as a string", method: "POST", path: produce, body: { records: [{ value: "aGk=", timestamp: "now" }] }, status: 400, code: "INVALID_REQUEST" },
  { name: "produce: headers as an object", method: "POST", path: produce, body: { records: [{ value: "aGk=", headers: { a: "b" } }] }, status: 400, code: "INVALID_REQUEST" },
  { name: "produce: header key missing", method: "POST", path: produce, body: { records: [{ value: "aGk=", headers: [{ value: "aGk=" }] }] }, status: 400, code: "INVALID_REQUEST" },
  { name: "produce: record without value", method: "POST", path: produce, body: { records: [{ key: "aGk=" }] }, status: 400, code: "INVALID_REQUEST" },
  { name: "produce: producerEpoch as a string", method: "POST", path: produce, body: { producerId: "{P}", producerEpoch: "0", partitions: [{ partition: 0, baseSequence: 0, records: [rec()] }] }, status: 400, code: "INVALID_REQUEST" },
  { name: "fetch: offset as a string", method: "POST", path: "/v1/fetch", body: { partitions: [{ topic: P, partition: 0, offset: "0" }] }, status: 400, code: "INVALID_REQUEST" },
  { name: "fetch: partitions missing", method: "POST", path: "/v1/fetch", body: {}, status: 400, code: "INVALID_REQUEST" },
  { name: "commit: offset as a string", method: "POST", path: `/v1/groups/${group}/offsets`, body: { offsets: [{ topic: P, partition: 0, offset: "1" }] }, status: 400, code: "INVALID_REQUEST" },
  { name: "commit: metadata as a number", method: "POST", path: `/v1/groups/${group}/offsets`, body: { offsets: [{ topic: P, partition: 0, offset: 1, metadata: 7 }] }, status: 400, code: "INVALID_REQUEST" },
];

const unknownFields: Case[] = [
  { name: "mass assignment: a record carrying offset", method: "POST", path: produce, body: { records: [{ value: "aGk=", offset: 0 }] }, status: 400, code: "INVALID_REQUEST" },
  { name: "mass assignment: a partitioned record carrying offset", method: "POST", path: produce, body: { partitions: [{ partition: 0, records: [{ value: "aGk=", offset: 99 }] }] }, status: 400, code: "INVALID_REQUEST" },
  { name: "mass assignment: a partitioned record carrying partition", method: "POST", path: produce, body: { partitions: [{ partition: 0, records: [{ value: "aGk=", partition: 1 }] }] }, status: 400, code: "INVALID_REQUEST" },
  { name: "mass assignment: produce body carrying appendTime", method: "POST", path: produce, body: { appendTime: 0, records: [rec()] }, status: 400, code: "INVALID_REQUEST" },
  { name: "mass assignment: partition entry carrying baseOffset", method: "POST", path: produce, body: { partitions: [{ partition: 0, baseOffset: 0, records: [rec()] }] }, status: 400, code: "INVALID_REQUEST" },
  { name: "unknown field in a header", method: "POST", path: produce, body: { records: [{ value: "aGk=", headers: [{ key: "a", value: null, extra: 1 }] }] }, status: 400, code: "INVALID_REQUEST" },
  { name: "mass assignment: create topic carrying topicId", method: "POST", path: "/v1/topics", body: { name: "ok-name", partitions: 1, topicId: "x" }, status: 400, code: "INVALID_REQUEST" },
  { name: "mass assignment: init producer carrying producerId", method: "POST", path: "/v1/producers", body: { producerId: 1 }, status: 400, code: "INVALID_REQUEST" },
  // Reserved for push subscriptions' exactly-once dispatcher (shared/core/reserved-ids.ts): initing it would fence the dispatcher.
  { name: "init producer with a subscription dispatcher's transactional id", method: "POST", path: "/v1/producers", body: { transactionalId: "sub:orders:0" }, status: 400, code: "INVALID_REQUEST", details: { reservedPrefix: "sub:" } },
  { name: "mass assignment: commit carrying committedAt", method: "POST", path: `/v1/groups/${group}/offsets`, body: { offsets: [{ topic: P, partition: 0, offset: 1, committedAt: 0 }] }, status: 400, code: "INVALID_REQUEST" },
  { name: "unknown field in a fetch partition", method: "POST", path: "/v1/fetch", body: { partitions: [{ topic: P, partition: 0, offset: 0, isolation: "x" }] }, status: 400, code: "INVALID_REQUEST" },
];

const unknownTopic: Case[] = [
  { name: "produce to an unknown topic", method: "POST", path: "/v1/topics/{M}/records", body: { records: [rec()] }, status: 404, code: "UNKNOWN_TOPIC_OR_PARTITION" },
  { name: "fetch from an unknown topic", method: "GET", path: "/v1/topics/{M}/partitions/0/records?offset=0", status: 404, code: "UNKNOWN_TOPIC_OR_PARTITION" },
  { name: "describe an unknown topic", method: "GET", path: "/v1/topics/{M}", status: 404, code: "UNKNOWN_TOPIC_OR_PARTITION" },
  { name: "delete an unknown topic", method: "DELETE", path: "/v1/topics/{M}", status: 404, code: "UNKNOWN_TOPIC_OR_PARTITION" },
  { name: "list offsets of an unknown topic", method: "GET", path: "/v1/topics/{M}/partitions/0/offsets?at=earliest", status: 404, code: "UNKNOWN_TOPIC_OR_PARTITION" },
  { name: "commit for an unknown topic", method: "POST", path: `/v1/groups/${group}/offsets`, body: { offsets: [{ topic: "{M}", partition: 0, offset: 1 }] }, status: 404, code: "UNKNOWN_TOPIC_OR_PARTITION" },
  { name: "committed offsets of an unknown topic", method: "GET", path: `/v1/groups/${group}/offsets?topic={M}`, status: 404, code: "UNKNOWN_TOPIC_OR_PARTITION" },
  // A name DynamoDB cannot even use as a key (> 2048 bytes) must not reach DynamoDB as a 5xx.
  { name: "produce to a 3000-character topic name", method: "POST", path: `/v1/topics/${"n".repeat(3000)}/records`, body: { records: [rec()] }, status: 400, code: "INVALID_TOPIC_EXCEPTION" },
  { name: "fetch from a 3000-character topic name", method: "GET", path: `/v1/topics/${"n".repeat(3000)}/partitions/0/records?offset=0`, status: 400, code: "INVALID_TOPIC_EXCEPTION" },
  { name: "produce to an invalid topic name", method: "POST", path: "/v1/topics/bad%20name/records", body: { records: [rec()] }, status: 400, code: "INVALID_TOPIC_EXCEPTION" },
];

const unknownPartition: Case[] = [
  { name: "produce to partition 3 of 3", method: "POST", path: produce, body: { records: [{ value: "aGk=", partition: 3 }] }, status: 404, code: "UNKNOWN_TOPIC_OR_PARTITION", details: { partition: 3, partitions: 3 } },
  { name: "produce to partition -1", method: "POST", path: produce, body: { partitions: [{ partition: -1, records: [rec()] }] }, status: 404, code: "UNKNOWN_TOPIC_OR_PARTITION" },
  { name: "produce to partition 2^31", method: "POST", path: produce, body: { records: [{ value: "aGk=", partition: 2 ** 31 }] }, status: 404, code: "UNKNOWN_TOPIC_OR_PARTITION" },
  { name: "produce to partition 1e300 (not a safe integer)", method: "POST", path: produce, raw: '{"records": [{"value": "aGk=", "partition": 1e300}]}', status: 400, code: "INVALID_REQUEST" },
  { name: "fetch partition 3 of 3", method: "GET", path: `/v1/topics/${P}/partitions/3/records?offset=0`, status: 404, code: "UNKNOWN_TOPIC_OR_PARTITION" },
  { name: "fetch partition -1 (query syntax is digits only)", method: "GET", path: `/v1/topics/${P}/partitions/-1/records?offset=0`, status: 400, code: "INVALID_REQUEST" },
  { name: "fetch a 16-digit partition", method: "GET", path: `/v1/topics/${P}/partitions/9999999999999999/records?offset=0`, status: 404, code: "UNKNOWN_TOPIC_OR_PARTITION" },
  { name: "fetch a 30-digit partition", method: "GET", path: `/v1/topics/${P}/partitions/${"9".repeat(30)}/records?offset=0`, status: 400, code: "INVALID_REQUEST" },
  { name: "fetch partition 1.5", method: "GET", path: `/v1/topics/${P}/partitions/1.5/records?offset=0`, status: 400, code: "INVALID_REQUEST" },
  { name: "list offsets of partition 3 of 3", method: "GET", path: `/v1/topics/${P}/partitions/3/offsets?at=latest`, status: 404, code: "UNKNOWN_TOPIC_OR_PARTITION" },
  { name: "commit for partition 3 of 3", method: "POST", path: `/v1/groups/${group}/offsets`, body: { offsets: [{ topic: P, partition: 3, offset: 1 }] }, status: 404, code: "UNKNOWN_TOPIC_OR_PARTITION" },
  { name: "commit for partition -1", method: "POST", path: `/v1/groups/${group}/offsets`, body: { offsets: [{ topic: P, partition: -1, offset: 1 }] }, status: 404, code: "UNKNOWN_TOPIC_OR_PARTITION" },
];

const range = { logStartOffset: 0, highWatermark: 3 };
const offsets: Case[] = [
  { name: "fetch beyond the high watermark", method: "GET", path: `/v1/topics/${P}/partitions/0/records?offset=4`, status: 416, code: "OFFSET_OUT_OF_RANGE", details: { ...range, offset: 4, partition: 0 } },
  { name: "fetch far beyond the high watermark", method: "GET", path: `/v1/topics/${P}/partitions/0/records?offset=1000000`, status: 416, code: "OFFSET_OUT_OF_RANGE", details: range },
  { name: "fetch at the largest safe integer offset (2^53 - 1)", method: "GET", path: `/v1/topics/${P}/partitions/0/records?offset=${Number.MAX_SAFE_INTEGER}`, status: 416, code: "OFFSET_OUT_OF_RANGE", details: { ...range, offset: Number.MAX_SAFE_INTEGER } },
  { name: "fetch at a negative offset", method: "GET", path: `/v1/topics/${P}/partitions/0/records?offset=-1`, status: 416, code: "OFFSET_OUT_OF_RANGE", details: { ...range, offset: -1 } },
  { name: "fetch at offset -9000000000000000", method: "GET", path: `/v1/topics/${P}/partitions/0/records?offset=-9000000000000000`, status: 416, code: "OFFSET_OUT_OF_RANGE", details: range },
  // Above 2^53 an offset cannot be represented exactly (JSON numbers are doubles): malformed, not merely out of range.
  { name: "fetch at a 16-digit offset above 2^53", method: "GET", path: `/v1/topics/${P}/partitions/0/records?offset=9999999999999999`, status: 400, code: "INVALID_REQUEST" },
  { name: "fetch at a 30-digit offset", method: "GET", path: `/v1/topics/${P}/partitions/0/records?offset=${"9".repeat(30)}`, status: 400, code: "INVALID_REQUEST" },
  { name: "POST fetch at an offset above 2^53", method: "POST", path: "/v1/fetch", raw: `{"partitions": [{"topic": "{T}", "partition": 0, "offset": 9007199254740993}]}`, status: 400, code: "INVALID_REQUEST" },
  { name: "POST fetch at offset 1e300", method: "POST", path: "/v1/fetch", raw: `{"partitions": [{"topic": "{T}", "partition": 0, "offset": 1e300}]}`, status: 400, code: "INVALID_REQUEST" },
  { name: "GET fetch without an offset", method: "GET", path: `/v1/topics/${P}/partitions/0/records`, status: 400, code: "INVALID_REQUEST" },
  { name: "GET fetch at offset 'abc'", method: "GET", path: `/v1/topics/${P}/partitions/0/records?offset=abc`, status: 400, code: "INVALID_REQUEST" },
  { name: "GET fetch at offset 1.5", method: "GET", path: `/v1/topics/${P}/partitions/0/records?offset=1.5`, status: 400, code: "INVALID_REQUEST" },
  { name: "POST fetch at offset 1.5", method: "POST", path: "/v1/fetch", body: { partitions: [{ topic: P, partition: 0, offset: 1.5 }] }, status: 400, code: "INVALID_REQUEST" },
  { name: "list offsets at a timestamp that is not a number", method: "GET", path: `/v1/topics/${P}/partitions/0/offsets?at=yesterday`, status: 400, code: "INVALID_REQUEST" },
];

const fetchLimits: Case[] = [
  { name: "GET fetch maxWaitMs above the cap", method: "GET", path: `/v1/topics/${P}/partitions/0/records?offset=0&maxWaitMs=20001`, status: 400, code: "INVALID_REQUEST" },
  { name: "POST fetch maxWaitMs above the cap", method: "POST", path: "/v1/fetch", body: { maxWaitMs: 20_001, partitions: [{ topic: P, partition: 0, offset: 0 }] }, status: 400, code: "INVALID_REQUEST" },
  { name: "POST fetch negative maxWaitMs", method: "POST", path: "/v1/fetch", body: { maxWaitMs: -1, partitions: [{ topic: P, partition: 0, offset: 0 }] }, status: 400, code: "INVALID_REQUEST" },
  { name: "GET fetch maxRecords 0", method: "GET", path: `/v1/topics/${P}/partitions/0/records?offset=0&maxRecords=0`, status: 400, code: "INVALID_REQUEST" },
  { name: "POST fetch maxBytes 0", method: "POST", path: "/v1/fetch", body: { maxBytes: 0, partitions: [{ topic: P, partition: 0, offset: 0 }] }, status: 400, code: "INVALID_REQUEST" },
  { name: "POST fetch per-partition maxRecords above the cap", method: "POST", path: "/v1/fetch", body: { partitions: [{ topic: P, partition: 0, offset: 0, maxRecords: 10_001 }] }, status: 400, code: "INVALID_REQUEST" },
  { name: "POST fetch with no partitions", method: "POST", path: "/v1/fetch", body: { partitions: [] }, status: 400, code: "INVALID_REQUEST" },
  { name: "POST fetch of 101 partitions", method: "POST", path: "/v1/fetch", body: { partitions: Array.from({ length: 101 }, () => ({ topic: P, partition: 0, offset: 0 })) }, status: 400, code: "INVALID_REQUEST" },
  { name: "GET fetch with encoding 'hex'", method: "GET", path: `/v1/topics/${P}/partitions/0/records?offset=0&encoding=hex`, status: 400, code: "INVALID_REQUEST" },
];

const records: Case[] = [
  { name: "invalid base64 value", method: "POST", path: produce, body: { records: [{ value: "not base64!" }] }, status: 400, code: "INVALID_RECORD" },
  { name: "unpadded base64 value", method: "POST", path: produce, body: { records: [{ value: "aGk" }] }, status: 400, code: "INVALID_RECORD" },
  { name: "url-safe base64 key", method: "POST", path: produce, body: { records: [{ key: "_-8=", value: "aGk=" }] }, status: 400, code: "INVALID_RECORD" },
  { name: "invalid base64 header value", method: "POST", path: produce, body: { records: [{ value: "aGk=", headers: [{ key: "h", value: "%%%%" }] }] }, status: 400, code: "INVALID_RECORD" },
  { name: "lone surrogate in a utf8 value", method: "POST", path: produce, body: { encoding: "utf8", records: [{ value: "\ud800" }] }, status: 400, code: "INVALID_RECORD" },
  { name: "lone surrogate in a header key", method: "POST", path: produce, body: { records: [{ value: "aGk=", headers: [{ key: "\udc00", value: null }] }] }, status: 400, code: "INVALID_RECORD" },
  { name: "invalid base64 in the last of three partitions", method: "POST", path: produce, body: { partitions: [{ partition: 0, records: [rec()] }, { partition: 1, records: [rec()] }, { partition: 2, records: [rec("***")] }] }, status: 400, code: "INVALID_RECORD" },
  { name: "encoding 'hex'", method: "POST", path: produce, body: { encoding: "hex", records: [rec()] }, status: 400, code: "INVALID_REQUEST" },
  { name: "compression 'lz4' on produce", method: "POST", path: produce, body: { compression: "lz4", records: [rec()] }, status: 400, code: "UNSUPPORTED_COMPRESSION_TYPE" },
  { name: "negative timestamp", method: "POST", path: produce, body: { records: [{ value: "aGk=", timestamp: -1 }] }, status: 400, code: "INVALID_RECORD" },
  { name: "timestamp beyond year 275760", method: "POST", path: produce, body: { records: [{ value: "aGk=", timestamp: 8_640_000_000_000_001 }] }, status: 400, code: "INVALID_RECORD" },
  { name: "no records", method: "POST", path: produce, body: { records: [] }, status: 400, code: "INVALID_REQUEST" },
  { name: "neither records nor partitions", method: "POST", path: produce, body: {}, status: 400, code: "INVALID_REQUEST" },
  { name: "both records and partitions", method: "POST", path: produce, body: { records: [rec()], partitions: [{ partition: 0, records: [rec()] }] }, status: 400, code: "INVALID_REQUEST" },
  { name: "a partition listed twice", method: "POST", path: produce, body: { partitions: [{ partition: 0, records: [rec()] }, { partition: 0, records: [rec()] }] }, status: 400, code: "INVALID_REQUEST" },
  { name: "a partition with no records", method: "POST", path: produce, body: { partitions: [{ partition: 0, records: [] }] }, status: 400, code: "INVALID_REQUEST" },
];

const producer = (fields: Record<string, unknown>, partitions: unknown = [{ partition: 0, baseSequence: 0, records: [rec()] }]) => ({ ...fields, partitions });
const epochs: Case[] = [
  { name: "producer epoch 32768", method: "POST", path: produce, body: producer({ producerId: "{P}", producerEpoch: 32_768 }), status: 400, code: "INVALID_PRODUCER_EPOCH" },
  { name: "producer epoch -1", method: "POST", path: produce, body: producer({ producerId: "{P}", producerEpoch: -1 }), status: 400, code: "INVALID_PRODUCER_EPOCH" },
  { name: "producer id 0", method: "POST", path: produce, body: producer({ producerId: 0, producerEpoch: 0 }), status: 400, code: "INVALID_PRODUCER_EPOCH" },
  { name: "producer id -5", method: "POST", path: produce, body: producer({ producerId: -5, producerEpoch: 0 }), status: 400, code: "INVALID_PRODUCER_EPOCH" },
  { name: "base sequence 2^31", method: "POST", path: produce, body: producer({ producerId: "{P}", producerEpoch: 0 }, [{ partition: 0, baseSequence: MAX_SEQUENCE + 1, records: [rec()] }]), status: 400, code: "INVALID_PRODUCER_EPOCH" },
  { name: "base sequence -1", method: "POST", path: produce, body: producer({ producerId: "{P}", producerEpoch: 0 }, [{ partition: 0, baseSequence: -1, records: [rec()] }]), status: 400, code: "INVALID_PRODUCER_EPOCH" },
  { name: "base sequence + count overflowing int32", method: "POST", path: produce, body: producer({ producerId: "{P}", producerEpoch: 0 }, [{ partition: 0, baseSequence: MAX_SEQUENCE, records: [rec(), rec()] }]), status: 400, code: "INVALID_PRODUCER_EPOCH" },
  { name: "producerId without producerEpoch", method: "POST", path: produce, body: producer({ producerId: "{P}" }), status: 400, code: "INVALID_PRODUCER_EPOCH" },
  { name: "producerEpoch without producerId", method: "POST", path: produce, body: producer({ producerEpoch: 0 }), status: 400, code: "INVALID_PRODUCER_EPOCH" },
  { name: "baseSequence without a producer", method: "POST", path: produce, body: producer({}), status: 400, code: "INVALID_PRODUCER_EPOCH" },
  { name: "idempotent produce without baseSequence", method: "POST", path: produce, body: producer({ producerId: "{P}", producerEpoch: 0 }, [{ partition: 0, records: [rec()] }]), status: 400, code: "INVALID_PRODUCER_EPOCH" },
  { name: "idempotent produce missing baseSequence on its second partition", method: "POST", path: produce, body: producer({ producerId: "{P}", producerEpoch: 0 }, [{ partition: 0, baseSequence: 0, records: [rec()] }, { partition: 1, records: [rec()] }]), status: 400, code: "INVALID_PRODUCER_EPOCH" },
  { name: "idempotent produce with broker-partitioned records", method: "POST", path: produce, body: { producerId: "{P}", producerEpoch: 0, records: [rec()] }, status: 400, code: "INVALID_REQUEST" },
];

const topicAdmin: Case[] = [
  { name: "topic name ''", method: "POST", path: "/v1/topics", body: { name: "", partitions: 1 }, status: 400, code: "INVALID_TOPIC_EXCEPTION" },
  { name: "topic name of 250 characters", method: "POST", path: "/v1/topics", body: { name: "a".repeat(250), partitions: 1 }, status: 400, code: "INVALID_TOPIC_EXCEPTION" },
  { name: "topic name 'a/b'", method: "POST", path: "/v1/topics", body: { name: "a/b", partitions: 1 }, status: 400, code: "INVALID_TOPIC_EXCEPTION" },
  { name: "topic name '.'", method: "POST", path: "/v1/topics", body: { name: ".", partitions: 1 }, status: 400, code: "INVALID_TOPIC_EXCEPTION" },
  { name: "topic name '..'", method: "POST", path: "/v1/topics", body: { name: "..", partitions: 1 }, status: 400, code: "INVALID_TOPIC_EXCEPTION" },
  { name: "topic name with a space", method: "POST", path: "/v1/topics", body: { name: "a b", partitions: 1 }, status: 400, code: "INVALID_TOPIC_EXCEPTION" },
  { name: "topic name with non-ASCII letters", method: "POST", path: "/v1/topics", body: { name: "tëst", partitions: 1 }, status: 400, code: "INVALID_TOPIC_EXCEPTION" },
  { name: "describe a 250-character topic name", method: "GET", path: `/v1/topics/${"a".repeat(250)}`, status: 400, code: "INVALID_TOPIC_EXCEPTION" },
  { name: "delete a topic named 'a b'", method: "DELETE", path: "/v1/topics/a%20b", status: 400, code: "INVALID_TOPIC_EXCEPTION" },
  // The codec and timestamp type are enums in the request schema, so an unknown one is a shape error.
  { name: "create with compression 'lz4'", method: "POST", path: "/v1/topics", body: { name: "ok-name", partitions: 1, compression: "lz4" }, status: 400, code: "UNSUPPORTED_COMPRESSION_TYPE" },
  { name: "create with timestampType 'WallClock'", method: "POST", path: "/v1/topics", body: { name: "ok-name", partitions: 1, timestampType: "WallClock" }, status: 400, code: "INVALID_CONFIG" },
  { name: "0 partitions", method: "POST", path: "/v1/topics", body: { name: "ok-name", partitions: 0 }, status: 400, code: "INVALID_PARTITIONS" },
  { name: "1001 partitions", method: "POST", path: "/v1/topics", body: { name: "ok-name", partitions: 1001 }, status: 400, code: "INVALID_PARTITIONS" },
  { name: "-1 partitions", method: "POST", path: "/v1/topics", body: { name: "ok-name", partitions: -1 }, status: 400, code: "INVALID_PARTITIONS" },
  { name: "retention 0", method: "POST", path: "/v1/topics", body: { name: "ok-name", partitions: 1, retentionMs: 0 }, status: 400, code: "INVALID_CONFIG" },
  { name: "retention -1", method: "POST", path: "/v1/topics", body: { name: "ok-name", partitions: 1, retentionMs: -1 }, status: 400, code: "INVALID_CONFIG" },
  { name: "retention just under a minute", method: "POST", path: "/v1/topics", body: { name: "ok-name", partitions: 1, retentionMs: 59_999 }, status: 400, code: "INVALID_CONFIG" },
  { name: "retention over ten years", method: "POST", path: "/v1/topics", body: { name: "ok-name", partitions: 1, retentionMs: 10 * 365 * 24 * 3_600_000 + 1 }, status: 400, code: "INVALID_CONFIG" },
];

const groups: Case[] = [
  { name: "group id with a space", method: "POST", path: "/v1/groups/bad%20group/offsets", body: { offsets: [{ topic: P, partition: 0, offset: 1 }] }, status: 400, code: "INVALID_GROUP_ID" },
  { name: "group id of 256 characters", method: "POST", path: `/v1/groups/${"g".repeat(256)}/offsets`, body: { offsets: [{ topic: P, partition: 0, offset: 1 }] }, status: 400, code: "INVALID_GROUP_ID" },
  { name: "reading offsets of an invalid group id", method: "GET", path: `/v1/groups/a%23b/offsets?topic=${P}`, status: 400, code: "INVALID_GROUP_ID" },
  { name: "offset metadata of 4097 bytes", method: "POST", path: `/v1/groups/${group}/offsets`, body: { offsets: [{ topic: P, partition: 0, offset: 1, metadata: "m".repeat(MAX_OFFSET_METADATA_BYTES + 1) }] }, status: 400, code: "OFFSET_METADATA_TOO_LARGE" },
  { name: "offset metadata of 2049 characters but 4098 UTF-8 bytes", method: "POST", path: `/v1/groups/${group}/offsets`, body: { offsets: [{ topic: P, partition: 0, offset: 1, metadata: "é".repeat(2049) }] }, status: 400, code: "OFFSET_METADATA_TOO_LARGE" },
  { name: "negative committed offset", method: "POST", path: `/v1/groups/${group}/offsets`, body: { offsets: [{ topic: P, partition: 0, offset: -1 }] }, status: 400, code: "INVALID_COMMIT_OFFSET" },
  { name: "a bad second commit refuses the valid first one too", method: "POST", path: `/v1/groups/${group}/offsets`, body: { offsets: [{ topic: P, partition: 0, offset: 1 }, { topic: P, partition: 1, offset: -5 }] }, status: 400, code: "INVALID_COMMIT_OFFSET" },
  { name: "the same partition twice in one commit", method: "POST", path: `/v1/groups/${group}/offsets`, body: { offsets: [{ topic: P, partition: 0, offset: 1 }, { topic: P, partition: 0, offset: 2 }] }, status: 400, code: "INVALID_REQUEST" },
  { name: "an empty commit", method: "POST", path: `/v1/groups/${group}/offsets`, body: { offsets: [] }, status: 400, code: "INVALID_REQUEST" },
  { name: "reading offsets without a topic", method: "GET", path: `/v1/groups/${group}/offsets`, status: 400, code: "INVALID_REQUEST" },
];

const routes: Case[] = [
  { name: "unknown route", method: "GET", path: "/v1/nothing-here", status: 404, code: "NOT_FOUND" },
  { name: "unknown version", method: "GET", path: "/v2/topics", status: 404, code: "NOT_FOUND" },
  { name: "root", method: "POST", path: "/", body: {}, status: 404, code: "NOT_FOUND" },
];

const allCases: [string, Case[]][] = [
  ["malformed JSON", malformed],
  ["wrong types", wrongTypes],
  ["unknown fields", unknownFields],
  ["unknown topics", unknownTopic],
  ["unknown partitions", unknownPartition],
  ["offsets", offsets],
  ["fetch limits", fetchLimits],
  ["records", records],
  ["producer epoch and sequence", epochs],
  ["topic administration", topicAdmin],
  ["consumer-group offsets", groups],
  ["routes", routes],
  ["path encoding", pathEncoding],
  ["ids longer than DynamoDB keys", keySizes],
  ["media types", mediaTypes],
  ["JSON text", jsonText],
];

// ---- helpers -------------------------------------------------------------------------------------

function substitute(text: string): string {
  return text.replaceAll("{T}", topic).replaceAll("{M}", missing);
}

/** Substitute placeholders in a JSON body; `"{P}"` becomes the numeric producer id. */
function bodyText(c: Case): string | undefined {
  if (c.raw !== undefined) return substitute(c.raw);
  if (c.body === undefined) return undefined;
  return substitute(JSON.stringify(c.body)).replaceAll('"{P}"', String(producerId));
}

interface RawResponse {
  readonly status: number;
  readonly body: any;
  readonly text: string;
  readonly headers: Headers;
}

/** `contentType`: default application/json with a body; null sends none. */
async function send(method: string, path: string, body?: string | ReadableStream<Uint8Array>, contentType: string | null = "application/json"): Promise<RawResponse> {
  const headers: Record<string, string> = body !== undefined && contentType !== null ? { "content-type": contentType } : {};
  // Bytes, not a string: fetch would add its own "text/plain" to a string body without a type.
  const payload = typeof body === "string" ? new TextEncoder().encode(body) : body;
  const init: RequestInit & { duplex?: "half" } = { method, headers, body: payload };
  if (body instanceof ReadableStream) init.duplex = "half";
  const response = await fetch(served.url + path, init);
  const text = await response.text();
  let parsed: any;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: response.status, body: parsed, text, headers: response.headers };
}

/** The refusal shape every error response must have. */
function expectRefusal(response: RawResponse, status: number, code: ErrorCode, details: Record<string, unknown> = {}): void {
  expect(response.body, `not a JSON error body: ${response.text.slice(0, 300)}`).toBeTypeOf("object");
  const error = response.body.error;
  expect({ status: response.status, code: error?.code }, error?.message).toEqual({ status, code });
  expect(ERROR_TABLE[code].status).toBe(status);
  expect(error.message).toBeTypeOf("string");
  expect(error.message.length).toBeGreaterThan(0);
  expect(error.retriable).toBe(false);
  expect(error.outcome).toBe("definite");
  expect(error).toMatchObject(details);
  expect(response.headers.get("content-type")).toMatch(/^application\/json/);
}

function writeSnapshot(): Map<string, number> {
  return new Map(harness.writes.byCommand);
}

/** Zero DynamoDB write requests since `before` (per command, so a failure names the command). */
function expectNoWritesSince(before: Map<string, number>): void {
  const made: Record<string, number> = {};
  for (const [command, count] of harness.writes.byCommand) {
    const delta = count - (before.get(command) ?? 0);
    if (delta !== 0) made[command] = delta;
  }
  expect(made, "DynamoDB writes made by a refusal").toEqual({});
}

// ---- tests -------------------------------------------------------------------------------------

describe.each(allCases)("refusals: %s", (_label, cases) => {
  it.each(cases.map((c) => [c.name, c] as const))("%s", async (_name, c) => {
    const before = writeSnapshot();
    const response = await send(c.method, substitute(c.path), bodyText(c), c.contentType);
    expectRefusal(response, c.status, c.code, c.details);
    expectNoWritesSince(before);
  });
});

describe("refusals that need a hand-built request", () => {
  let before: Map<string, number>;
  beforeEach(() => {
    before = writeSnapshot();
  });
  const zeroWrites = () => expectNoWritesSince(before);

  it("refuses a record over the per-record limit whole, with its valid neighbours", async () => {
    const response = await send("POST", `/v1/topics/${topic}/records`, JSON.stringify({
      partitions: [{ partition: 0, records: [{ value: b64("fine") }, { value: big(MAX_RECORD_BYTES + 1) }, { value: b64("also fine") }] }],
    }));
    expectRefusal(response, 413, "RECORD_TOO_LARGE", { partition: 0, record: 1, limit: MAX_RECORD_BYTES });
    expect(response.body.error.size).toBeGreaterThan(MAX_RECORD_BYTES);
    zeroWrites();
  });

  it("refuses a ~390 KB value with broker partitioning (null key) and a key of the same size", async () => {
    for (const record of [{ value: big(390_000) }, { key: big(385_000), value: null }]) {
      const response = await send("POST", `/v1/topics/${topic}/records`, JSON.stringify({ records: [record] }));
      expectRefusal(response, 413, "RECORD_TOO_LARGE");
    }
    zeroWrites();
  });

  it("refuses a record whose headers push it over the limit", async () => {
    const headers = Array.from({ length: 4 }, (_, i) => ({ key: `h${i}`, value: big(100_000) }));
    const response = await send("POST", `/v1/topics/${topic}/records`, JSON.stringify({ partitions: [{ partition: 0, records: [{ value: null, headers }] }] }));
    expectRefusal(response, 413, "RECORD_TOO_LARGE");
    zeroWrites();
  });

  it("refuses more than 3 MB of records for one partition in one request", async () => {
    const many = Array.from({ length: 9 }, () => ({ value: big(350_000) }));
    const response = await send("POST", `/v1/topics/${topic}/records`, JSON.stringify({ partitions: [{ partition: 0, records: many }] }));
    expectRefusal(response, 413, "REQUEST_TOO_LARGE", { partition: 0 });
    zeroWrites();
  });

  it("refuses more than 10,000 records", async () => {
    const many = Array.from({ length: 10_001 }, () => ({ value: null, partition: 0 }));
    const response = await send("POST", `/v1/topics/${topic}/records`, JSON.stringify({ records: many }));
    expectRefusal(response, 413, "REQUEST_TOO_LARGE", { limit: 10_000, actual: 10_001 });
    zeroWrites();
  });

  it("refuses a request body over 5.8 MB (declared by Content-Length)", async () => {
    const body = JSON.stringify({ encoding: "utf8", records: [{ value: "x".repeat(MAX_REQUEST_BODY_BYTES), partition: 0 }] });
    const response = await send("POST", `/v1/topics/${topic}/records`, body);
    expectRefusal(response, 413, "REQUEST_TOO_LARGE", { limit: MAX_REQUEST_BODY_BYTES });
    zeroWrites();
  });

  it("refuses a request body over 5.8 MB sent chunked, without Content-Length", async () => {
    const chunk = new TextEncoder().encode("x".repeat(1_000_000));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent === 0) controller.enqueue(new TextEncoder().encode('{"encoding":"utf8","records":[{"partition":0,"value":"'));
        if (sent < 6) {
          controller.enqueue(chunk);
          sent++;
        } else {
          controller.enqueue(new TextEncoder().encode('"}]}'));
          controller.close();
        }
      },
    });
    const response = await send("POST", `/v1/topics/${topic}/records`, stream);
    expectRefusal(response, 413, "REQUEST_TOO_LARGE", { limit: MAX_REQUEST_BODY_BYTES });
    zeroWrites();
  });

  it.each([
    ["PUT", "/v1/topics", ["GET", "POST"]],
    ["PATCH", "/v1/topics/{T}", ["DELETE", "GET"]],
    ["DELETE", "/v1/topics/{T}/records", ["POST"]],
    ["PUT", "/v1/fetch", ["POST"]],
    ["DELETE", "/v1/groups/g1/offsets", ["GET", "POST"]],
    ["GET", "/v1/producers", ["POST"]],
  ] as const)("%s %s → 405 with an Allow header", async (method, path, allowed) => {
    const response = await send(method, substitute(path), method === "GET" ? undefined : "{}");
    expectRefusal(response, 405, "METHOD_NOT_ALLOWED");
    const allow = (response.headers.get("allow") ?? "").split(",").map((m) => m.trim()).sort();
    expect(allow).toEqual([...allowed]);
    zeroWrites();
  });

  it("reports an unknown topic per partition in a multi-partition POST fetch, and still serves the known one", async () => {
    const response = await send("POST", "/v1/fetch", JSON.stringify({
      encoding: "utf8",
      partitions: [
        { topic: missing, partition: 0, offset: 0 },
        { topic, partition: 0, offset: 0 },
        { topic, partition: 7, offset: 0 },
      ],
    }));
    expect(response.status).toBe(200);
    const [unknown, known, noPartition] = response.body.partitions;
    expect(unknown.error).toMatchObject({ code: "UNKNOWN_TOPIC_OR_PARTITION", retriable: false, outcome: "definite" });
    expect(unknown.error.message).toBeTypeOf("string");
    expect(known.records.map((r: any) => r.value)).toEqual(stored.slice(0, 3));
    expect(noPartition.error).toMatchObject({ code: "UNKNOWN_TOPIC_OR_PARTITION", retriable: false });
  });
});

describe("out-of-range offsets in a multi-partition fetch", () => {
  it("are refused per partition with the valid range, and the other partitions are still served", async () => {
    const before = writeSnapshot();
    const response = await send("POST", "/v1/fetch", JSON.stringify({
      encoding: "utf8",
      partitions: [
        { topic, partition: 0, offset: -1 },
        { topic, partition: 1, offset: Number.MAX_SAFE_INTEGER },
        { topic, partition: 2, offset: 1 },
        { topic, partition: 0, offset: 1 },
      ],
    }));
    expect(response.status).toBe(200);
    const [negative, huge, beyondEmpty, served] = response.body.partitions;
    for (const [result, offset, highWatermark] of [[negative, -1, 3], [huge, Number.MAX_SAFE_INTEGER, 0], [beyondEmpty, 1, 0]] as const) {
      expect(result.records).toBeUndefined();
      expect(result.error).toMatchObject({ code: "OFFSET_OUT_OF_RANGE", retriable: false, outcome: "definite", offset, logStartOffset: 0, highWatermark });
      expect(result.error.message).toBeTypeOf("string");
    }
    expect(served.records.map((r: any) => [r.offset, r.value])).toEqual([[1, "setup-1"], [2, "setup-2"]]);
    // The served partition's read may raise its cached high-watermark hint (UpdateItem); nothing else is written.
    const made = [...harness.writes.byCommand].filter(([command, count]) => count !== (before.get(command) ?? 0)).map(([command]) => command);
    expect(made.filter((command) => command !== "UpdateItemCommand")).toEqual([]);
  });

  it("a long-poll fetch at an out-of-range offset answers at once instead of waiting out maxWaitMs", async () => {
    const started = Date.now();
    const response = await send("GET", `/v1/topics/${topic}/partitions/0/records?offset=100&maxWaitMs=8000`);
    expectRefusal(response, 416, "OFFSET_OUT_OF_RANGE", { logStartOffset: 0 });
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it("a long-poll fetch of an unknown partition answers at once", async () => {
    const started = Date.now();
    const response = await send("GET", `/v1/topics/${topic}/partitions/9/records?offset=0&maxWaitMs=8000`);
    expectRefusal(response, 404, "UNKNOWN_TOPIC_OR_PARTITION");
    expect(Date.now() - started).toBeLessThan(4000);
  });
});

describe("the security store below the HTTP checks", () => {
  it("finds nothing under a key DynamoDB could not store, without asking DynamoDB", async () => {
    const store = createDynamoSecurityStore(DynamoDBDocumentClient.from(harness.client), harness.tables);
    const sent: string[] = [];
    harness.faults.add((command) => void sent.push(command));
    try {
      expect(await store.getApiKey("k".repeat(2100))).toBeUndefined();
      expect(await store.revokeApiKey("k".repeat(2100), Date.now())).toBeUndefined();
      expect(await store.deleteAcl("a".repeat(1025))).toBeUndefined();
      expect(await store.deleteAcl("é".repeat(513))).toBeUndefined(); // 1,026 UTF-8 bytes
      expect(sent).toEqual([]);
      // A key that fits is still looked up.
      expect(await store.deleteAcl("a".repeat(1024))).toBeUndefined();
      expect(sent).toEqual(["DeleteItemCommand"]);
    } finally {
      harness.faults.clear();
    }
  });
});

describe("with authentication on, before any credentials are checked", () => {
  it("a malformed path is 400, not a 5xx; a body of the wrong type from a stranger is still 401", async () => {
    const guarded = createTestBroker(harness.tables, { security: { enabled: true } });
    const server = await serveApp(guarded.app);
    try {
      for (const path of ["/v1/topics/%zz", "/v1/acls/%zz", "/v1/api-keys/%zz", "/v1/groups/g/members/%zz"]) {
        const response = await fetch(server.url + path, { method: path.includes("topics") ? "GET" : "DELETE" });
        const body = (await response.json()) as { error: { code: string; message: string } };
        expect({ path, status: response.status, code: body.error.code }).toEqual({ path, status: 400, code: "INVALID_REQUEST" });
        expect(body.error.message).toContain("percent-encoded");
      }
      const stranger = await fetch(`${server.url}/v1/topics`, { method: "POST", headers: { "content-type": "text/plain" }, body: "{}" });
      expect(stranger.status).toBe(401);
      expect(guarded.writes.total).toBe(0);
    } finally {
      await server.close();
    }
  });
});

describe("after all the bad input", () => {
  it("a valid produce still works and the partition holds exactly the valid records", async () => {
    const nearLimit = randomBytes(MAX_RECORD_BYTES - 200);
    const ok = await api.post(`/v1/topics/${topic}/records`, { partitions: [{ partition: 0, records: [{ value: b64("after-1") }, { value: b64(nearLimit) }, { value: b64("after-2") }] }] });
    expect(ok.status).toBe(200);
    expect(ok.body.partitions).toEqual([{ partition: 0, baseOffset: 3, lastOffset: 5, recordCount: 3, duplicate: false }]);

    const fetched = await api.get(`/v1/topics/${topic}/partitions/0/records?offset=0`);
    expect(fetched.status).toBe(200);
    expect(fetched.body.records.map((r: any) => r.offset)).toEqual([0, 1, 2, 3, 4, 5]);
    const values = fetched.body.records.map((r: any) => unb64(r.value));
    expect(values.slice(0, 3).map(String)).toEqual(stored);
    expect(String(values[3])).toBe("after-1");
    // The near-limit record is stored whole, not truncated.
    expect(values[4].equals(nearLimit)).toBe(true);
    expect(String(values[5])).toBe("after-2");
    expect(fetched.body).toMatchObject({ nextOffset: 6, highWatermark: 6, logStartOffset: 0 });

    // The other partitions never received anything from the refused requests.
    const described = await api.get(`/v1/topics/${topic}`);
    expect(described.body.partitions).toMatchObject([
      { partition: 0, logStartOffset: 0, highWatermark: 6 },
      { partition: 1, logStartOffset: 0, highWatermark: 0, bytesWritten: 0 },
      { partition: 2, logStartOffset: 0, highWatermark: 0, bytesWritten: 0 },
    ]);
    // No producer state was created by the refused idempotent requests: sequence 0 is still accepted.
    const idempotent = await api.post(`/v1/topics/${topic}/records`, { producerId, producerEpoch: 0, partitions: [{ partition: 1, baseSequence: 0, records: [{ value: b64("idem") }] }] });
    expect(idempotent.status).toBe(200);
    expect(idempotent.body.partitions[0]).toMatchObject({ partition: 1, baseOffset: 0, duplicate: false });
    // No offsets were committed by the refused commits.
    const committed = await api.get(`/v1/groups/${group}/offsets?topic=${topic}`);
    expect(committed.body.partitions.map((p: any) => p.offset)).toEqual([-1, -1, -1]);
    // No topic was created by the refused creates.
    const listed = await api.get("/v1/topics");
    expect(listed.body.topics.map((t: any) => t.name)).toEqual([topic]);
  });
});
