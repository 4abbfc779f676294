/**
 * The web console end to end in a real headless Chromium, against the local broker (the deployed
 * handlers behind the local gateway, which also serves the console's bundle), security off: data
 * made through the API shows in the topic list, the message browser and the group pages.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { startLocalBroker, type LocalBroker } from "../../local/local-broker.js";
import { testEndpoint, uniqueName } from "../support/dynamodb.js";
import { jsonClient, type JsonClient } from "../support/http.js";
import { launchBrowser, waitForText, type TestBrowser } from "../support/browser.js";
import { size } from "../../console/src/format.js";

let broker: LocalBroker;
let api: JsonClient;
let browser: TestBrowser;
let page: Page;

beforeAll(async () => {
  // First: without Chromium there is nothing to test, and the message should come before any broker start.
  browser = await launchBrowser();
  // History samples only when a test takes them (broker.history.sampleOnce): a timer's sample
  // landing mid-test would add points to charts that assert this tab's own samples.
  broker = await startLocalBroker({ dynamodbEndpoint: testEndpoint(), tablePrefix: uniqueName("console"), port: 0, historyAutoStart: false });
  api = jsonClient(broker.url);
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await broker?.stop();
});
// A tab per test: its own sessionStorage (no API key left over) and no request interception left over.
beforeEach(async () => {
  page = await browser.newPage();
});
afterEach(async () => {
  await page?.close();
});

async function createTopic(partitions: number): Promise<string> {
  const name = uniqueName("console-topic");
  expect((await api.post("/v1/topics", { name, partitions })).status).toBe(201);
  return name;
}

describe("the web console", { timeout: 120_000 }, () => {
  it("lists a topic made through the API with its partitions and offsets, and links to it", async () => {
    const topic = await createTopic(2);
    const produced = await api.post(`/v1/topics/${topic}/records`, { encoding: "utf8", records: [{ value: "a", partition: 1 }, { value: "b", partition: 1 }, { value: "c", partition: 0 }] });
    expect(produced.status).toBe(200);

    await page.goto(broker.consoleUrl!);
    const row = `tr[data-topic="${topic}"]`;
    await waitForText(page, `${row} td.records`, "3");
    expect(await page.locator(`${row} td.offsets .offset-range`).allInnerTexts()).toEqual(["0: 0–1", "1: 0–2"]);
    // The app replaced the static placeholder: content is JavaScript-rendered, nothing stale left.
    expect(await page.locator("p.loading").count()).toBe(0);

    // Throughput is sampled while the page is open: a refresh after more records shows a rate above 0.
    expect(await page.locator(`${row} td.throughput .rate-value`).count()).toBe(0);
    expect((await api.post(`/v1/topics/${topic}/records`, { encoding: "utf8", records: [{ value: "d", partition: 0 }] })).status).toBe(200);
    await page.getByRole("button", { name: "Refresh" }).click();
    await waitForText(page, `${row} td.records`, "4");
    // The topic's approximate size: its partitions' retained-bytes estimates from describe, summed.
    const sizes: { retainedBytesEstimate: number }[] = (await api.get(`/v1/topics/${topic}`)).body.partitions;
    expect(sizes.every((p) => p.retainedBytesEstimate > 0)).toBe(true);
    const topicSize = `≈ ${size(sizes.reduce((sum, p) => sum + p.retainedBytesEstimate, 0))}`;
    await waitForText(page, `${row} td.size`, topicSize);
    expect(Number(await page.locator(`${row} td.throughput .rate-value`).innerText())).toBeGreaterThan(0);
    // A third sample draws the line: two rates, the last 0 (nothing written since).
    await page.getByRole("button", { name: "Refresh" }).click();
    const chart = page.locator(`${row} td.throughput svg`);
    await chart.waitFor();
    const rates = (await chart.getAttribute("aria-label"))!.replace("Records per second, oldest first: ", "").split(", ").map(Number);
    expect(rates).toHaveLength(2);
    expect(rates[0]).toBeGreaterThan(0);
    expect(rates[1]).toBe(0);
    await browser.screenshot(page, "topics");

    await page.locator(`${row} a`).click();
    await page.waitForURL(new RegExp(`/console/topics/${topic}`));
    await waitForText(page, "h1", `${topic} Refresh`);
    await waitForText(page, 'table.partitions tr[data-partition="1"] td:nth-child(3)', "2");
    // Per partition and in total, the approximate size.
    await waitForText(page, 'table.partitions tr[data-partition="1"] td.size', `≈ ${size(sizes[1]!.retainedBytesEstimate)}`);
    await waitForText(page, 'table.partitions tr[data-partition="0"] td.size', `≈ ${size(sizes[0]!.retainedBytesEstimate)}`);
    await waitForText(page, "dl.facts dd.size", topicSize);
  });

  it("browses a partition: key, pretty-printed JSON value, headers, binary as hex; the page's URL reloads to the same records", async () => {
    const topic = await createTopic(2);
    const binary = Buffer.from([0x00, 0x01, 0xfe, 0xff]).toString("base64");
    expect((await api.post(`/v1/topics/${topic}/records`, { encoding: "utf8", records: [{ key: "customer-42", value: '{"total":1999,"items":["book"]}', headers: [{ key: "source", value: "web" }], partition: 1 }] })).status).toBe(200);
    expect((await api.post(`/v1/topics/${topic}/records`, { records: [{ key: Buffer.from("bin").toString("base64"), value: binary, partition: 1 }] })).status).toBe(200);

    await page.goto(`${broker.consoleUrl}/topics/${topic}?partition=1`);
    await page.locator('tr.message[data-offset="0"]').click();
    const details = page.locator('.message-details[data-offset="0"]');
    await waitForText(page, '.message-details[data-offset="0"] .detail-key pre', "customer-42");
    expect(await details.locator(".detail-value pre").innerText()).toBe(JSON.stringify({ total: 1999, items: ["book"] }, null, 2));
    expect(await details.locator(".detail-value .bytes-kind").innerText()).toBe("JSON");
    expect(await details.locator("table.headers th").allInnerTexts()).toEqual(["source"]);
    expect(await details.locator("table.headers td pre").allInnerTexts()).toEqual(["web"]);
    await browser.screenshot(page, "message");

    await page.locator('tr.message[data-offset="1"]').click();
    const binaryDetails = page.locator('.message-details[data-offset="1"]');
    await binaryDetails.waitFor();
    expect(await binaryDetails.locator(".detail-value .bytes-kind").innerText()).toBe("binary, 4 bytes");
    expect(await binaryDetails.locator(".detail-value pre").innerText()).toMatch(/^00000000 {2}00 01 fe ff/);

    // The address bar names partition and offset: opening it again shows the same page.
    expect(new URL(page.url()).search).toBe("?partition=1&offset=0");
    await page.reload();
    await waitForText(page, 'tr.message[data-offset="0"] td.key', "customer-42");

    // The filter narrows the loaded page.
    await page.locator('input[name="filter"]').fill("customer");
    await waitForText(page, ".browser p.note", "1 of 2 loaded records match.");
    expect(await page.locator("tr.message").count()).toBe(1);
  });

  it("pages forward and back, and jumps to an offset and to a timestamp", async () => {
    const topic = await createTopic(1);
    const base = Date.UTC(2026, 0, 1);
    const records = Array.from({ length: 45 }, (_, i) => ({ key: `k${i}`, value: `v${i}`, timestamp: base + i * 1000 }));
    expect((await api.post(`/v1/topics/${topic}/records`, { encoding: "utf8", records })).status).toBe(200);

    // The latest page by default: the last 20 of 45.
    await page.goto(`${broker.consoleUrl}/topics/${topic}`);
    await waitForText(page, "tr.message:first-child td.key", "k25");
    await page.getByRole("button", { name: "← Older" }).click();
    await waitForText(page, "tr.message:first-child td.key", "k5");
    await page.getByRole("button", { name: "Newer →" }).click();
    await waitForText(page, "tr.message:first-child td.key", "k25");
    await page.getByRole("button", { name: "⇤ Oldest" }).click();
    await waitForText(page, "tr.message:first-child td.key", "k0");

    await page.locator('input[name="offset"]').fill("40");
    await page.locator('input[name="offset"]').press("Enter");
    await waitForText(page, "tr.message:first-child td.key", "k40");

    // datetime-local is the browser's local time; the URL's timestamp parameter is exact.
    await page.goto(`${broker.consoleUrl}/topics/${topic}?partition=0&timestamp=${base + 12_000}`);
    await waitForText(page, "tr.message:first-child td.key", "k12");
    expect(new URL(page.url()).search).toBe("?partition=0&offset=12");
  });

  it("produces a test message from the form and shows it", async () => {
    const topic = await createTopic(3);
    await page.goto(`${broker.consoleUrl}/topics/${topic}`);
    const form = page.locator("form.produce");
    await form.locator('input[name="key"]').fill("from-the-form");
    await form.locator('select[name="partition"]').selectOption("2");
    await form.locator('textarea[name="value"]').fill('{"hello":"console"}');
    await form.locator('textarea[name="headers"]').fill("trace=abc\nempty");
    await form.getByRole("button", { name: "Produce" }).click();
    await waitForText(page, "form.produce .written", "Written to partition 2 at offset 0.");
    await waitForText(page, 'tr.message[data-offset="0"] td.key', "from-the-form");

    const fetched = await api.get(`/v1/topics/${topic}/partitions/2/records?offset=0&encoding=utf8`);
    expect(fetched.body.records).toEqual([
      expect.objectContaining({ key: "from-the-form", value: '{"hello":"console"}', headers: [{ key: "trace", value: "abc" }, { key: "empty", value: "" }] }),
    ]);
  });

  it("shows a group's members and assignment, its lag in the list and per partition, the lag dropping after a commit, and who consumed a record", async () => {
    const topic = await createTopic(2);
    // ':' and '@' are allowed in group ids and escaped in URLs: the pages must round-trip them.
    const group = `app:${uniqueName("console-group")}@eu`;
    const records = Array.from({ length: 5 }, (_, i) => ({ value: `r${i}`, partition: 0 }));
    expect((await api.post(`/v1/topics/${topic}/records`, { encoding: "utf8", records })).status).toBe(200);
    // One member joins (and so owns both partitions at once) and commits as a member.
    const memberId = uniqueName("console-member");
    const joined = await api.post(`/v1/groups/${group}/heartbeat`, { memberId, memberEpoch: 0, topics: [topic], instanceId: "host-a" });
    expect(joined.status).toBe(200);
    expect(joined.body.assignment).toEqual([{ topic, partitions: [0, 1] }]);
    const commit = (offset: number) => api.post(`/v1/groups/${group}/offsets`, { memberId, memberEpoch: joined.body.memberEpoch, offsets: [{ topic, partition: 0, offset }] });
    expect((await commit(2)).status).toBe(200);

    await page.goto(`${broker.consoleUrl}/groups`);
    await waitForText(page, `tr[data-group="${group}"] td.lag`, "3");
    await browser.screenshot(page, "groups");
    await page.locator(`tr[data-group="${group}"] a`).click();
    await page.waitForURL((url) => url.pathname === `/console/groups/${encodeURIComponent(group)}`);
    const partition0 = `table.lag[data-topic="${topic}"] tr[data-partition="0"]`;
    await waitForText(page, `${partition0} td.lag`, "3");
    expect(await page.locator(`${partition0} td.committed`).innerText()).toBe("2");
    expect(await page.locator(".facts dd.state").innerText()).toBe("Stable");
    expect(await page.locator("table.members tbody td").allInnerTexts()).toEqual(expect.arrayContaining(["host-a", "Stable", `${topic}: 0, 1`]));

    expect((await commit(5)).status).toBe(200);
    await page.getByRole("button", { name: "Refresh" }).click();
    await waitForText(page, `${partition0} td.lag`, "0");
    expect(await page.locator(`${partition0} td.committed`).innerText()).toBe("5");
    expect(await page.locator(".facts dd.total-lag").innerText()).toBe("0");
    // The lag chart holds what this page sampled: before and after the commit.
    await page.getByRole("img", { name: "Total lag, oldest first: 3, 0" }).waitFor();
    await browser.screenshot(page, "group");

    // From a record: the groups that committed past it (consumed it) and those not that far yet.
    const other = uniqueName("console-behind");
    expect((await api.post(`/v1/groups/${other}/offsets`, { offsets: [{ topic, partition: 0, offset: 1 }] })).status).toBe(200);
    await page.goto(`${broker.consoleUrl}/topics/${topic}?partition=0&offset=0`);
    await page.locator('tr.message[data-offset="3"]').click();
    await page.getByRole("button", { name: "Which groups have consumed this?" }).click();
    await waitForText(page, ".consumed-by li.past", `Consumed by: ${group} (committed 5)`);
    expect(await page.locator(".consumed-by li.behind").innerText()).toBe(`Not yet by: ${other} (committed 1)`);

    expect((await api.post(`/v1/groups/${group}/heartbeat`, { memberId, memberEpoch: -1 })).status).toBe(200);
  });

  it("starts the topics list's sparklines, the topic's throughput chart and the group's lag chart with the broker's samples from before the page was opened", async () => {
    const topic = await createTopic(1);
    const group = uniqueName("console-history");
    const produce = async (n: number) => expect((await api.post(`/v1/topics/${topic}/records`, { encoding: "utf8", records: Array.from({ length: n }, (_, i) => ({ value: `h${i}` })) })).status).toBe(200);
    const commit = async (offset: number) => expect((await api.post(`/v1/groups/${group}/offsets`, { offsets: [{ topic, partition: 0, offset }] })).status).toBe(200);
    // Three samples a minute apart, the last a minute ago: offsets written 3, 6, 8; lag 2, 5, 2.
    const start = Date.now() - 3 * 60_000;
    await produce(3);
    await commit(1);
    await broker.history!.sampleOnce(start);
    await produce(3);
    await broker.history!.sampleOnce(start + 60_000);
    await produce(2);
    await commit(6);
    await broker.history!.sampleOnce(start + 120_000);

    // The topics list: the same three samples start the topic's sparkline (one request for every topic).
    const historyRequests: string[] = [];
    page.on("request", (request) => {
      if (new URL(request.url()).pathname.includes("/history")) historyRequests.push(new URL(request.url()).pathname);
    });
    await page.goto(broker.consoleUrl!);
    // The history and the tab's first sample come from separate requests: wait for both.
    const listed = page.locator(`tr[data-topic="${topic}"] td.throughput .rate[data-history="3"][data-live="1"]`);
    await listed.waitFor();
    expect(await listed.locator("svg").getAttribute("data-points")).toBe("3");
    const listedRates = (await listed.locator("svg").getAttribute("aria-label"))!.replace("Records per second, oldest first: ", "").split(", ");
    expect(listedRates).toEqual(["0.05", "0.033", "0"]);
    expect(historyRequests).toEqual(["/v1/history/topics"]);

    await page.goto(`${broker.consoleUrl}/topics/${topic}`);
    const throughput = page.locator('p.throughput-chart[data-history="3"][data-live="1"]');
    await throughput.waitFor();
    // Three broker samples and the page's own: three rates, the first two from before the page opened.
    const rates = (await throughput.locator("svg").getAttribute("aria-label"))!.replace("Records per second, oldest first: ", "").split(", ");
    expect(await throughput.locator("svg").getAttribute("data-points")).toBe("3");
    expect(rates.slice(0, 2)).toEqual(["0.05", "0.033"]);
    expect(rates[2]).toBe("0");

    await page.goto(`${broker.consoleUrl}/groups/${group}`);
    const lag = page.locator('p.lag-chart[data-history="3"][data-live="1"]');
    await lag.waitFor();
    expect(await lag.locator("svg").getAttribute("data-points")).toBe("4");
    expect(await lag.locator("svg").getAttribute("aria-label")).toBe("Total lag, oldest first: 2, 5, 2, 2");
    expect(await lag.locator(".note").innerText()).toContain("3 samples kept by the broker");
    await browser.screenshot(page, "group-history");
  });

  it("follows a trace from an input record to its transactional copy and back", async () => {
    const input = await createTopic(1);
    const output = await createTopic(1);
    const group = uniqueName("console-copier");
    const transactionalId = uniqueName("console-tx");
    expect((await api.post(`/v1/topics/${input}/records`, { encoding: "utf8", records: ["a", "b"].map((value) => ({ value, partition: 0 })) })).status).toBe(200);
    const producer = (await api.post("/v1/producers", { transactionalId })).body;
    const copied = await api.post("/v1/transactions", {
      transactionalId,
      producerId: producer.producerId,
      producerEpoch: producer.epoch,
      transactionSequence: 0,
      encoding: "utf8",
      records: ["A", "B"].map((value) => ({ topic: output, partition: 0, value })),
      offsets: { group, offsets: [{ topic: input, partition: 0, offset: 2 }] },
    });
    expect(copied.status).toBe(200);

    // Forward: input record 1 → the transaction that consumed it → its output records.
    await page.goto(`${broker.consoleUrl}/topics/${input}?partition=0&offset=0`);
    // The list says who wrote each record (metadata=true): a plain produce has no producer id and no transaction.
    expect(await page.locator('tr.message[data-offset="1"] td.producer').innerText()).toBe("—");
    expect(await page.locator('tr.message[data-offset="1"] td.producer .badge.tx').count()).toBe(0);
    await page.locator('tr.message[data-offset="1"]').click();
    expect(await page.locator(".message-details .detail-transactional").innerText()).toBe("no");
    await page.getByRole("button", { name: "Trace this record" }).click();
    await waitForText(page, ".trace li.consumed-by-transactions a.trace-output", `${output}[0] 0–1`);
    expect(await page.locator(".trace li.consumed-by-transactions").innerText()).toContain(`${transactionalId} #0`);
    expect(await page.locator(".trace li.produced-by").innerText()).toBe("Written by: no transaction");
    await page.locator(".trace a.trace-output").click();
    await page.waitForURL((url) => url.pathname === `/console/topics/${output}`);
    // The copies: the transactional producer's id and the "transactional" badge, in the list and the details.
    for (const offset of [0, 1]) {
      await waitForText(page, `tr.message[data-offset="${offset}"] td.producer .producer-id`, String(producer.producerId));
      expect(await page.locator(`tr.message[data-offset="${offset}"] td.producer .badge.tx`).innerText()).toBe("transactional");
    }

    // Back: the output record names the transaction that wrote it and links to its input.
    await page.locator('tr.message[data-offset="0"]').click();
    expect(await page.locator(".message-details .detail-producer").innerText()).toBe(String(producer.producerId));
    expect(await page.locator(".message-details .detail-transactional").innerText()).toBe("yes: written by a transactional commit");
    await page.getByRole("button", { name: "Trace this record" }).click();
    await waitForText(page, ".trace li.produced-by a.trace-input", `${input}[0] up to 1`);
    expect(await page.locator(".trace li.produced-by").innerText()).toContain(`for group ${group}`);
    await browser.screenshot(page, "trace");
    await page.locator(".trace a.trace-input").click();
    await page.waitForURL((url) => url.pathname === `/console/topics/${input}`);
    await page.locator('tr.message[data-offset="1"]').waitFor();
  });

  it("says so when the broker is unreachable, and recovers on retry", async () => {
    const refuse = (route: { abort(code: string): Promise<void> }) => route.abort("connectionrefused");
    await page.route("**/v1/**", refuse);
    await page.goto(`${broker.consoleUrl}/groups`);
    const alert = page.getByRole("alert");
    await alert.waitFor();
    expect(await alert.innerText()).toContain("The broker is unreachable");
    await browser.screenshot(page, "unreachable");
    await page.unroute("**/v1/**", refuse);
    await alert.getByRole("button", { name: "Retry" }).click();
    await page.locator("table.groups, p.empty").first().waitFor();
    expect(await page.getByRole("alert").count()).toBe(0);
  });

  it("serves any page path as index.html (no-cache, locked down by CSP) and the hashed assets as immutable", async () => {
    for (const path of ["", "/", "/topics/a.topic.js", "/groups/g%2Fx", "/nowhere"]) {
      const response = await fetch(`${broker.consoleUrl}${path}`);
      expect(response.status, path).toBe(200);
      expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(response.headers.get("cache-control")).toBe("no-cache");
      expect(response.headers.get("content-security-policy")).toContain("script-src 'self'");
    }
    const html = await (await fetch(broker.consoleUrl!)).text();
    const script = /src="(\/console\/assets\/main-[A-Z0-9]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const asset = await fetch(`${broker.url}${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(asset.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect((await asset.arrayBuffer()).byteLength).toBeLessThanOrEqual(60 * 1024);
    expect((await fetch(`${broker.consoleUrl}/assets/main-OLD.js`)).status).toBe(404);
    expect((await fetch(`${broker.consoleUrl}/topics/x`, { method: "POST" })).status).toBe(405);
  });
});
