/**
 * The SDK counts sizes exactly as the broker does: a produce body as it travels inside the Lambda
 * event (quote-heavy JSON counts up to 4× its raw size) and one record as stored (varint lengths +
 * raw bytes). Checked against the broker's own functions, then end to end against a served broker.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodedRecordSize } from "../../shared/record-batch.js";
import { encodedStringBytes, MAX_RECORD_BYTES as BROKER_MAX_RECORD_BYTES, MAX_REQUEST_BODY_BYTES as BROKER_MAX_REQUEST_BODY_BYTES } from "../../shared/limits.js";
import { prepareRecord, toWire, worstWireSize, type Message } from "../../client/codec.js";
import { eventEncodedBytes, MAX_RECORD_BYTES, MAX_REQUEST_BODY_BYTES } from "../../client/wire-size.js";
import { MAX_REQUEST_BYTES } from "../../client/producer-batch.js";
import { DynalogError } from "../../client/index.js";
import { topicName } from "../support/broker.js";
import { jsonClient } from "../support/http.js";
import { client, FetchControl, startBroker, type ClientTestEnv } from "./support.js";

const TRICKY = ['"', "\\", "\n", "\u0001", "\u001f", "\u007f", "é", "€", "😀", "\ud800", "\udc00x", "a", "</script>", "\u2028"];

/** A deterministic mix of the characters JSON escapes differently. */
function mixed(length: number, seed: number): string {
  let text = "";
  for (let i = 0; text.length < length; i++) text += TRICKY[(i * 7 + seed) % TRICKY.length];
  return text;
}

describe("the SDK's sizes are the broker's", () => {
  it("limits are the broker's", () => {
    expect(MAX_RECORD_BYTES).toBe(BROKER_MAX_RECORD_BYTES);
    expect(MAX_REQUEST_BODY_BYTES).toBe(BROKER_MAX_REQUEST_BODY_BYTES);
  });

  it("eventEncodedBytes = the broker's encodedStringBytes, character class by character class", () => {
    for (const char of TRICKY) expect(eventEncodedBytes(char.repeat(5)), JSON.stringify(char)).toBe(encodedStringBytes(char.repeat(5)));
    for (let seed = 0; seed < 20; seed++) {
      const body = JSON.stringify({ records: [{ key: mixed(seed * 3, seed), value: mixed(200 + seed, seed + 1) }] });
      expect(eventEncodedBytes(body)).toBe(encodedStringBytes(body));
    }
  });

  it("a record's size = the broker's encodedRecordSize, across varint boundaries", () => {
    const lengths = [0, 1, 63, 64, 127, 128, 8191, 8192, 16_383, 16_384, 379_000];
    for (const length of lengths) {
      const cases: Message[] = [
        { value: "v".repeat(length) },
        { key: "€".repeat(length % 1000), value: new Uint8Array(length) },
        { key: null, value: null, headers: [{ key: "h".repeat(length % 200), value: "x".repeat(length % 5000) }, { key: "n", value: null }] },
      ];
      for (const message of cases) {
        const enc = new TextEncoder();
        const bytes = (b: string | Uint8Array | null | undefined) => (b == null ? null : typeof b === "string" ? enc.encode(b) : b);
        const headers = ((message.headers ?? []) as { key: string; value: string | null }[]).map((h) => ({ key: h.key, value: bytes(h.value) }));
        const broker = encodedRecordSize({ timestamp: 1_700_000_000_000, key: bytes(message.key), value: bytes(message.value), headers }, 1_700_000_000_000);
        expect(prepareRecord(message, "m").size).toBe(broker);
      }
    }
  });

  it("a record's request cost is exactly what it adds to the body's encoded size, in the worse of the two encodings", () => {
    const messages: Message[] = [
      { value: mixed(3000, 1) },
      { key: '"k"', value: '\\"'.repeat(500), headers: { 'h"1': mixed(50, 2), h2: null }, timestamp: 123 },
      { value: "plain ascii, no escapes at all" }, // base64 is the larger: 4/3
      { key: "k", value: new Uint8Array([0, 255, 34, 92]) }, // binary: base64 only
      { value: null },
    ];
    for (const message of messages) {
      const record = prepareRecord(message, "m");
      const frame = (records: unknown[]) => encodedStringBytes(JSON.stringify({ encoding: "utf8", partitions: [{ partition: 0, records }] }));
      const added = (encoding: "utf8" | "base64") => frame([toWire(record, encoding), toWire(record, encoding)]) - frame([toWire(record, encoding)]);
      const options = record.text ? [added("utf8"), added("base64")] : [added("base64")];
      expect(worstWireSize(record)).toBe(Math.max(...options));
    }
  });
});

describe("against a served broker", () => {
  let env: ClientTestEnv;
  beforeAll(async () => {
    env = await startBroker("sdk-wire-size");
  });
  afterAll(async () => env?.close());

  it("~5 MB of quote-heavy values are cut into requests the broker accepts (no 413) and read back", async () => {
    const control = new FetchControl();
    const dynalog = client(env.url, { fetch: control.fetch });
    const topic = topicName("quotes");
    await dynalog.admin().createTopics({ topics: [{ topic, numPartitions: 6 }] });
    const producer = dynalog.producer({ batchSize: 2_500_000 });
    await producer.connect();
    // Half the characters are `"` or `\`: 20,000 raw bytes, 30,000 in the body, 50,000 in the event.
    // 49 records (2.45 MB counted) per partition batch, two batches per request: ~4.9 MB requests.
    // Counted at 4/3 of raw bytes (as before), three partitions' whole queues (150 records) went out together: 7.5 MB → 413.
    const value = (i: number) => `${String(i).padStart(4, "0")}${'x"y\\'.repeat(4999)}`;
    const messages = Array.from({ length: 300 }, (_, i) => ({ partition: i % 6, value: value(i) }));
    const sent = await producer.sendBatch({ topicMessages: [{ topic, messages }] });
    expect(sent.map((r) => r.lastOffset! - r.baseOffset! + 1)).toEqual([50, 50, 50, 50, 50, 50]);

    // (Before, the SDK's first request was 7.5 MB encoded: refused with 413, then resent batch by batch.)
    const produces = control.requests.filter((r) => r.path.endsWith("/records"));
    const sizes = produces.map((r) => encodedStringBytes(JSON.stringify(r.body)));
    expect(Math.max(...sizes)).toBeLessThanOrEqual(BROKER_MAX_REQUEST_BODY_BYTES);
    expect(Math.max(...sizes)).toBeGreaterThan(MAX_REQUEST_BYTES - 200_000); // cut right at the SDK's budget
    expect(sizes.reduce((a, b) => a + b, 0)).toBeGreaterThan(12_000_000);
    await producer.disconnect();

    const http = jsonClient(env.url);
    const read = await http.get(`/v1/topics/${topic}/partitions/2/records?offset=0&encoding=utf8&maxBytes=3145728`);
    expect(read.status).toBe(200);
    expect(read.body.records.map((r: { value: string }) => r.value)).toEqual(messages.filter((m) => m.partition === 2).map((m) => m.value).slice(0, read.body.records.length));
    expect(read.body.records.length).toBeGreaterThan(10);
    expect(read.body.highWatermark).toBe(50);
  });

  it("a record exactly at the broker's limit is accepted; one byte over is refused by the SDK with the broker's code", async () => {
    const control = new FetchControl();
    const dynalog = client(env.url, { fetch: control.fetch });
    const topic = topicName("limit");
    await dynalog.admin().createTopics({ topics: [{ topic, numPartitions: 1 }] });
    const producer = dynalog.producer();
    // null key (1) + value length varint (3) + value + header count (1) + timestamp delta (1).
    const atLimit = "v".repeat(BROKER_MAX_RECORD_BYTES - 6);
    const [accepted] = await producer.send({ topic, messages: [{ value: atLimit }] });
    expect(accepted!.baseOffset).toBe(0);

    const before = control.requests.length;
    const refused = await producer.send({ topic, messages: [{ value: `${atLimit}v` }] }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(DynalogError);
    expect(refused).toMatchObject({ code: "RECORD_TOO_LARGE", retriable: false, outcome: "definite", details: { size: BROKER_MAX_RECORD_BYTES + 1, limit: BROKER_MAX_RECORD_BYTES } });
    expect(control.requests.length).toBe(before); // refused before sending

    // The broker gives the same code for the same record.
    const broker = await jsonClient(env.url).post(`/v1/topics/${topic}/records`, { encoding: "utf8", partitions: [{ partition: 0, records: [{ key: null, value: `${atLimit}v` }] }] });
    expect(broker.status).toBe(413);
    expect(broker.body.error.code).toBe("RECORD_TOO_LARGE");
    await producer.disconnect();
  });
});
