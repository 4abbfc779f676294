/** Pure parts of push subscriptions: validation, the MSK-shaped event, partial batch responses. */
import { describe, expect, it } from "vitest";
import { DEFAULT_BROKER_CONFIG } from "../../shared/core/context.js";
import { buildEvent, itemIdentifier, readPartialBatchResponse } from "../../shared/core/dispatch-event.js";
import { validateSubscription, type SubscriptionRecord } from "../../shared/core/subscription-model.js";

const config = { ...DEFAULT_BROKER_CONFIG, subscriptionFunctionAllowList: ["arn:aws:lambda:eu-west-1:123456789012:function:team-*"] };

describe("validateSubscription", () => {
  it("fills the defaults", () => {
    expect(validateSubscription({ name: "s1", topic: "t", webhook: "https://h.example/x" }, config)).toEqual({
      name: "s1",
      topic: "t",
      group: "sub-s1",
      target: { kind: "webhook", url: "https://h.example/x" },
      batchSize: 100,
      maxBatchingWindowMs: 0,
      startingPosition: { kind: "latest" },
      maxRetries: 3,
      deadLetterTopic: null,
      delivery: "at-least-once",
      timeoutMs: 30_000,
    });
  });

  it("allows functions by exact ARN or prefix, and refuses the rest", () => {
    expect(validateSubscription({ name: "s", topic: "t", function: "arn:aws:lambda:eu-west-1:123456789012:function:team-billing:live" }, config).target).toEqual({
      kind: "function",
      arn: "arn:aws:lambda:eu-west-1:123456789012:function:team-billing:live",
    });
    expect(() => validateSubscription({ name: "s", topic: "t", function: "arn:aws:lambda:eu-west-1:123456789012:function:other" }, config)).toThrow(
      expect.objectContaining({ code: "SUBSCRIPTION_TARGET_NOT_ALLOWED" }),
    );
    expect(() => validateSubscription({ name: "s", topic: "t", function: "arn:aws:lambda:eu-west-1:1:function:x" }, config)).toThrow(expect.objectContaining({ code: "INVALID_SUBSCRIPTION" }));
  });

  it("takes timestamps as starting positions and http only where allowed", () => {
    expect(validateSubscription({ name: "s", topic: "t", webhook: "http://127.0.0.1:9/x", startingPosition: 5 }, { ...config, subscriptionAllowHttp: true }).startingPosition).toEqual({ kind: "timestamp", timestamp: 5 });
    expect(() => validateSubscription({ name: "s", topic: "t", webhook: "http://127.0.0.1:9/x" }, config)).toThrow(expect.objectContaining({ code: "SUBSCRIPTION_TARGET_NOT_ALLOWED" }));
  });
});

const subscription = { name: "s", topic: "orders" } as SubscriptionRecord;

describe("the event", () => {
  it("has Lambda's MSK shape: base64 key and value, absent when null, headers as byte arrays", () => {
    const event = buildEvent(subscription, 2, "LogAppendTime", [
      { offset: 7, timestamp: 1000, key: new TextEncoder().encode("k"), value: new TextEncoder().encode("v"), headers: [{ key: "a", value: new Uint8Array([1, 2]) }, { key: "b", value: null }] },
      { offset: 8, timestamp: 1001, key: null, value: null, headers: [] },
    ]);
    expect(event).toEqual({
      eventSource: "dynalog",
      eventSourceArn: "dynalog:subscription/s",
      records: {
        "orders-2": [
          { topic: "orders", partition: 2, offset: 7, timestamp: 1000, timestampType: "LOG_APPEND_TIME", key: "aw==", value: "dg==", headers: [{ a: [1, 2] }, { b: [] }] },
          { topic: "orders", partition: 2, offset: 8, timestamp: 1001, timestampType: "LOG_APPEND_TIME", headers: [] },
        ],
      },
    });
  });
});

describe("partial batch responses", () => {
  const offsets = [10, 11, 12];
  it("count the lowest failed offset", () => {
    expect(readPartialBatchResponse({ batchItemFailures: [{ itemIdentifier: itemIdentifier("orders", 2, 12) }, { itemIdentifier: "orders-2@11" }] }, "orders", 2, offsets)).toEqual({ kind: "failed-from", offset: 11 });
  });
  it("treat no answer, other answers and an empty list as success", () => {
    for (const answer of [undefined, null, "ok", { status: "done" }, { batchItemFailures: [] }, { batchItemFailures: null }]) {
      expect(readPartialBatchResponse(answer, "orders", 2, offsets)).toEqual({ kind: "all-succeeded" });
    }
  });
  it("fail the whole batch on an identifier that names no record of it", () => {
    for (const id of ["orders-2@9", "orders-1@11", "orders-2@x", 11]) {
      expect(readPartialBatchResponse({ batchItemFailures: [{ itemIdentifier: id }] }, "orders", 2, offsets).kind).toBe("invalid");
    }
    expect(readPartialBatchResponse({ batchItemFailures: "all" }, "orders", 2, offsets).kind).toBe("invalid");
  });
});
