/**
 * Bytes without Node: UTF-8 via TextEncoder/TextDecoder, base64 via btoa/atob, random ids via Web
 * Crypto. Where the runtime has a `Buffer` (Node, Bun, Deno) it is used for base64 — it is much
 * faster there — and consumed keys, values and headers ARE Buffers, exactly as KafkaJS hands them
 * out. Elsewhere (browsers, edge workers) they are `TextBytes`: a Uint8Array whose `toString()`
 * decodes UTF-8 like Buffer's does, so `message.value?.toString()` reads the same everywhere.
 */

/** What `toString(encoding)` of a consumed value understands in every runtime. */
export type TextEncodingName = "utf8" | "utf-8" | "base64" | "hex";

/** A Uint8Array that decodes itself: `toString()` is UTF-8, `toString("base64" | "hex")` too. */
export class TextBytes extends Uint8Array {
  override toString(encoding: TextEncodingName = "utf8"): string {
    if (encoding === "base64") return toBase64(this);
    if (encoding === "hex") return Array.from(this, (b) => b.toString(16).padStart(2, "0")).join("");
    if (encoding === "utf8" || encoding === "utf-8") return utf8Decoder.decode(this);
    throw new TypeError(`Unknown encoding '${String(encoding)}': use utf8, base64 or hex`);
  }
}

/**
 * Node's Buffer type when the compiling program has Node's types (then consumed bytes are typed
 * as what they are at run time), else TextBytes. Both are Uint8Arrays with a decoding toString().
 */
type RuntimeBuffer = typeof globalThis extends { Buffer: { prototype: infer B extends Uint8Array } } ? B : never;
export type MessageBytes = [RuntimeBuffer] extends [never] ? TextBytes : RuntimeBuffer;

/** Decodes any bytes (a consumed value, a Uint8Array from elsewhere) as UTF-8 text. */
export function decodeText(bytes: Uint8Array): string {
  return utf8Decoder.decode(bytes);
}

interface BufferLike {
  from(data: string, encoding: "base64" | "utf8"): Uint8Array;
  from(data: ArrayBufferLike, byteOffset: number, length: number): Uint8Array & { toString(encoding: "base64"): string };
  byteLength(data: string, encoding: "utf8"): number;
}

/** The runtime's Buffer, if it has one (feature-detected: never imported). */
const RuntimeBufferClass: BufferLike | undefined = (globalThis as { Buffer?: BufferLike }).Buffer;
const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder("utf-8");

export function utf8Bytes(text: string): Uint8Array {
  return utf8Encoder.encode(text);
}

export function utf8Length(text: string): number {
  if (RuntimeBufferClass) return RuntimeBufferClass.byteLength(text, "utf8");
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4; // a surrogate pair: one 4-byte code point
      i++;
    } else bytes += 3; // includes a lone surrogate, which TextEncoder writes as U+FFFD (3 bytes)
  }
  return bytes;
}

export function toBase64(bytes: Uint8Array): string {
  if (RuntimeBufferClass) return RuntimeBufferClass.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
  let binary = "";
  const CHUNK = 0x8000; // String.fromCharCode's argument count is limited
  for (let i = 0; i < bytes.length; i += CHUNK) binary += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  return btoa(binary);
}

/** base64 → the runtime's Buffer, or TextBytes where there is none. */
export function fromBase64(text: string): MessageBytes {
  if (RuntimeBufferClass) return RuntimeBufferClass.from(text, "base64") as MessageBytes;
  const binary = atob(text);
  const bytes = new TextBytes(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes as MessageBytes;
}

/** A random UUID v4. `crypto.randomUUID` is missing outside secure contexts (plain-http pages). */
export function randomId(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
