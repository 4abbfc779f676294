/**
 * Capacity accounting for the benchmark: a DynamoDB client middleware that asks every data-plane
 * request for `ReturnConsumedCapacity: "TOTAL"` and sums what comes back, and that also computes
 * the capacity units AWS would bill, from item sizes.
 *
 * Two figures, because DynamoDB Local's ConsumedCapacity need not be what AWS bills: DESIGN.md §5
 * notes it did not double transactional writes (the 3.3.0 jar measured by this bench does double
 * them), and it reports nothing for a write whose condition failed.
 *
 * The computed figure follows the AWS rules:
 *   item size = Σ (attribute name UTF-8 bytes + value size); value size: string UTF-8 bytes, number
 *   ⌈significant digits / 2⌉ + 1, binary length, null/boolean 1, list/map 3 + Σ (element + 1)
 *   (map elements include their key names), sets Σ elements.
 *   writes: ⌈size / 1 KB⌉ per item (min 1), ×2 per action inside TransactWriteItems; a write whose
 *   condition fails still costs (units are computed from the request, before it is sent).
 *   UpdateItem bills the larger of the item before and after; the request does not show the
 *   stored item, so the size is bounded from above: the key plus every attribute the expression
 *   sets, each as large as the largest value in the expression. Every item this broker updates
 *   (partition counter, producer state, hints) is far below 1 KB, so this bound only decides 1 vs 2.
 *   reads: ⌈size / 4 KB⌉ (Query/Scan: of the summed item sizes, min one unit), ×0.5 when
 *   eventually consistent, ×2 in TransactGetItems.
 *
 * Item sizes are taken from the document (unmarshalled) values the middleware sees at the
 * "initialize" step: every item-level request in the broker goes through lib-dynamodb's document
 * client, which marshals after this step (string → S, number → N, Uint8Array → B, array → L,
 * object → M, null → NULL).
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";

const KB = 1024;
const READ_UNIT_BYTES = 4 * KB;

/** Commands that accept ReturnConsumedCapacity. */
const CAPACITY_COMMANDS = new Set([
  "GetItemCommand",
  "PutItemCommand",
  "UpdateItemCommand",
  "DeleteItemCommand",
  "QueryCommand",
  "ScanCommand",
  "BatchGetItemCommand",
  "BatchWriteItemCommand",
  "TransactGetItemsCommand",
  "TransactWriteItemsCommand",
]);
const WRITE_COMMANDS = new Set(["PutItemCommand", "UpdateItemCommand", "DeleteItemCommand", "BatchWriteItemCommand", "TransactWriteItemsCommand"]);

// ---- item sizes --------------------------------------------------------------------------------

const utf8 = (text: string): number => Buffer.byteLength(text, "utf8");

/** Size of a DynamoDB number: ⌈significant digits / 2⌉ + 1 bytes. */
export function numberSize(value: number | bigint | string): number {
  // Mantissa digits only (1.5e+21 → "15"); leading and trailing zeros do not count.
  const mantissa = String(value).toLowerCase().split("e")[0]!;
  const digits = mantissa.replace(/^[-+]/, "").replace(".", "").replace(/^0+/, "").replace(/0+$/, "");
  return Math.ceil(Math.max(1, digits.length) / 2) + 1;
}

/** Size of one document value as DynamoDB stores it (without the attribute name). */
export function valueSize(value: unknown): number {
  if (value === null || value === undefined) return 1;
  if (typeof value === "string") return utf8(value);
  if (typeof value === "number" || typeof value === "bigint") return numberSize(value);
  if (typeof value === "boolean") return 1;
  if (value instanceof Uint8Array) return value.byteLength;
  if (ArrayBuffer.isView(value)) return value.byteLength;
  if (value instanceof Set) {
    let sum = 0;
    for (const element of value) sum += valueSize(element);
    return sum;
  }
  if (Array.isArray(value)) {
    let sum = 3;
    for (const element of value) sum += valueSize(element) + 1;
    return sum;
  }
  if (typeof value === "object") {
    // NumberValue from lib-dynamodb (wrapNumbers) has a `value` string.
    if (value.constructor?.name === "NumberValue" && typeof (value as { value?: unknown }).value === "string") {
      return numberSize((value as { value: string }).value);
    }
    let sum = 3;
    for (const [name, element] of Object.entries(value)) {
      if (element === undefined) continue;
      sum += utf8(name) + valueSize(element) + 1;
    }
    return sum;
  }
  return 1;
}

/** Size of an item: Σ attribute name bytes + value sizes. */
export function itemSize(item: Record<string, unknown> | undefined): number {
  if (!item) return 0;
  let sum = 0;
  for (const [name, value] of Object.entries(item)) {
    if (value === undefined) continue;
    sum += utf8(name) + valueSize(value);
  }
  return sum;
}

const writeUnits = (bytes: number): number => Math.max(1, Math.ceil(bytes / KB));

type Input = Record<string, unknown>;

/** Attribute names an UpdateExpression assigns (SET a = …, ADD a :v), placeholders resolved. */
function assignedAttributes(expression: string, names: Record<string, string> | undefined): string[] {
  const resolve = (token: string): string => (token.startsWith("#") ? (names?.[token] ?? token) : token);
  const out: string[] = [];
  // Split into clauses by keyword.
  const clauses = expression.split(/\b(SET|ADD|REMOVE|DELETE)\b/i);
  for (let i = 1; i < clauses.length; i += 2) {
    const keyword = clauses[i]!.toUpperCase();
    const body = clauses[i + 1] ?? "";
    if (keyword === "REMOVE" || keyword === "DELETE") continue;
    // Split actions on commas not inside parentheses.
    let depth = 0;
    let current = "";
    const actions: string[] = [];
    for (const ch of body) {
      if (ch === "(") depth++;
      if (ch === ")") depth--;
      if (ch === "," && depth === 0) {
        actions.push(current);
        current = "";
      } else current += ch;
    }
    actions.push(current);
    for (const action of actions) {
      const trimmed = action.trim();
      if (!trimmed) continue;
      const target = keyword === "SET" ? trimmed.split("=")[0]!.trim() : trimmed.split(/\s+/)[0]!;
      // Top-level attribute of a path (a.b[0] → a).
      const top = target.split(/[.[]/)[0]!;
      out.push(resolve(top));
    }
  }
  return out;
}

/** Upper bound of the item an UpdateItem leaves behind (see the header comment). */
export function updateItemSizeBound(input: Input): number {
  const key = itemSize(input["Key"] as Input | undefined);
  const values = (input["ExpressionAttributeValues"] ?? {}) as Input;
  const largest = Math.max(1, ...Object.values(values).map(valueSize));
  const names = assignedAttributes(String(input["UpdateExpression"] ?? ""), input["ExpressionAttributeNames"] as Record<string, string> | undefined);
  const keyNames = new Set(Object.keys((input["Key"] ?? {}) as Input));
  let sum = key;
  for (const name of new Set(names)) if (!keyNames.has(name)) sum += utf8(name) + largest;
  return sum;
}

export interface WriteCost {
  /** Computed write request units. */
  units: number;
  /** Bytes of items written, per table (puts only: the batch items, voids, ...). */
  putBytes: Map<string, { bytes: number; items: number }>;
}

/** Write units AWS would bill for a write request (computed from the request alone). */
export function computeWriteCost(command: string, input: Input): WriteCost {
  const putBytes = new Map<string, { bytes: number; items: number }>();
  const notePut = (table: string, bytes: number) => {
    const entry = putBytes.get(table) ?? { bytes: 0, items: 0 };
    entry.bytes += bytes;
    entry.items += 1;
    putBytes.set(table, entry);
  };
  let units = 0;
  switch (command) {
    case "PutItemCommand": {
      const size = itemSize(input["Item"] as Input);
      notePut(String(input["TableName"]), size);
      units = writeUnits(size);
      break;
    }
    case "UpdateItemCommand":
      units = writeUnits(updateItemSizeBound(input));
      break;
    case "DeleteItemCommand":
      // The deleted item's size is unknown from the request; the broker deletes only small items here.
      units = 1;
      break;
    case "BatchWriteItemCommand": {
      const requests = (input["RequestItems"] ?? {}) as Record<string, Input[]>;
      for (const [table, list] of Object.entries(requests)) {
        for (const request of list) {
          const put = request["PutRequest"] as Input | undefined;
          if (put) {
            const size = itemSize(put["Item"] as Input);
            notePut(table, size);
            units += writeUnits(size);
          } else units += 1;
        }
      }
      break;
    }
    case "TransactWriteItemsCommand": {
      for (const action of (input["TransactItems"] ?? []) as Input[]) {
        if (action["Put"]) {
          const put = action["Put"] as Input;
          const size = itemSize(put["Item"] as Input);
          notePut(String(put["TableName"]), size);
          units += 2 * writeUnits(size);
        } else if (action["Update"]) {
          units += 2 * writeUnits(updateItemSizeBound(action["Update"] as Input));
        } else {
          // Delete / ConditionCheck: small items in this broker.
          units += 2;
        }
      }
      break;
    }
  }
  return { units, putBytes };
}

/** Read units AWS would bill for a read response. */
export function computeReadUnits(command: string, input: Input, output: Input): number {
  const factor = input["ConsistentRead"] === true ? 1 : 0.5;
  switch (command) {
    case "GetItemCommand":
      return factor * Math.max(1, Math.ceil(itemSize(output["Item"] as Input | undefined) / READ_UNIT_BYTES));
    case "QueryCommand":
    case "ScanCommand": {
      let bytes = 0;
      for (const item of (output["Items"] ?? []) as Input[]) bytes += itemSize(item);
      return factor * Math.max(1, Math.ceil(bytes / READ_UNIT_BYTES));
    }
    case "BatchGetItemCommand": {
      let units = 0;
      const consistentByTable = (input["RequestItems"] ?? {}) as Record<string, Input>;
      for (const [table, items] of Object.entries((output["Responses"] ?? {}) as Record<string, Input[]>)) {
        const f = consistentByTable[table]?.["ConsistentRead"] === true ? 1 : 0.5;
        for (const item of items) units += f * Math.max(1, Math.ceil(itemSize(item) / READ_UNIT_BYTES));
      }
      return units;
    }
    case "TransactGetItemsCommand": {
      let units = 0;
      for (const response of (output["Responses"] ?? []) as Input[]) units += 2 * Math.max(1, Math.ceil(itemSize(response["Item"] as Input | undefined) / READ_UNIT_BYTES));
      return units;
    }
  }
  return 0;
}

function countItems(output: Input): number {
  if (output["Item"]) return 1;
  if (Array.isArray(output["Items"])) return output["Items"].length;
  let n = 0;
  if (Array.isArray(output["Responses"])) for (const r of output["Responses"] as Input[]) n += r["Item"] ? 1 : 0;
  else if (output["Responses"]) for (const items of Object.values(output["Responses"] as Record<string, unknown[]>)) n += items.length;
  return n;
}

function sumConsumed(consumed: unknown): number {
  if (!consumed) return 0;
  const list = Array.isArray(consumed) ? consumed : [consumed];
  let sum = 0;
  for (const c of list) sum += Number((c as { CapacityUnits?: number }).CapacityUnits ?? 0);
  return sum;
}

// ---- the meter ---------------------------------------------------------------------------------

export interface CapacitySnapshot {
  /** Write units from ConsumedCapacity (as DynamoDB Local reports them). */
  readonly reportedWrite: number;
  /** Read units from ConsumedCapacity. */
  readonly reportedRead: number;
  /** Write units computed the AWS way from item sizes (includes failed conditional writes). */
  readonly computedWrite: number;
  /** Read units computed the AWS way from the items returned. */
  readonly computedRead: number;
  /** Requests per command name (logical requests, as the broker sends them). */
  readonly requests: Readonly<Record<string, number>>;
  /** Computed write units per command name. */
  readonly computedWriteByCommand: Readonly<Record<string, number>>;
  /** Write requests that failed (conditional check failed, cancelled, other errors). */
  readonly failedWrites: number;
  /** Extra HTTP attempts the SDK made (retries). */
  readonly retries: number;
  /** Bytes and count of items put into the log table (batches and voids). */
  readonly logPutBytes: number;
  readonly logPutItems: number;
  /** Items returned by reads (Get, Query, Scan, BatchGet, TransactGet). */
  readonly itemsRead: number;
}

export class CapacityMeter {
  private reportedWrite = 0;
  private reportedRead = 0;
  private computedWrite = 0;
  private computedRead = 0;
  private failedWrites = 0;
  private retries = 0;
  private logPutBytes = 0;
  private logPutItems = 0;
  private itemsRead = 0;
  private readonly requests: Record<string, number> = {};
  private readonly computedWriteByCommand: Record<string, number> = {};

  constructor(private readonly logTable: string) {}

  snapshot(): CapacitySnapshot {
    return {
      reportedWrite: this.reportedWrite,
      reportedRead: this.reportedRead,
      computedWrite: this.computedWrite,
      computedRead: this.computedRead,
      requests: { ...this.requests },
      computedWriteByCommand: { ...this.computedWriteByCommand },
      failedWrites: this.failedWrites,
      retries: this.retries,
      logPutBytes: this.logPutBytes,
      logPutItems: this.logPutItems,
      itemsRead: this.itemsRead,
    };
  }

  /** Installs the middleware on `client`. */
  attach(client: DynamoDBClient): void {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const command = String(context.commandName ?? "");
        if (!CAPACITY_COMMANDS.has(command)) return next(args);
        const input = { ...(args.input as Input), ReturnConsumedCapacity: "TOTAL" };
        this.requests[command] = (this.requests[command] ?? 0) + 1;
        const isWrite = WRITE_COMMANDS.has(command);
        if (isWrite) {
          const cost = computeWriteCost(command, input);
          this.computedWrite += cost.units;
          this.computedWriteByCommand[command] = (this.computedWriteByCommand[command] ?? 0) + cost.units;
          const log = cost.putBytes.get(this.logTable);
          if (log) {
            this.logPutBytes += log.bytes;
            this.logPutItems += log.items;
          }
        }
        let result;
        try {
          result = await next({ ...args, input });
        } catch (error) {
          if (isWrite) this.failedWrites++;
          const attempts = (error as { $metadata?: { attempts?: number } }).$metadata?.attempts;
          if (attempts && attempts > 1) this.retries += attempts - 1;
          throw error;
        }
        const output = (result.output ?? {}) as Input & { $metadata?: { attempts?: number } };
        const attempts = output.$metadata?.attempts;
        if (attempts && attempts > 1) this.retries += attempts - 1;
        const consumed = sumConsumed(output["ConsumedCapacity"]);
        if (isWrite) this.reportedWrite += consumed;
        else {
          this.reportedRead += consumed;
          this.computedRead += computeReadUnits(command, input, output);
          this.itemsRead += countItems(output);
        }
        return result;
      },
      { step: "initialize", name: "benchCapacityMeter" },
    );
  }
}

/** Differences between two snapshots (after − before). */
export function diff(after: CapacitySnapshot, before: CapacitySnapshot): CapacitySnapshot {
  const sub = (a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>) => {
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(a)) {
      const d = v - (b[k] ?? 0);
      if (d !== 0) out[k] = d;
    }
    return out;
  };
  return {
    reportedWrite: after.reportedWrite - before.reportedWrite,
    reportedRead: after.reportedRead - before.reportedRead,
    computedWrite: after.computedWrite - before.computedWrite,
    computedRead: after.computedRead - before.computedRead,
    requests: sub(after.requests, before.requests),
    computedWriteByCommand: sub(after.computedWriteByCommand, before.computedWriteByCommand),
    failedWrites: after.failedWrites - before.failedWrites,
    retries: after.retries - before.retries,
    logPutBytes: after.logPutBytes - before.logPutBytes,
    logPutItems: after.logPutItems - before.logPutItems,
    itemsRead: after.itemsRead - before.itemsRead,
  };
}
