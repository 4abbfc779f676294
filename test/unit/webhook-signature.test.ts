/**
 * Webhook signatures across a secret rotation: during the grace period a delivery carries two
 * `v1=` signatures (new key first, as Stripe does), and the receiver check docs/subscriptions.md
 * documents accepts a delivery with either key — and refuses a wrong key, a tampered body, a
 * stale timestamp, and the old key once the grace period is over.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { SubscriptionEvent } from "../../shared/core/dispatch-event.js";
import type { SubscriptionRecord } from "../../shared/core/subscription-model.js";
import { SIGNATURE_HEADER, webhookInvoker } from "../../shared/runtime/invokers.js";

/** The receiver's check, exactly as docs/subscriptions.md shows it. */
function verifyDynalogSignature(secret: string, header: string | undefined, rawBody: string, nowSeconds = Math.floor(Date.now() / 1000)): boolean {
  const parts = (header ?? "").split(",").map((kv) => kv.split("=", 2));
  const t = Number(parts.find(([k]) => k === "t")?.[1]);
  if (!Number.isInteger(t) || Math.abs(nowSeconds - t) > 300) return false;
  const expected = createHmac("sha256", secret).update(`${t}.${rawBody}`).digest();
  return parts
    .filter(([k]) => k === "v1")
    .some(([, v]) => {
      const given = Buffer.from(v ?? "", "hex");
      return given.length === expected.length && timingSafeEqual(given, expected);
    });
}

const event: SubscriptionEvent = { eventSource: "dynalog", eventSourceArn: "dynalog:subscription/s", records: {} };
const NOW = 1_764_648_000_000;

async function deliver(subscription: Partial<SubscriptionRecord>): Promise<{ header: string; body: string }> {
  let captured: { header: string; body: string } | undefined;
  const fakeFetch = (async (_url: string, init: RequestInit) => {
    captured = { header: (init.headers as Record<string, string>)[SIGNATURE_HEADER]!, body: String(init.body) };
    return new Response("", { status: 200 });
  }) as typeof fetch;
  const outcome = await webhookInvoker({ fetch: fakeFetch, clock: () => NOW })({ name: "s", timeoutMs: 1_000, ...subscription } as SubscriptionRecord, "https://x.example.com/", event);
  expect(outcome.ok).toBe(true);
  return captured!;
}

describe("signatures across a secret rotation", () => {
  const seconds = NOW / 1000;

  it("one v1 without a rotation", async () => {
    const { header, body } = await deliver({ secret: "new", previousSecret: null });
    expect(header.match(/v1=/g)).toHaveLength(1);
    expect(verifyDynalogSignature("new", header, body, seconds)).toBe(true);
    expect(verifyDynalogSignature("old", header, body, seconds)).toBe(false);
  });

  it("two v1 during the grace period: receivers with either key accept", async () => {
    const { header, body } = await deliver({ secret: "new", previousSecret: { secret: "old", until: NOW + 1 } });
    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64},v1=[0-9a-f]{64}$/);
    expect(verifyDynalogSignature("new", header, body, seconds)).toBe(true);
    expect(verifyDynalogSignature("old", header, body, seconds)).toBe(true);
    expect(verifyDynalogSignature("other", header, body, seconds)).toBe(false);
    expect(verifyDynalogSignature("old", header, body.replace("dynalog", "dynal0g"), seconds)).toBe(false);
    expect(verifyDynalogSignature("old", header, body, seconds + 301)).toBe(false);
  });

  it("only the new key once the grace period is over", async () => {
    const { header, body } = await deliver({ secret: "new", previousSecret: { secret: "old", until: NOW } });
    expect(header.match(/v1=/g)).toHaveLength(1);
    expect(verifyDynalogSignature("old", header, body, seconds)).toBe(false);
    expect(verifyDynalogSignature("new", header, body, seconds)).toBe(true);
  });
});
