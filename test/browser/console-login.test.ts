/**
 * The web console with security on (a separate file: the local broker's handlers read DYNALOG_AUTH
 * once per process): the login form, a refused key's 401, a key whose ACLs refuse a page (403),
 * and the super-user's key showing data.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { startLocalBroker, type LocalBroker } from "../../local/local-broker.js";
import { uniqueName, testEndpoint } from "../support/dynamodb.js";
import { launchBrowser, waitForText, type TestBrowser } from "../support/browser.js";

let broker: LocalBroker;
let browser: TestBrowser;
let page: Page;

beforeAll(async () => {
  // First: without Chromium there is nothing to test, and the message should come before any broker start.
  browser = await launchBrowser();
  broker = await startLocalBroker({ dynamodbEndpoint: testEndpoint(), tablePrefix: uniqueName("console-auth"), port: 0, auth: true });
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

async function asAdmin(method: string, path: string, body?: unknown) {
  const response = await fetch(broker.url + path, {
    method,
    headers: { authorization: `Bearer ${broker.adminToken}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function logIn(token: string): Promise<void> {
  await page.locator('.login input[name="token"]').fill(token);
  await page.getByRole("button", { name: "Log in" }).click();
}

describe("the web console with security on", { timeout: 120_000 }, () => {
  it("asks for an API key, says 401 for a bad one, and shows the data with a good one", async () => {
    const topic = uniqueName("console-secret");
    expect((await asAdmin("POST", "/v1/topics", { name: topic, partitions: 1 })).status).toBe(201);

    await page.goto(broker.consoleUrl!);
    await waitForText(page, ".login h1", "Log in");
    expect(await page.locator(".login").innerText()).toContain("This broker requires an API key");
    await browser.screenshot(page, "login");

    await logIn("dlk_nosuchkey_notasecret");
    const alert = page.locator(".login").getByRole("alert");
    await alert.waitFor();
    expect(await alert.innerText()).toContain("The broker refused the API key (401 AUTHENTICATION_FAILED)");
    await browser.screenshot(page, "login-refused");

    await logIn(broker.adminToken!);
    await page.locator(`tr[data-topic="${topic}"]`).waitFor();
    expect(await page.locator(".login").count()).toBe(0);

    // The key is kept for the tab: a reload (or a linked page) needs no second login.
    await page.goto(`${broker.consoleUrl}/topics/${topic}`);
    await waitForText(page, 'table.partitions tr[data-partition="0"] td:nth-child(3)', "0");

    // Logging out forgets the key: the next page asks again.
    await page.getByRole("button", { name: "Log out" }).click();
    await waitForText(page, ".login h1", "Log in");
  });

  it("says 403 with the refused ACL when a valid key may not see a page", async () => {
    const group = uniqueName("console-guarded");
    const topic = uniqueName("console-guarded");
    expect((await asAdmin("POST", "/v1/topics", { name: topic, partitions: 1 })).status).toBe(201);
    expect((await asAdmin("POST", `/v1/groups/${group}/offsets`, { offsets: [{ topic, partition: 0, offset: 0 }] })).status).toBe(200);
    const key = await asAdmin("POST", "/v1/api-keys", { principal: `User:${uniqueName("viewer")}` });
    expect(key.status).toBe(201);

    await page.goto(`${broker.consoleUrl}/groups/${group}`);
    await logIn(String(key.body["token"]));
    const alert = page.getByRole("alert");
    await alert.waitFor();
    expect(await alert.innerText()).toContain("Not allowed (403 GROUP_AUTHORIZATION_FAILED)");
    await browser.screenshot(page, "forbidden");

    // Lists show only what the key may describe: nothing, said plainly rather than as an error.
    await page.getByRole("link", { name: "Topics" }).first().click();
    await waitForText(page, "section p.empty", "No topics yet (or none this API key may describe).");
  });
});
