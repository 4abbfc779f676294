/**
 * Proves the IAM table (infra/permissions.ts) against the code: every route is exercised through
 * the HTTP app of the function that serves it, on DynamoDB Local, with a client that records each
 * DynamoDB action (transactions and batches broken into the actions IAM authorizes) and the
 * attribute names it carries. Then:
 *  - every recorded action is granted to that function on that table (a missing grant would be an
 *    AccessDenied in production), within the grant's `dynamodb:Attributes` list if it has one;
 *  - every granted action was used (nothing is granted "just in case").
 * The key API's authorizer is held to the same two rules against its own grant (AUTHORIZER_ACCESS).
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ATTRIBUTE_RESTRICTED_RETURN_VALUES, AUTHORIZER_ACCESS, COMPACTOR_ACCESS, DISPATCHER_ACCESS, FUNCTION_ACCESS, HISTORY_ACCESS, type DynamoAction, type FunctionAccess, type TableGrant } from "../../infra/permissions.js";
import { localDynamoDbClientConfig } from "../../local/dynamodb-local.js";
import { createBroker } from "../../shared/core/broker.js";
import { FUNCTION_APIS, type DynalogApi } from "../../shared/http/app.js";
import { FUNCTION_NAMES, ROUTES, matchesPath, type FunctionName, type RouteId } from "../../shared/http/routes.js";
import { createDynamoStorage } from "../../shared/storage/dynamo-storage.js";
import type { TableId, TableNames } from "../../shared/storage/tables.js";
import { createTestTables, TestClock, topicName } from "../support/broker.js";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { DEFAULT_SECURITY_CONFIG, Security, type SecurityConfig } from "../../shared/security/security.js";
import { createKeyAuthorizer } from "../../shared/runtime/authorizer.js";
import { scheduledCompaction } from "../../shared/runtime/compactor.js";
import { scheduledHistory } from "../../shared/runtime/history.js";
import type { APIGatewayRequestAuthorizerEventV2 } from "aws-lambda";
import { createDynamoSecurityStore } from "../../shared/storage/security-store.js";
import { testEndpoint, uniqueName } from "../support/dynamodb.js";
import { Dispatcher } from "../../shared/core/dispatch.js";
import { createInvoker } from "../../shared/runtime/invokers.js";
import { createDispatcherHandler } from "../../shared/runtime/dispatcher-lambda.js";
import { startWebhookTarget, type WebhookTarget } from "../support/webhook-target.js";

interface Call {
  readonly table: TableId;
  readonly action: DynamoAction;
  /** Attribute names the request names (item, key, update and condition expressions). */
  readonly attributes: readonly string[];
  /** The request's ReturnValues, if it names one (IAM's dynamodb:ReturnValues). */
  readonly returnValues?: string;
  /** The partition key of the item written or read by key (IAM's dynamodb:LeadingKeys). */
  readonly leadingKey?: string;
}

/** IAM's StringLike: `*` matches any run of characters. */
const stringLike = (pattern: string, value: string) => new RegExp(`^${pattern.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`).test(value);

/** Whether `grant` allows `call` as IAM evaluates the statement infra/dynalog.ts writes for it. */
function grantAllows(grant: TableGrant, call: Call): boolean {
  if (!grant.actions.includes(call.action)) return false;
  if (grant.leadingKeys && (call.leadingKey === undefined || !grant.leadingKeys.some((pattern) => stringLike(pattern, call.leadingKey!)))) return false;
  if (!grant.onlyAttributes) return true;
  const returnValuesAllowed = call.returnValues === undefined || (ATTRIBUTE_RESTRICTED_RETURN_VALUES as readonly string[]).includes(call.returnValues);
  return returnValuesAllowed && call.attributes.every((a) => grant.onlyAttributes!.includes(a));
}

const KEYWORDS = new Set(
  ["set", "add", "remove", "delete", "and", "or", "not", "between", "in", "attribute_exists", "attribute_not_exists", "attribute_type", "begins_with", "contains", "size", "if_not_exists", "list_append"],
);

/** Attribute names in an expression: `#aliases` resolved, `:values` and keywords dropped. */
function expressionAttributes(expression: unknown, names: Record<string, string> | undefined): string[] {
  if (typeof expression !== "string") return [];
  const found: string[] = [];
  for (const token of expression.replace(/:[A-Za-z0-9_]+/g, " ").match(/#?[A-Za-z_][A-Za-z0-9_]*/g) ?? []) {
    if (token.startsWith("#")) found.push(names?.[token] ?? token);
    else if (!KEYWORDS.has(token.toLowerCase())) found.push(token);
  }
  return found;
}

type Input = Record<string, unknown>;

function attributesOf(request: Input): string[] {
  const names = request["ExpressionAttributeNames"] as Record<string, string> | undefined;
  return [
    ...new Set([
      ...Object.keys((request["Item"] as Input | undefined) ?? {}),
      ...Object.keys((request["Key"] as Input | undefined) ?? {}),
      ...expressionAttributes(request["UpdateExpression"], names),
      ...expressionAttributes(request["ConditionExpression"], names),
    ]),
  ].sort();
}

function returnValuesOf(request: Input): { returnValues?: string; leadingKey?: string } {
  const key = ((request["Item"] ?? request["Key"]) as Input | undefined)?.["pk"];
  const pk = typeof key === "object" && key !== null ? (key as { S?: unknown }).S : key;
  return { ...(typeof request["ReturnValues"] === "string" && { returnValues: request["ReturnValues"] }), ...(typeof pk === "string" && { leadingKey: pk }) };
}

/** A function whose DynamoDB calls are recorded: the route functions, the authorizer, the scheduled compactor, the subscription dispatcher. */
type RecordedFunction = FunctionName | "authorizer" | "compactor" | "dispatcher" | "history";

/** Per function: lose the response of the next call of this command (the write happens). */
const dropResponse = new Map<RecordedFunction, string>();
/**
 * Per function: leave this offset out of the next log Query that returns it — what an eventually
 * consistent read does to a batch written a moment ago. The reader then tries to fill a gap that
 * is not one, and must read the entry it collided with (GetItem).
 */
const hideFromLogQuery = new Map<RecordedFunction, { readonly p: string; readonly o: number }>();

/** Whether a log item (marshalled or not) is the one at partition key `p`, offset `o`. */
function isItem(item: Input, hidden: { p: string; o: number }): boolean {
  const value = (v: unknown) => (typeof v === "object" && v !== null ? Object.values(v)[0] : v);
  return String(value(item["p"])) === hidden.p && Number(value(item["o"])) === hidden.o;
}

/** A DynamoDB client that records, per call, what IAM will evaluate. */
function recordingClient(fn: RecordedFunction, tables: TableNames, calls: Call[]): DynamoDBClient {
  const tableIds = new Map(Object.entries(tables).map(([id, name]) => [name, id as TableId]));
  const tableOf = (name: unknown): TableId => {
    const id = tableIds.get(String(name));
    if (!id) throw new Error(`call on unknown table ${String(name)}`);
    return id;
  };
  const client = new DynamoDBClient(localDynamoDbClientConfig(testEndpoint()));
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = String(context.commandName ?? "").replace(/Command$/, "");
      const input = (args.input ?? {}) as Input;
      if (command === "TransactWriteItems") {
        for (const item of input["TransactItems"] as Input[]) {
          const [kind, request] = Object.entries(item)[0] as [string, Input];
          const action = ({ Put: "PutItem", Update: "UpdateItem", Delete: "DeleteItem", ConditionCheck: "ConditionCheckItem" } as const)[kind as "Put"];
          calls.push({ table: tableOf(request["TableName"]), action, attributes: attributesOf(request), ...returnValuesOf(request) });
        }
      } else if (command === "BatchWriteItem" || command === "BatchGetItem") {
        for (const name of Object.keys(input["RequestItems"] as Input)) calls.push({ table: tableOf(name), action: command, attributes: [] });
      } else {
        calls.push({ table: tableOf(input["TableName"]), action: command as DynamoAction, attributes: attributesOf(input), ...returnValuesOf(input) });
      }
      const result = await next(args);
      if (fn === "authorizer") return result;
      const hidden = hideFromLogQuery.get(fn);
      const output = result.output as { Items?: Input[] };
      if (hidden !== undefined && command === "Query" && input["TableName"] === tables.log && output.Items?.some((item) => isItem(item, hidden))) {
        hideFromLogQuery.delete(fn);
        output.Items = output.Items.filter((item) => !isItem(item, hidden));
      }
      if (dropResponse.get(fn) === command) {
        dropResponse.delete(fn);
        throw Object.assign(new Error("Injected: response lost"), { name: "TimeoutError" });
      }
      return result;
    },
    { step: "initialize", name: "iamRecorder" },
  );
  return client;
}

const HOLE_TIMEOUT_MS = 1_000;
let tables: TableNames;
const clock = new TestClock();
const calls = new Map<FunctionName, Call[]>();
const apps = new Map<FunctionName, DynalogApi>();
const clients: DynamoDBClient[] = [];

/** A "Lambda" for `fn`: its own routes only, its own recorded client. */
function app(fn: FunctionName): DynalogApi {
  return apps.get(fn)!;
}

/** Routes the scenario exercised (so a new route cannot slip past this test). */
const exercised = new Set<RouteId>();

/** Deployed functions authenticate, authorize and count quotas: so do these. */
const SECURITY: SecurityConfig = {
  ...DEFAULT_SECURITY_CONFIG,
  enabled: true,
  superUsers: ["User:iam-admin"],
  cacheTtlMs: 0,
  quotas: { ...DEFAULT_SECURITY_CONFIG.quotas, requestsPerSecond: 1_000_000, flushIntervalMs: 0 },
};
let adminToken = "";

async function call(fn: FunctionName, method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const route = ROUTES.find((r) => r.method === method && matchesPath(r, path.split("?")[0]!));
  expect(route?.fn, `${method} ${path}`).toBe(fn);
  exercised.add(route!.id);
  const headers: Record<string, string> = { authorization: `Bearer ${adminToken}`, ...(body !== undefined && { "content-type": "application/json" }) };
  const response = await app(fn).request(path, { method, headers, ...(body !== undefined && { body: JSON.stringify(body) }) });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

beforeAll(async () => {
  tables = await createTestTables("iam");
  for (const fn of FUNCTION_NAMES) {
    const recorded: Call[] = [];
    calls.set(fn, recorded);
    const client = recordingClient(fn, tables, recorded);
    clients.push(client);
    // Each function's own core areas, as its Lambda builds them (function-routes/<fn>.ts).
    const deps = {
      storage: createDynamoStorage(client, tables),
      clock: clock.now,
      // A long poll's waits move the test clock instead of sleeping.
      sleep: async (ms: number) => clock.advance(ms),
      // Plain-http webhooks: the subscriptions' target below is a local server.
      config: { topicCacheTtlMs: 0, holeTimeoutMs: HOLE_TIMEOUT_MS, subscriptionAllowHttp: true },
    };
    const security = new Security(createDynamoSecurityStore(DynamoDBDocumentClient.from(client), tables), SECURITY, clock.now);
    apps.set(fn, FUNCTION_APIS[fn](deps, { functions: [fn], security }));
  }
  const bootstrap = new DynamoDBClient(localDynamoDbClientConfig(testEndpoint()));
  clients.push(bootstrap);
  adminToken = (await new Security(createDynamoSecurityStore(DynamoDBDocumentClient.from(bootstrap), tables), SECURITY).createApiKey("User:iam-admin")).token;

  // Security administration: API keys and ACL rules.
  const key = await call("admin", "POST", "/v1/api-keys", { principal: "User:iam-other" });
  expect(key.status).toBe(201);
  expect((await call("admin", "GET", "/v1/api-keys")).status).toBe(200);
  expect((await call("admin", "DELETE", `/v1/api-keys/${String(key.body["keyId"])}`)).status).toBe(200);
  const rule = await call("admin", "POST", "/v1/acls", { principal: "User:iam-other", resourceType: "Topic", resourceName: "x", operation: "Read" });
  expect(rule.status).toBe(201);
  expect((await call("admin", "GET", "/v1/acls")).status).toBe(200);
  expect((await call("admin", "DELETE", `/v1/acls/${String(rule.body["id"])}`)).status).toBe(200);

  // Every route, through the function that serves it. Expected statuses keep the run honest: a
  // step that failed early would exercise less than it claims.
  const topic = topicName("iam");
  const other = topicName("iam-other");
  expect((await call("admin", "POST", "/v1/topics", { name: topic, partitions: 2 })).status).toBe(201);
  expect((await call("admin", "POST", "/v1/topics", { name: other, partitions: 1 })).status).toBe(201);
  expect((await call("admin", "GET", "/v1/topics")).status).toBe(200);

  const producer = (await call("produce", "POST", "/v1/producers", {})).body;
  const transactionalId = uniqueName("tid");
  expect((await call("produce", "POST", "/v1/producers", { transactionalId })).status).toBe(200);
  const txn = (await call("produce", "POST", "/v1/producers", { transactionalId })).body; // bumps the epoch
  expect((await call("produce", "POST", `/v1/topics/${topic}/records`, { encoding: "utf8", records: [{ key: "a", value: "1" }, { key: "b", value: "2" }] })).status).toBe(200);
  const idempotent = { encoding: "utf8", producerId: producer["producerId"], producerEpoch: 0, partitions: [{ partition: 0, baseSequence: 0, records: [{ value: "x" }] }] };
  expect((await call("produce", "POST", `/v1/topics/${topic}/records`, idempotent)).status).toBe(200);
  const duplicate = await call("produce", "POST", `/v1/topics/${topic}/records`, idempotent);
  expect((duplicate.body["partitions"] as { duplicate: boolean }[])[0]!.duplicate).toBe(true);
  // A lost response to the batch put: the writer voids or checks its own slot (GetItem) before answering.
  dropResponse.set("produce", "PutItem");
  const next = { ...idempotent, partitions: [{ partition: 0, baseSequence: 1, records: [{ value: "y" }] }] };
  expect((await call("produce", "POST", `/v1/topics/${topic}/records`, next)).status).toBe(200);
  expect(dropResponse.has("produce")).toBe(false);

  const committed = await call("transactions", "POST", "/v1/transactions", {
    transactionalId,
    producerId: txn["producerId"],
    producerEpoch: txn["epoch"],
    transactionSequence: 0,
    encoding: "utf8",
    records: [{ topic: other, key: "k", value: "v" }],
    offsets: { group: "g-txn", offsets: [{ topic, partition: 0, offset: 1 }] },
  });
  expect(committed.status).toBe(200);
  // Trace: the input record 0 → the transaction that committed past it (index Query + record
  // GetItem); the output record → its batch's transaction (GetItem).
  const output = (committed.body["partitions"] as { topic: string; partition: number; baseOffset: number }[])[0]!;
  const traced = await call("admin", "GET", `/v1/topics/${topic}/partitions/0/records/0/trace`);
  expect((traced.body["consumedBy"] as unknown[]).length).toBe(1);
  const back = await call("admin", "GET", `/v1/topics/${output.topic}/partitions/${output.partition}/records/${output.baseOffset}/trace`);
  expect(back.body["producedBy"]).toMatchObject({ transactionalId });
  // Lost responses: with records the witness slot is checked (GetItem on the log); with offsets
  // only, the transactional id's sequence is read (GetItem on producers).
  dropResponse.set("transactions", "TransactWriteItems");
  const identity = { transactionalId, producerId: txn["producerId"], producerEpoch: txn["epoch"] };
  expect((await call("transactions", "POST", "/v1/transactions", { ...identity, transactionSequence: 1, records: [{ topic: other, value: "dg==" }] })).status).toBe(200);
  dropResponse.set("transactions", "TransactWriteItems");
  expect((await call("transactions", "POST", "/v1/transactions", { ...identity, transactionSequence: 2, offsets: { group: "g-txn", offsets: [{ topic, partition: 1, offset: 0 }] } })).status).toBe(200);
  expect(dropResponse.has("transactions")).toBe(false);

  // Dead writers: reservations nobody writes, old enough to be filled, on both partitions.
  const setupClient = new DynamoDBClient(localDynamoDbClientConfig(testEndpoint()));
  clients.push(setupClient);
  const storage = createDynamoStorage(setupClient, tables);
  const id = (await storage.topics.get(topic))!.topicId;
  await storage.log.reserve({ topicId: id, partition: 0 }, 3, clock.now());
  const p1End = (await storage.log.reserve({ topicId: id, partition: 1 }, 2, clock.now()))! + 2;
  // A record after the gap on partition 0; the gap is judged by that record's age.
  expect((await call("produce", "POST", `/v1/topics/${topic}/records`, { records: [{ value: "YWZ0ZXI=", partition: 0 }] })).status).toBe(200);
  clock.advance(HOLE_TIMEOUT_MS + 1);

  // A dead idempotent writer (docs/append.md): its sequence claim stands, its batch was never put.
  // The client's retry settles the claim: reads the slot and the log start, voids the slot, rewinds.
  const claimedTopic = topicName("iam-claim");
  expect((await call("admin", "POST", "/v1/topics", { name: claimedTopic, partitions: 1 })).status).toBe(201);
  const claimedRef = { topicId: (await storage.topics.get(claimedTopic))!.topicId, partition: 0 };
  const deadClaim = (await storage.log.reserve(claimedRef, 1, clock.now()))!;
  await storage.producers.claimSequence(claimedRef, { producerId: producer["producerId"] as number, epoch: 0, baseSequence: 0, lastSequence: 0 }, deadClaim);
  const settled = await call("produce", "POST", `/v1/topics/${claimedTopic}/records`, { ...idempotent, partitions: [{ partition: 0, baseSequence: 0, records: [{ value: "z" }] }] });
  expect(settled.status, JSON.stringify(settled.body)).toBe(200);
  expect((settled.body["partitions"] as { baseOffset: number }[])[0]!.baseOffset).toBe(deadClaim + 1);

  // Readers fill the gaps (fetch on partition 0, admin's describe on partition 1).
  const fetched = await call("fetch", "GET", `/v1/topics/${topic}/partitions/0/records?offset=0&encoding=utf8`);
  expect(fetched.status).toBe(200);
  expect((fetched.body["records"] as unknown[]).length).toBeGreaterThan(0);
  const description = await call("admin", "GET", `/v1/topics/${topic}`);
  expect((description.body["partitions"] as { highWatermark: number }[])[1]!.highWatermark).toBe(p1End);
  const longPoll = await call("fetch", "POST", "/v1/fetch", { maxWaitMs: 600, partitions: [{ topic, partition: 1, offset: p1End }] });
  expect(longPoll.status).toBe(200);
  for (const at of ["earliest", "latest", String(clock.now() - 10_000)]) {
    const answer = await call("fetch", "GET", `/v1/topics/${topic}/partitions/0/offsets?at=${at}`);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  }

  // A transaction too large for one TransactWriteItems (docs/transactions.md): staged batch items
  // (PutItem), then the commit record in the commit transaction.
  const wide = topicName("iam-wide");
  expect((await call("admin", "POST", "/v1/topics", { name: wide, partitions: 100 })).status).toBe(201);
  const wideRecords = Array.from({ length: 100 }, (_, partition) => ({ topic: wide, partition, value: "dw==" }));
  const large = await call("transactions", "POST", "/v1/transactions", { ...identity, transactionSequence: 3, records: wideRecords });
  expect(large.status, JSON.stringify(large.body)).toBe(200);
  // A crashed committer's staged batch, older than the hole timeout: a reader writes its abort
  // (a void-shaped decision item) and steps over it.
  const wideRef = { topicId: (await storage.topics.get(wide))!.topicId, partition: 0 };
  const abandoned = (await storage.log.reserve(wideRef, 1, clock.now()))!;
  const attempt = uniqueName("iam-attempt");
  await storage.staged.stage(wideRef, { baseOffset: abandoned, count: 1, codec: "none", blob: new Uint8Array(0), maxTimestamp: 0 }, clock.now(), undefined, { attempt, startedAt: clock.now() - HOLE_TIMEOUT_MS - 1 });
  const pastAbandoned = await call("fetch", "GET", `/v1/topics/${wide}/partitions/0/records?offset=0&encoding=utf8`);
  expect(pastAbandoned.body["nextOffset"]).toBe(abandoned + 1);
  expect(await storage.staged.readDecision(attempt)).toBe("aborted");

  // Stale reads: readers collide with a batch their Query did not show (fetch, then admin).
  const fresh = topicName("iam-fresh");
  expect((await call("admin", "POST", "/v1/topics", { name: fresh, partitions: 2 })).status).toBe(201);
  for (const partition of [0, 0, 1, 1]) {
    expect((await call("produce", "POST", `/v1/topics/${fresh}/records`, { records: [{ value: "eA==", partition }] })).status).toBe(200);
  }
  clock.advance(HOLE_TIMEOUT_MS + 1);
  const freshId = (await storage.topics.get(fresh))!.topicId;
  hideFromLogQuery.set("fetch", { p: `${freshId}#0`, o: 1 });
  const stale = await call("fetch", "GET", `/v1/topics/${fresh}/partitions/0/records?offset=0`);
  expect((stale.body["records"] as unknown[]).length).toBe(2);
  expect(hideFromLogQuery.has("fetch")).toBe(false);
  // Partition 1: its high-watermark hint is still 0, so describe walks it (partition 0's hint was
  // raised by the fetch above).
  hideFromLogQuery.set("admin", { p: `${freshId}#1`, o: 1 });
  const staleDescribe = await call("admin", "GET", `/v1/topics/${fresh}`);
  expect((staleDescribe.body["partitions"] as { highWatermark: number }[]).map((p) => p.highWatermark)).toEqual([2, 2]);
  expect(hideFromLogQuery.has("admin")).toBe(false);

  expect((await call("commit", "POST", "/v1/groups/g1/offsets", { offsets: [{ topic, partition: 0, offset: 2 }] })).status).toBe(200);
  expect((await call("commit", "GET", `/v1/groups/g1/offsets?topic=${topic}`)).status).toBe(200);

  // Consumer groups: join, a member-fenced commit, offsets with a reset policy, list, describe, leave.
  const joined = await call("commit", "POST", "/v1/groups/g2/heartbeat", { memberEpoch: 0, topics: [topic] });
  expect(joined.status).toBe(200);
  const member = { memberId: joined.body["memberId"], memberEpoch: joined.body["memberEpoch"] };
  expect((await call("commit", "POST", "/v1/groups/g2/heartbeat", { ...member, topics: [topic] })).status).toBe(200);
  const fenced = await call("commit", "POST", "/v1/groups/g2/offsets", { ...member, offsets: [{ topic, partition: 0, offset: 1 }] });
  expect(fenced.status, JSON.stringify(fenced.body)).toBe(200);
  // A transaction's offsets fenced by the same member (KIP-447): a ConditionCheck on its item.
  const fencedTxn = await call("transactions", "POST", "/v1/transactions", { ...identity, transactionSequence: 4, offsets: { group: "g2", ...member, offsets: [{ topic, partition: 1, offset: 1 }] } });
  expect(fencedTxn.status, JSON.stringify(fencedTxn.body)).toBe(200);
  // A reset policy makes the commit function a reader: a dead writer's gap (and a stale read) on
  // the way to the high watermark.
  const resetTopic = topicName("iam-reset");
  expect((await call("admin", "POST", "/v1/topics", { name: resetTopic, partitions: 2 })).status).toBe(201);
  for (const value of ["MQ==", "Mg=="]) expect((await call("produce", "POST", `/v1/topics/${resetTopic}/records`, { records: [{ value, partition: 0 }] })).status).toBe(200);
  const resetId = (await storage.topics.get(resetTopic))!.topicId;
  await storage.log.reserve({ topicId: resetId, partition: 0 }, 1, clock.now());
  clock.advance(HOLE_TIMEOUT_MS + 1);
  hideFromLogQuery.set("commit", { p: `${resetId}#0`, o: 1 });
  const latest = await call("commit", "GET", `/v1/groups/g3/offsets?topic=${resetTopic}&reset=latest`);
  expect(latest.status).toBe(200);
  expect(JSON.stringify(latest.body)).toContain('"position":3');
  expect(hideFromLogQuery.has("commit")).toBe(false);
  expect((await call("commit", "GET", `/v1/groups/g3/offsets?topic=${resetTopic}&reset=earliest`)).status).toBe(200);
  expect((await call("admin", "GET", "/v1/groups")).status).toBe(200);
  expect((await call("admin", "GET", "/v1/groups/g2")).status).toBe(200);
  expect((await call("commit", "DELETE", `/v1/groups/g2/members/${String(member.memberId)}`)).status).toBe(200);

  // The Upstash dialect (docs/upstash.md): the same core operations behind its own routes; a
  // consumer instance is a group member plus an item of its own in the offsets table.
  const produced = await call("produce", "POST", "/produce", [{ topic, value: "u1", partition: 0 }, { topic: fresh, value: "u2" }]);
  expect(produced.status, JSON.stringify(produced.body)).toBe(200);
  expect((await call("fetch", "POST", "/fetch", { topic, partition: 0, offset: 0, timeout: 100 })).status).toBe(200);
  for (const at of ["earliest", "latest", "1700000000"]) expect((await call("fetch", "POST", `/offsets/${at}`, [{ topic, partition: 0 }])).status).toBe(200);
  expect((await call("admin", "GET", "/topics")).status).toBe(200);
  for (let i = 0; i < 2; i++) {
    const consumed = await call("commit", "POST", "/consume/g-up/i1", { topic: fresh, timeout: 100 });
    expect(consumed.status, JSON.stringify(consumed.body)).toBe(200);
  }
  expect((await call("commit", "POST", "/commit/g-up/i1")).status).toBe(200);
  expect((await call("commit", "POST", "/committed/g-up/i1")).status).toBe(200);
  expect((await call("admin", "GET", "/consumers")).status).toBe(200);
  expect((await call("commit", "POST", "/delete-consumer/g-up/i1")).status).toBe(200);
  // Its curl forms, and a write named by an idempotency key (its state rides in the append's transaction).
  expect((await call("produce", "GET", `/produce/${topic}/u3?key=k`)).status).toBe(200);
  const keyed = { value: "u4", headers: [{ key: "Dynalog-Idempotency-Key", value: "iam-1" }] };
  for (let i = 0; i < 2; i++) expect((await call("produce", "POST", `/produce/${topic}`, keyed)).status).toBe(200);
  expect((await call("produce", "POST", `/webhook?topic=${topic}`, { event: "u5" })).status).toBe(200);
  expect((await call("commit", "GET", `/consume/g-up/i2/${fresh}?timeout=100`)).status).toBe(200);
  // Topic lifecycle: configs, more partitions, deleted records, a deleted (empty) group.
  expect((await call("admin", "GET", `/v1/topics/${topic}/configs`)).status).toBe(200);
  expect((await call("admin", "POST", `/v1/topics/${topic}/configs`, { retentionMs: 3_600_000 })).status).toBe(200);
  expect((await call("admin", "POST", `/v1/topics/${topic}/partitions`, { count: 3 })).status).toBe(200);
  const deletedRecords = await call("admin", "POST", `/v1/topics/${topic}/delete-records`, { partitions: [{ partition: 0, offset: 1 }] });
  expect(deletedRecords.status, JSON.stringify(deletedRecords.body)).toBe(200);
  const deletedGroup = await call("admin", "DELETE", "/v1/groups/g2");
  expect(deletedGroup.status, JSON.stringify(deletedGroup.body)).toBe(200);
  // A group with offsets only (no group item): the transaction checks that none appeared.
  expect((await call("admin", "DELETE", "/v1/groups/g1")).status).toBe(200);

  // Compaction (docs/compaction.md): one batch rewritten to fewer records, one emptied into a void, the checkpoint.
  const compacted = topicName("iam-compact");
  expect((await call("admin", "POST", "/v1/topics", { name: compacted, partitions: 1, cleanupPolicy: "compact" })).status).toBe(201);
  for (const records of [[{ key: "YQ==", value: "MQ==" }], [{ key: "YQ==", value: "Mg==" }, { key: "Yg==", value: "Mg==" }], [{ key: "YQ==", value: "Mw==" }]]) {
    expect((await call("produce", "POST", `/v1/topics/${compacted}/records`, { records })).status).toBe(200);
  }
  const compaction = await call("admin", "POST", `/v1/topics/${compacted}/compact`, {});
  expect(compaction.status, JSON.stringify(compaction.body)).toBe(200);
  expect(JSON.stringify(compaction.body)).toContain('"rewrittenBatches":2');

  // Push subscriptions: their own function manages them (the dispatcher's part is below).
  subscriptionTopic = topicName("iam-sub");
  deadLetters = topicName("iam-dlq");
  outputs = topicName("iam-eos");
  for (const [name, partitions] of [[subscriptionTopic, 2], [deadLetters, 1], [outputs, 1]] as const) {
    expect((await call("admin", "POST", "/v1/topics", { name, partitions })).status).toBe(201);
  }
  webhook = await startWebhookTarget((event) => {
    const values = Object.values(event.records).flat().map((r) => Buffer.from(r.value ?? "", "base64").toString());
    return values.includes("poison") ? { status: 500 } : { status: 200 };
  });
  // Exactly-once: the answer is the output, written with the input offsets in one transaction.
  webhook.responders.set("/eos", (event) => ({ status: 200, body: { records: Object.values(event.records).flat().map((r) => ({ topic: outputs, value: r.value })) } }));
  const subscription = uniqueName("iam-sub");
  const common = { topic: subscriptionTopic, startingPosition: "earliest" };
  const created = await call("subscriptions", "POST", "/v1/subscriptions", { ...common, name: subscription, webhook: `${webhook.baseUrl}/alo`, maxRetries: 0, deadLetterTopic: deadLetters });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  expect((await call("subscriptions", "POST", "/v1/subscriptions", { ...common, name: `${subscription}-eos`, webhook: `${webhook.baseUrl}/eos`, delivery: "exactly-once" })).status).toBe(201);
  // Starting at "latest" makes create a reader: a stale Query (a batch it did not show) sends it to
  // void a gap that is not one, read the entry its void collided with, and raise the hint.
  const gapTopic = topicName("iam-sub-gap");
  expect((await call("admin", "POST", "/v1/topics", { name: gapTopic, partitions: 1 })).status).toBe(201);
  for (const value of ["MQ==", "Mg=="]) expect((await call("produce", "POST", `/v1/topics/${gapTopic}/records`, { records: [{ value, partition: 0 }] })).status).toBe(200);
  clock.advance(HOLE_TIMEOUT_MS + 1);
  hideFromLogQuery.set("subscriptions", { p: `${(await storage.topics.get(gapTopic))!.topicId}#0`, o: 1 });
  const gone = await call("subscriptions", "POST", "/v1/subscriptions", { topic: gapTopic, startingPosition: "latest", name: `${subscription}-gone`, webhook: `${webhook.baseUrl}/gone` });
  expect(gone.status, JSON.stringify(gone.body)).toBe(201);
  expect(hideFromLogQuery.has("subscriptions")).toBe(false);
  expect((await call("subscriptions", "GET", "/v1/subscriptions")).status).toBe(200);
  expect((await call("subscriptions", "GET", `/v1/subscriptions/${subscription}`)).status).toBe(200);
  expect((await call("subscriptions", "POST", `/v1/subscriptions/${subscription}-gone/pause`)).status).toBe(200);
  expect((await call("subscriptions", "POST", `/v1/subscriptions/${subscription}-gone/resume`)).status).toBe(200);
  expect((await call("subscriptions", "POST", `/v1/subscriptions/${subscription}-gone/rotate-secret`, { gracePeriodMs: 60_000 })).status).toBe(200);
  // A partition state (a dispatcher's lease) for delete to remove after the definition (a batch delete).
  expect(await storage.subscriptions.acquireLease(`${subscription}-gone`, 0, "iam-dispatcher", clock.now(), clock.now() + 60_000)).toBeDefined();
  expect((await call("subscriptions", "DELETE", `/v1/subscriptions/${subscription}-gone`)).status).toBe(200);
  expect(await storage.subscriptions.partitions(`${subscription}-gone`)).toEqual([]);
  subscriptionName = subscription;

  // History (docs/console.md): the samples the sampler kept (none here: the sampler's grant is below).
  expect((await call("admin", "GET", `/v1/topics/${topic}/history?minutes=5`)).status).toBe(200);
  expect((await call("admin", "GET", "/v1/groups/g-txn/history")).status).toBe(200);
  expect((await call("admin", "GET", "/v1/history/topics?minutes=5")).status).toBe(200);

  expect((await call("admin", "DELETE", `/v1/topics/${topic}`)).status).toBe(200);
}, 180_000); // every route on DynamoDB Local, a large transaction included: slow on a loaded machine

let subscriptionTopic = "";
let deadLetters = "";
let outputs = "";
let subscriptionName = "";
let webhook: WebhookTarget | undefined;

afterAll(async () => {
  for (const client of clients) client.destroy();
  await webhook?.close();
});

describe("IAM grants match what each function does", () => {
  it("the scenario exercises every route (extend it, and infra/permissions.ts, with each new route)", () => {
    expect(ROUTES.map((r) => r.id).filter((id) => !exercised.has(id))).toEqual([]);
  });

  it.each(FUNCTION_NAMES)("%s: every DynamoDB call it made is granted", (fn) => {
    const denied = calls.get(fn)!.filter((c) => {
      const grants = FUNCTION_ACCESS[fn][c.table] ?? [];
      return !grants.some((g) => grantAllows(g, c));
    });
    expect(denied).toEqual([]);
  });

  it.each(FUNCTION_NAMES)("%s: every grant was used", (fn) => {
    const unused: string[] = [];
    for (const [table, grants] of Object.entries(FUNCTION_ACCESS[fn]) as [TableId, NonNullable<(typeof FUNCTION_ACCESS)[FunctionName][TableId]>][]) {
      for (const grant of grants) {
        for (const action of grant.actions) {
          if (!calls.get(fn)!.some((c) => c.table === table && c.action === action)) unused.push(`${table}:${action}`);
        }
      }
    }
    expect(unused).toEqual([]);
  });

  it("the attribute-restricted writes really are the narrow ones (voids and hints, reservations)", () => {
    const fetchWrites = calls.get("fetch")!.filter((c) => c.action === "PutItem" || c.action === "UpdateItem");
    expect(fetchWrites.some((c) => c.table === "log" && c.attributes.includes("k"))).toBe(true);
    expect(fetchWrites.every((c) => !c.attributes.includes("d") && !c.attributes.includes("next"))).toBe(true);
    const reservations = calls.get("produce")!.filter((c) => c.table === "partitions" && c.action === "UpdateItem");
    expect(reservations.length).toBeGreaterThan(0);
    // A reservation (ADD next and bytes written bw, SET ra and its token rt), or a reservation
    // given back (SET next, ADD bw).
    expect(reservations.every((c) => ["bw,next,p,ra,rt", "bw,next,p"].includes(c.attributes.join(",")))).toBe(true);
    expect(reservations.some((c) => c.attributes.join(",") === "bw,next,p,ra,rt")).toBe(true);
  });
});

/** Calls made on tables the access table does not grant, or outside a grant's attributes. */
function ungranted(access: FunctionAccess, made: readonly Call[]): Call[] {
  return made.filter((c) => {
    const grants = access[c.table] ?? [];
    return !grants.some((g) => grantAllows(g, c));
  });
}

describe("IAM grant of the key API's authorizer", () => {
  const authorizerCalls: Call[] = [];

  beforeAll(async () => {
    const client = recordingClient("authorizer", tables, authorizerCalls);
    clients.push(client);
    // Deployed settings (default key cache), with every decision it can make: valid key, wrong
    // secret, unknown key, revoked key, malformed and missing header.
    const security = new Security(createDynamoSecurityStore(DynamoDBDocumentClient.from(client), tables), { ...SECURITY, cacheTtlMs: DEFAULT_SECURITY_CONFIG.cacheTtlMs });
    const authorize = createKeyAuthorizer(security);
    const event = (authorization?: string) =>
      ({ version: "2.0", type: "REQUEST", identitySource: authorization === undefined ? [] : [authorization], headers: {}, requestContext: {} }) as unknown as APIGatewayRequestAuthorizerEventV2;
    const setup = new DynamoDBClient(localDynamoDbClientConfig(testEndpoint()));
    clients.push(setup);
    const bootstrap = new Security(createDynamoSecurityStore(DynamoDBDocumentClient.from(setup), tables), SECURITY);
    const revoked = await bootstrap.createApiKey("User:iam-revoked");
    await bootstrap.revokeApiKey(revoked.key.keyId);
    expect(await authorize(event(`Bearer ${adminToken}`))).toMatchObject({ isAuthorized: true });
    expect(await authorize(event(`Bearer ${adminToken.slice(0, -1)}${adminToken.endsWith("A") ? "B" : "A"}`))).toMatchObject({ isAuthorized: false });
    expect(await authorize(event(`Bearer dlk_${"q".repeat(16)}_${revoked.secret}`))).toMatchObject({ isAuthorized: false });
    expect(await authorize(event(`Bearer ${revoked.token}`))).toMatchObject({ isAuthorized: false });
    expect(await authorize(event("Bearer nope"))).toMatchObject({ isAuthorized: false });
    expect(await authorize(event())).toMatchObject({ isAuthorized: false });
  });

  it("every DynamoDB call it made is granted", () => {
    expect(authorizerCalls.length).toBeGreaterThan(0);
    expect(ungranted(AUTHORIZER_ACCESS, authorizerCalls)).toEqual([]);
  });

  it("every grant was used, and the grant is one read", () => {
    expect(AUTHORIZER_ACCESS).toEqual({ security: [expect.objectContaining({ actions: ["GetItem"] })] });
    expect([...new Set(authorizerCalls.map((c) => `${c.table}:${c.action}`))]).toEqual(["security:GetItem"]);
  });
});

describe("IAM grant of the scheduled compactor", () => {
  const compactorCalls: Call[] = [];

  beforeAll(async () => {
    const setup = new DynamoDBClient(localDynamoDbClientConfig(testEndpoint()));
    clients.push(setup);
    const storage = createDynamoStorage(setup, tables);
    const writer = createBroker({ storage, clock: clock.now, config: { topicCacheTtlMs: 0, holeTimeoutMs: HOLE_TIMEOUT_MS } });
    const topic = await writer.createTopic({ name: topicName("iam-compacted"), partitions: 1, cleanupPolicy: "compact" });
    const record = (key: string, value: string | null) => ({ key: new TextEncoder().encode(key), value: value === null ? null : new TextEncoder().encode(value), headers: [] });
    const produce = (records: ReturnType<typeof record>[]) => writer.produce({ topic: topic.name, partitions: [{ partition: 0, records }] });
    await produce([record("a", "1"), record("b", "1")]);
    await produce([record("a", "2"), record("b", null)]);
    // A dead writer's gap below a later batch, past the hole timeout: the pass fills it with a void,
    // and (its Query missing the later batch, as an eventually consistent read can) reads the entry
    // its void collided with.
    const ref = { topicId: topic.topicId, partition: 0 };
    await storage.log.reserve(ref, 1, clock.now());
    await produce([record("c", "1")]);
    clock.advance(HOLE_TIMEOUT_MS + 1);
    hideFromLogQuery.set("compactor", { p: `${topic.topicId}#0`, o: 5 });

    const client = recordingClient("compactor", tables, compactorCalls);
    clients.push(client);
    const broker = createBroker({ storage: createDynamoStorage(client, tables), clock: clock.now, config: { topicCacheTtlMs: 0, holeTimeoutMs: HOLE_TIMEOUT_MS } });
    const run = scheduledCompaction({ compactAllTopics: (options) => broker.compactAllTopics(options), clock: clock.now, logger: { info: () => undefined, error: () => undefined } });
    const context = { getRemainingTimeInMillis: () => 5 * 60_000 };
    expect(await run({}, context)).toMatchObject({ failedTopics: [], removedRecords: 2 });
    // Again: unchanged partitions cost a head read each.
    const again = await run({}, context);
    expect(again).toMatchObject({ failedTopics: [], unchangedPartitions: again.partitions });
  });

  it("every DynamoDB call it made is granted", () => {
    expect(compactorCalls.length).toBeGreaterThan(0);
    expect(ungranted(COMPACTOR_ACCESS, compactorCalls)).toEqual([]);
  });

  it("every grant was used", () => {
    const used = new Set(compactorCalls.map((c) => `${c.table}:${c.action}`));
    const granted = Object.entries(COMPACTOR_ACCESS).flatMap(([table, grants]) => (grants ?? []).flatMap((g) => g.actions.map((a) => `${table}:${a}`)));
    expect(granted.filter((g) => !used.has(g))).toEqual([]);
  });
});

describe("IAM grant of the history sampler", () => {
  const historyCalls: Call[] = [];

  beforeAll(async () => {
    // Beside every topic and group the scenario made: a partition whose walk meets a large
    // transaction's undecided staged batch (its decision is read, not written) and a group.
    const setup = new DynamoDBClient(localDynamoDbClientConfig(testEndpoint()));
    clients.push(setup);
    const storage = createDynamoStorage(setup, tables);
    const writer = createBroker({ storage, clock: clock.now, config: { topicCacheTtlMs: 0, holeTimeoutMs: HOLE_TIMEOUT_MS } });
    const topic = await writer.createTopic({ name: topicName("iam-history"), partitions: 1 });
    const ref = { topicId: topic.topicId, partition: 0 };
    const record = { key: null, value: new TextEncoder().encode("h"), headers: [] };
    await writer.produce({ topic: topic.name, partitions: [{ partition: 0, records: [record] }] });
    const staged = (await storage.log.reserve(ref, 1, clock.now()))!;
    await storage.staged.stage(ref, { baseOffset: staged, count: 1, codec: "none", blob: new Uint8Array(0), maxTimestamp: 0 }, clock.now(), undefined, { attempt: uniqueName("iam-hist-attempt"), startedAt: clock.now() });
    await writer.commitOffsets(uniqueName("iam-hist-g"), [{ topic: topic.name, partition: 0, offset: 1 }]);

    const client = recordingClient("history", tables, historyCalls);
    clients.push(client);
    const broker = createBroker({ storage: createDynamoStorage(client, tables), clock: clock.now, config: { topicCacheTtlMs: 0, holeTimeoutMs: HOLE_TIMEOUT_MS } });
    const run = scheduledHistory({ sampleHistory: (now) => broker.sampleHistory(now), clock: clock.now, logger: { info: () => undefined, error: () => undefined } });
    const first = await run({});
    expect(first.failed).toEqual([]);
    expect(first.topicsWritten).toBeGreaterThan(1);
    expect(first.groupsWritten).toBeGreaterThan(0);
    // The staged batch ended the walk; nothing was decided or voided.
    expect((await writer.topicHistory(topic.name, 5)).samples.map((s) => s.highWatermark)).toEqual([1]);
    // Again in the same bucket: every item exists, nothing is overwritten.
    const again = await run({});
    expect(again).toMatchObject({ topicsWritten: 0, groupsWritten: 0, topicsAlreadySampled: first.topicsWritten, groupsAlreadySampled: first.groupsWritten });
  });

  it("every DynamoDB call it made is granted (its puts under the history keys only)", () => {
    expect(historyCalls.length).toBeGreaterThan(0);
    expect(ungranted(HISTORY_ACCESS, historyCalls)).toEqual([]);
    const puts = historyCalls.filter((c) => c.action === "PutItem");
    expect(puts.length).toBeGreaterThan(0);
    expect(puts.every((c) => c.table === "producers" && /^h[tg]#/.test(c.leadingKey ?? ""))).toBe(true);
    // A put elsewhere in the table would be refused.
    expect(ungranted(HISTORY_ACCESS, [{ ...puts[0]!, leadingKey: "pid#1" }])).toHaveLength(1);
  });

  it("every grant was used, and it writes no log item", () => {
    const used = new Set(historyCalls.map((c) => `${c.table}:${c.action}`));
    const granted = Object.entries(HISTORY_ACCESS).flatMap(([table, grants]) => (grants ?? []).flatMap((g) => g.actions.map((a) => `${table}:${a}`)));
    expect(granted.filter((g) => !used.has(g))).toEqual([]);
    expect(historyCalls.filter((c) => c.table === "log" && c.action !== "Query" && c.action !== "GetItem")).toEqual([]);
  });
});

describe("IAM grant of the push-subscription dispatcher", () => {
  const dispatcherCalls: Call[] = [];
  let delivered = 0;

  beforeAll(async () => {
    const client = recordingClient("dispatcher", tables, dispatcherCalls);
    clients.push(client);
    const broker = createBroker({ storage: createDynamoStorage(client, tables), clock: clock.now, config: { topicCacheTtlMs: 0, holeTimeoutMs: HOLE_TIMEOUT_MS } });
    const handle = createDispatcherHandler(new Dispatcher({ broker, invoker: createInvoker(), clock: clock.now }), { clock: clock.now });
    const setup = new DynamoDBClient(localDynamoDbClientConfig(testEndpoint()));
    clients.push(setup);
    const storage = createDynamoStorage(setup, tables);
    const topicId = (await storage.topics.get(subscriptionTopic))!.topicId;
    // Records on both partitions (one the webhook refuses: dead-lettered), and a dead writer's gap
    // on partition 1 that the dispatcher's read fills; partition 0's last batch hidden from its Query.
    for (const [partition, value] of [[0, "YQ=="], [0, "cG9pc29u"], [0, "Yg=="], [1, "Yw=="]] as const) {
      expect((await call("produce", "POST", `/v1/topics/${subscriptionTopic}/records`, { records: [{ value, partition }] })).status).toBe(200);
    }
    await storage.log.reserve({ topicId, partition: 1 }, 1, clock.now());
    expect((await call("produce", "POST", `/v1/topics/${subscriptionTopic}/records`, { records: [{ value: "ZA==", partition: 1 }] })).status).toBe(200);
    clock.advance(HOLE_TIMEOUT_MS + 1);
    hideFromLogQuery.set("dispatcher", { p: `${topicId}#0`, o: 2 });
    const keys = (partition: number, offset: number) => ({ eventName: "INSERT", dynamodb: { Keys: { p: { S: `${topicId}#${partition}` }, o: { N: String(offset) } } } });
    const woken = await handle({ Records: [keys(0, 0), keys(0, 2), keys(1, 0)] }, { getRemainingTimeInMillis: () => 600_000 });
    const swept = await handle({ source: "aws.events" }, { getRemainingTimeInMillis: () => 600_000 });
    delivered = woken.delivered + swept.delivered;
  }, 60_000);

  it("delivered everything: both subscriptions, a dead letter, exactly-once outputs", async () => {
    // 5 records per subscription, the poison one dead-lettered by the at-least-once one.
    expect(delivered).toBe(9);
    const description = await call("subscriptions", "GET", `/v1/subscriptions/${subscriptionName}`);
    expect((description.body["partitions"] as { deadLettered: number }[]).map((p) => p.deadLettered)).toEqual([1, 0]);
    for (const [name, count] of [[deadLetters, 1], [outputs, 5]] as const) {
      const topic = await call("admin", "GET", `/v1/topics/${name}`);
      expect((topic.body["partitions"] as { highWatermark: number }[]).reduce((n, p) => n + p.highWatermark, 0)).toBe(count);
    }
    expect(hideFromLogQuery.has("dispatcher")).toBe(false);
  });

  it("every DynamoDB call it made is granted", () => {
    expect(dispatcherCalls.length).toBeGreaterThan(0);
    expect(ungranted(DISPATCHER_ACCESS, dispatcherCalls)).toEqual([]);
  });

  it("every grant was used", () => {
    const unused: string[] = [];
    for (const [table, grants] of Object.entries(DISPATCHER_ACCESS) as [TableId, readonly TableGrant[]][]) {
      for (const grant of grants) for (const action of grant.actions) if (!dispatcherCalls.some((c) => c.table === table && c.action === action)) unused.push(`${table}:${action}`);
    }
    expect(unused).toEqual([]);
  });
});
