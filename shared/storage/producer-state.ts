/**
 * Idempotent producer state, one item per producer and partition (producers table):
 *   pk "<topicId>#<partition>", sk "<producerId>"
 *   e epoch, q last claimed sequence, r0..r4 the last five claimed batches as
 *   [epoch, baseSeq, lastSeq, baseOffset], oldest first (r4 newest; null = none)
 *
 * A batch's sequence range is CLAIMED here by a plain conditional UpdateItem (sequence continuity,
 * epoch fencing), after its offsets were reserved and before its batch item is put (docs/append.md).
 * A claim is therefore not proof that the batch landed: the core settles an unproven claim by reading
 * the log at its base offset, and rewinds claims whose slots turned out void.
 */
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { ClaimResult, PartitionRef, ProducerAppend, ProducerState, RememberedBatch } from "../core/ports.js";
import { plainItem, sentMoreThanOnce, storageFailure, writeFailure } from "./dynamo-errors.js";
import { partitionKey } from "./log-keys.js";
import type { TableNames } from "./tables.js";

const REMEMBERED_BATCHES = 5;
const SLOTS = ["r0", "r1", "r2", "r3", "r4"] as const;

type Item = Record<string, unknown>;

function rememberedBatch(value: unknown): RememberedBatch | undefined {
  if (!Array.isArray(value) || value.length !== 4 || !value.every((v) => typeof v === "number")) return undefined;
  const [epoch, baseSequence, lastSequence, baseOffset] = value as number[];
  return { epoch: epoch!, baseSequence: baseSequence!, lastSequence: lastSequence!, baseOffset: baseOffset! };
}

export function toProducerState(item: Item | undefined): ProducerState | undefined {
  if (!item || typeof item["e"] !== "number") return undefined;
  const recent: RememberedBatch[] = [];
  for (let i = 0; i < REMEMBERED_BATCHES; i++) {
    const batch = rememberedBatch(item[`r${i}`]);
    if (batch) recent.push(batch);
  }
  // `t`: an idempotency key's state only (idempotency-key-state.ts), the first write's append time.
  return { epoch: item["e"], lastSequence: typeof item["q"] === "number" ? item["q"] : -1, recent, ...(typeof item["t"] === "number" && { appendTime: item["t"] }) };
}

const asList = (b: RememberedBatch): number[] => [b.epoch, b.baseSequence, b.lastSequence, b.baseOffset];

function isConditionFailure(error: unknown): boolean {
  return error instanceof Error && error.name === "ConditionalCheckFailedException";
}

export interface ProducerStateStore {
  claimSequence(ref: PartitionRef, producer: ProducerAppend, baseOffset: number): Promise<ClaimResult>;
  readSequenceState(ref: PartitionRef, producerId: number): Promise<ProducerState | undefined>;
  rewindSequence(ref: PartitionRef, producerId: number, observed: ProducerState, keep: number): Promise<boolean>;
}

export function createProducerStateStore(client: DynamoDBDocumentClient, tables: TableNames): ProducerStateStore {
  const key = (ref: PartitionRef, producerId: number) => ({ pk: partitionKey(ref), sk: String(producerId) });

  return {
    async claimSequence(ref, producer, baseOffset) {
      // A batch at sequence 0 starts the epoch: no state yet, an older epoch, or this epoch with
      // every claim rewound (q = -1). Any other batch continues the sequence exactly.
      const startsEpoch = producer.baseSequence === 0;
      const claimed: RememberedBatch = { epoch: producer.epoch, baseSequence: producer.baseSequence, lastSequence: producer.lastSequence, baseOffset };
      try {
        const result = await client.send(
          new UpdateCommand({
            TableName: tables.producers,
            Key: key(ref, producer.producerId),
            // SET evaluates every right-hand side against the item as it was: the list shifts by one.
            UpdateExpression:
              "SET e = :e, q = :last, r0 = if_not_exists(r1, :nil), r1 = if_not_exists(r2, :nil), " +
              "r2 = if_not_exists(r3, :nil), r3 = if_not_exists(r4, :nil), r4 = :batch",
            ConditionExpression: startsEpoch ? "attribute_not_exists(pk) OR e < :e OR (e = :e AND q = :prev)" : "e = :e AND q = :prev",
            ExpressionAttributeValues: { ":e": producer.epoch, ":last": producer.lastSequence, ":nil": null, ":batch": asList(claimed), ":prev": producer.baseSequence - 1 },
            // The old newest claim is the batch right before ours (the one that must have landed).
            ReturnValues: "UPDATED_OLD",
            ReturnValuesOnConditionCheckFailure: "ALL_OLD",
          }),
        );
        const old = result.Attributes ?? {};
        const before = rememberedBatch(old["r4"]);
        const previous = !startsEpoch && before && before.epoch === producer.epoch && before.lastSequence === producer.baseSequence - 1 ? before : undefined;
        return { status: "claimed", previous };
      } catch (error) {
        if (!isConditionFailure(error)) throw writeFailure(error, "UpdateItem (claim sequence)");
        const item = (error as { Item?: Item }).Item;
        return { status: "mismatch", state: toProducerState(item && plainItem(item)), retried: sentMoreThanOnce(error) };
      }
    },

    async readSequenceState(ref, producerId) {
      try {
        const result = await client.send(new GetCommand({ TableName: tables.producers, Key: key(ref, producerId), ConsistentRead: true }));
        return toProducerState(result.Item);
      } catch (error) {
        throw storageFailure(error, "GetItem (producer state)");
      }
    },

    async rewindSequence(ref, producerId, observed, keep) {
      const latest = observed.recent[observed.recent.length - 1];
      const dropped = observed.recent[keep];
      if (!latest || !dropped) throw new Error("rewindSequence needs a claim to drop");
      const kept = observed.recent.slice(0, keep);
      // Kept claims stay right-aligned (r4 newest), the slots before them empty.
      const values: Record<string, unknown> = {};
      SLOTS.forEach((slot, i) => {
        const batch = kept[i - (SLOTS.length - kept.length)];
        values[`:${slot}`] = batch ? asList(batch) : null;
      });
      try {
        await client.send(
          new UpdateCommand({
            TableName: tables.producers,
            Key: key(ref, producerId),
            UpdateExpression: `SET q = :q, ${SLOTS.map((s) => `${s} = :${s}`).join(", ")}`,
            // Only the state we judged: its newest claim's offset was reserved once, so it names it.
            ConditionExpression: "e = :e AND q = :oldQ AND r4[3] = :latestOffset",
            ExpressionAttributeValues: { ...values, ":q": dropped.baseSequence - 1, ":e": observed.epoch, ":oldQ": observed.lastSequence, ":latestOffset": latest.baseOffset },
          }),
        );
        return true;
      } catch (error) {
        if (isConditionFailure(error)) return false;
        throw writeFailure(error, "UpdateItem (rewind sequence)");
      }
    },
  };
}
