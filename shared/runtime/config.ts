/**
 * Deployment configuration from environment variables — read only here, at a function's cold
 * start (the core never touches process.env). Bad values fail the cold start with a clear message.
 */
import * as z from "../zod.js";
import type { BrokerConfig } from "../core/context.js";
import { MAX_RETENTION_MS, MIN_RETENTION_MS } from "../limits.js";
import { COMPRESSION_CODECS } from "../compression.js";
import { tableNames, type TableNames } from "../storage/tables.js";
import { DEFAULT_SECURITY_CONFIG, validatePrincipal, type SecurityConfig } from "../security/security.js";

export type LogLevel = "DEBUG" | "INFO" | "WARN" | "ERROR";

export interface RuntimeConfig {
  readonly tables: TableNames;
  /** Names the deployment in logs and metrics (the EMF `service` dimension). */
  readonly serviceName: string;
  readonly logLevel: LogLevel;
  /** EMF metrics on stdout; off for local runs, where nothing collects them. */
  readonly metricsEnabled: boolean;
  /** Only for DynamoDB Local; unset on AWS. */
  readonly dynamodbEndpoint?: string;
  readonly region: string;
  readonly broker: Partial<BrokerConfig>;
  readonly security: SecurityConfig;
  /** Webhooks reach public addresses only, checked at create and at every delivery (webhook-guard.ts). */
  readonly webhookGuard: boolean;
}

const positiveInt = z.pipe(z.string().check(z.regex(/^\d+$/)), z.transform(Number));

const tableName = z.optional(z.string().check(z.regex(/^[a-zA-Z0-9_.-]{3,255}$/)));

const envSchema = z.object({
  DYNALOG_TABLE_PREFIX: z._default(z.string().check(z.regex(/^[a-zA-Z0-9_.-]{1,200}$/)), "dynalog"),
  // Per-table names override the prefix: the CDK stack lets CloudFormation name the tables (so two
  // deployments never collide) and passes each name here.
  DYNALOG_TABLE_TOPICS: tableName,
  DYNALOG_TABLE_PARTITIONS: tableName,
  DYNALOG_TABLE_LOG: tableName,
  DYNALOG_TABLE_PRODUCERS: tableName,
  DYNALOG_TABLE_OFFSETS: tableName,
  DYNALOG_TABLE_SECURITY: tableName,
  DYNALOG_SERVICE_NAME: z._default(z.string().check(z.regex(/^[a-zA-Z0-9_.-]{1,100}$/)), "dynalog"),
  DYNALOG_LOG_LEVEL: z._default(z.enum(["DEBUG", "INFO", "WARN", "ERROR"]), "INFO"),
  DYNALOG_METRICS_ENABLED: z._default(z.enum(["true", "false"]), "true"),
  DYNALOG_DYNAMODB_ENDPOINT: z.optional(z.url()),
  AWS_REGION: z._default(z.string(), "us-east-1"),
  // The CDK stack derives it from the writers' timeouts and refuses an unsafe value (infra/functions.ts).
  DYNALOG_HOLE_TIMEOUT_MS: z.optional(positiveInt.check(z.refine((ms) => ms > 0, "must be at least 1"))),
  DYNALOG_TOPIC_CACHE_TTL_MS: z.optional(positiveInt),
  DYNALOG_LONG_POLL_INTERVAL_MS: z.optional(positiveInt),
  DYNALOG_DEFAULT_COMPRESSION: z.optional(z.enum(COMPRESSION_CODECS as ["none", "gzip", "brotli"])),
  // Security: "on" in every deployment (the CDK stack sets it); off by default for local runs.
  DYNALOG_AUTH: z._default(z.enum(["on", "off"]), "off"),
  /** Comma-separated principals ("User:admin", "IAM:arn:…") that bypass ACLs. */
  DYNALOG_SUPER_USERS: z._default(z.string(), ""),
  DYNALOG_AUTH_CACHE_TTL_MS: z.optional(positiveInt),
  DYNALOG_QUOTA_REQUESTS_PER_SECOND: z.optional(positiveInt),
  DYNALOG_QUOTA_BYTES_PER_SECOND: z.optional(positiveInt),
  DYNALOG_QUOTA_PRODUCER_IDS_PER_HOUR: z.optional(positiveInt),
  DYNALOG_QUOTA_WINDOW_MS: z.optional(positiveInt),
  DYNALOG_QUOTA_FLUSH_INTERVAL_MS: z.optional(positiveInt),
  // Push subscriptions (docs/subscriptions.md): http:// webhooks and module targets only locally;
  // the CDK construct sets the function allow-list from its `subscriptionTargets`.
  DYNALOG_SUBSCRIPTION_ALLOW_HTTP: z._default(z.enum(["true", "false"]), "false"),
  DYNALOG_SUBSCRIPTION_LOCAL_MODULES: z._default(z.enum(["true", "false"]), "false"),
  /** Comma-separated Lambda ARNs (or prefixes ending in '*') subscriptions may target. */
  DYNALOG_SUBSCRIPTION_FUNCTIONS: z._default(z.string(), ""),
  /** SSRF protection of webhooks: on wherever it is not turned off (npm start turns it off). */
  DYNALOG_SUBSCRIPTION_WEBHOOK_GUARD: z._default(z.enum(["on", "off"]), "on"),
  // Milliseconds, or "forever".
  DYNALOG_DEFAULT_RETENTION_MS: z.optional(
    z.union([z.literal("forever"), positiveInt.check(z.refine((ms) => ms >= MIN_RETENTION_MS && ms <= MAX_RETENTION_MS, `must be from ${MIN_RETENTION_MS} to ${MAX_RETENTION_MS}`))]),
  ),
});

export function runtimeConfigFromEnv(env: Record<string, string | undefined> = process.env): RuntimeConfig {
  const parsed = z.safeParse(envSchema, env);
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
    ...(e.DYNALOG_DEFAULT_RETENTION_MS !== undefined && { defaultRetentionMs: e.DYNALOG_DEFAULT_RETENTION_MS === "forever" ? null : e.DYNALOG_DEFAULT_RETENTION_MS }),
    subscriptionAllowHttp: e.DYNALOG_SUBSCRIPTION_ALLOW_HTTP === "true",
    subscriptionLocalModules: e.DYNALOG_SUBSCRIPTION_LOCAL_MODULES === "true",
    subscriptionFunctionAllowList: e.DYNALOG_SUBSCRIPTION_FUNCTIONS.split(",").map((f) => f.trim()).filter((f) => f !== ""),
  };
  const superUsers = e.DYNALOG_SUPER_USERS.split(",").map((p) => p.trim()).filter((p) => p !== "");
  try {
    superUsers.forEach(validatePrincipal);
  } catch (error) {
    throw new Error(`Invalid Dynalog configuration: DYNALOG_SUPER_USERS: ${(error as Error).message}`);
  }
  const defaults = DEFAULT_SECURITY_CONFIG;
  const security: SecurityConfig = {
    enabled: e.DYNALOG_AUTH === "on",
    superUsers,
    cacheTtlMs: e.DYNALOG_AUTH_CACHE_TTL_MS ?? defaults.cacheTtlMs,
    quotas: {
      requestsPerSecond: e.DYNALOG_QUOTA_REQUESTS_PER_SECOND ?? defaults.quotas.requestsPerSecond,
      bytesPerSecond: e.DYNALOG_QUOTA_BYTES_PER_SECOND ?? defaults.quotas.bytesPerSecond,
      producerIdsPerHour: e.DYNALOG_QUOTA_PRODUCER_IDS_PER_HOUR ?? defaults.quotas.producerIdsPerHour,
      windowMs: Math.max(1, e.DYNALOG_QUOTA_WINDOW_MS ?? defaults.quotas.windowMs),
      flushIntervalMs: e.DYNALOG_QUOTA_FLUSH_INTERVAL_MS ?? defaults.quotas.flushIntervalMs,
    },
  };
  const byPrefix = tableNames(e.DYNALOG_TABLE_PREFIX);
  return {
    tables: {
      topics: e.DYNALOG_TABLE_TOPICS ?? byPrefix.topics,
      partitions: e.DYNALOG_TABLE_PARTITIONS ?? byPrefix.partitions,
      log: e.DYNALOG_TABLE_LOG ?? byPrefix.log,
      producers: e.DYNALOG_TABLE_PRODUCERS ?? byPrefix.producers,
      offsets: e.DYNALOG_TABLE_OFFSETS ?? byPrefix.offsets,
      security: e.DYNALOG_TABLE_SECURITY ?? byPrefix.security,
    },
    serviceName: e.DYNALOG_SERVICE_NAME,
    logLevel: e.DYNALOG_LOG_LEVEL,
    metricsEnabled: e.DYNALOG_METRICS_ENABLED === "true",
    dynamodbEndpoint: e.DYNALOG_DYNAMODB_ENDPOINT,
    region: e.AWS_REGION,
    broker,
    security,
    webhookGuard: e.DYNALOG_SUBSCRIPTION_WEBHOOK_GUARD === "on",
  };
}
