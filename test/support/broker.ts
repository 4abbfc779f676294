/**
 * Test harness: real tables on DynamoDB Local (unique per test file), a DynamoDB client that counts
 * writes and can inject faults, a controllable clock, and the HTTP API served on a real port.
 */
import type { AddressInfo } from "node:net";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { serve } from "@hono/node-server";
import { createBroker, type Broker } from "../../shared/core/broker.js";
import type { BrokerConfig } from "../../shared/core/context.js";
import type { Storage } from "../../shared/core/ports.js";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { DEFAULT_SECURITY_CONFIG, Security, type SecurityConfig } from "../../shared/security/security.js";
import { createDynamoSecurityStore } from "../../shared/storage/security-store.js";
import { createApi, type DynalogApi } from "../../shared/http/app.js";
import { ensureTables } from "../../shared/storage/create-tables.js";
import { createDynamoStorage } from "../../shared/storage/dynamo-storage.js";
import { tableNames, type TableNames } from "../../shared/storage/tables.js";
import { localDynamoDbClientConfig } from "../../local/dynamodb-local.js";
import { DynamoDbFaults } from "../../local/faults/dynamodb-faults.js";
import { injectedTimeout } from "../../local/faults/errors.js";
import { testEndpoint, uniqueName } from "./dynamodb.js";

const WRITE_COMMANDS = /^(Put|Update|Delete|TransactWrite|BatchWrite)/;

/** Counts DynamoDB write requests by command name (e.g. "TransactWriteItemsCommand"). */
export class WriteCounter {
  readonly byCommand = new Map<string, number>();
  get total(): number {
    let sum = 0;
    for (const n of this.byCommand.values()) sum += n;
    return sum;
  }
  record(command: string): void {
    this.byCommand.set(command, (this.byCommand.get(command) ?? 0) + 1);
  }
  reset(): void {
    this.byCommand.clear();
  }
}

export type Fault =
  /** Let the request reach DynamoDB, then lose the response: the caller sees this error. */
  | { readonly kind: "drop-response"; readonly error: Error }
  /** Fail before anything is sent. */
  | { readonly kind: "fail-before"; readonly error: Error };
// Forced interleavings (another operation between a check and its write): `chaos.beforeCommand`.

/** Decides per request whether to inject a fault; return undefined to pass through. */
export type FaultRule = (command: string, input: Record<string, unknown>) => Fault | undefined;

export class FaultInjector {
  private rules: FaultRule[] = [];
  add(rule: FaultRule): void {
    this.rules.push(rule);
  }
  /** Inject `fault` into the next `times` requests whose command matches. */
  once(commandPattern: RegExp, fault: Fault, times = 1): void {
    let left = times;
    this.add((command) => (left > 0 && commandPattern.test(command) ? (left--, fault) : undefined));
  }
  clear(): void {
    this.rules = [];
  }
  decide(command: string, input: Record<string, unknown>): Fault | undefined {
    for (const rule of this.rules) {
      const fault = rule(command, input);
      if (fault) return fault;
    }
    return undefined;
  }
}

/** A lost response (the request may have been applied); the same error the fault layer injects. */
export function timeoutError(): Error {
  return injectedTimeout();
}

/** A clock tests move by hand; starts at the real time so TTLs look sensible. */
export class TestClock {
  constructor(public time = Date.now()) {}
  readonly now = (): number => this.time;
  advance(ms: number): void {
    this.time += ms;
  }
}

export interface Instrumented {
  readonly client: DynamoDBClient;
  readonly writes: WriteCounter;
  readonly faults: FaultInjector;
  /** The full fault layer (local/faults): placements, throttles, stale reads, interleavings. */
  readonly chaos: DynamoDbFaults;
}

export function instrumentedClient(options: { readonly seed?: number } = {}): Instrumented {
  const client = new DynamoDBClient({ ...localDynamoDbClientConfig(testEndpoint()), maxAttempts: 3 });
  const writes = new WriteCounter();
  const faults = new FaultInjector();
  const chaos = new DynamoDbFaults({ seed: options.seed });
  // The simple injector's faults act outside the SDK's retry loop, as the broker sees them. It is
  // consulted after `chaos` rules: a request a chaos rule already faulted does not reach it.
  chaos.addDecider("outside-retries", ({ command, input }) => {
    const fault = faults.decide(command, input as Record<string, unknown>);
    return fault && { kind: fault.kind, error: () => fault.error };
  });
  chaos.install(client);
  // Added after the fault layer, so it runs inside it: a request failed before sending is not counted.
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = String(context.commandName ?? "");
      if (WRITE_COMMANDS.test(command)) writes.record(command);
      return next(args);
    },
    { step: "initialize", name: "dynalogTestWriteCounter" },
  );
  return { client, writes, faults, chaos };
}

/** Fresh tables for one test file. */
export async function createTestTables(label = "t"): Promise<TableNames> {
  const names = tableNames(uniqueName(label));
  const setup = new DynamoDBClient(localDynamoDbClientConfig(testEndpoint()));
  await ensureTables(setup, names);
  setup.destroy();
  return names;
}

export interface TestBroker extends Instrumented {
  readonly broker: Broker;
  /** The storage adapter under the broker, for tests that play a writer or inspect items. */
  readonly storage: Storage;
  readonly security: Security;
  readonly app: DynalogApi;
  readonly clock: TestClock;
  readonly tables: TableNames;
}

export interface TestBrokerOptions {
  readonly config?: Partial<BrokerConfig>;
  /** Turn authentication, ACLs and quotas on (cache TTL 0 unless given). */
  readonly security?: Partial<SecurityConfig>;
  /** Use a manual clock (default: the real clock, exposed read-only). */
  readonly clock?: TestClock;
  /** Seed of the fault layer's PRNG (`chaos`), so probabilistic faults replay (default 1). */
  readonly seed?: number;
}

/** A broker over `tables`; several can share tables to act as separate Lambda instances. */
export function createTestBroker(tables: TableNames, options: TestBrokerOptions = {}): TestBroker {
  const instrumented = instrumentedClient({ seed: options.seed });
  const clock = options.clock ?? new TestClock();
  const storage = createDynamoStorage(instrumented.client, tables);
  const broker = createBroker({
    storage,
    clock: options.clock ? clock.now : Date.now,
    config: { topicCacheTtlMs: 0, ...options.config },
  });
  const security = new Security(
    createDynamoSecurityStore(DynamoDBDocumentClient.from(instrumented.client), tables),
    { ...DEFAULT_SECURITY_CONFIG, cacheTtlMs: 0, ...options.security, quotas: { ...DEFAULT_SECURITY_CONFIG.quotas, ...options.security?.quotas } },
    options.clock ? clock.now : Date.now,
  );
  return { ...instrumented, broker, storage, security, app: createApi(broker, { security }), clock, tables };
}

export interface Served {
  readonly url: string;
  close(): Promise<void>;
}

/** Serve a Hono app on a random local port (end-to-end tests go through real HTTP). */
export function serveApp(app: DynalogApi): Promise<Served> {
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info: AddressInfo) => {
      resolve({
        url: `http://127.0.0.1:${info.port}`,
        close: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
  });
}

export function topicName(label = "topic"): string {
  return uniqueName(label);
}
