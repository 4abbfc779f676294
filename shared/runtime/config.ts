/**
 * Deployment configuration from environment variables — read only here, at a function's cold
 * start (the core never touches process.env). Bad values fail the cold start with a clear message.
 */
import { z } from "zod";
import type { BrokerConfig } from "../core/context.js";
import { COMPRESSION_CODECS } from "../record-batch.js";
import { tableNames, type TableNames } from "../storage/tables.js";

export interface RuntimeConfig {
  readonly tables: TableNames;
  /** Only for DynamoDB Local; unset on AWS. */
  readonly dynamodbEndpoint?: string;
  readonly region: string;
  readonly broker: Partial<BrokerConfig>;
}

const positiveInt = z.string().regex(/^\d+$/).transform(Number);

const envSchema = z.object({
  DYNALOG_TABLE_PREFIX: z.string().regex(/^[a-zA-Z0-9_.-]{1,200}$/).default("dynalog"),
  DYNALOG_DYNAMODB_ENDPOINT: z.url().optional(),
  AWS_REGION: z.string().default("us-east-1"),
  DYNALOG_HOLE_TIMEOUT_MS: positiveInt.optional(),
  DYNALOG_TOPIC_CACHE_TTL_MS: positiveInt.optional(),
  DYNALOG_LONG_POLL_INTERVAL_MS: positiveInt.optional(),
  DYNALOG_DEFAULT_COMPRESSION: z.enum(COMPRESSION_CODECS as ["none", "gzip", "brotli"]).optional(),
});

export function runtimeConfigFromEnv(env: Record<string, string | undefined> = process.env): RuntimeConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new Error(`Invalid Dynalog configuration: ${problems}`);
  }
  const e = parsed.data;
  const broker: Partial<BrokerConfig> = {
    ...(e.DYNALOG_HOLE_TIMEOUT_MS !== undefined && { holeTimeoutMs: e.DYNALOG_HOLE_TIMEOUT_MS }),
    ...(e.DYNALOG_TOPIC_CACHE_TTL_MS !== undefined && { topicCacheTtlMs: e.DYNALOG_TOPIC_CACHE_TTL_MS }),
    ...(e.DYNALOG_LONG_POLL_INTERVAL_MS !== undefined && { longPollIntervalMs: e.DYNALOG_LONG_POLL_INTERVAL_MS }),
    ...(e.DYNALOG_DEFAULT_COMPRESSION !== undefined && { defaultCompression: e.DYNALOG_DEFAULT_COMPRESSION }),
  };
  return {
    tables: tableNames(e.DYNALOG_TABLE_PREFIX),
    dynamodbEndpoint: e.DYNALOG_DYNAMODB_ENDPOINT,
    region: e.AWS_REGION,
    broker,
  };
}
