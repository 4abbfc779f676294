/**
 * Webhook SSRF protection (shared/runtime/webhook-guard.ts): which addresses a deployed webhook may
 * reach, the create-time check (https, every resolved address public), and the delivery path: the
 * address is checked by the very lookup the connection uses, so a host that resolved to a public
 * address at create and to a private one now (DNS rebinding) gets nothing — not even a connection.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import type { SubscriptionEvent } from "../../shared/core/dispatch-event.js";
import type { SubscriptionRecord } from "../../shared/core/subscription-model.js";
import { DynalogError } from "../../shared/errors.js";
import { webhookInvoker } from "../../shared/runtime/invokers.js";
import { createWebhookGuard, forbiddenAddressRange, type Resolver } from "../../shared/runtime/webhook-guard.js";

const FORBIDDEN = [
  "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.0.1", // private
  "127.0.0.1", "127.255.0.1", "::1", // loopback
  "169.254.169.254", "169.254.0.1", "fe80::1", // link-local: the instance-metadata endpoint
  "100.64.0.1", // carrier-grade NAT
  "0.0.0.0", "::", "255.255.255.255", "224.0.0.1", "ff02::1", // unspecified, broadcast, multicast
  "fc00::1", "fd12:3456::1", // unique-local IPv6
  "::ffff:10.0.0.1", "::ffff:169.254.169.254", "::ffff:127.0.0.1", // IPv4-mapped: judged as the IPv4 inside
  "64:ff9b::a00:1", "2002:a00:1::1", "2001:0:4136:e378::1", // NAT64, 6to4, Teredo: embed an IPv4 address
  "192.0.2.1", "198.18.0.1", "240.0.0.1", // documentation/benchmarking/reserved
];
const ALLOWED = ["8.8.8.8", "1.1.1.1", "52.94.236.248", "2606:4700:4700::1111", "2a00:1450:4001:80b::200e", "::ffff:8.8.8.8"];

describe("forbiddenAddressRange", () => {
  it.each(FORBIDDEN)("refuses %s", (address) => {
    expect(forbiddenAddressRange(address)).not.toBeNull();
  });
  it.each(ALLOWED)("allows %s (public unicast)", (address) => {
    expect(forbiddenAddressRange(address)).toBeNull();
  });
  it("refuses what is not an address", () => {
    expect(forbiddenAddressRange("example.com")).toBe("not an IP address");
  });
});

/** A resolver answering from a table; `calls` counts lookups per host. */
function resolverOf(table: Record<string, string[] | (() => string[])>) {
  const calls = new Map<string, number>();
  const resolve: Resolver = async (host) => {
    calls.set(host, (calls.get(host) ?? 0) + 1);
    const entry = table[host];
    if (entry === undefined) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND" });
    return (typeof entry === "function" ? entry() : entry).map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
  };
  return { resolve, calls };
}

async function refusal(promise: Promise<unknown>): Promise<DynalogError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(DynalogError);
  return error as DynalogError;
}

describe("the create-time check", () => {
  const { resolve } = resolverOf({
    "hooks.example.com": ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"],
    "metadata.example.com": ["169.254.169.254"],
    "mixed.example.com": ["93.184.216.34", "10.0.0.5"],
    "mapped.example.com": ["::ffff:192.168.1.1"],
  });
  const guard = createWebhookGuard({ resolve });

  it("accepts an https host whose every address is public", async () => {
    await expect(guard.check("https://hooks.example.com/orders")).resolves.toBeUndefined();
    await expect(guard.check("https://93.184.216.34/x")).resolves.toBeUndefined();
  });

  it.each([
    ["https://metadata.example.com/latest", "169.254.169.254"],
    ["https://mixed.example.com/x", "10.0.0.5"],
    ["https://mapped.example.com/x", "::ffff:192.168.1.1"],
    ["https://127.0.0.1/x", "127.0.0.1"],
    ["https://[::1]:8443/x", "::1"],
    ["https://[fd00::1]/x", "fd00::1"],
  ])("refuses %s (resolves to %s) with 400 SUBSCRIPTION_TARGET_NOT_ALLOWED", async (url, address) => {
    const error = await refusal(guard.check(url));
    expect(error.code).toBe("SUBSCRIPTION_TARGET_NOT_ALLOWED");
    expect(error.status).toBe(400);
    expect(error.message).toContain(address);
    expect(error.details).toMatchObject({ reason: "webhook-address", address });
  });

  it("refuses plain http and hosts that do not resolve", async () => {
    expect((await refusal(guard.check("http://hooks.example.com/x"))).message).toContain("https://");
    expect((await refusal(guard.check("https://nowhere.example.com/x"))).message).toContain("does not resolve");
  });
});

describe("delivery through the guard", () => {
  const subscription = { name: "s", secret: "dlsub_x", timeoutMs: 2_000 } as SubscriptionRecord;
  const event: SubscriptionEvent = { eventSource: "dynalog", eventSourceArn: "dynalog:subscription/s", records: {} };

  it("re-checks at connect time: a host that now resolves to a private address (rebinding) gets no connection", async () => {
    // A server on loopback that would answer 200: the guard must never reach it.
    let requests = 0;
    const server = createServer((_, response) => {
      requests++;
      response.end("ok");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      let answer = ["93.184.216.34"];
      const { resolve, calls } = resolverOf({ "rebind.example.com": () => answer });
      const guard = createWebhookGuard({ resolve });
      await guard.check("https://rebind.example.com/hook"); // public at create
      answer = ["127.0.0.1"]; // and loopback by the time of the delivery
      const port = (server.address() as AddressInfo).port;
      const outcome = await webhookInvoker({ guard })(subscription, `https://rebind.example.com:${port}/hook`, event);
      expect(outcome.ok).toBe(false);
      expect(!outcome.ok && outcome.error).toContain("127.0.0.1");
      expect(calls.get("rebind.example.com")).toBe(2);
      expect(requests).toBe(0);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it("refuses http:// and private IP literals without a lookup", async () => {
    const { resolve, calls } = resolverOf({});
    const invoke = webhookInvoker({ guard: createWebhookGuard({ resolve }) });
    for (const [url, reason] of [
      ["http://hooks.example.com/x", "https://"],
      ["https://169.254.169.254/latest/meta-data", "169.254.169.254 (ipv4 linkLocal)"],
      ["https://[::ffff:7f00:1]/x", "(ipv4 loopback)"],
    ]) {
      const outcome = await invoke(subscription, url!, event);
      expect(outcome.ok, url).toBe(false);
      expect(!outcome.ok && outcome.error, url).toContain(reason);
    }
    expect(calls.size).toBe(0);
  });
});
