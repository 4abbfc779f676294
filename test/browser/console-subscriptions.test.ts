/**
 * The console's subscriptions pages in a real headless Chromium, against the local broker with its
 * in-process dispatcher delivering to a local webhook target: subscriptions made through the API
 * show with their target, state, lag and last error; Pause and Resume work from the page. Also:
 * a page's sampled chart continues across a reload and a navigation (sessionStorage).
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { startLocalBroker, type LocalBroker } from "../../local/local-broker.js";
import { testEndpoint, uniqueName } from "../support/dynamodb.js";
import { jsonClient, type JsonClient } from "../support/http.js";
import { launchBrowser, waitForText, type TestBrowser } from "../support/browser.js";
import { startWebhookTarget, type WebhookTarget } from "../support/webhook-target.js";

let broker: LocalBroker;
let api: JsonClient;
let browser: TestBrowser;
let target: WebhookTarget;
let page: Page;

beforeAll(async () => {
  browser = await launchBrowser();
  target = await startWebhookTarget(() => ({ status: 200, body: {} }));
  target.responders.set("/fail", () => ({ status: 500, body: { error: "cannot digest" } }));
  broker = await startLocalBroker({ dynamodbEndpoint: testEndpoint(), tablePrefix: uniqueName("console-subs"), port: 0 });
  api = jsonClient(broker.url);
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await broker?.stop();
  await target?.close();
});
beforeEach(async () => {
  page = await browser.newPage();
});
afterEach(async () => {
  await page?.close();
});

/** Polls the API until `check` holds for the subscription's description (the dispatcher works in the background). */
async function describedWhen(name: string, check: (described: any) => boolean): Promise<any> {
  for (;;) {
    const described = await api.get(`/v1/subscriptions/${name}`);
    expect(described.status).toBe(200);
    if (check(described.body)) return described.body;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function topicWithRecords(count: number): Promise<string> {
  const topic = uniqueName("console-sub-topic");
  expect((await api.post("/v1/topics", { name: topic, partitions: 1 })).status).toBe(201);
  const records = Array.from({ length: count }, (_, i) => ({ value: `r${i}`, partition: 0 }));
  expect((await api.post(`/v1/topics/${topic}/records`, { encoding: "utf8", records })).status).toBe(200);
  return topic;
}

describe("the console's subscriptions pages", { timeout: 120_000 }, () => {
  it("lists subscriptions with target, state, lag and errors; pauses and resumes one; shows a partition's last error", async () => {
    const topic = await topicWithRecords(2);
    const [ok, failing] = [uniqueName("console-sub-ok"), uniqueName("console-sub-fail")];
    const create = (name: string, path: string) => api.post("/v1/subscriptions", { name, topic, webhook: `${target.baseUrl}${path}`, startingPosition: "earliest", maxRetries: 1000 });
    expect((await create(ok, "/ok")).status).toBe(201);
    expect((await create(failing, "/fail")).status).toBe(201);
    await describedWhen(ok, (d) => d.totalLag === 0 && d.partitions[0].delivered === 2);
    await describedWhen(failing, (d) => d.partitions[0].lastError !== null);

    await page.goto(`${broker.consoleUrl}/subscriptions`);
    const okRow = page.locator(`tr[data-subscription="${ok}"]`);
    const failingRow = page.locator(`tr[data-subscription="${failing}"]`);
    await waitForText(page, `tr[data-subscription="${ok}"] td.target`, `${target.baseUrl}/ok`);
    expect(await okRow.locator("td.state").innerText()).toBe("active");
    expect(await okRow.locator("td.lag").innerText()).toBe("0");
    expect(await okRow.locator("td.errors").innerText()).toBe("none");
    expect(await failingRow.locator("td.lag").innerText()).toBe("2");
    expect(await failingRow.locator("td.errors").innerText()).toContain("1 partition with an error");
    await browser.screenshot(page, "subscriptions");

    // Pause from the list: the broker says paused, and so does the page; then resume.
    await okRow.getByRole("button", { name: "Pause" }).click();
    await waitForText(page, `tr[data-subscription="${ok}"] td.state`, "paused");
    expect((await api.get(`/v1/subscriptions/${ok}`)).body.state).toBe("paused");
    await okRow.getByRole("button", { name: "Resume" }).click();
    await waitForText(page, `tr[data-subscription="${ok}"] td.state`, "active");
    expect((await api.get(`/v1/subscriptions/${ok}`)).body.state).toBe("active");

    // The failing one's page: per partition its lag, counters and the webhook's answer.
    await failingRow.getByRole("link", { name: failing }).click();
    await page.waitForURL((url) => url.pathname === `/console/subscriptions/${failing}`);
    const partition = page.locator('table.subscription-partitions tr[data-partition="0"]');
    await waitForText(page, 'table.subscription-partitions tr[data-partition="0"] td.lag', "2");
    expect(await partition.locator("td.delivered").innerText()).toBe("0");
    expect(Number(await partition.locator("td.failed").innerText())).toBeGreaterThanOrEqual(1);
    expect(await partition.locator("td.last-error").innerText()).toContain("webhook answered HTTP 500");
    expect(await partition.locator("td.last-error").innerText()).toContain("offset 0");
    expect(await page.locator(".facts dd.target").innerText()).toBe(`webhook: ${target.baseUrl}/fail`);
    await browser.screenshot(page, "subscription");
    await page.getByRole("button", { name: "Pause" }).click();
    await waitForText(page, ".facts dd.state .badge", "paused");
    expect((await api.get(`/v1/subscriptions/${failing}`)).body.state).toBe("paused");

    // The delivered one's page.
    await page.goto(`${broker.consoleUrl}/subscriptions/${ok}`);
    await waitForText(page, 'table.subscription-partitions tr[data-partition="0"] td.delivered', "2");
    expect(await page.locator('table.subscription-partitions tr[data-partition="0"] td.lag').innerText()).toBe("0");
  });

  it("keeps a page's samples across a reload and a navigation, so its chart continues", async () => {
    const topic = await topicWithRecords(3);
    const name = uniqueName("console-sub-samples");
    // Paused at once: its lag stays 3, whatever the dispatcher does.
    expect((await api.post("/v1/subscriptions", { name, topic, webhook: `${target.baseUrl}/fail`, startingPosition: "earliest" })).status).toBe(201);
    expect((await api.post(`/v1/subscriptions/${name}/pause`)).status).toBe(200);
    const chart = page.locator("p.chart .note");
    const url = `${broker.consoleUrl}/subscriptions/${name}`;

    await page.goto(url);
    await waitForText(page, ".facts dd.total-lag", "3");
    await page.getByRole("button", { name: "Refresh" }).click();
    await chart.filter({ hasText: /^total lag, 2 samples/ }).waitFor();
    await page.reload();
    await chart.filter({ hasText: /^total lag, 3 samples/ }).waitFor();
    await page.getByRole("link", { name: "Topics" }).click();
    await page.waitForURL((u) => u.pathname === "/console");
    await page.goBack();
    await chart.filter({ hasText: /^total lag, 4 samples/ }).waitFor();
    expect(await page.locator("p.chart svg.sparkline").getAttribute("aria-label")).toBe("Total lag, oldest first: 3, 3, 3, 3");
    const stored = await page.evaluate<string | null>(`sessionStorage.getItem(${JSON.stringify(`dynalog.console.samples.subscription:${name}`)})`);
    expect(JSON.parse(stored!).map((s: { value: number }) => s.value)).toEqual([3, 3, 3, 3]);
  });
});
