/**
 * Bad-input cases for test/e2e/bad-input.test.ts about the request's envelope rather than its
 * fields: path encoding, key sizes DynamoDB cannot store, media types and the JSON text itself.
 */
import type { ErrorCode } from "../../shared/errors.js";
import { MAX_JSON_DEPTH } from "../../shared/http/request-body.js";

/** `{T}` in paths/bodies stands for the existing topic, `{M}` for a missing one, `{P}` for the producer id. */
export interface Case {
  readonly name: string;
  readonly method: "GET" | "POST" | "DELETE" | "PUT" | "PATCH";
  readonly path: string;
  /** JSON body (placeholders substituted), or `raw` for a literal body. */
  readonly body?: unknown;
  readonly raw?: string;
  /** Request headers; a null Content-Type sends none (default: application/json with a body). */
  readonly contentType?: string | null;
  readonly status: number;
  readonly code: ErrorCode;
  /** Fields the error object must also carry. */
  readonly details?: Record<string, unknown>;
}

const group = "bad-input-group";

/** Every route that takes a JSON body, with a body it would otherwise accept the shape of. */
export const JSON_BODY_ROUTES: readonly { readonly method: "POST"; readonly path: string; readonly body: unknown }[] = [
  { method: "POST", path: "/v1/topics", body: { name: "never-made", partitions: 1 } },
  { method: "POST", path: "/v1/producers", body: {} },
  { method: "POST", path: "/v1/topics/{T}/records", body: { records: [{ value: null }] } },
  { method: "POST", path: "/v1/transactions", body: { records: [{ topic: "{T}", value: null }] } },
  { method: "POST", path: "/v1/fetch", body: { partitions: [{ topic: "{T}", partition: 0, offset: 0 }] } },
  { method: "POST", path: `/v1/groups/${group}/offsets`, body: { offsets: [{ topic: "{T}", partition: 0, offset: 1 }] } },
  { method: "POST", path: `/v1/groups/${group}/heartbeat`, body: { memberEpoch: 0, topics: ["{T}"] } },
  { method: "POST", path: "/v1/acls", body: { principal: "User:x", resourceType: "Topic", resourceName: "t", operation: "Read" } },
  { method: "POST", path: "/v1/api-keys", body: { principal: "User:x" } },
];

const perRoute = (label: string, make: (route: (typeof JSON_BODY_ROUTES)[number]) => Omit<Case, "name" | "method" | "path">): Case[] =>
  JSON_BODY_ROUTES.map((route) => ({ name: `${route.path}: ${label}`, method: route.method, path: route.path, ...make(route) }));

const badPath = { status: 400, code: "INVALID_REQUEST" } as const;

export const pathEncoding: Case[] = [
  { name: "describe topic %zz", method: "GET", path: "/v1/topics/%zz", ...badPath, details: { path: "/v1/topics/%zz" } },
  { name: "delete topic %zz", method: "DELETE", path: "/v1/topics/%zz", ...badPath },
  { name: "produce to topic %zz", method: "POST", path: "/v1/topics/%zz/records", body: { records: [{ value: null }] }, ...badPath },
  { name: "fetch from topic %zz", method: "GET", path: "/v1/topics/%zz/partitions/0/records?offset=0", ...badPath },
  { name: "fetch partition %zz", method: "GET", path: "/v1/topics/{T}/partitions/%zz/records?offset=0", ...badPath },
  { name: "list offsets of partition %2", method: "GET", path: "/v1/topics/{T}/partitions/%2/offsets", ...badPath },
  { name: "describe group %zz", method: "GET", path: "/v1/groups/%zz", ...badPath },
  { name: "commit for group %zz", method: "POST", path: "/v1/groups/%zz/offsets", body: { offsets: [{ topic: "{T}", partition: 0, offset: 1 }] }, ...badPath },
  { name: "heartbeat in group %zz", method: "POST", path: "/v1/groups/%zz/heartbeat", body: { memberEpoch: 0, topics: ["{T}"] }, ...badPath },
  { name: "remove member %zz", method: "DELETE", path: `/v1/groups/${group}/members/%zz`, ...badPath },
  { name: "delete ACL %zz", method: "DELETE", path: "/v1/acls/%zz", ...badPath },
  { name: "revoke API key %zz", method: "DELETE", path: "/v1/api-keys/%zz", ...badPath },
  { name: "a UTF-16 surrogate escaped as UTF-8 bytes (%ED%A0%80)", method: "GET", path: "/v1/topics/%ED%A0%80", ...badPath },
  { name: "a truncated UTF-8 sequence (%C3)", method: "GET", path: "/v1/groups/%C3", ...badPath },
  { name: "an unknown route with %zz", method: "GET", path: "/v1/%zz", ...badPath },
  // Well-formed escapes of unusable names are the name's own refusal, not the path's.
  { name: "a topic name with an emoji", method: "GET", path: "/v1/topics/%F0%9F%98%80", status: 400, code: "INVALID_TOPIC_EXCEPTION" },
  { name: "a group id with a NUL", method: "GET", path: "/v1/groups/%00", status: 400, code: "INVALID_GROUP_ID" },
  { name: "a member id of 3000 characters", method: "DELETE", path: `/v1/groups/${group}/members/${"m".repeat(3000)}`, status: 409, code: "UNKNOWN_MEMBER_ID" },
];

export const keySizes: Case[] = [
  // DynamoDB refuses sort keys over 1,024 bytes and partition keys over 2,048: such ids name nothing.
  { name: "delete an ACL rule with a 1,100-character id", method: "DELETE", path: `/v1/acls/${"a".repeat(1100)}`, status: 404, code: "RESOURCE_NOT_FOUND" },
  { name: "delete an ACL rule with a 2,100-character id", method: "DELETE", path: `/v1/acls/${"a".repeat(2100)}`, status: 404, code: "RESOURCE_NOT_FOUND" },
  { name: "delete an ACL rule whose id is not a UUID", method: "DELETE", path: "/v1/acls/not-a-rule", status: 404, code: "RESOURCE_NOT_FOUND" },
  { name: "revoke an API key with a 10,100-character id", method: "DELETE", path: `/v1/api-keys/${"k".repeat(10_100)}`, status: 404, code: "RESOURCE_NOT_FOUND" },
  { name: "revoke an API key with a 2,100-character id", method: "DELETE", path: `/v1/api-keys/${"k".repeat(2100)}`, status: 404, code: "RESOURCE_NOT_FOUND" },
  { name: "revoke an API key id of multi-byte characters", method: "DELETE", path: `/v1/api-keys/${"%C3%A9".repeat(1100)}`, status: 404, code: "RESOURCE_NOT_FOUND" },
];

const unsupported = { status: 415, code: "UNSUPPORTED_MEDIA_TYPE" } as const;

export const mediaTypes: Case[] = [
  ...perRoute("text/plain", (r) => ({ body: r.body, contentType: "text/plain", ...unsupported })),
  ...perRoute("no Content-Type", (r) => ({ body: r.body, contentType: null, ...unsupported, details: { contentType: null } })),
  { name: "a form", method: "POST", path: "/v1/topics", raw: "name=x&partitions=1", contentType: "application/x-www-form-urlencoded", ...unsupported },
  { name: "multipart", method: "POST", path: "/v1/topics/{T}/records", raw: "--b\r\n\r\n{}\r\n--b--", contentType: "multipart/form-data; boundary=b", ...unsupported },
  { name: "JSON in Latin-1", method: "POST", path: "/v1/topics/{T}/records", body: { records: [{ value: null }] }, contentType: "application/json; charset=iso-8859-1", ...unsupported },
  { name: "a JSON look-alike type", method: "POST", path: "/v1/fetch", body: { partitions: [] }, contentType: "application/jsonp", ...unsupported },
  { name: "text/plain with an empty body", method: "POST", path: "/v1/producers", raw: "", contentType: "text/plain", ...unsupported },
  // Accepted spellings get past the media-type check: the core then refuses the partition count.
  { name: "application/json; charset=utf-8", method: "POST", path: "/v1/topics", body: { name: "ok-name", partitions: 0 }, contentType: "application/json; charset=utf-8", status: 400, code: "INVALID_PARTITIONS" },
  { name: 'Application/JSON;Charset="UTF-8"', method: "POST", path: "/v1/topics", body: { name: "ok-name", partitions: 0 }, contentType: 'Application/JSON;Charset="UTF-8"', status: 400, code: "INVALID_PARTITIONS" },
  { name: "application/json with another parameter", method: "POST", path: "/v1/topics", body: { name: "ok-name", partitions: 0 }, contentType: "application/json; v=1", status: 400, code: "INVALID_PARTITIONS" },
];

const invalid = { status: 400, code: "INVALID_REQUEST" } as const;
const nested = (depth: number) => `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;

export const jsonText: Case[] = [
  ...perRoute("a JSON number", () => ({ raw: "42", ...invalid })),
  ...perRoute("a JSON string", () => ({ raw: '"x"', ...invalid })),
  ...perRoute("a JSON array", () => ({ raw: "[{}]", ...invalid })),
  ...perRoute("JSON null", () => ({ raw: "null", ...invalid })),
  ...perRoute("JSON true", () => ({ raw: "true", ...invalid })),
  ...perRoute("a JSON object nested 10,000 deep", () => ({ raw: nested(10_000), ...invalid, details: { limit: MAX_JSON_DEPTH } })),
  ...perRoute("arrays nested 100,000 deep", () => ({ raw: `${"[".repeat(100_000)}${"]".repeat(100_000)}`, ...invalid })),
  ...perRoute("an empty body", () => ({ raw: "", ...invalid })).filter((c) => !c.path.startsWith("/v1/producers")), // {} is a valid init
  { name: "create: a duplicate name", method: "POST", path: "/v1/topics", raw: '{"name":"a","name":"b","partitions":1}', ...invalid, details: { field: "name" } },
  { name: "produce: a duplicate partition inside a record", method: "POST", path: "/v1/topics/{T}/records", raw: '{"records":[{"value":null,"partition":0,"partition":1}]}', ...invalid, details: { field: "partition" } },
  { name: "fetch: a duplicate spelled with an escape", method: "POST", path: "/v1/fetch", raw: '{"partitions":[],"\\u0070artitions":[]}', ...invalid, details: { field: "partitions" } },
  { name: "commit: a duplicate offset", method: "POST", path: `/v1/groups/${group}/offsets`, raw: '{"offsets":[{"topic":"{T}","partition":0,"offset":1,"offset":2}]}', ...invalid },
  { name: "acl: a duplicate principal", method: "POST", path: "/v1/acls", raw: '{"principal":"User:x","principal":"User:y","resourceType":"Topic","resourceName":"t","operation":"Read"}', ...invalid },
  { name: "NUL in the body", method: "POST", path: "/v1/topics/{T}/records", raw: "\u0000", ...invalid },
  { name: "a byte-order mark before the JSON", method: "POST", path: "/v1/fetch", raw: '\uFEFF{"partitions":[]}', ...invalid },
  { name: "a huge partition number (1e300) in a fetch", method: "POST", path: "/v1/fetch", body: { partitions: [{ topic: "{T}", partition: 1e300, offset: 0 }] }, ...invalid },
  { name: "a huge member epoch (1e300)", method: "POST", path: `/v1/groups/${group}/heartbeat`, body: { memberEpoch: 1e300, topics: ["{T}"] }, ...invalid },
  { name: "a huge offset in a query string (17 digits)", method: "GET", path: "/v1/topics/{T}/partitions/0/records?offset=99999999999999999", ...invalid },
  { name: "a huge maxWaitMs in a query string", method: "GET", path: "/v1/topics/{T}/partitions/0/records?offset=0&maxWaitMs=99999999999999999", ...invalid },
  { name: "a huge partition list in a query string", method: "GET", path: `/v1/groups/${group}/offsets?topic={T}&partitions=99999999999999999`, ...invalid },
];
