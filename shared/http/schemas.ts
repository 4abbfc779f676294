/**
 * Request body shapes. Objects are strict: an unknown field is refused, so a client cannot
 * smuggle in a field the broker owns (offset, producer state, append time) — mass assignment.
 * Value ranges with Kafka-named errors are checked in the core; here only shape and type.
 * Written with zod's tree-shakable API (../zod.ts): `z.optional(x)` where classic zod has `x.optional()`.
 */
import * as z from "../zod.js";

const integer = z.number().check(z.int());

export const encodingSchema = z.enum(["base64", "utf8"]);
export type Encoding = z.infer<typeof encodingSchema>;

const headerSchema = z.strictObject({
  key: z.string(),
  value: z.nullable(z.string()),
});

export const recordSchema = z.strictObject({
  key: z.optional(z.nullable(z.string())),
  value: z.nullable(z.string()),
  headers: z.optional(z.array(headerSchema)),
  timestamp: z.optional(integer),
  partition: z.optional(integer),
});
export type RecordBody = z.infer<typeof recordSchema>;

const partitionRecordSchema = z.omit(recordSchema, { partition: true });

export const produceBodySchema = z.strictObject({
  encoding: z.optional(encodingSchema),
  compression: z.optional(z.string()),
  producerId: z.optional(integer),
  producerEpoch: z.optional(integer),
  records: z.optional(z.array(recordSchema)),
  partitions: z.optional(
    z.array(
      z.strictObject({
        partition: integer,
        baseSequence: z.optional(integer),
        records: z.array(partitionRecordSchema),
      }),
    ),
  ),
});
export type ProduceBody = z.infer<typeof produceBodySchema>;

/**
 * A topic's settable configs (the core's TopicConfigs), as create and alterConfigs take them.
 * Values are checked by the core: UNSUPPORTED_COMPRESSION_TYPE, INVALID_CONFIG (compacted topics:
 * docs/compaction.md; maxMessageBytes is Kafka's max.message.bytes, per record).
 */
const topicConfigFields = {
  retentionMs: z.optional(z.nullable(integer)),
  compression: z.optional(z.string()),
  timestampType: z.optional(z.string()),
  cleanupPolicy: z.optional(z.string()),
  deleteRetentionMs: z.optional(integer),
  minCompactionLagMs: z.optional(integer),
  maxMessageBytes: z.optional(integer),
};

export const TOPIC_CONFIG_NAMES = Object.keys(topicConfigFields) as (keyof typeof topicConfigFields)[];

export const createTopicBodySchema = z.strictObject({ name: z.string(), partitions: integer, ...topicConfigFields });

/** Omitted = unchanged. */
export const alterConfigsBodySchema = z.strictObject(topicConfigFields);

export const initProducerBodySchema = z.strictObject({
  transactionalId: z.optional(z.string()),
});

const offsetCommitSchema = z.strictObject({
  topic: z.string(),
  partition: integer,
  offset: integer,
  metadata: z.optional(z.string()),
});

export const transactionBodySchema = z.strictObject({
  transactionalId: z.optional(z.string()),
  producerId: z.optional(integer),
  producerEpoch: z.optional(integer),
  transactionSequence: z.optional(integer),
  encoding: z.optional(encodingSchema),
  compression: z.optional(z.string()),
  records: z.optional(z.array(z.extend(recordSchema, { topic: z.string() }))),
  offsets: z.optional(
    z.strictObject({ group: z.string(), memberId: z.optional(z.string()), memberEpoch: z.optional(integer), offsets: z.array(offsetCommitSchema) }),
  ),
});

export const fetchBodySchema = z.strictObject({
  encoding: z.optional(encodingSchema),
  /** Per record `producerId` and `transactional` (docs/api.md, fetch one partition). */
  metadata: z.optional(z.boolean()),
  maxRecords: z.optional(integer),
  maxBytes: z.optional(integer),
  maxWaitMs: z.optional(integer),
  partitions: z.array(
    z.strictObject({
      topic: z.string(),
      partition: integer,
      offset: integer,
      maxRecords: z.optional(integer),
      maxBytes: z.optional(integer),
    }),
  ),
});

export const commitBodySchema = z.strictObject({
  /** Both or neither: the commit is fenced by this member's epoch (consumer groups). */
  memberId: z.optional(z.string()),
  memberEpoch: z.optional(integer),
  offsets: z.array(
    z.strictObject({
      topic: z.string(),
      partition: integer,
      offset: integer,
      metadata: z.optional(z.string()),
    }),
  ),
});

const topicPartitionsSchema = z.strictObject({ topic: z.string(), partitions: z.array(integer) });

/** KIP-848's ConsumerGroupHeartbeat, as JSON. */
export const heartbeatBodySchema = z.strictObject({
  memberId: z.optional(z.string()),
  memberEpoch: integer,
  instanceId: z.optional(z.nullable(z.string())),
  topics: z.optional(z.array(z.string())),
  serverAssignor: z.optional(z.nullable(z.string())),
  sessionTimeoutMs: z.optional(integer),
  rebalanceTimeoutMs: z.optional(integer),
  ownedPartitions: z.optional(z.array(topicPartitionsSchema)),
});

/** A fetch offset in a query string: may be negative, so it is refused as OFFSET_OUT_OF_RANGE with the valid range. */
export const queryOffset = z.pipe(z.string().check(z.regex(/^-?\d{1,16}$/, "must be an integer")), z.transform(Number));

/** Query strings: integers written as digits only (no signs, exponents or blanks). */
export const queryInteger = z.pipe(z.string().check(z.regex(/^\d{1,16}$/, "must be a non-negative integer")), z.transform(Number));
