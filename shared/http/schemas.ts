/**
 * Request body shapes. Objects are strict: an unknown field is refused, so a client cannot
 * smuggle in a field the broker owns (offset, producer state, append time) — mass assignment.
 * Value ranges with Kafka-named errors are checked in the core; here only shape and type.
 */
import * as z from "zod";

const integer = z.number().int();

export const encodingSchema = z.enum(["base64", "utf8"]);
export type Encoding = z.infer<typeof encodingSchema>;

const headerSchema = z.strictObject({
  key: z.string(),
  value: z.string().nullable(),
});

export const recordSchema = z.strictObject({
  key: z.string().nullable().optional(),
  value: z.string().nullable(),
  headers: z.array(headerSchema).optional(),
  timestamp: integer.optional(),
  partition: integer.optional(),
});
export type RecordBody = z.infer<typeof recordSchema>;

const partitionRecordSchema = recordSchema.omit({ partition: true });

export const produceBodySchema = z.strictObject({
  encoding: encodingSchema.optional(),
  compression: z.string().optional(),
  producerId: integer.optional(),
  producerEpoch: integer.optional(),
  records: z.array(recordSchema).optional(),
  partitions: z
    .array(
      z.strictObject({
        partition: integer,
        baseSequence: integer.optional(),
        records: z.array(partitionRecordSchema),
      }),
    )
    .optional(),
});
export type ProduceBody = z.infer<typeof produceBodySchema>;

/**
 * A topic's settable configs (the core's TopicConfigs), as create and alterConfigs take them.
 * Values are checked by the core: UNSUPPORTED_COMPRESSION_TYPE, INVALID_CONFIG (compacted topics:
 * docs/compaction.md; maxMessageBytes is Kafka's max.message.bytes, per record).
 */
const topicConfigFields = {
  retentionMs: integer.nullable().optional(),
  compression: z.string().optional(),
  timestampType: z.string().optional(),
  cleanupPolicy: z.string().optional(),
  deleteRetentionMs: integer.optional(),
  minCompactionLagMs: integer.optional(),
  maxMessageBytes: integer.optional(),
};

export const TOPIC_CONFIG_NAMES = Object.keys(topicConfigFields) as (keyof typeof topicConfigFields)[];

export const createTopicBodySchema = z.strictObject({ name: z.string(), partitions: integer, ...topicConfigFields });

/** Omitted = unchanged. */
export const alterConfigsBodySchema = z.strictObject(topicConfigFields);

export const initProducerBodySchema = z.strictObject({
  transactionalId: z.string().optional(),
});

const offsetCommitSchema = z.strictObject({
  topic: z.string(),
  partition: integer,
  offset: integer,
  metadata: z.string().optional(),
});

export const transactionBodySchema = z.strictObject({
  transactionalId: z.string().optional(),
  producerId: integer.optional(),
  producerEpoch: integer.optional(),
  transactionSequence: integer.optional(),
  encoding: encodingSchema.optional(),
  compression: z.string().optional(),
  records: z.array(recordSchema.extend({ topic: z.string() })).optional(),
  offsets: z
    .strictObject({ group: z.string(), memberId: z.string().optional(), memberEpoch: integer.optional(), offsets: z.array(offsetCommitSchema) })
    .optional(),
});

export const fetchBodySchema = z.strictObject({
  encoding: encodingSchema.optional(),
  /** Per record `producerId` and `transactional` (docs/api.md, fetch one partition). */
  metadata: z.boolean().optional(),
  maxRecords: integer.optional(),
  maxBytes: integer.optional(),
  maxWaitMs: integer.optional(),
  partitions: z.array(
    z.strictObject({
      topic: z.string(),
      partition: integer,
      offset: integer,
      maxRecords: integer.optional(),
      maxBytes: integer.optional(),
    }),
  ),
});

export const commitBodySchema = z.strictObject({
  /** Both or neither: the commit is fenced by this member's epoch (consumer groups). */
  memberId: z.string().optional(),
  memberEpoch: integer.optional(),
  offsets: z.array(
    z.strictObject({
      topic: z.string(),
      partition: integer,
      offset: integer,
      metadata: z.string().optional(),
    }),
  ),
});

const topicPartitionsSchema = z.strictObject({ topic: z.string(), partitions: z.array(integer) });

/** KIP-848's ConsumerGroupHeartbeat, as JSON. */
export const heartbeatBodySchema = z.strictObject({
  memberId: z.string().optional(),
  memberEpoch: integer,
  instanceId: z.string().nullable().optional(),
  topics: z.array(z.string()).optional(),
  serverAssignor: z.string().nullable().optional(),
  sessionTimeoutMs: integer.optional(),
  rebalanceTimeoutMs: integer.optional(),
  ownedPartitions: z.array(topicPartitionsSchema).optional(),
});

/** A fetch offset in a query string: may be negative, so it is refused as OFFSET_OUT_OF_RANGE with the valid range. */
export const queryOffset = z
  .string()
  .regex(/^-?\d{1,16}$/, "must be an integer")
  .transform(Number);

/** Query strings: integers written as digits only (no signs, exponents or blanks). */
export const queryInteger = z
  .string()
  .regex(/^\d{1,16}$/, "must be a non-negative integer")
  .transform(Number);
