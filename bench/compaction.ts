/**
 * Compacted topics (docs/compaction.md): write units per message produced to a compacted topic
 * beside a plain one (the same produce path: the figures should match), then the units one
 * compaction pass costs per message it scanned. Keys cycle over `keys` values, so after the
 * producers are done every key but the last `keys` records is superseded.
 */
import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import { diff, itemSize } from "./capacity.js";
import type { BenchWorld } from "./setup.js";
import type { EventPool } from "./workload.js";

export interface CompactionFigures {
  readonly messages: number;
  readonly keys: number;
  readonly batch: number;
  readonly plainWruPerMessage: number;
  readonly compactedWruPerMessage: number;
  /**
   * One pass over the whole log: write and read units per message scanned. Writes as AWS bills an
   * UpdateItem: the larger of the item before and after (the meter sees only the request, so the
   * rewritten items are measured here from the table before and after the pass).
   */
  readonly passWruPerMessage: number;
  readonly passRruPerMessage: number;
  readonly removed: number;
  readonly verified: boolean;
}

/** Every log item of the topic's partition 0, by base offset. */
async function logItems(world: BenchWorld, topic: string): Promise<Map<number, Record<string, unknown>>> {
  const described = await world.http.json("GET", `/v1/topics/${topic}`);
  const p = `${String(described.body.topicId)}#0`;
  const items = new Map<number, Record<string, unknown>>();
  let start: Record<string, unknown> | undefined;
  do {
    const page = await world.raw.send(new QueryCommand({ TableName: world.tables.log, KeyConditionExpression: "p = :p", ExpressionAttributeValues: { ":p": p }, ExclusiveStartKey: start, ConsistentRead: true }));
    for (const item of page.Items ?? []) items.set(Number(item["o"]), item);
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

async function produceKeyed(world: BenchWorld, pool: EventPool, topic: string, messages: number, keys: number, batch: number): Promise<void> {
  for (let sent = 0; sent < messages; sent += batch) {
    const records = [];
    for (let i = sent; i < Math.min(messages, sent + batch); i++) records.push({ key: `key-${i % keys}`, value: pool.events[i % pool.size]! });
    const response = await world.http.json("POST", `/v1/topics/${topic}/records`, { encoding: "utf8", records });
    if (response.status !== 200) throw new Error(`produce to ${topic}: HTTP ${response.status} ${JSON.stringify(response.body)}`);
  }
}

export async function measureCompaction(world: BenchWorld, pool: EventPool, messages: number, keys: number, batch: number, suffix: string): Promise<CompactionFigures> {
  const wruPerMessage = async (topic: string) => {
    const before = world.meter.snapshot();
    await produceKeyed(world, pool, topic, messages, keys, batch);
    return diff(world.meter.snapshot(), before).computedWrite / messages;
  };
  const plain = `bench-plain-${suffix}`;
  const compacted = `bench-compact-${suffix}`;
  for (const [name, policy] of [[plain, "delete"], [compacted, "compact"]] as const) {
    const response = await world.http.json("POST", "/v1/topics", { name, partitions: 1, compression: "gzip", cleanupPolicy: policy });
    if (response.status !== 201) throw new Error(`create topic ${name}: HTTP ${response.status} ${JSON.stringify(response.body)}`);
  }
  const plainWruPerMessage = await wruPerMessage(plain);
  const compactedWruPerMessage = await wruPerMessage(compacted);
  const itemsBefore = await logItems(world, compacted);
  const before = world.meter.snapshot();
  const pass = await world.http.json("POST", `/v1/topics/${compacted}/compact`, {});
  if (pass.status !== 200) throw new Error(`compact ${compacted}: HTTP ${pass.status} ${JSON.stringify(pass.body)}`);
  const cost = diff(world.meter.snapshot(), before);
  let rewriteUnits = 0;
  let rewrites = 0;
  for (const [offset, after] of await logItems(world, compacted)) {
    const old = itemsBefore.get(offset);
    if (!old || old["cv"] === after["cv"]) continue;
    rewrites++;
    rewriteUnits += Math.max(1, Math.ceil(Math.max(itemSize(old), itemSize(after)) / 1024));
  }
  // The meter bounds each UpdateItem by its request (right for the small checkpoint and hint
  // updates, too low for a rewrite of a large batch): swap the rewrites' share for the billed one.
  const meteredUpdates = cost.computedWriteByCommand["UpdateItemCommand"] ?? 0;
  const passWrite = cost.computedWrite - meteredUpdates + rewriteUnits + (cost.requests["UpdateItemCommand"] ?? 0) - rewrites;
  const result = pass.body.partitions[0] as { removedRecords: number; scannedRecords: number };
  return {
    messages,
    keys,
    batch,
    plainWruPerMessage,
    compactedWruPerMessage,
    passWruPerMessage: passWrite / messages,
    passRruPerMessage: cost.computedRead / messages,
    removed: result.removedRecords,
    verified: result.scannedRecords === messages && result.removedRecords === messages - keys,
  };
}
