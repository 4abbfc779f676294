/**
 * SigV4 request signing, built in: `auth: { sigv4: { region, credentials } }` signs every request
 * for API Gateway's IAM authorization (service `execute-api`). The canonicalization is AWS's own
 * signer (@smithy/signature-v4); its SHA-256 and HMAC are Web Crypto (`crypto.subtle`), so signing
 * works unchanged in Node, Bun, Deno, browsers and edge workers. The signer is loaded on first
 * use: clients that authenticate otherwise never load it.
 *
 * Credentials are static keys or an async provider (called per request — AWS SDK providers such
 * as `fromNodeProviderChain` cache and refresh by themselves; see client/node.ts for Node's chain).
 */

/** The request as the transport hands it to `auth` (exported by the SDK as SignableRequest). */
export interface RequestToSign {
  readonly method: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | undefined;
}

export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** Temporary credentials (a role, SSO, Lambda's own) come with a session token. */
  readonly sessionToken?: string;
  /** When temporary credentials expire (AWS SDK providers set it). */
  readonly expiration?: Date;
}

export type AwsCredentialsProvider = () => Promise<AwsCredentials>;

export interface SigV4Options {
  /** The region of the API Gateway endpoint, e.g. "eu-west-1". */
  readonly region: string;
  readonly credentials: AwsCredentials | AwsCredentialsProvider;
  /** The signing service. Default "execute-api" (API Gateway). */
  readonly service?: string;
}

type SourceData = string | ArrayBuffer | ArrayBufferView;

function toBytes(data: SourceData): Uint8Array {
  if (typeof data === "string") return new TextEncoder().encode(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

/**
 * SHA-256 (no secret) or HMAC-SHA256 (with one) over Web Crypto, in the shape the signer expects
 * (@smithy/types' Checksum: update, digest, reset). Chunks are collected: Web Crypto has no
 * incremental digest, and what SigV4 hashes is small (a request body, a string to sign).
 */
export class WebCryptoSha256 {
  private chunks: Uint8Array[] = [];

  constructor(private readonly secret?: SourceData) {}

  update(data: Uint8Array): void {
    this.chunks.push(toBytes(data).slice());
  }

  async digest(): Promise<Uint8Array> {
    const data = new Uint8Array(this.chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const chunk of this.chunks) {
      data.set(chunk, at);
      at += chunk.length;
    }
    if (this.secret === undefined) return new Uint8Array(await crypto.subtle.digest("SHA-256", data));
    const key = await crypto.subtle.importKey("raw", toBytes(this.secret).slice(), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    return new Uint8Array(await crypto.subtle.sign("HMAC", key, data));
  }

  reset(): void {
    this.chunks = [];
  }
}

/**
 * An auth function that signs each request with SigV4 and returns the headers to add
 * (authorization, x-amz-date, x-amz-security-token). `now` is for tests with published vectors.
 */
export function sigv4Signer(options: SigV4Options, now: () => Date = () => new Date()): (request: RequestToSign) => Promise<Record<string, string>> {
  if (!options || typeof options.region !== "string" || options.region.length === 0) throw new TypeError("auth.sigv4 needs a region, e.g. { sigv4: { region: 'eu-west-1', credentials } }");
  const { credentials } = options;
  if (typeof credentials !== "function" && (typeof credentials?.accessKeyId !== "string" || typeof credentials.secretAccessKey !== "string")) {
    throw new TypeError("auth.sigv4.credentials must be { accessKeyId, secretAccessKey, sessionToken? } or an async function returning them");
  }
  type Signer = { sign(request: unknown, options: { signingDate: Date }): Promise<{ headers: Record<string, string> }> };
  let signer: Promise<Signer> | undefined;
  const load = (): Promise<Signer> =>
    (signer ??= import("@smithy/signature-v4").then(
      ({ SignatureV4 }) =>
        new SignatureV4({
          service: options.service ?? "execute-api",
          region: options.region,
          credentials: typeof credentials === "function" ? () => credentials() : credentials,
          sha256: WebCryptoSha256,
          // API Gateway neither needs nor checks x-amz-content-sha256; the body hash is in the signature anyway.
          applyChecksum: false,
        }) as unknown as Signer,
    ));
  return async (request: RequestToSign) => {
    const url = new URL(request.url);
    const query: Record<string, string | string[]> = {};
    for (const [key, value] of url.searchParams) {
      const existing = query[key];
      query[key] = existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value];
    }
    const signed = await (await load()).sign(
      {
        method: request.method,
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port ? { port: Number(url.port) } : {}),
        path: url.pathname,
        query,
        // fetch sends Host from the URL (url.host leaves out a default port, as fetch does).
        headers: { ...request.headers, host: url.host },
        body: request.body,
      },
      { signingDate: now() },
    );
    const added: Record<string, string> = {};
    for (const [name, value] of Object.entries(signed.headers)) {
      // Host is a forbidden header for fetch; everything else the signer added goes along.
      if (name.toLowerCase() !== "host" && request.headers[name] !== value) added[name] = value;
    }
    return added;
  };
}
