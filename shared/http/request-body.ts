/**
 * Reading a request's JSON body: media type, size, syntax, duplicate names, then the zod schema.
 * Every refusal is a 4xx thrown before any handler logic runs, so bad input never reaches storage.
 */
import type { Context } from "hono";
import type * as zc from "zod/v4/core";
import * as z from "../zod.js";
import { DynalogError } from "../errors.js";
import { encodedStringBytes, MAX_REQUEST_BODY_BYTES } from "../limits.js";

/** `application/json`, optionally with parameters; a charset, if named, must be UTF-8 (RFC 8259 §8.1). */
export function isJsonMediaType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const [type, ...parameters] = contentType.split(";").map((part) => part.trim().toLowerCase());
  if (type !== "application/json") return false;
  return parameters.every((parameter) => {
    const [name, value] = parameter.split("=").map((part) => part.trim());
    return name !== "charset" || value === "utf-8" || value === "utf8" || value === '"utf-8"';
  });
}

/**
 * The body parsed as JSON and checked against `schema`. A body needs `Content-Type:
 * application/json`; only an empty body may come without one (it reads as `{}`). `anyMediaType`:
 * parse whatever the Content-Type says, for routes documented for `curl -d` (which sends
 * `application/x-www-form-urlencoded`).
 */
export async function readJson<S extends zc.$ZodType>(c: Context, schema: S, options: { readonly anyMediaType?: boolean } = {}): Promise<zc.output<S>> {
  // Escaping only adds bytes, so a declared length over the cap is over it encoded too.
  const declared = Number(c.req.header("content-length") ?? "0");
  if (declared > MAX_REQUEST_BODY_BYTES) throw bodyTooLarge(declared, declared);
  const contentType = options.anyMediaType ? "application/json" : c.req.header("content-type");
  // Checked before reading: a form or a file upload is refused without being buffered.
  if (contentType !== undefined && !isJsonMediaType(contentType)) throw unsupportedMediaType(contentType);
  const text = await c.req.text();
  const size = Buffer.byteLength(text, "utf8");
  if (size > MAX_REQUEST_BODY_BYTES) throw bodyTooLarge(size, size);
  // The cap is on the body as Lambda carries it (limits.ts): refused here, before any write, a
  // quote-heavy body that would otherwise come close to Lambda's 6 MB invocation cap.
  const encodedSize = encodedStringBytes(text);
  if (encodedSize > MAX_REQUEST_BODY_BYTES) throw bodyTooLarge(size, encodedSize);
  if (text.length === 0) return parseWith(schema, {}, "body");
  if (contentType === undefined) throw unsupportedMediaType(undefined);
  const scan = scanJson(text);
  if (scan.tooDeep) throw new DynalogError("INVALID_REQUEST", `Request body is nested more than ${MAX_JSON_DEPTH} levels deep`, { details: { limit: MAX_JSON_DEPTH } });
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new DynalogError("INVALID_REQUEST", `Request body is not valid JSON: ${(error as Error).message}`);
  }
  const duplicate = scan.duplicate;
  if (duplicate !== undefined) {
    // Which of two values wins differs between JSON parsers: refuse rather than guess.
    throw new DynalogError("INVALID_REQUEST", `Request body has the member ${JSON.stringify(duplicate.slice(0, 100))} twice in one object`, { details: { field: duplicate.slice(0, 100) } });
  }
  return parseWith(schema, body, "body");
}

/** The body as bytes, whatever its media type, within the request size cap. */
export async function readRawBody(c: Context): Promise<Uint8Array> {
  const declared = Number(c.req.header("content-length") ?? "0");
  if (declared > MAX_REQUEST_BODY_BYTES) throw bodyTooLarge(declared, declared);
  const body = new Uint8Array(await c.req.arrayBuffer());
  if (body.byteLength > MAX_REQUEST_BODY_BYTES) throw bodyTooLarge(body.byteLength, body.byteLength);
  return body;
}

function unsupportedMediaType(contentType: string | undefined): DynalogError {
  const got = contentType === undefined ? "no Content-Type" : `Content-Type '${contentType.slice(0, 100)}'`;
  return new DynalogError("UNSUPPORTED_MEDIA_TYPE", `The request body must be JSON sent with Content-Type: application/json (UTF-8); got ${got}`, {
    details: { contentType: contentType?.slice(0, 100) ?? null },
  });
}

function bodyTooLarge(size: number, encodedSize: number): DynalogError {
  const escaped = encodedSize > size ? ` (${encodedSize} once escaped into the Lambda event, which is what the limit counts)` : "";
  return new DynalogError("REQUEST_TOO_LARGE", `Request body is ${size} bytes${escaped}; the limit is ${MAX_REQUEST_BODY_BYTES}`, {
    details: { size, encodedSize, limit: MAX_REQUEST_BODY_BYTES },
  });
}

/** Any zod schema (classic or mini: the same core); the messages are zod's English ones (../zod.ts). */
export function parseWith<S extends zc.$ZodType>(schema: S, value: unknown, where: string): zc.output<S> {
  const result = z.safeParse(schema, value);
  if (result.success) return result.data;
  const issues = result.error.issues.slice(0, 5).map((issue) => {
    const path = issue.path.length > 0 ? `${where}.${issue.path.join(".")}` : where;
    return `${path}: ${issue.message}`;
  });
  throw new DynalogError("INVALID_REQUEST", `Invalid request: ${issues.join("; ")}`, { details: { issues } });
}

const JSON_WHITESPACE = new Set([" ", "\t", "\n", "\r"]);

/**
 * Every request body is at most a few levels deep; a body nested far deeper is refused before
 * JSON.parse, which spends seconds on a few MB of `{"a":{"a":…` (measured: 4.6 s for 5.8 MB).
 */
export const MAX_JSON_DEPTH = 32;

/**
 * One pass over a JSON text, no recursion: is it nested deeper than MAX_JSON_DEPTH, and the first
 * member name that occurs twice in one object. Safe on invalid JSON (JSON.parse reports that).
 */
export function scanJson(text: string): { tooDeep: boolean; duplicate?: string } {
  // One entry per open container: the names seen so far for an object, null for an array.
  const open: (Set<string> | null)[] = [];
  let duplicate: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === "{" || char === "[") {
      open.push(char === "{" ? new Set() : null);
      if (open.length > MAX_JSON_DEPTH) return { tooDeep: true };
    } else if (char === "}" || char === "]") open.pop();
    else if (char === '"') {
      const end = closingQuote(text, i);
      let next = end + 1;
      while (JSON_WHITESPACE.has(text[next] ?? "")) next++;
      const names = open[open.length - 1];
      if (duplicate === undefined && text[next] === ":" && names) {
        const name = parseName(text.slice(i, end + 1));
        if (name !== undefined && names.has(name)) duplicate = name;
        else if (name !== undefined) names.add(name);
      }
      i = end;
    }
  }
  return duplicate === undefined ? { tooDeep: false } : { tooDeep: false, duplicate };
}

/** Index of the quote that closes the string opening at `start` (text.length if none). */
function closingQuote(text: string, start: number): number {
  let end = start;
  for (;;) {
    end = text.indexOf('"', end + 1);
    if (end === -1) return text.length;
    let backslashes = 0;
    while (text.charCodeAt(end - 1 - backslashes) === 0x5c) backslashes++;
    if (backslashes % 2 === 0) return end;
  }
}

function parseName(token: string): string | undefined {
  if (!token.includes("\\")) return token.slice(1, -1);
  try {
    return JSON.parse(token) as string;
  } catch {
    return undefined;
  }
}
