/**
 * The DynamoDB tables of one broker. The local setup (local/, test/) and the CDK stack (infra/)
 * both build their tables from these definitions, so local and AWS cannot drift.
 *
 * Six tables rather than one, so that IAM can give each function only the tables it needs
 * (fetch never touches producer state or offsets; commit never touches the log).
 */
import type { CreateTableCommandInput } from "@aws-sdk/client-dynamodb";

export type TableId = "topics" | "partitions" | "log" | "producers" | "offsets" | "security";
export type KeyType = "S" | "N";

export interface KeyAttribute {
  readonly name: string;
  readonly type: KeyType;
}

export interface TableDefinition {
  readonly id: TableId;
  readonly purpose: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
  /** Epoch-seconds attribute DynamoDB's TTL deletes items by. */
  readonly ttlAttribute?: string;
  /** The table's DynamoDB Stream, if it has one (deployed only: see LOG_STREAM_VIEW). */
  readonly streamView?: "NEW_IMAGE";
}

/**
 * The log table's stream: new items' images, read by the functions that react to appends (record
 * notifications, infra/notifications.ts). Enabling a stream costs nothing; reading it from Lambda
 * is free too (no GetRecords charge for Lambda triggers).
 */
export const LOG_STREAM_VIEW = "NEW_IMAGE" as const;

export const TABLES: Readonly<Record<TableId, TableDefinition>> = {
  topics: {
    id: "topics",
    purpose: "One item per topic: id, partition count, retention, compression.",
    partitionKey: { name: "name", type: "S" },
  },
  partitions: {
    id: "partitions",
    purpose: "One counter item per partition (the sequencer): next offset, reservation time, high-watermark and log-start hints.",
    partitionKey: { name: "p", type: "S" },
  },
  log: {
    id: "log",
    purpose: "Write-once record batches and voids, keyed by partition and base offset.",
    partitionKey: { name: "p", type: "S" },
    sortKey: { name: "o", type: "N" },
    ttlAttribute: "x",
    streamView: LOG_STREAM_VIEW,
  },
  producers: {
    id: "producers",
    purpose: "Producer-id allocation, transactional ids, per-partition idempotent producer state, idempotency keys (TTL'd), and the console's history samples (TTL'd, history-store.ts).",
    partitionKey: { name: "pk", type: "S" },
    sortKey: { name: "sk", type: "S" },
    ttlAttribute: "x",
  },
  offsets: {
    id: "offsets",
    purpose: "Committed consumer-group offsets per (group, topic, partition); group and member items; push subscriptions and their per-partition dispatch state.",
    partitionKey: { name: "pk", type: "S" },
    sortKey: { name: "sk", type: "S" },
  },
  security: {
    id: "security",
    purpose: "API keys (hashed), ACL rules, and per-principal quota counters.",
    partitionKey: { name: "pk", type: "S" },
    sortKey: { name: "sk", type: "S" },
    ttlAttribute: "x",
  },
};

export const TABLE_IDS = Object.keys(TABLES) as TableId[];

export type TableNames = Readonly<Record<TableId, string>>;

/** Table names for a deployment: `<prefix>-<table>`, e.g. `dynalog-log`. */
export function tableNames(prefix: string): TableNames {
  const names = {} as Record<TableId, string>;
  for (const id of TABLE_IDS) names[id] = `${prefix}-${id}`;
  return names;
}

/** CreateTable input for DynamoDB Local and tests (the CDK stack maps the same definition). */
export function createTableInput(definition: TableDefinition, tableName: string): CreateTableCommandInput {
  const keys = [definition.partitionKey, ...(definition.sortKey ? [definition.sortKey] : [])];
  return {
    TableName: tableName,
    BillingMode: "PAY_PER_REQUEST",
    KeySchema: keys.map((key, index) => ({ AttributeName: key.name, KeyType: index === 0 ? "HASH" : "RANGE" })),
    AttributeDefinitions: keys.map((key) => ({ AttributeName: key.name, AttributeType: key.type })),
  };
}
