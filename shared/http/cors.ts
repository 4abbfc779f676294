/**
 * Cross-origin access for the SDK in browsers: which web origins may call the API. The gateway
 * applies it, never the handlers (preflights never reach a Lambda): API Gateway's CORS
 * configuration when deployed (the construct's `cors` prop, infra/dynalog.ts), the local stand-in
 * (local/cors.ts) locally. No CDK or Node import here: both sides read it.
 */
export interface CorsPolicy {
  /** Origins allowed to call the API (`https://app.example.com`), or `["*"]` for any. */
  readonly allowOrigins: readonly string[];
  /** How long a browser may reuse a preflight answer; default 600 s. */
  readonly maxAgeSeconds?: number;
}

/** Locally any page may call the broker (npm start, startLocalBroker): nothing there is private. */
export const ANY_ORIGIN: CorsPolicy = { allowOrigins: ["*"] };

export const CORS_DEFAULT_MAX_AGE_SECONDS = 600;

/** Every method a route uses (shared/http/routes.ts). */
export const CORS_ALLOW_METHODS = ["GET", "POST", "DELETE"] as const;

/** What the SDK sends: JSON, its client id, Bearer/Basic auth and SigV4's headers. */
export const CORS_ALLOW_HEADERS = ["authorization", "content-type", "x-dynalog-client-id", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256"] as const;

/** Response headers a browser script may read: throttling's Retry-After, and what 401/405 answer with. */
export const CORS_EXPOSE_HEADERS = ["retry-after", "www-authenticate", "allow"] as const;

/** The Access-Control-Allow-Origin value for a request from `origin`, or undefined if not allowed. */
export function allowedOrigin(policy: CorsPolicy, origin: string): string | undefined {
  if (policy.allowOrigins.includes("*")) return "*";
  return policy.allowOrigins.includes(origin) ? origin : undefined;
}
