/** Reading an exactly-once target's answer (docs/subscriptions.md, "Exactly-once"): the shape, the two encodings, and every refusal. */
import { describe, expect, it } from "vitest";
import { readExactlyOnceResponse, transactionalIdFor } from "../../shared/core/dispatch-exactly-once.js";

const utf8 = (bytes: Uint8Array | null) => (bytes === null ? null : new TextDecoder().decode(bytes));

describe("readExactlyOnceResponse", () => {
  it("reads base64 (the default) and utf8 records, headers as bytes or text, partitions and timestamps", () => {
    const verdict = readExactlyOnceResponse({
      records: [
        { topic: "out", key: Buffer.from("k1").toString("base64"), value: Buffer.from("v1").toString("base64"), headers: [{ h: [104, 105] }] },
        { topic: "out", partition: 2, encoding: "utf8", key: null, value: "plain", headers: [{ trace: "abc" }, { trace: "def" }], timestamp: 5 },
        { topic: "out" },
      ],
    });
    expect(verdict.ok).toBe(true);
    if (!verdict.ok) return;
    const [a, b, c] = verdict.records;
    expect([a!.topic, utf8(a!.key), utf8(a!.value), a!.headers.map((h) => [h.key, utf8(h.value)])]).toEqual(["out", "k1", "v1", [["h", "hi"]]]);
    expect([b!.partition, b!.key, utf8(b!.value), b!.timestamp, b!.headers.map((h) => utf8(h.value))]).toEqual([2, null, "plain", 5, ["abc", "def"]]);
    expect([c!.key, c!.value, c!.headers, "partition" in c!]).toEqual([null, null, [], false]);
  });

  it("accepts an empty output", () => {
    expect(readExactlyOnceResponse({ records: [] })).toEqual({ ok: true, records: [] });
  });

  it.each([
    ["no answer", undefined, "(answer)"],
    ["an at-least-once style answer", { batchItemFailures: [] }, "records"],
    ["a partial batch response", { records: [], batchItemFailures: [{ itemIdentifier: "t-0@1" }] }, "batchItemFailures is not accepted"],
    ["a record without a topic", { records: [{ value: "YQ==" }] }, "records.0.topic"],
    ["an unknown record field", { records: [{ topic: "t", vaule: "YQ==" }] }, "records.0"],
    ["a value that is no base64", { records: [{ topic: "t", value: "YQ==" }, { topic: "t", value: "hello world" }] }, "records.1.value is not base64"],
    ["an unknown encoding", { records: [{ topic: "t", value: "a", encoding: "hex" }] }, "records.0.encoding"],
    ["a header byte out of range", { records: [{ topic: "t", headers: [{ h: [256] }] }] }, "records.0.headers"],
  ])("refuses %s with a reason naming the problem", (_label, answer, reason) => {
    const verdict = readExactlyOnceResponse(answer);
    expect(verdict.ok).toBe(false);
    if (!verdict.ok) expect(verdict.reason).toContain(reason);
  });
});

it("names one transactional id per subscription partition, unambiguously", () => {
  expect(transactionalIdFor("orders-to-billing", 3)).toBe("sub:orders-to-billing:3");
  expect(transactionalIdFor("a-1", 0)).not.toBe(transactionalIdFor("a", 10));
});
