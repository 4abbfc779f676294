/**
 * The `od` attribute of a compacted batch item: the offsets of its surviving records, as unsigned
 * varints of the gap from the previous offset (the first from the item's base offset). A binary
 * attribute costs about one byte per record where a DynamoDB number list costs three or more.
 */
import { DynalogError } from "../errors.js";

export function encodeRecordOffsets(baseOffset: number, offsets: readonly number[]): Uint8Array {
  const bytes: number[] = [];
  let previous = baseOffset;
  for (const offset of offsets) {
    let gap = offset - previous;
    if (!Number.isSafeInteger(gap) || gap < 0) throw new RangeError(`record offsets must ascend from the base offset (${previous} then ${offset})`);
    while (gap >= 0x80) {
      bytes.push((gap % 0x80) | 0x80);
      gap = Math.floor(gap / 0x80);
    }
    bytes.push(gap);
    previous = offset;
  }
  return Uint8Array.from(bytes);
}

/** Inverse of encodeRecordOffsets; a malformed attribute is a storage error, never a silent guess. */
export function decodeRecordOffsets(baseOffset: number, count: number, encoded: Uint8Array): number[] {
  const offsets: number[] = [];
  let previous = baseOffset;
  let gap = 0;
  let scale = 1;
  for (const byte of encoded) {
    gap += (byte & 0x7f) * scale;
    if (byte >= 0x80) {
      scale *= 0x80;
      continue;
    }
    previous += gap;
    offsets.push(previous);
    gap = 0;
    scale = 1;
  }
  if (scale !== 1 || (offsets.length > 0 && offsets[offsets.length - 1]! >= baseOffset + count)) {
    throw new DynalogError("STORAGE_ERROR", `Corrupt record offsets on the batch item at offset ${baseOffset}`, { details: { baseOffset } });
  }
  return offsets;
}
