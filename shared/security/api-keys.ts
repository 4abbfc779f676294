/**
 * Broker-issued API keys for clients that cannot sign requests with SigV4. A key is an id and a
 * secret; only a SHA-256 hash of the secret is stored (the secret is 256 random bits, so a slow
 * password hash would add latency and no safety). Clients send it either as a Bearer token
 * `dlk_<keyId>_<secret>` or as HTTP Basic credentials `<keyId>:<secret>` (the Upstash dialect).
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

export interface ApiKeyCredentials {
  readonly keyId: string;
  readonly secret: string;
}

export interface IssuedApiKey extends ApiKeyCredentials {
  /** The Bearer token, shown once at creation. */
  readonly token: string;
  readonly secretHash: string;
}

const KEY_ID = /^[a-z0-9]{16}$/;

/** Is this a key id the broker could have issued (16 of a-z0-9)? */
export function isApiKeyId(keyId: string): boolean {
  return KEY_ID.test(keyId);
}
const SECRET = /^[A-Za-z0-9_-]{43}$/;
const TOKEN = /^dlk_([a-z0-9]{16})_([A-Za-z0-9_-]{43})$/;

export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex");
}

export function issueApiKey(): IssuedApiKey {
  const keyId = Array.from(randomBytes(16), (b) => "abcdefghijklmnopqrstuvwxyz0123456789"[b % 36]).join("");
  const secret = randomBytes(32).toString("base64url");
  return { keyId, secret, token: `dlk_${keyId}_${secret}`, secretHash: hashSecret(secret) };
}

export function secretMatches(secret: string, storedHash: string): boolean {
  const given = Buffer.from(hashSecret(secret), "hex");
  const stored = Buffer.from(storedHash, "hex");
  return given.length === stored.length && timingSafeEqual(given, stored);
}

/**
 * Credentials from an Authorization header: `Bearer dlk_…` or `Basic base64(keyId:secret)`.
 * Returns "malformed" for a header that is present but not a well-formed key, undefined if absent.
 */
export function parseAuthorization(header: string | undefined): ApiKeyCredentials | "malformed" | undefined {
  if (header === undefined || header.trim() === "") return undefined;
  const [scheme, value = ""] = header.trim().split(/\s+/, 2);
  if (scheme?.toLowerCase() === "bearer") {
    const match = TOKEN.exec(value);
    return match ? { keyId: match[1]!, secret: match[2]! } : "malformed";
  }
  if (scheme?.toLowerCase() === "basic") {
    const decoded = Buffer.from(value, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    const keyId = decoded.slice(0, colon);
    const secret = decoded.slice(colon + 1);
    return colon > 0 && KEY_ID.test(keyId) && SECRET.test(secret) ? { keyId, secret } : "malformed";
  }
  return "malformed";
}
