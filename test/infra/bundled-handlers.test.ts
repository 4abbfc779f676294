/**
 * What ships is what is tested: synthesizes the project's app (bundling included, into a temp
 * directory outside the repository), finds each function's bundle in the cloud assembly, and runs
 * those exact files behind the local API Gateway stand-in against DynamoDB Local.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { App } from "aws-cdk-lib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../infra/app.js";
import { compactorBundle, consoleFunctionBundle, dispatcherBundle, functionBundles, historyBundle, keyAuthorizerBundle } from "../../infra/assets.js";
import { consoleEvent } from "../support/console-event.js";
import type { DispatcherResult } from "../../shared/runtime/dispatcher-lambda.js";
import { startWebhookTarget } from "../support/webhook-target.js";
import { startLocalBroker, type LocalBroker } from "../../local/local-broker.js";
import { FUNCTION_NAMES, type FunctionName } from "../../shared/http/routes.js";
import { testEndpoint, uniqueName } from "../support/dynamodb.js";
import { jsonClient, type JsonClient } from "../support/http.js";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { pathToFileURL } from "node:url";
import type { Context } from "aws-lambda";
import { localDynamoDbClientConfig } from "../../local/dynamodb-local.js";
import { DEFAULT_SECURITY_CONFIG, Security } from "../../shared/security/security.js";
import { createDynamoSecurityStore } from "../../shared/storage/security-store.js";
import { tableNames } from "../../shared/storage/tables.js";
import type { KeyAuthorizer } from "../../shared/runtime/authorizer.js";

let outdir: string;
let bundles: Record<FunctionName, string>;
let authorizerBundle: string;
let compactorFile: string;
let historyFile: string;
let consoleBundle: string;
let subscriptionDispatcherBundle: string;
let broker: LocalBroker;
let api: JsonClient;

beforeAll(async () => {
  outdir = mkdtempSync(path.join(os.tmpdir(), "dynalog-synth-"));
  // Under a "node_modules" folder so vitest imports the bundles natively instead of transforming
  // (and slowing down on) 6 × ~370 KB of minified code; still outside the repository.
  const { app, stack } = buildApp(new App({ outdir: path.join(outdir, "node_modules", "cdk.out") }));
  const assembly = app.synth();
  bundles = functionBundles(assembly, stack.broker);
  authorizerBundle = keyAuthorizerBundle(assembly, stack.broker);
  compactorFile = compactorBundle(assembly, stack.broker);
  historyFile = historyBundle(assembly, stack.broker);
  consoleBundle = consoleFunctionBundle(assembly, stack.broker);
  subscriptionDispatcherBundle = dispatcherBundle(assembly, stack.broker);
  broker = await startLocalBroker({ dynamodbEndpoint: testEndpoint(), tablePrefix: uniqueName("bundled"), handlers: { kind: "files", files: bundles }, subscriptions: { autoStart: false }, historyAutoStart: false });
  api = jsonClient(broker.url);
  // A hang guard, not a timing assert: the bundles and the console's own build, on a loaded machine.
}, 300_000);

afterAll(async () => {
  await broker?.stop();
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

describe("the bundles CDK deploys", () => {
  it("are self-contained minified ESM with a linked source map, outside the repository", () => {
    for (const file of [...FUNCTION_NAMES.map((fn) => bundles[fn]), authorizerBundle, compactorFile, historyFile, subscriptionDispatcherBundle]) {
      expect(file.startsWith(outdir)).toBe(true);
      const code = readFileSync(file, "utf8");
      // The AWS SDK is bundled (measured faster to cold start): nothing is imported from packages.
      expect(code).not.toMatch(/from\s*["'](?!node:)[a-z@][^"']*["']/);
      expect(code.trimEnd().endsWith("//# sourceMappingURL=index.mjs.map")).toBe(true);
      expect(code.length / code.split("\n").length, "minified: long lines").toBeGreaterThan(1_000);
      expect(JSON.parse(readFileSync(`${file}.map`, "utf8"))).toMatchObject({ version: 3 });
    }
  });

  it("serve a produce → fetch round trip, offsets and a transaction, each through its own bundle", async () => {
    const topic = uniqueName("bundled-topic");
    expect((await api.post("/v1/topics", { name: topic, partitions: 2 })).status).toBe(201);

    const { body: producer } = await api.post("/v1/producers", {});
    const produced = await api.post(`/v1/topics/${topic}/records`, {
      encoding: "utf8",
      producerId: producer.producerId,
      producerEpoch: 0,
      partitions: [{ partition: 1, baseSequence: 0, records: [{ key: "k", value: "first" }, { key: "k", value: "second", headers: [{ key: "h", value: "v" }] }] }],
    });
    expect(produced.status).toBe(200);
    expect(produced.body.partitions[0]).toMatchObject({ partition: 1, baseOffset: 0, lastOffset: 1, duplicate: false });

    const fetched = await api.get(`/v1/topics/${topic}/partitions/1/records?offset=0&encoding=utf8`);
    expect(fetched.status).toBe(200);
    expect(fetched.body).toMatchObject({ nextOffset: 2, highWatermark: 2 });
    expect(fetched.body.records.map((r: { value: string }) => r.value)).toEqual(["first", "second"]);
    expect(fetched.body.records[1].headers).toEqual([{ key: "h", value: "v" }]);

    const group = uniqueName("g");
    expect((await api.post(`/v1/groups/${group}/offsets`, { offsets: [{ topic, partition: 1, offset: 2 }] })).status).toBe(200);
    const committed = await api.get(`/v1/groups/${group}/offsets?topic=${topic}`);
    expect(committed.body.partitions.map((p: { offset: number }) => p.offset)).toEqual([-1, 2]);

    const transactionalId = uniqueName("tid");
    const { body: txn } = await api.post("/v1/producers", { transactionalId });
    const commit = await api.post("/v1/transactions", {
      transactionalId,
      producerId: txn.producerId,
      producerEpoch: txn.epoch,
      transactionSequence: 0,
      encoding: "utf8",
      records: [{ topic, partition: 0, value: "in a transaction" }],
      offsets: { group, offsets: [{ topic, partition: 1, offset: 2 }] },
    });
    expect(commit.status).toBe(200);
    const zero = await api.get(`/v1/topics/${topic}/partitions/0/records?offset=0&encoding=utf8`);
    expect(zero.body.records.map((r: { value: string }) => r.value)).toEqual(["in a transaction"]);

    const described = await api.get(`/v1/topics/${topic}`);
    expect(described.body.partitions.map((p: { highWatermark: number }) => p.highWatermark)).toEqual([1, 2]);
  });

  it("include the scheduled compactor, which compacts every compacted topic", async () => {
    const topic = uniqueName("bundled-compacted");
    expect((await api.post("/v1/topics", { name: topic, partitions: 1, cleanupPolicy: "compact" })).status).toBe(201);
    for (const value of ["1", "2"]) expect((await api.post(`/v1/topics/${topic}/records`, { encoding: "utf8", records: [{ key: "k", value }] })).status).toBe(200);
    // Imported after the local broker set the environment (endpoint, table prefix), as on Lambda.
    const { handler } = (await import(pathToFileURL(compactorFile).href)) as { handler: (event: unknown, context: Pick<Context, "getRemainingTimeInMillis">) => Promise<{ removedRecords: number; failedTopics: string[] }> };
    const summary = await handler({ source: "aws.events", "detail-type": "Scheduled Event" }, { getRemainingTimeInMillis: () => 4 * 60_000 });
    expect(summary).toMatchObject({ failedTopics: [] });
    expect(summary.removedRecords).toBeGreaterThanOrEqual(1);
    const read = await api.get(`/v1/topics/${topic}/partitions/0/records?offset=0&encoding=utf8`);
    expect(read.body.records.map((r: { key: string; value: string }) => `${r.key}=${r.value}`)).toEqual(["k=2"]);
  });

  it("include the history sampler, whose samples the history route answers", async () => {
    const topic = uniqueName("bundled-history");
    expect((await api.post("/v1/topics", { name: topic, partitions: 2 })).status).toBe(201);
    expect((await api.post(`/v1/topics/${topic}/records`, { encoding: "utf8", records: [{ value: "a", partition: 1 }, { value: "b", partition: 1 }] })).status).toBe(200);
    // Imported after the local broker set the environment (endpoint, table prefix), as on Lambda.
    const { handler } = (await import(pathToFileURL(historyFile).href)) as { handler: (event: unknown) => Promise<{ topicsWritten: number; topicsAlreadySampled: number; failed: string[] }> };
    const summary = await handler({ source: "aws.events", "detail-type": "Scheduled Event" });
    expect(summary.failed).toEqual([]);
    expect(summary.topicsWritten + summary.topicsAlreadySampled).toBeGreaterThanOrEqual(1);
    const history = await api.get(`/v1/topics/${topic}/history?minutes=5`);
    expect(history.body.samples.map((s: { highWatermark: number }) => s.highWatermark)).toEqual([2]);
  });

  it("include the key API's authorizer, which accepts a valid API key and refuses others", async () => {
    // Imported after the local broker set the environment (endpoint, table prefix), as on Lambda.
    const { handler } = (await import(pathToFileURL(authorizerBundle).href)) as { handler: (event: unknown, context: Context) => ReturnType<KeyAuthorizer> };
    const client = new DynamoDBClient(localDynamoDbClientConfig(broker.dynamodbEndpoint));
    try {
      const security = new Security(createDynamoSecurityStore(DynamoDBDocumentClient.from(client), tableNames(broker.tablePrefix)), { ...DEFAULT_SECURITY_CONFIG, enabled: true });
      const { token } = await security.createApiKey("User:bundled");
      const event = (authorization: string) => ({ version: "2.0", type: "REQUEST", identitySource: [authorization], headers: { authorization }, requestContext: { requestId: "r" } });
      const context = { awsRequestId: "a", functionName: "authorizer", memoryLimitInMB: "1024", invokedFunctionArn: "arn", functionVersion: "$LATEST" } as Context;
      expect(await handler(event(`Bearer ${token}`), context)).toEqual({ isAuthorized: true, context: { principal: "User:bundled" } });
      expect(await handler(event(`Bearer ${token.slice(0, -2)}${token.endsWith("xx") ? "yy" : "xx"}`), context)).toEqual({ isAuthorized: false });
    } finally {
      client.destroy();
    }
  });

  it("include the console function, whose asset carries the console bundle it serves", async () => {
    const { handler } = (await import(pathToFileURL(consoleBundle).href)) as { handler: (event: unknown, context: Context) => Promise<{ statusCode: number; headers: Record<string, string>; body: string }> };
    const context = { awsRequestId: "a", functionName: "console" } as Context;
    const page = await handler(consoleEvent("/console/topics/orders"), context);
    expect(page.statusCode).toBe(200);
    expect(page.headers["cache-control"]).toBe("no-cache");
    const script = /src="(\/console\/assets\/[^"]+\.js)"/.exec(page.body)![1]!;
    const asset = await handler(consoleEvent(script), context);
    expect(asset).toMatchObject({ statusCode: 200, headers: expect.objectContaining({ "cache-control": "public, max-age=31536000, immutable" }) });
    expect(asset.body.length).toBeGreaterThan(1_000);
  });

  it("include the subscription dispatcher, which a schedule's sweep runs: records reach the webhook", async () => {
    const target = await startWebhookTarget(() => ({ status: 200 }));
    try {
      const topic = uniqueName("bundled-sub");
      expect((await api.post("/v1/topics", { name: topic, partitions: 1 })).status).toBe(201);
      // The local broker allows http:// webhooks (its environment, which the bundle reads too); its
      // own dispatcher is not started: only the bundle delivers.
      const created = await api.post("/v1/subscriptions", { name: uniqueName("bundled-sub"), topic, webhook: `${target.baseUrl}/hook`, startingPosition: "earliest" });
      expect(created.status).toBe(201);
      expect((await api.post(`/v1/topics/${topic}/records`, { encoding: "utf8", records: [{ value: "one" }, { value: "two" }] })).status).toBe(200);
      const { handler } = (await import(pathToFileURL(subscriptionDispatcherBundle).href)) as { handler: (event: unknown, context: Context) => Promise<DispatcherResult> };
      const context = { awsRequestId: "d", functionName: "dispatcher", memoryLimitInMB: "1024", invokedFunctionArn: "arn", functionVersion: "$LATEST", getRemainingTimeInMillis: () => 900_000 } as unknown as Context;
      const result = await handler({ source: "aws.events", "detail-type": "Scheduled Event" }, context);
      expect(result).toMatchObject({ wake: "sweep", delivered: 2 });
      const values = target.deliveries.flatMap((d) => Object.values(d.event.records).flat()).map((r) => Buffer.from(r.value!, "base64").toString());
      expect(values).toEqual(["one", "two"]);
    } finally {
      await target.close();
    }
  });
});
