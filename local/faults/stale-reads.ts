/**
 * Eventual consistency for DynamoDB Local, which is always strongly consistent.
 *
 * Every read's response is remembered per request signature (command + table + key, or key
 * condition and values); an eventually consistent read (GetItem, BatchGetItem, Query, Scan without
 * ConsistentRead: true) may then be answered, with the configured probability, by an OLDER response
 * to the same request — what a lagging replica would have said. A Query may instead omit the items
 * most recently put through this client (a replica that has not seen the latest appends).
 * Strongly consistent reads are never stale.
 *
 * Limits, by design: only responses this client has seen can be replayed (a value never read can't
 * be served stale), and omitting recent items only applies to un-paginated Query pages without a
 * projection (so a page is never cut short under a LastEvaluatedKey).
 */
import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { marshall, unmarshall } from "@aws-sdk/util-dynamodb";
import { randomInt, type Random } from "./random.js";

export interface StaleReadOptions {
  /** Chance that an eventually consistent read is answered stale (when an older view exists). */
  readonly probability: number;
  /** Distinct responses kept per request signature (default 8). */
  readonly historyDepth?: number;
  /** How a stale Query is made: replay an older response, omit recent puts, or either (default). */
  readonly query?: "replay" | "omit-recent" | "either";
  /** Only reads of tables matching this (default all). */
  readonly tables?: RegExp;
}

const READS = new Set(["GetItemCommand", "BatchGetItemCommand", "QueryCommand", "ScanCommand"]);
const RECENT_PUTS = 512;
/** Request signatures remembered (least recently read forgotten first), to bound memory. */
const MAX_SIGNATURES = 10_000;
const IGNORED_KEYS = new Set(["ConsistentRead", "ReturnConsumedCapacity", "$metadata", "ConsumedCapacity"]);

type Output = Record<string, unknown> & { $metadata?: unknown };
type Item = Record<string, unknown>;

export interface StaleAnswer {
  readonly output: Output;
  readonly how: "replay" | "omit-recent";
}

export class StaleReads {
  private readonly responses = new Map<string, { canonical: string; output: Output }[]>();
  /** Per table: canonical item → sequence number of the put that wrote it (bounded). */
  private readonly puts = new Map<string, Map<string, number>>();
  private putSeq = 0;

  constructor(
    private options: StaleReadOptions,
    private readonly random: Random,
  ) {}

  /** Change the settings, keeping what was recorded so far. */
  configure(options: StaleReadOptions): void {
    this.options = options;
  }

  /** Remember items written by PutItem, BatchWriteItem and TransactWriteItems puts. */
  afterWrite(command: string, input: Record<string, unknown>): void {
    if (command === "PutItemCommand") this.rememberPut(String(input["TableName"]), input["Item"] as Item);
    else if (command === "TransactWriteItemsCommand") {
      for (const action of (input["TransactItems"] as { Put?: { TableName: string; Item: Item } }[] | undefined) ?? []) {
        if (action.Put) this.rememberPut(action.Put.TableName, action.Put.Item);
      }
    } else if (command === "BatchWriteItemCommand") {
      for (const [table, requests] of Object.entries((input["RequestItems"] as Record<string, { PutRequest?: { Item: Item } }[]> | undefined) ?? {})) {
        for (const request of requests) if (request.PutRequest) this.rememberPut(table, request.PutRequest.Item);
      }
    }
  }

  /**
   * Record a read's fresh response and decide whether to answer it stale instead.
   * Returns undefined to answer fresh. `input` is marshalled (raw AttributeValues); `output` is
   * too, unless `documentOutput` (lib-dynamodb unmarshalls before this layer sees it).
   */
  afterRead(command: string, input: Record<string, unknown>, output: Output, documentOutput = false): StaleAnswer | undefined {
    if (!READS.has(command) || !this.appliesTo(command, input)) return undefined;
    const answer = this.decide(command, input, documentOutput ? convertItems(output, toRaw) : output);
    return answer && documentOutput ? { ...answer, output: convertItems(answer.output, toDocument) } : answer;
  }

  private decide(command: string, input: Record<string, unknown>, output: Output): StaleAnswer | undefined {
    const signature = `${command}\u0000${canonical(input)}`;
    const canonicalOutput = canonical(output);
    const history = this.responses.get(signature) ?? [];
    const older = history.filter((h) => h.canonical !== canonicalOutput);
    if (history.at(-1)?.canonical !== canonicalOutput) {
      history.push({ canonical: canonicalOutput, output: structuredClone(output) });
      if (history.length > (this.options.historyDepth ?? 8)) history.shift();
    }
    this.responses.delete(signature); // re-insert: Map order is the LRU order
    this.responses.set(signature, history);
    if (this.responses.size > MAX_SIGNATURES) this.responses.delete(this.responses.keys().next().value!);
    if (!eventuallyConsistent(command, input) || this.random() >= this.options.probability) return undefined;

    const candidates: (() => StaleAnswer | undefined)[] = [];
    const mode = command === "QueryCommand" ? (this.options.query ?? "either") : "replay";
    if (mode !== "omit-recent" && older.length > 0) {
      candidates.push(() => ({ output: { ...structuredClone(older[randomInt(this.random, 0, older.length - 1)]!.output), $metadata: output.$metadata }, how: "replay" }));
    }
    if (mode !== "replay") {
      const omitted = this.omitRecent(input, output);
      if (omitted) candidates.push(() => omitted);
    }
    if (candidates.length === 0) return undefined;
    return candidates[randomInt(this.random, 0, candidates.length - 1)]!();
  }

  private appliesTo(command: string, input: Record<string, unknown>): boolean {
    const pattern = this.options.tables;
    if (!pattern) return true;
    const tables = command === "BatchGetItemCommand" ? Object.keys((input["RequestItems"] as object | undefined) ?? {}) : [String(input["TableName"])];
    return tables.every((t) => pattern.test(t));
  }

  private rememberPut(table: string, item: Item | undefined): void {
    if (!item) return;
    const byItem = this.puts.get(table) ?? new Map<string, number>();
    const key = canonical(item);
    byItem.delete(key);
    byItem.set(key, ++this.putSeq);
    if (byItem.size > RECENT_PUTS) byItem.delete(byItem.keys().next().value!);
    this.puts.set(table, byItem);
  }

  /** The page without the items put most recently (a cut in put order), if any were. */
  private omitRecent(input: Record<string, unknown>, output: Output): StaleAnswer | undefined {
    if (output["LastEvaluatedKey"] !== undefined || input["ProjectionExpression"] !== undefined || input["Select"] !== undefined) return undefined;
    const byItem = this.puts.get(String(input["TableName"]));
    const items = (output["Items"] as Item[] | undefined) ?? [];
    if (!byItem || items.length === 0) return undefined;
    const seqs = items.map((item) => byItem.get(canonical(item)));
    const recent = [...new Set(seqs.filter((s): s is number => s !== undefined))].sort((a, b) => a - b);
    if (recent.length === 0) return undefined;
    const cut = recent[randomInt(this.random, 0, recent.length - 1)]!;
    const kept = items.filter((_, i) => seqs[i] === undefined || seqs[i]! < cut);
    return { output: { ...output, Items: structuredClone(kept), Count: kept.length, ScannedCount: kept.length }, how: "omit-recent" };
  }
}

const toRaw = (item: Item): Item => marshall(item, { convertClassInstanceToMap: true });
const toDocument = (item: Item): Item => unmarshall(item as Record<string, AttributeValue>);

/** Apply `convert` to every item (and key) of a read's output. */
function convertItems(output: Output, convert: (item: Item) => Item): Output {
  const converted: Output = { ...output };
  if (output["Item"]) converted["Item"] = convert(output["Item"] as Item);
  if (output["Items"]) converted["Items"] = (output["Items"] as Item[]).map(convert);
  if (output["LastEvaluatedKey"]) converted["LastEvaluatedKey"] = convert(output["LastEvaluatedKey"] as Item);
  if (output["Responses"]) {
    converted["Responses"] = Object.fromEntries(Object.entries(output["Responses"] as Record<string, Item[]>).map(([table, items]) => [table, items.map(convert)]));
  }
  if (output["UnprocessedKeys"]) {
    converted["UnprocessedKeys"] = Object.fromEntries(
      Object.entries(output["UnprocessedKeys"] as Record<string, { Keys?: Item[] }>).map(([table, request]) => [table, { ...request, Keys: request.Keys?.map(convert) }]),
    );
  }
  return converted;
}

/** True unless the read asks for strong consistency (every table of a BatchGetItem must not). */
export function eventuallyConsistent(command: string, input: Record<string, unknown>): boolean {
  if (command === "BatchGetItemCommand") {
    return Object.values((input["RequestItems"] as Record<string, { ConsistentRead?: boolean }> | undefined) ?? {}).every((t) => t.ConsistentRead !== true);
  }
  return input["ConsistentRead"] !== true;
}

/** Stable JSON (sorted keys, bytes as arrays) without consistency and capacity fields. */
export function canonical(value: unknown): string {
  return JSON.stringify(normalize(value));
}

function normalize(value: unknown): unknown {
  if (ArrayBuffer.isView(value)) return { bytes: Array.from(new Uint8Array(value.buffer, value.byteOffset, value.byteLength)) };
  if (value instanceof Set) return [...value].map(normalize).sort();
  if (Array.isArray(value)) return value.map(normalize);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([k, v]) => !IGNORED_KEYS.has(k) && v !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, v]) => [k, normalize(v)]),
    );
  }
  return value;
}
