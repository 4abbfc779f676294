/**
 * DynamoDB adapter for compaction (docs/compaction.md): conditional rewrites of log batch items and
 * the per-partition checkpoint. Item attributes it adds (the rest of the layout: log-store.ts):
 *   Log batch item:  od  offsets of the surviving records (record-offsets.ts)
 *                    cv  compaction version, bumped by every rewrite (absent = 0)
 *                    dh  delete horizon (ms): the batch's tombstones may go once it has passed
 *   Counter item:    cc  cleaned-up-to offset of the last pass   cr  time of that pass (ms)
 *                    ck  true when that pass was complete (no gap, no batch changed under it)
 *                    ch  earliest delete horizon of a tombstone it kept (ms)
 *                    cn  records it kept below cc
 * A rewrite keeps the item's key, count (`c`), append time (`a`) and TTL (`x`), so offsets, the high
 * watermark, retention and the item's expiry are exactly what they were.
 */
import { UpdateCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { CompactionCheckpoint, CompactionStore } from "../core/ports.js";
import { storageFailure } from "./dynamo-errors.js";
import { partitionKey } from "./log-keys.js";
import { encodeRecordOffsets } from "./record-offsets.js";
import type { TableNames } from "./tables.js";

/** The checkpoint on a counter item whose `cc` is `cleanedUpTo` (log-store.ts reads the item). */
export function compactionCheckpoint(item: Record<string, unknown>, cleanedUpTo: number): CompactionCheckpoint {
  const lastRunAt = typeof item["cr"] === "number" ? item["cr"] : 0;
  return {
    cleanedUpTo,
    lastRunAt,
    ...(item["ck"] === true ? { complete: true } : {}),
    ...(typeof item["ch"] === "number" ? { nextDeleteHorizon: item["ch"] } : {}),
    ...(typeof item["cn"] === "number" ? { retainedRecords: item["cn"] } : {}),
  };
}

function isConditionFailure(error: unknown): boolean {
  return error instanceof Error && error.name === "ConditionalCheckFailedException";
}

export function createDynamoCompactionStore(client: DynamoDBDocumentClient, tables: TableNames): CompactionStore {
  return {
    async rewriteBatch(ref, read, replacement) {
      const version = read.compactionVersion ?? 0;
      // The item as read: still a batch over the same range, not rewritten since. A batch TTL has
      // deleted fails `attribute_exists` (an Update would otherwise create a stray item).
      const condition = "attribute_exists(o) AND k = :batch AND c = :count AND " + (version === 0 ? "attribute_not_exists(cv)" : "cv = :version");
      const values: Record<string, unknown> = { ":batch": "B", ":count": read.count, ":next": version + 1, ...(version === 0 ? {} : { ":version": version }) };
      let update: string;
      if (replacement === "empty") {
        // A void over the same range: readers step over it exactly as over a dead writer's void.
        update = "SET k = :void, cv = :next REMOVE d, z, t, od, dh";
        values[":void"] = "V";
      } else {
        const sets = ["d = :blob", "t = :maxTimestamp", "od = :offsets", "cv = :next"];
        const removes: string[] = [];
        values[":blob"] = replacement.blob;
        values[":maxTimestamp"] = replacement.maxTimestamp;
        values[":offsets"] = encodeRecordOffsets(read.baseOffset, replacement.recordOffsets);
        if (replacement.codec === "none") removes.push("z");
        else {
          sets.push("z = :codec");
          values[":codec"] = replacement.codec;
        }
        if (replacement.deleteHorizon === undefined) removes.push("dh");
        else {
          sets.push("dh = :horizon");
          values[":horizon"] = replacement.deleteHorizon;
        }
        update = `SET ${sets.join(", ")}${removes.length > 0 ? ` REMOVE ${removes.join(", ")}` : ""}`;
      }
      try {
        await client.send(
          new UpdateCommand({
            TableName: tables.log,
            Key: { p: partitionKey(ref), o: read.baseOffset },
            UpdateExpression: update,
            ConditionExpression: condition,
            ExpressionAttributeValues: values,
          }),
        );
        return true;
      } catch (error) {
        if (isConditionFailure(error)) return false;
        throw storageFailure(error, "UpdateItem (compact batch)");
      }
    },

    async saveCheckpoint(ref, checkpoint) {
      try {
        await client.send(
          new UpdateCommand({
            TableName: tables.partitions,
            Key: { p: partitionKey(ref) },
            UpdateExpression: `SET cc = :cleaned, cr = :at, ck = :complete, cn = :retained${checkpoint.nextDeleteHorizon === undefined ? " REMOVE ch" : ", ch = :horizon"}`,
            // Never recreate a deleted partition's counter; never move the checkpoint back.
            ConditionExpression: "attribute_exists(p) AND (attribute_not_exists(cc) OR cc <= :cleaned)",
            ExpressionAttributeValues: {
              ":cleaned": checkpoint.cleanedUpTo,
              ":at": checkpoint.lastRunAt,
              ":complete": checkpoint.complete === true,
              ":retained": checkpoint.retainedRecords ?? 0,
              ...(checkpoint.nextDeleteHorizon === undefined ? {} : { ":horizon": checkpoint.nextDeleteHorizon }),
            },
          }),
        );
      } catch (error) {
        if (isConditionFailure(error)) return;
        throw storageFailure(error, "UpdateItem (compaction checkpoint)");
      }
    },
  };
}
