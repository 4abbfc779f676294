/**
 * Keys, values and header values are bytes. On the wire they are strings in one of two encodings:
 * "base64" (default; binary-safe, RFC 4648 standard alphabet with padding) or "utf8" (a
 * convenience for text). Header keys are always UTF-8 text, as in Kafka.
 */
import { DynalogError } from "../errors.js";
import type { RecordHeader } from "../record-batch.js";
import type { Encoding } from "./schemas.js";

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** Decode one wire string; `where` names the field in the error. */
export function decodeBytes(value: string, encoding: Encoding, where: string): Uint8Array {
  if (encoding === "utf8") {
    if (!value.isWellFormed()) throw new DynalogError("INVALID_RECORD", `${where} is not well-formed Unicode (lone surrogate)`, { details: { field: where } });
    return Buffer.from(value, "utf8");
  }
  if (!BASE64.test(value)) {
    throw new DynalogError("INVALID_RECORD", `${where} is not valid base64 (standard alphabet, padded); send "encoding": "utf8" for plain text`, { details: { field: where } });
  }
  return Buffer.from(value, "base64");
}

export function decodeNullableBytes(value: string | null | undefined, encoding: Encoding, where: string): Uint8Array | null {
  return value === null || value === undefined ? null : decodeBytes(value, encoding, where);
}

export function decodeHeaders(headers: readonly { key: string; value: string | null }[] | undefined, encoding: Encoding, where: string): RecordHeader[] {
  return (headers ?? []).map((h, i) => {
    if (!h.key.isWellFormed()) throw new DynalogError("INVALID_RECORD", `${where}.headers[${i}].key is not well-formed Unicode`, { details: { field: `${where}.headers[${i}].key` } });
    return { key: h.key, value: decodeNullableBytes(h.value, encoding, `${where}.headers[${i}].value`) };
  });
}

/**
 * Encode bytes for a response. In "utf8" mode bytes that are not valid UTF-8 cannot be shown
 * faithfully, so they fall back to base64 and the caller marks the field (e.g. valueEncoding).
 */
export function encodeBytes(bytes: Uint8Array, encoding: Encoding): { text: string; encoding: Encoding } {
  if (encoding === "utf8") {
    try {
      return { text: strictUtf8.decode(bytes), encoding: "utf8" };
    } catch {
      // fall through to base64
    }
  }
  return { text: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64"), encoding: "base64" };
}
