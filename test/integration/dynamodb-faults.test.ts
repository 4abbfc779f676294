/**
 * The DynamoDB fault layer (local/faults) against DynamoDB Local: each fault does what it says,
 * placed outside or inside the SDK's retry loop (counted at the wire and in the data), stale reads
 * only for eventually consistent reads, conflicts parsed like DynamoDB's, interleavings between a
 * check and its write, and the same seed giving the same decisions.
 */
import {
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand as DocQueryCommand, TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import { beforeAll, describe, expect, it } from "vitest";
import { localDynamoDbClientConfig } from "../../local/dynamodb-local.js";
import { DynamoDbFaults, type FaultDecision } from "../../local/faults/dynamodb-faults.js";
import { CHAOS_PROFILE_NAMES, CHAOS_PROFILES, describeChaosProfiles, faultsForProfile } from "../../local/faults/profiles.js";
import { cancelledActions, describeCancellation, isTransactionCanceled, storageFailure } from "../../shared/storage/dynamo-errors.js";
import { testEndpoint, uniqueName } from "../support/dynamodb.js";

let table: string;

beforeAll(async () => {
  table = uniqueName("faults");
  const setup = new DynamoDBClient(localDynamoDbClientConfig(testEndpoint()));
  await setup.send(
    new CreateTableCommand({
      TableName: table,
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }, { AttributeName: "sk", AttributeType: "N" }],
      KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }, { AttributeName: "sk", KeyType: "RANGE" }],
    }),
  );
  setup.destroy();
});

interface Harness {
  readonly client: DynamoDBClient;
  readonly faults: DynamoDbFaults;
  /** Requests that reached DynamoDB Local (counted per attempt, below every fault), by command. */
  readonly reached: Map<string, number>;
}

function harness(seed = 1): Harness {
  const client = new DynamoDBClient({ ...localDynamoDbClientConfig(testEndpoint()), maxAttempts: 3 });
  const faults = new DynamoDbFaults({ seed });
  faults.install(client);
  const reached = new Map<string, number>();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = String(context.commandName);
      reached.set(command, (reached.get(command) ?? 0) + 1);
      return next(args);
    },
    { step: "deserialize", name: "countReachedDynamoDb" },
  );
  return { client, faults, reached };
}

const key = (pk: string, sk = 0) => ({ pk: { S: pk }, sk: { N: String(sk) } });
const bump = (pk: string) => new UpdateItemCommand({ TableName: table, Key: key(pk), UpdateExpression: "ADD n :one", ExpressionAttributeValues: { ":one": { N: "1" } } });
const putNew = (pk: string, value = "v") =>
  new PutItemCommand({ TableName: table, Item: { ...key(pk), v: { S: value } }, ConditionExpression: "attribute_not_exists(pk)" });
async function counter(h: Harness, pk: string): Promise<number | undefined> {
  const item = (await h.client.send(new GetItemCommand({ TableName: table, Key: key(pk), ConsistentRead: true }))).Item;
  return item?.["n"]?.N === undefined ? undefined : Number(item["n"].N);
}
async function errorOf(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  return promise.then(
    () => {
      throw new Error("expected the request to fail");
    },
    (error: Error & { code?: string }) => error,
  );
}

describe("placement relative to the SDK's retry loop", () => {
  it("drop-response outside the loop: applied once, and the caller sees the lost response", async () => {
    const h = harness();
    const pk = uniqueName("drop-out");
    h.faults.addRule({ commands: /^UpdateItemCommand$/, placement: "outside-retries", times: 1, action: { kind: "drop-response" } });
    expect((await errorOf(h.client.send(bump(pk)))).name).toBe("TimeoutError");
    expect(h.reached.get("UpdateItemCommand")).toBe(1);
    expect(await counter(h, pk)).toBe(1);
  });

  it("drop-response inside the loop: the SDK sends the write again, so it is applied twice", async () => {
    const h = harness();
    const pk = uniqueName("drop-in");
    h.faults.addRule({ commands: /^UpdateItemCommand$/, placement: "inside-retries", times: 1, action: { kind: "drop-response" } });
    const result = await h.client.send(bump(pk));
    expect(result.$metadata.attempts).toBe(2);
    expect(h.reached.get("UpdateItemCommand")).toBe(2);
    expect(await counter(h, pk)).toBe(2);
  });

  it("drop-response inside the loop: a conditional write's retry meets its own item", async () => {
    const h = harness();
    const pk = uniqueName("drop-cond");
    h.faults.addRule({ commands: /^PutItemCommand$/, placement: "inside-retries", times: 1, action: { kind: "drop-response" } });
    expect((await errorOf(h.client.send(putNew(pk)))).name).toBe("ConditionalCheckFailedException");
    expect(h.reached.get("PutItemCommand")).toBe(2);
  });

  it("fail-before: outside, nothing is sent; inside, the SDK retries and the write lands once", async () => {
    const h = harness();
    const outside = uniqueName("fail-out");
    h.faults.addRule({ commands: /^UpdateItemCommand$/, times: 1, action: { kind: "fail-before" } });
    expect((await errorOf(h.client.send(bump(outside)))).code).toBe("ECONNRESET");
    expect(h.reached.get("UpdateItemCommand")).toBeUndefined();
    expect(await counter(h, outside)).toBeUndefined();

    const inside = uniqueName("fail-in");
    h.faults.addRule({ commands: /^UpdateItemCommand$/, placement: "inside-retries", times: 1, action: { kind: "fail-before" } });
    expect((await h.client.send(bump(inside))).$metadata.attempts).toBe(2);
    expect(h.reached.get("UpdateItemCommand")).toBe(1);
    expect(await counter(h, inside)).toBe(1);
  });
});

describe("DynamoDB errors", () => {
  it("throttles are retried by the SDK inside the loop and reach the broker as STORAGE_THROTTLED outside it", async () => {
    const h = harness();
    h.faults.addRule({ commands: /^UpdateItemCommand$/, placement: "inside-retries", times: 1, action: { kind: "throttle", error: "ThrottlingException" } });
    expect((await h.client.send(bump(uniqueName("thr-in")))).$metadata.attempts).toBe(2);
    expect(h.reached.get("UpdateItemCommand")).toBe(1);

    h.faults.addRule({ commands: /^UpdateItemCommand$/, times: 1, action: { kind: "throttle" } });
    const error = await errorOf(h.client.send(bump(uniqueName("thr-out"))));
    expect(error.name).toBe("ProvisionedThroughputExceededException");
    expect(storageFailure(error, "test").code).toBe("STORAGE_THROTTLED");
    expect(h.reached.get("UpdateItemCommand")).toBe(1);
  });

  it("TransactionCanceledException with a TransactionConflict reason, as shared/storage/dynamo-errors.ts reads it", async () => {
    const h = harness();
    const documents = DynamoDBDocumentClient.from(h.client);
    const [a, b] = [uniqueName("txn-a"), uniqueName("txn-b")];
    h.faults.addRule({ commands: /^TransactWriteItemsCommand$/, times: 1, action: { kind: "transaction-conflict" } });
    const actions = [
      { label: "first", action: { Put: { TableName: table, Item: { pk: a, sk: 0 } } } },
      { label: "second", action: { Put: { TableName: table, Item: { pk: b, sk: 0 } } } },
    ];
    const error = await errorOf(documents.send(new TransactWriteCommand({ TransactItems: actions.map((x) => x.action) })));
    expect(isTransactionCanceled(error)).toBe(true);
    const failed = cancelledActions(error as Parameters<typeof cancelledActions>[0], actions);
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ code: "TransactionConflict", message: "Transaction is ongoing for the item" });
    expect(describeCancellation(failed)).toMatch(/TransactionConflict/);
    expect(error.message).toMatch(/^Transaction cancelled, please refer cancellation reasons for specific reasons \[(None, TransactionConflict|TransactionConflict, None)\]$/);
    expect(h.reached.get("TransactWriteItemsCommand")).toBeUndefined();

    // Other commands are never given a transaction conflict.
    h.faults.addRule({ commands: /Command$/, action: { kind: "transaction-conflict" } });
    await h.client.send(putNew(a));
    await h.client.send(new TransactWriteItemsCommand({ TransactItems: [{ Put: { TableName: table, Item: key(b) } }] })).catch(() => undefined);
    expect(h.faults.decisions.filter((d) => d.action === "transaction-conflict")).toHaveLength(2);
  });

  it("delays hold the request back by the configured time", async () => {
    const h = harness();
    h.faults.addRule({ commands: /^GetItemCommand$/, times: 1, action: { kind: "delay", minMs: 150, maxMs: 150 } });
    const started = performance.now();
    await h.client.send(new GetItemCommand({ TableName: table, Key: key(uniqueName("delay")) }));
    expect(performance.now() - started).toBeGreaterThanOrEqual(145);
  });
});

describe("stale reads", () => {
  it("an eventually consistent GetItem may return an older value; a strongly consistent one never does", async () => {
    const h = harness();
    h.faults.setStaleReads({ probability: 0 }); // record responses, answer fresh
    const pk = uniqueName("stale-get");
    const put = (v: string) => h.client.send(new PutItemCommand({ TableName: table, Item: { ...key(pk), v: { S: v } } }));
    const get = async (ConsistentRead?: boolean) => (await h.client.send(new GetItemCommand({ TableName: table, Key: key(pk), ConsistentRead })))?.Item?.["v"]?.S;
    await put("v1");
    expect(await get(true)).toBe("v1");
    await put("v2");
    h.faults.setStaleReads({ probability: 1 });
    for (let i = 0; i < 10; i++) expect(await get(true)).toBe("v2");
    expect(await get()).toBe("v1");
    // lib-dynamodb's GetCommand shares the history (compared after marshalling) and unmarshalls the old item.
    const documents = DynamoDBDocumentClient.from(h.client);
    expect((await documents.send(new GetCommand({ TableName: table, Key: { pk, sk: 0 } }))).Item).toEqual({ pk, sk: 0, v: "v1" });
    expect(h.faults.decisions.filter((d) => d.action === "stale-read")).toHaveLength(2);
  });

  it("an eventually consistent Query may replay an older page or omit the latest puts; ConsistentRead never", async () => {
    const h = harness();
    h.faults.setStaleReads({ probability: 0 });
    const pk = uniqueName("stale-query");
    const put = (sk: number) => h.client.send(new PutItemCommand({ TableName: table, Item: { ...key(pk, sk), v: { S: `v${sk}` } } }));
    const query = async (ConsistentRead?: boolean) =>
      ((await h.client.send(new QueryCommand({ TableName: table, KeyConditionExpression: "pk = :pk", ExpressionAttributeValues: { ":pk": { S: pk } }, ConsistentRead })))
        .Items ?? []).map((item) => Number(item["sk"]!.N));
    for (const sk of [1, 2, 3]) await put(sk);
    expect(await query(true)).toEqual([1, 2, 3]);
    await put(4);

    h.faults.setStaleReads({ probability: 1, query: "replay" });
    expect(await query(true)).toEqual([1, 2, 3, 4]);
    expect(await query()).toEqual([1, 2, 3]);

    h.faults.setStaleReads({ probability: 1, query: "omit-recent" });
    for (const sk of [5, 6, 7]) await put(sk);
    const stale = await query();
    expect(stale.length).toBeLessThan(7);
    expect(stale).toEqual([1, 2, 3, 4, 5, 6, 7].slice(0, stale.length));
    for (let i = 0; i < 10; i++) expect(await query(true)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it("through lib-dynamodb, as the broker reads and writes: a Query omits the latest puts, never cutting a page short", async () => {
    const h = harness();
    const documents = DynamoDBDocumentClient.from(h.client);
    h.faults.setStaleReads({ probability: 1, query: "omit-recent" });
    const pk = uniqueName("stale-doc");
    for (const sk of [1, 2, 3, 4]) await documents.send(new PutCommand({ TableName: table, Item: { pk, sk, v: `v${sk}` } }));
    const query = async (Limit?: number) =>
      (await documents.send(new DocQueryCommand({ TableName: table, KeyConditionExpression: "pk = :pk", ExpressionAttributeValues: { ":pk": pk }, Limit }))).Items ?? [];
    const stale = await query();
    expect(stale.length).toBeLessThan(4);
    expect(stale).toEqual([1, 2, 3, 4].slice(0, stale.length).map((sk) => ({ pk, sk, v: `v${sk}` })));
    // A page with a LastEvaluatedKey is answered whole (omitting its tail would skip records).
    expect((await query(2)).map((item) => item["sk"])).toEqual([1, 2]);
  });
});

describe("interleavings and reproducibility", () => {
  it("beforeCommand runs another operation between a check and its write", async () => {
    const h = harness();
    const pk = uniqueName("interleave");
    await h.client.send(new PutItemCommand({ TableName: table, Item: { ...key(pk), version: { N: "1" } } }));
    const steps: string[] = [];
    const hook = h.faults.beforeCommand(/^PutItemCommand$/, async () => {
      steps.push("other writer");
      // Its own PutItem does not fire the hook again (times: 1 is consumed first).
      await h.client.send(new PutItemCommand({ TableName: table, Item: { ...key(pk), version: { N: "2" } } }));
    });
    // Optimistic update: check the version, then write conditionally on it.
    const checked = (await h.client.send(new GetItemCommand({ TableName: table, Key: key(pk), ConsistentRead: true }))).Item!["version"]!.N!;
    steps.push(`checked version ${checked}`);
    const write = h.client.send(
      new PutItemCommand({ TableName: table, Item: { ...key(pk), version: { N: "3" } }, ConditionExpression: "version = :v", ExpressionAttributeValues: { ":v": { N: checked } } }),
    );
    await hook.fired;
    // The other writer's version landed before the write was applied: its condition fails.
    expect((await errorOf(write)).name).toBe("ConditionalCheckFailedException");
    expect(steps).toEqual(["checked version 1", "other writer"]);
    expect(h.reached.get("PutItemCommand")).toBe(3);
  });

  it("the same seed makes the same decisions; another seed, others", async () => {
    const run = async (seed: number): Promise<FaultDecision[]> => {
      const h = harness(seed);
      h.faults.addRule({ commands: /^GetItemCommand$/, probability: 0.3, action: { kind: "fail-before" } });
      h.faults.addRule({ commands: /^GetItemCommand$/, placement: "inside-retries", probability: 0.3, action: { kind: "fail-before" } });
      for (let i = 0; i < 30; i++) await h.client.send(new GetItemCommand({ TableName: table, Key: key(`seeded-${i}`) })).catch(() => undefined);
      return h.faults.decisions;
    };
    const first = await run(7);
    expect(first.length).toBeGreaterThan(3);
    expect(await run(7)).toEqual(first);
    expect(await run(8)).not.toEqual(first);
  });

  it("profiles are data with a description each, and build a fault layer", () => {
    expect(CHAOS_PROFILE_NAMES).toEqual(expect.arrayContaining(["light", "heavy", "stale-reads", "lost-acks"]));
    for (const name of CHAOS_PROFILE_NAMES) {
      expect(CHAOS_PROFILES[name].description.length).toBeGreaterThan(10);
      expect(faultsForProfile(name, 3).seed).toBe(3);
      expect(describeChaosProfiles()).toContain(name);
    }
  });
});
