/**
 * The producer's public configuration and record types, and its partitioners. A leaf module: the
 * producer and transactions both import it, and it imports neither.
 */
import { partitionForKey } from "../shared/partitioner.js";
import { keyBytes, type Message } from "./codec.js";
import { DynalogError } from "./errors.js";
import { legacyPartitioner } from "./legacy-partitioner.js";
import type { RetryOptions } from "./retry.js";

/**
 * The storage codec of a send. The SDK only NAMES it (`compression` in the request body): the
 * broker compresses what it stores and decompresses what it serves, so records travel as JSON
 * either way and every runtime can use every codec — brotli included, which the web-standard
 * CompressionStream lacks. KafkaJS's `Snappy`, `LZ4` and `ZSTD` are here so that a program naming
 * them is refused (UNSUPPORTED_COMPRESSION_TYPE, before anything is sent; a type error in
 * TypeScript) instead of silently sending uncompressed.
 */
export const CompressionTypes = { None: "none", GZIP: "gzip", Brotli: "brotli", Snappy: "snappy", LZ4: "lz4", ZSTD: "zstd" } as const;
export type CompressionType = "none" | "gzip" | "brotli";

const SUPPORTED_COMPRESSION: readonly unknown[] = ["none", "gzip", "brotli"];

/** Refuses a codec Dynalog does not store (KafkaJS's Snappy, LZ4, ZSTD, or its numeric codes). */
export function checkCompression(compression: unknown): void {
  if (compression === undefined || SUPPORTED_COMPRESSION.includes(compression)) return;
  throw new DynalogError({
    code: "UNSUPPORTED_COMPRESSION_TYPE",
    message: `Compression '${String(compression)}' is not available in Dynalog: use CompressionTypes.None, GZIP or Brotli (the broker compresses what it stores); nothing was sent`,
    retriable: false,
    outcome: "definite",
    details: { compression },
  });
}

export interface PartitionerArgs {
  readonly topic: string;
  /** Every partition of the topic, in order; `leader` is always 0 (DynamoDB replicates: every partition is available). */
  readonly partitionMetadata: readonly { readonly partitionId: number; readonly leader?: number }[];
  readonly message: Message;
}
/** Returns the partition; a negative number or undefined means "sticky partition" (null keys). */
export type Partitioner = (args: PartitionerArgs) => number | undefined;
export type ICustomPartitioner = () => Partitioner;

/** The broker's partitioning: murmur2 of the key (Kafka's Java client); null keys sticky. */
export const defaultPartitioner: ICustomPartitioner = () => ({ partitionMetadata, message }) =>
  message.key === null || message.key === undefined ? undefined : partitionForKey(keyBytes(message.key), partitionMetadata.length);

export const Partitioners = {
  DefaultPartitioner: defaultPartitioner,
  /** The same as the default: Dynalog's default already is Java-compatible. */
  JavaCompatiblePartitioner: defaultPartitioner,
  /** KafkaJS 1.x's default: its own murmur2 variant for keys, round-robin for null keys (legacy-partitioner.ts). */
  LegacyPartitioner: legacyPartitioner as ICustomPartitioner,
} as const;

/** KafkaJS's `partitionMetadata`: every partition, available (DynamoDB replicates; there is no leader to lose). */
export function partitionList(count: number): { partitionId: number; leader: number }[] {
  return Array.from({ length: count }, (_, partitionId) => ({ partitionId, leader: 0 }));
}

export interface ProducerConfig {
  /** Default true: producer id + per-partition sequences, retries never duplicate. */
  readonly idempotent?: boolean;
  /** Makes this a transactional producer (exactly-once); implies idempotent. */
  readonly transactionalId?: string;
  readonly createPartitioner?: ICustomPartitioner;
  readonly retry?: RetryOptions;
  /** How long partition counts are cached (ms). Default 300,000. */
  readonly metadataMaxAge?: number;
  /** Wait up to this long (ms) for more messages before sending a partition's batch. Default 0. */
  readonly linger?: number;
  /** Send a partition's batch once this many bytes are queued; also the most one batch carries. Default 1,048,576. */
  readonly batchSize?: number;
  /** Default storage codec of this producer's sends (else the topic's). */
  readonly compression?: CompressionType;
  /** Accepted for KafkaJS compatibility; Dynalog keeps one batch in flight per partition (ordered). */
  readonly maxInFlightRequests?: number;
  /** Accepted for KafkaJS compatibility; unused (a Dynalog transaction is one request). */
  readonly transactionTimeout?: number;
  /** Accepted for KafkaJS compatibility; Dynalog never creates topics implicitly. */
  readonly allowAutoTopicCreation?: boolean;
}

export interface ProducerRecord {
  readonly topic: string;
  readonly messages: readonly Message[];
  readonly compression?: CompressionType;
  /** Accepted for KafkaJS compatibility: every write is durable (acks = all). */
  readonly acks?: number;
  readonly timeout?: number;
}

export interface TopicMessages {
  readonly topic: string;
  readonly messages: readonly Message[];
}

export interface ProducerBatch {
  readonly topicMessages: readonly TopicMessages[];
  readonly compression?: CompressionType;
  readonly acks?: number;
  readonly timeout?: number;
}

/** One entry per partition a send wrote to (KafkaJS's RecordMetadata, numeric offsets). */
export interface RecordMetadata {
  readonly topicName: string;
  readonly partition: number;
  readonly errorCode: 0;
  /** Offset of this send's first message in the partition (undefined if the broker no longer knew it: DUPLICATE_SEQUENCE_NUMBER). */
  readonly baseOffset: number | undefined;
  /** Offset of this send's last message in the partition. */
  readonly lastOffset: number | undefined;
  /** True when a retry found the batch already written (nothing was written twice). */
  readonly duplicate: boolean;
}

export interface ProducerIdentity {
  readonly producerId: number;
  readonly epoch: number;
}
