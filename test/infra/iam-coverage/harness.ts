/**
 * The IAM coverage tests' harness (test/infra/iam-coverage-*.test.ts): they prove the IAM table
 * (infra/permissions.ts) against the code by running each function's own wiring on DynamoDB Local
 * with a client that records each DynamoDB action (transactions and batches broken into the
 * actions IAM authorizes) and the attribute names it carries. Then, per function:
 *  - every recorded action is granted to that function on that table (a missing grant would be an
 *    AccessDenied in production), within the grant's `dynamodb:Attributes` list if it has one;
 *  - every granted action was used (nothing is granted "just in case").
 * This module holds what those files share: the recording client and the faults it can inject, IAM's
 * evaluation of a grant, and a fixture with one "Lambda" (HTTP app) per route function.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { expect } from "vitest";
import { ATTRIBUTE_RESTRICTED_RETURN_VALUES, type DynamoAction, type FunctionAccess, type TableGrant } from "../../../infra/permissions.js";
import { localDynamoDbClientConfig } from "../../../local/dynamodb-local.js";
import { createBroker, type Broker } from "../../../shared/core/broker.js";
import { FUNCTION_APIS, type DynalogApi } from "../../../shared/http/app.js";
import { FUNCTION_NAMES, ROUTES, matchesPath, type FunctionName, type RouteId } from "../../../shared/http/routes.js";
import { DEFAULT_SECURITY_CONFIG, Security, type SecurityConfig } from "../../../shared/security/security.js";
import { createDynamoStorage } from "../../../shared/storage/dynamo-storage.js";
import { createDynamoSecurityStore } from "../../../shared/storage/security-store.js";
import type { TableId, TableNames } from "../../../shared/storage/tables.js";
import { createTestTables, TestClock } from "../../support/broker.js";
import { testEndpoint } from "../../support/dynamodb.js";

export interface Call {
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

/** Calls made on tables the access table does not grant, or outside a grant's attributes. */
export function ungranted(access: FunctionAccess, made: readonly Call[]): Call[] {
  return made.filter((c) => {
    const grants = access[c.table] ?? [];
    return !grants.some((g) => grantAllows(g, c));
  });
}

/** Granted `table:action` pairs that no call in `made` used. */
export function unusedGrants(access: FunctionAccess, made: readonly Call[]): string[] {
  const unused: string[] = [];
  for (const [table, grants] of Object.entries(access) as [TableId, readonly TableGrant[]][]) {
    for (const grant of grants) {
      for (const action of grant.actions) {
        if (!made.some((c) => c.table === table && c.action === action)) unused.push(`${table}:${action}`);
      }
    }
  }
  return unused;
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

/** A function whose DynamoDB calls are recorded: the route functions, the authorizer, the scheduled compactor and history sampler, the subscription dispatcher. */
export type RecordedFunction = FunctionName | "authorizer" | "compactor" | "dispatcher" | "history";

/** Per function: lose the response of the next call of this command (the write happens). */
export const dropResponse = new Map<RecordedFunction, string>();
/**
 * Per function: leave this offset out of the next log Query that returns it — what an eventually
 * consistent read does to a batch written a moment ago. The reader then tries to fill a gap that
 * is not one, and must read the entry it collided with (GetItem).
 */
export const hideFromLogQuery = new Map<RecordedFunction, { readonly p: string; readonly o: number }>();

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

export const HOLE_TIMEOUT_MS = 1_000;

/** Deployed functions authenticate, authorize and count quotas: so do these. */
export const SECURITY: SecurityConfig = {
  ...DEFAULT_SECURITY_CONFIG,
  enabled: true,
  superUsers: ["User:iam-admin"],
  cacheTtlMs: 0,
  quotas: { ...DEFAULT_SECURITY_CONFIG.quotas, requestsPerSecond: 1_000_000, flushIntervalMs: 0 },
};

/** Fresh tables, and on them one "Lambda" per route function: its own routes only, its own recorded client. */
export interface IamFixture {
  readonly tables: TableNames;
  readonly clock: TestClock;
  /** Per route function, the DynamoDB calls its app made. */
  readonly calls: ReadonlyMap<FunctionName, readonly Call[]>;
  /** Routes `call` exercised (so a new route cannot slip past the route scenario). */
  readonly exercised: ReadonlySet<RouteId>;
  /** A super user's API key, for the apps and the authorizer. */
  readonly adminToken: string;
  /** One request to the app of `fn`, which must be the function that serves the route. */
  call(fn: FunctionName, method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }>;
  /** A client whose calls land in `calls`, for a function without routes; destroyed by `close`. */
  recordingClient(fn: RecordedFunction, calls: Call[]): DynamoDBClient;
  /** A plain client, to set a scene the test's function did not make; destroyed by `close`. */
  setupClient(): DynamoDBClient;
  /** A broker over `client` as the Lambdas configure theirs (hole timeout, no topic cache), on the fixture's clock. */
  broker(client: DynamoDBClient): Broker;
  /** Runs at `close` (a webhook target to stop). */
  onClose(cleanup: () => Promise<void> | void): void;
  close(): Promise<void>;
}

export async function createIamFixture(label: string): Promise<IamFixture> {
  const tables = await createTestTables(label);
  const clock = new TestClock();
  const calls = new Map<FunctionName, Call[]>();
  const apps = new Map<FunctionName, DynalogApi>();
  const exercised = new Set<RouteId>();
  const clients: DynamoDBClient[] = [];
  const cleanups: (() => Promise<void> | void)[] = [];
  const setupClient = () => {
    const client = new DynamoDBClient(localDynamoDbClientConfig(testEndpoint()));
    clients.push(client);
    return client;
  };
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
      // Plain-http webhooks: the subscriptions' target is a local server.
      config: { topicCacheTtlMs: 0, holeTimeoutMs: HOLE_TIMEOUT_MS, subscriptionAllowHttp: true },
    };
    const security = new Security(createDynamoSecurityStore(DynamoDBDocumentClient.from(client), tables), SECURITY, clock.now);
    apps.set(fn, FUNCTION_APIS[fn](deps, { functions: [fn], security }));
  }
  const adminToken = (await new Security(createDynamoSecurityStore(DynamoDBDocumentClient.from(setupClient()), tables), SECURITY).createApiKey("User:iam-admin")).token;

  return {
    tables,
    clock,
    calls,
    exercised,
    adminToken,
    async call(fn, method, path, body) {
      const route = ROUTES.find((r) => r.method === method && matchesPath(r, path.split("?")[0]!));
      expect(route?.fn, `${method} ${path}`).toBe(fn);
      exercised.add(route!.id);
      const headers: Record<string, string> = { authorization: `Bearer ${adminToken}`, ...(body !== undefined && { "content-type": "application/json" }) };
      const response = await apps.get(fn)!.request(path, { method, headers, ...(body !== undefined && { body: JSON.stringify(body) }) });
      const text = await response.text();
      return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
    },
    recordingClient(fn, recorded) {
      const client = recordingClient(fn, tables, recorded);
      clients.push(client);
      return client;
    },
    setupClient,
    broker: (client) => createBroker({ storage: createDynamoStorage(client, tables), clock: clock.now, config: { topicCacheTtlMs: 0, holeTimeoutMs: HOLE_TIMEOUT_MS } }),
    onClose: (cleanup) => void cleanups.push(cleanup),
    async close() {
      for (const client of clients) client.destroy();
      for (const cleanup of cleanups) await cleanup();
    },
  };
}
