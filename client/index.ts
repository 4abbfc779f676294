/**
 * Dynalog's TypeScript SDK. Import it as `dynalog/client` (the root package.json exports it).
 *
 *   const dynalog = new Dynalog({ url: "http://127.0.0.1:8790" });
 *   const producer = dynalog.producer();
 *   await producer.send({ topic: "orders", messages: [{ key: "customer-42", value: "hello" }] });
 *
 * It speaks the HTTP API only, with web-standard APIs alone (fetch, Web Crypto, TextEncoder,
 * AbortSignal): the same code runs in Node ≥ 20, Bun, Deno, browsers and edge workers. No AWS SDK,
 * nothing of the broker's storage, no Node built-in imports (Node-only helpers: ./node.ts).
 */
import { Admin } from "./admin.js";
import { Consumer, type ConsumerConfig } from "./consumer.js";
import { ConsumerRegistry } from "./group-registry.js";
import { createLogger, logLevel, type LogCreator, type Logger, type LogLevel } from "./logger.js";
import { Producer, type ProducerConfig } from "./producer.js";
import { resolveRetry, type RetryOptions } from "./retry.js";
import { Transport, type AuthConfig, type FetchFunction } from "./transport.js";

export interface DynalogConfig {
  /** The broker's base URL: `http://127.0.0.1:8790` locally, the API Gateway URL when deployed. */
  readonly url: string;
  /** An API key (bearer or basic), SigV4 (`{ sigv4: { region, credentials } }`) or a function returning headers. */
  readonly auth?: AuthConfig;
  /** Sent as `x-dynalog-client-id` and used in logs. */
  readonly clientId?: string;
  /** Per request (ms); long polls get their wait on top. Default 30,000. */
  readonly requestTimeout?: number;
  /** Default retry policy of every client made from this one. */
  readonly retry?: RetryOptions;
  readonly logLevel?: LogLevel;
  readonly logCreator?: LogCreator;
  /** A fetch implementation (default: the global fetch), e.g. to add an agent or to test. */
  readonly fetch?: FetchFunction;
}

/**
 * The client: one per broker URL and credentials. Also exported as `Kafka`, so a KafkaJS program
 * ports by changing its import and its connection config (`brokers` → `url`, `sasl`/`ssl` → `auth`).
 */
export class Dynalog {
  private readonly transport: Transport;
  private readonly log: Logger;
  /** The running group consumers made here: transactions of producers made here fence offsets with them. */
  private readonly consumers = new ConsumerRegistry();

  constructor(config: DynalogConfig) {
    if (!config || typeof config.url !== "string" || config.url.length === 0) {
      const brokers = config && "brokers" in config ? " (Dynalog speaks HTTP: replace KafkaJS's `brokers` with `url`)" : "";
      throw new TypeError(`new Dynalog({ url }) needs the broker's URL, e.g. http://127.0.0.1:8790${brokers}`);
    }
    this.log = createLogger(config.logLevel ?? logLevel.INFO, config.logCreator);
    this.transport = new Transport({
      url: config.url,
      auth: config.auth,
      clientId: config.clientId,
      requestTimeout: config.requestTimeout ?? 30_000,
      retry: resolveRetry(config.retry),
      fetch: config.fetch,
      logger: this.log,
    });
  }

  producer(config: ProducerConfig = {}): Producer {
    return new Producer(this.transport, config, this.log.namespace("Producer"), this.consumers);
  }

  consumer(config: ConsumerConfig = {}): Consumer {
    return new Consumer(this.transport, config, this.log.namespace("Consumer"), this.consumers);
  }

  admin(): Admin {
    return new Admin(this.transport, this.log.namespace("Admin"));
  }

  logger(): Logger {
    return this.log;
  }
}

/** KafkaJS's name for the client: `import { Kafka } from "dynalog/client"`; `new Kafka({ url })`. */
export { Dynalog as Kafka };
export type { DynalogConfig as KafkaConfig };

export { Admin, ADMIN_EVENTS } from "./admin.js";
export { ConfigResourceTypes } from "./admin-lifecycle.js";
export type { AlterConfigResource, ConfigEntry, ConfigResourceType, DescribeConfigResource, DescribeConfigResponse, PartitionCompaction, TopicCompaction } from "./admin-lifecycle.js";
export type { AdminEventName } from "./admin.js";
export type { GroupDescription, GroupLag, GroupOverview, PartitionLag } from "./admin-groups.js";
export type { AclRule, ApiKeyInfo } from "./admin-security.js";
export type { ITopicConfig, PartitionOffsets } from "./admin-topics.js";
export type { GroupHistory, GroupHistorySample, HistoryOptions, TopicHistory, TopicHistorySample, TopicsHistory } from "./admin-history.js";
export type { CreateSubscriptionOptions, SubscriptionDescription, SubscriptionInfo, SubscriptionPartitionInfo } from "./admin-subscriptions.js";
export { decodeText, TextBytes } from "./bytes.js";
export type { NotificationOptions, NotificationSocket, WebSocketConstructor } from "./notification-channel.js";
export type { MessageBytes, TextEncodingName } from "./bytes.js";
export type { Bytes, IHeaders, KafkaMessage, Message } from "./codec.js";
export { Consumer, CONSUMER_EVENTS, PartitionAssigners } from "./consumer.js";
export type { Batch, ConsumerConfig, ConsumerRunConfig, ConsumerSubscribeTopics, DeliverySemantics, EachBatchPayload, EachMessagePayload, TopicPartitionOffset, TopicPartitions } from "./consumer.js";
export { CLIENT_ERROR_CODES, DynalogConnectionError, DynalogError, isDynalogError, isFenced } from "./errors.js";
export type { Outcome } from "./errors.js";
export type { InstrumentationEvent, RemoveInstrumentationEventListener } from "./events.js";
export { logLevel } from "./logger.js";
export type { LogCreator, LogEntry, Logger, LogLevel } from "./logger.js";
export type { TopicDescription } from "./metadata.js";
export { Producer, PRODUCER_EVENTS } from "./producer.js";
export { CompressionTypes, Partitioners } from "./producer-types.js";
export type { CompressionType, ICustomPartitioner, Partitioner, PartitionerArgs, ProducerBatch, ProducerConfig, ProducerRecord, RecordMetadata, TopicMessages } from "./producer-types.js";
export { DEFAULT_RETRY } from "./retry.js";
export type { RetryOptions } from "./retry.js";
export { Transaction } from "./transaction.js";
export type { ConsumerGroupMetadata, TransactionOffsets, TransactionResult } from "./transaction.js";
export { sigv4Signer } from "./sigv4.js";
export type { AwsCredentials, AwsCredentialsProvider, SigV4Options } from "./sigv4.js";
export type { AuthConfig, AuthHeaderProvider, FetchFunction, RequestAttempt, SignableRequest } from "./transport.js";
