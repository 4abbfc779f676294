/**
 * Webhook egress protection (SSRF; docs/subscriptions.md, "Webhook egress"): a deployed dispatcher
 * runs inside AWS, where a webhook URL naming 169.254.169.254 (instance metadata), a private
 * network or localhost would make Dynalog a proxy into places its callers cannot reach. So a
 * guarded webhook must be https, and every address its host resolves to must be public unicast —
 * checked when the subscription is created AND on every delivery, at connect time: the lookup
 * that is checked is the one the socket connects to (`lookup` of node:https), so a DNS answer that
 * changes between the check and the connection (rebinding) cannot slip a private address in.
 *
 * The address ranges are ipaddr.js's (IANA special-purpose registries): anything it does not
 * classify as plain `unicast` is refused — private, loopback, link-local (the metadata endpoint),
 * carrier-grade NAT, unique-local and site-local IPv6, multicast, reserved, documentation and
 * benchmarking ranges, and the IPv6 forms that embed an IPv4 address (IPv4-mapped is unwrapped
 * and judged as IPv4; NAT64, 6to4 and Teredo are refused outright).
 */
import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { request } from "node:https";
import type { LookupFunction } from "node:net";
import ipaddr from "ipaddr.js";
import { DynalogError } from "../errors.js";

/** Why `address` may not be a webhook's, or null when it may (public unicast). */
export function forbiddenAddressRange(address: string): string | null {
  if (!ipaddr.isValid(address)) return "not an IP address";
  // process(): an IPv4-mapped IPv6 address (::ffff:10.0.0.1) becomes the IPv4 address it carries.
  const parsed = ipaddr.process(address);
  const range = parsed.range();
  return range === "unicast" ? null : `${parsed.kind()} ${range}`;
}

/** Resolves `host` to every address (both families), as the connection would. */
export type Resolver = (host: string) => Promise<readonly LookupAddress[]>;

const systemResolver: Resolver = (host) =>
  new Promise((resolve, reject) => dnsLookup(host, { all: true, verbatim: true }, (error, addresses) => (error ? reject(error) : resolve(addresses))));

function refused(message: string, details: Record<string, string>): DynalogError {
  return new DynalogError("SUBSCRIPTION_TARGET_NOT_ALLOWED", message, { details: { reason: "webhook-address", ...details } });
}

/** IP literals come bracketed in URLs (`[::1]`); a host name may end in a root dot. */
function bareHost(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, "$1");
}

/** The addresses `host` resolves to, all public unicast; throws SUBSCRIPTION_TARGET_NOT_ALLOWED otherwise. */
async function publicAddresses(host: string, resolve: Resolver): Promise<readonly LookupAddress[]> {
  let addresses: readonly LookupAddress[];
  if (ipaddr.isValid(host)) {
    addresses = [{ address: host, family: ipaddr.parse(host).kind() === "ipv6" ? 6 : 4 }];
  } else {
    try {
      addresses = await resolve(host);
    } catch (error) {
      throw refused(`Webhook host ${host} does not resolve (${(error as { code?: string }).code ?? (error as Error).message})`, { host });
    }
  }
  if (addresses.length === 0) throw refused(`Webhook host ${host} resolves to no address`, { host });
  for (const { address } of addresses) {
    const range = forbiddenAddressRange(address);
    if (range !== null) {
      throw refused(`Webhook host ${host} resolves to ${address} (${range}); webhooks must reach public addresses only`, { host, address, range });
    }
  }
  return addresses;
}

export interface WebhookGuard {
  /** At create: https, and a host that resolves to public addresses only. */
  check(url: string): Promise<void>;
  /** At delivery: POSTs over a connection to an address checked by that very lookup. */
  post(url: string, init: { readonly body: string; readonly headers: Readonly<Record<string, string>>; readonly signal: AbortSignal; readonly maxResponseBytes: number }): Promise<{ status: number; text: string }>;
}

export function createWebhookGuard(options: { readonly resolve?: Resolver } = {}): WebhookGuard {
  const resolve = options.resolve ?? systemResolver;
  const parse = (raw: string): URL => {
    const url = new URL(raw);
    if (url.protocol !== "https:") throw refused("Webhooks must use https:// on this broker", { webhook: raw.slice(0, 300) });
    return url;
  };
  return {
    async check(raw) {
      await publicAddresses(bareHost(parse(raw)), resolve);
    },

    async post(raw, init) {
      const url = parse(raw);
      // Node connects to an IP literal without a lookup: check it here.
      if (ipaddr.isValid(bareHost(url))) await publicAddresses(bareHost(url), resolve);
      // The socket connects to what this lookup answers, and it answers only checked addresses.
      const lookup: LookupFunction = (host, lookupOptions, callback) => {
        publicAddresses(host, resolve).then(
          (addresses) => {
            const wanted = lookupOptions.family === 6 || lookupOptions.family === 4 ? addresses.filter((a) => a.family === lookupOptions.family) : addresses;
            const usable = wanted.length > 0 ? wanted : addresses;
            if (lookupOptions.all) callback(null, usable as LookupAddress[]);
            else callback(null, usable[0]!.address, usable[0]!.family);
          },
          (error: Error) => callback(Object.assign(error, { code: "EWEBHOOKADDRESS" }) as NodeJS.ErrnoException, "", 0),
        );
      };
      return new Promise((resolvePost, reject) => {
        const req = request(
          url,
          { method: "POST", headers: { ...init.headers, "content-length": String(Buffer.byteLength(init.body)) }, lookup, signal: init.signal },
          (response) => {
            const chunks: Buffer[] = [];
            let size = 0;
            response.on("data", (chunk: Buffer) => {
              if (size < init.maxResponseBytes) chunks.push(chunk);
              size += chunk.length;
            });
            response.on("end", () => resolvePost({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8").slice(0, init.maxResponseBytes) }));
            response.on("error", reject);
          },
        );
        req.on("error", reject);
        req.end(init.body);
      });
    },
  };
}
