/**
 * Request bodies of the Upstash-compatible dialect, as @upstash/kafka 1.3.5 sends them. Keys,
 * values and header values are UTF-8 strings (that client stringifies everything). Objects are
 * strict, like the native API's: an unknown field is a 400, not silently ignored.
 */
import * as z from "../../zod.js";

const integer = z.number().check(z.int());
const topicName = z.string().check(z.minLength(1));
const partition = integer.check(z.gte(0));
const offset = integer.check(z.gte(0));

const headerSchema = z.strictObject({ key: z.string(), value: z.string() });

export const upstashProduceRecordSchema = z.strictObject({
  topic: topicName,
  value: z.string(),
  key: z.optional(z.string()),
  partition: z.optional(partition),
  /** Seconds or milliseconds (mapping.ts `toMilliseconds`). */
  timestamp: z.optional(integer.check(z.gte(0))),
  headers: z.optional(z.array(headerSchema)),
});
export type UpstashProduceRecord = z.infer<typeof upstashProduceRecordSchema>;

export const upstashProduceBodySchema = z.union([upstashProduceRecordSchema, z.array(upstashProduceRecordSchema).check(z.minLength(1))]);

/** `POST /produce/{topic}`: the same records without `topic` (the path names it). */
export const upstashTopicMessageSchema = z.omit(upstashProduceRecordSchema, { topic: true });
export const upstashTopicMessagesBodySchema = z.union([upstashTopicMessageSchema, z.array(upstashTopicMessageSchema).check(z.minLength(1))]);

const topicPartitionSchema = z.strictObject({ topic: topicName, partition });
export const topicPartitionOffsetSchema = z.strictObject({ topic: topicName, partition, offset });
export type TopicPartitionOffset = z.infer<typeof topicPartitionOffsetSchema>;

/** Long-poll wait in milliseconds. */
const timeout = z.optional(integer.check(z.gte(0)));

export const upstashFetchBodySchema = z
  .strictObject({
    topic: z.optional(topicName),
    partition: z.optional(partition),
    offset: z.optional(offset),
    topicPartitionOffsets: z.optional(z.array(topicPartitionOffsetSchema)),
    timeout,
  })
  .check(
    z.refine((b) => (b.topic === undefined) === (b.partition === undefined) && (b.topic === undefined) === (b.offset === undefined), {
      message: "topic, partition and offset go together",
    }),
    z.refine((b) => b.topic !== undefined || (b.topicPartitionOffsets?.length ?? 0) > 0, { message: "name a topic, partition and offset, or topicPartitionOffsets" }),
  );

export const upstashConsumeBodySchema = z
  .strictObject({ topic: z.optional(topicName), topics: z.optional(z.array(topicName).check(z.minLength(1))), timeout })
  .check(z.refine((b) => (b.topic === undefined) !== (b.topics === undefined), { message: "name exactly one of topic and topics" }));

/** No body (`{}` once read) = everything this instance consumed so far. */
export const upstashCommitBodySchema = z.union([topicPartitionOffsetSchema, z.array(topicPartitionOffsetSchema), z.strictObject({})]);

/** No body = every partition the instance is assigned. */
export const upstashTopicPartitionsSchema = z.union([z.array(topicPartitionSchema), z.strictObject({})]);

export const autoOffsetResetSchema = z.enum(["earliest", "latest", "none"]);
export const booleanHeaderSchema = z.enum(["true", "false"]);
export const nonNegativeIntegerText = z.string().check(z.regex(/^\d{1,15}$/, "must be a non-negative integer"));
