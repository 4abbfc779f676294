/**
 * The whole broker on one machine: DynamoDB Local (embedded), the tables, and the deployed Lambda
 * handlers behind the local API Gateway stand-in.
 */
import type { AddressInfo } from "node:net";
import path from "node:path";
import { existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { FUNCTION_NAMES, type FunctionName } from "../shared/http/routes.js";
import { ensureTables } from "../shared/storage/create-tables.js";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { DEFAULT_SECURITY_CONFIG, Security } from "../shared/security/security.js";
import { createDynamoSecurityStore } from "../shared/storage/security-store.js";

const LOCAL_ADMIN = "User:admin";
import { tableNames } from "../shared/storage/tables.js";
import { assertLocalEndpoint, localDynamoDbClientConfig, startDynamoDbLocal, type DynamoDbLocalHandle } from "./dynamodb-local.js";
import { ANY_ORIGIN, type CorsPolicy } from "../shared/http/cors.js";
import { createGateway, type FunctionHandlers, type LambdaHandler } from "./gateway.js";
import type { DynamoDbFaults } from "./faults/dynamodb-faults.js";
import { faultsForProfile, type ChaosProfileName } from "./faults/profiles.js";
import { onDynamoDbClientCreated } from "../shared/runtime/client-hooks.js";
import { prebuiltBundlesDir } from "../infra/lambda-build.js";
import { createConsoleRoutes, CONSOLE_BASE_PATH } from "../shared/http/console-routes.js";
import { loadConsoleBundle } from "./console-bundle.js";
import { DEFAULT_COMPACTION_INTERVAL_MS, startPeriodicCompaction, type PeriodicCompaction } from "./periodic-compaction.js";
import { DEFAULT_HISTORY_INTERVAL_MS, startPeriodicHistory, type PeriodicHistory } from "./periodic-history.js";
import { runtimeConfigFromEnv } from "../shared/runtime/config.js";
import { startLocalDispatcher, type LocalDispatcher } from "./dispatcher.js";
import { appendsInResponse, attachWebSocketServer, createLocalNotificationHub, type LocalNotificationHub } from "./notifications.js";
import { LOCAL_NOTIFICATIONS_PATH } from "../shared/http/notification-protocol.js";

export interface LocalBrokerOptions {
  /** HTTP port; 0 picks a free one. */
  readonly port?: number;
  readonly host?: string;
  /** Persist DynamoDB Local's data here; default in-memory. */
  readonly dataDir?: string;
  /** Use this already running DynamoDB Local instead of starting one. */
  readonly dynamodbEndpoint?: string;
  readonly tablePrefix?: string;
  /**
   * Where the handler modules live: the TypeScript sources (the default in this repository), or a
   * directory of bundles built for Lambda (`<dir>/<function>/index.mjs`; the default in the
   * published package, which ships the prebuilt bundles its construct deploys), so what ships is
   * what runs.
   */
  readonly handlers?:
    | { readonly kind: "source" }
    | { readonly kind: "bundled"; readonly dir: string }
    /** One module per function, e.g. the assets `cdk synth` produced (infra/assets.ts finds them). */
    | { readonly kind: "files"; readonly files: Readonly<Record<FunctionName, string>> };
  /** Extra DYNALOG_* settings for the handlers (e.g. DYNALOG_HOLE_TIMEOUT_MS). */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * Turn authentication and ACLs on (off by default locally). "User:admin" is the super-user and
   * an API key for it is created at start (`adminToken`).
   */
  readonly auth?: boolean;
  readonly onDynamoDbLog?: (line: string) => void;
  /**
   * Chaos mode: inject the named profile's DynamoDB faults (local/faults/profiles.ts) into every
   * handler's DynamoDB client. Handlers are loaded once per process, so the first broker started
   * in a process decides whether its handlers' clients are instrumented.
   */
  readonly chaos?: { readonly profile: ChaosProfileName; readonly seed: number };
  /** Which web origins may call the broker from a browser; default any (ANY_ORIGIN), false for none. */
  readonly cors?: CorsPolicy | false;
  /** Serve the web console at `/console` (docs/console.md); default true. */
  readonly console?: boolean;
  /**
   * Compact every compacted topic this often, in this process (docs/compaction.md); 0 = never
   * (POST /v1/topics/:topic/compact still works). Default one minute.
   */
  readonly compactionIntervalMs?: number;
  /**
   * Sample every topic and consumer group this often for the console's charts (docs/console.md,
   * "History"), in this process; 0 = never (the history routes then answer no samples). Default one
   * minute; at least 1000 ms.
   */
  readonly historyIntervalMs?: number;
  /** Sample on the timer (default true); tests may take samples themselves (`history.sampleOnce(now)`) and nothing else. */
  readonly historyAutoStart?: boolean;
  /**
   * Push subscriptions (docs/subscriptions.md): their routes are served and a dispatcher delivers
   * them in process; webhooks may be plain http:// and `--function` may name a local module.
   * Default on; `false` turns both off.
   */
  readonly subscriptions?:
    | false
    | {
        /** Lambda ARNs (or prefixes ending in '*') subscriptions may target; default none. */
        readonly functionAllowList?: readonly string[];
        /** Start the dispatcher's background loop (default true); tests may drain it themselves. */
        readonly autoStart?: boolean;
      };
}

export interface LocalBroker {
  readonly url: string;
  /** The web console's address (`<url>/console`), unless started with `console: false`. */
  readonly consoleUrl?: string;
  readonly dynamodbEndpoint: string;
  readonly tablePrefix: string;
  /** With `auth`: a Bearer token of the super-user "User:admin". */
  readonly adminToken?: string;
  /** With `chaos`: the fault layer, whose `decisions` list every fault injected so far. */
  readonly chaos?: { readonly profile: ChaosProfileName; readonly seed: number; readonly faults: DynamoDbFaults };
  /** The in-process compactor (absent with compactionIntervalMs 0). */
  readonly compaction?: Pick<PeriodicCompaction, "runOnce">;
  /** The in-process history sampler (absent with historyIntervalMs 0); `sampleOnce(now)` takes a sample at once. */
  readonly history?: Pick<PeriodicHistory, "sampleOnce">;
  /** The in-process subscription dispatcher (unless `subscriptions: false`). */
  readonly subscriptions?: LocalDispatcher;
  /**
   * Record notifications (docs/api.md, "Notifications"): the hub, and the WebSocket URL to give the
   * SDK (`notifications: { url }`) when the `ws` package is installed to serve it.
   */
  readonly notifications: LocalNotificationHub;
  readonly notificationsUrl?: string;
  stop(): Promise<void>;
}

export async function startLocalBroker(options: LocalBrokerOptions = {}): Promise<LocalBroker> {
  let dynamodb: DynamoDbLocalHandle | undefined;
  const endpoint = options.dynamodbEndpoint ?? (dynamodb = await startDynamoDbLocal({ dataDir: options.dataDir, onLog: options.onDynamoDbLog })).endpoint;
  assertLocalEndpoint(endpoint);
  const tablePrefix = options.tablePrefix ?? "dynalog";
  const chaos = options.chaos && { ...options.chaos, faults: faultsForProfile(options.chaos.profile, options.chaos.seed) };
  const removeChaosHook = chaos ? onDynamoDbClientCreated((client) => chaos.faults.install(client)) : undefined;
  let subscriptions: LocalDispatcher | undefined;
  let notifications: LocalNotificationHub | undefined;
  const historyIntervalMs = options.historyIntervalMs ?? DEFAULT_HISTORY_INTERVAL_MS;
  if (!Number.isInteger(historyIntervalMs) || (historyIntervalMs !== 0 && historyIntervalMs < 1_000)) {
    throw new Error(`historyIntervalMs must be 0 (never) or a whole number of milliseconds from 1000, got ${historyIntervalMs}`);
  }
  try {
    const client = new DynamoDBClient(localDynamoDbClientConfig(endpoint));
    await ensureTables(client, tableNames(tablePrefix));
    const authEnv = options.auth ? { DYNALOG_AUTH: "on", DYNALOG_SUPER_USERS: LOCAL_ADMIN } : {};
    const subscriptionEnv =
      options.subscriptions === false
        ? {}
        : {
            DYNALOG_SUBSCRIPTION_ALLOW_HTTP: "true",
            // Webhooks on this machine are the point of a local broker; the environment (or `env`) may turn the guard on.
            DYNALOG_SUBSCRIPTION_WEBHOOK_GUARD: process.env["DYNALOG_SUBSCRIPTION_WEBHOOK_GUARD"] ?? "off",
            DYNALOG_SUBSCRIPTION_LOCAL_MODULES: "true",
            DYNALOG_SUBSCRIPTION_FUNCTIONS: (options.subscriptions?.functionAllowList ?? []).join(","),
          };
    const adminToken = options.auth
      ? (await new Security(createDynamoSecurityStore(DynamoDBDocumentClient.from(client), tableNames(tablePrefix)), { ...DEFAULT_SECURITY_CONFIG, enabled: true }).createApiKey(LOCAL_ADMIN, "local admin (npm start --auth)")).token
      : undefined;

    client.destroy();

    // The handlers read their configuration from the environment at import, as on Lambda.
    // EMF metrics are off by default: locally nothing collects them and they would flood stdout.
    Object.assign(process.env, { DYNALOG_DYNAMODB_ENDPOINT: endpoint, DYNALOG_TABLE_PREFIX: tablePrefix, DYNALOG_METRICS_ENABLED: "false", ...authEnv, ...subscriptionEnv, ...options.env });
    const handlers = await loadHandlers(options.handlers ?? defaultHandlers());
    // The notification hub checks keys and ACLs as the handlers do (security settings from the environment just set).
    notifications = createLocalNotificationHub({ endpoint, tables: tableNames(tablePrefix), security: runtimeConfigFromEnv().security });
    const hub = notifications;

    const consoleRoutes = options.console === false ? undefined : createConsoleRoutes(await loadConsoleBundle(ROOT));
    const server = createGateway(handlers, {
      console: consoleRoutes,
      cors: options.cors === false ? undefined : (options.cors ?? ANY_ORIGIN),
      onResult: (route, status, body) => {
        const appends = appendsInResponse(route.id, status, body);
        if (appends.length > 0) void hub.appended(appends).catch((error: unknown) => console.error(`dynalog: notification failed: ${error instanceof Error ? error.message : String(error)}`));
      },
    });
    const webSockets = await attachWebSocketServer(server, hub);
    subscriptions =
      options.subscriptions === false
        ? undefined
        : startLocalDispatcher({
            endpoint,
            tables: tableNames(tablePrefix),
            config: runtimeConfigFromEnv().broker,
            webhookGuard: runtimeConfigFromEnv().webhookGuard,
            autoStart: options.subscriptions?.autoStart,
            onError: (error, where) => console.error(`dynalog: subscription ${where.subscription}${where.partition === undefined ? "" : `/${where.partition}`}: ${error instanceof Error ? error.message : String(error)}`),
          });
    await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? "127.0.0.1", resolve));
    const intervalMs = options.compactionIntervalMs ?? DEFAULT_COMPACTION_INTERVAL_MS;
    const compaction =
      intervalMs > 0
        ? startPeriodicCompaction({
            endpoint,
            tables: tableNames(tablePrefix),
            intervalMs,
            onError: (topic, error) => console.error(`dynalog: compaction of ${topic} failed: ${error instanceof Error ? error.message : String(error)}`),
          })
        : undefined;
    const history =
      historyIntervalMs > 0
        ? startPeriodicHistory({
            endpoint,
            tables: tableNames(tablePrefix),
            intervalMs: historyIntervalMs,
            autoStart: options.historyAutoStart,
            onError: (what, error) => console.error(`dynalog: history sample of ${what} failed: ${error instanceof Error ? error.message : String(error)}`),
          })
        : undefined;
    const address = server.address() as AddressInfo;
    const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
    const url = `http://${host}:${address.port}`;
    return {
      url,
      consoleUrl: consoleRoutes ? `${url}${CONSOLE_BASE_PATH}` : undefined,
      dynamodbEndpoint: endpoint,
      tablePrefix,
      adminToken,
      chaos,
      ...(compaction ? { compaction: { runOnce: compaction.runOnce } } : {}),
      ...(history ? { history: { sampleOnce: history.sampleOnce } } : {}),
      subscriptions,
      notifications: hub,
      ...(webSockets && { notificationsUrl: `${url.replace(/^http/, "ws")}${LOCAL_NOTIFICATIONS_PATH}` }),
      async stop() {
        webSockets?.close();
        await hub.stop();
        await compaction?.stop();
        await history?.stop();
        await subscriptions?.stop();
        removeChaosHook?.();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await dynamodb?.stop();
      },
    };
  } catch (error) {
    await notifications?.stop();
    await subscriptions?.stop();
    removeChaosHook?.();
    await dynamodb?.stop();
    throw error;
  }
}

/** The repository, or dist/ in the published package (which has no .ts sources but dist/lambda/). */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

function defaultHandlers(): NonNullable<LocalBrokerOptions["handlers"]> {
  if (existsSync(path.join(ROOT, "functions", "produce.ts"))) return { kind: "source" };
  return { kind: "bundled", dir: prebuiltBundlesDir(ROOT, "bundled") };
}

async function loadHandlers(source: NonNullable<LocalBrokerOptions["handlers"]>): Promise<FunctionHandlers> {
  const root = ROOT;
  const entries = await Promise.all(
    FUNCTION_NAMES.map(async (fn): Promise<[FunctionName, LambdaHandler]> => {
      const file =
        source.kind === "source" ? path.join(root, "functions", `${fn}.ts`) : source.kind === "files" ? source.files[fn] : path.join(source.dir, fn, "index.mjs");
      const module = (await import(pathToFileURL(file).href)) as { handler?: LambdaHandler };
      if (typeof module.handler !== "function") throw new Error(`${file} does not export a handler function`);
      return [fn, module.handler];
    }),
  );
  return Object.fromEntries(entries) as FunctionHandlers;
}
