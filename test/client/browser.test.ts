/**
 * The SDK in a real browser: Chromium (Debian's, driven by playwright-core) loads a page that
 * includes the SDK's browser bundle, from an origin other than the broker's, and produces and
 * consumes through the local gateway — so the CORS preflight, the Bearer header and every
 * browser restriction on fetch apply as they do to a web app.
 *
 * DYNALOG_TEST_CHROMIUM names the browser binary (default /usr/bin/chromium); without one the
 * tests are skipped, and say so.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGateway, type FunctionHandlers } from "../../local/gateway.js";
import { startLocalBroker, type LocalBroker } from "../../local/local-broker.js";
import { testEndpoint, uniqueName } from "../support/dynamodb.js";
import { topicName } from "../support/broker.js";
import { bundleSdk } from "./sdk-bundle.js";

const CHROMIUM = process.env["DYNALOG_TEST_CHROMIUM"] ?? "/usr/bin/chromium";
const ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

function close(server: Server | undefined): Promise<void> {
  if (!server) return Promise.resolve();
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

describe.skipIf(!existsSync(CHROMIUM))(`the SDK in Chromium (${CHROMIUM})`, () => {
  let broker: LocalBroker;
  let site: Server;
  let siteUrl: string;
  let userDataDir: string;
  let browser: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    broker = await startLocalBroker({ dynamodbEndpoint: testEndpoint(), tablePrefix: uniqueName("browser"), auth: true });
    // The web app: a page and the SDK's browser bundle, served from their own origin.
    const { code } = await bundleSdk("iife");
    site = createServer((request, response) => {
      if (request.url === "/sdk.js") response.writeHead(200, { "content-type": "text/javascript" }).end(code);
      else response.writeHead(200, { "content-type": "text/html" }).end('<!doctype html><html><head><script src="/sdk.js"></script></head><body>app</body></html>');
    });
    siteUrl = await listen(site);
    userDataDir = mkdtempSync(join(tmpdir(), "dynalog-chromium-"));
    browser = await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, headless: true, args: ARGS });
    page = await browser.newPage();
    await page.goto(siteUrl);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await close(site);
    await broker?.stop();
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  });

  it("runs in the browser itself: no Node globals, web crypto and streams present", async () => {
    const globals = await page.evaluate(() => [typeof (globalThis as any).Buffer, typeof (globalThis as any).process, typeof (globalThis as any).DynalogSDK?.Dynalog, typeof crypto.subtle, typeof CompressionStream]);
    expect(globals).toEqual(["undefined", "undefined", "function", "object", "function"]);
  });

  it("creates a topic, produces and consumes through a consumer group, cross-origin with a Bearer token", async () => {
    const topic = topicName("browser");
    const groupId = topicName("browser-group");
    const result = await page.evaluate(
      async ({ url, token, topic, groupId }) => {
        const { Dynalog, logLevel } = (globalThis as any).DynalogSDK;
        const dynalog = new Dynalog({ url, auth: { type: "bearer", token }, logLevel: logLevel.NOTHING });
        await dynalog.admin().createTopics({ topics: [{ topic, numPartitions: 2 }] });
        const producer = dynalog.producer();
        const sent = await producer.send({
          topic,
          messages: [
            { key: "k", value: "héllo from a page", headers: { via: "chromium" } },
            { key: "k", value: new Uint8Array([0, 255, 7]) },
          ],
        });
        await producer.disconnect();
        const consumer = dynalog.consumer({ groupId, heartbeatInterval: 200, maxWaitTimeInMs: 200 });
        await consumer.subscribe({ topics: [topic], fromBeginning: true });
        const seen: { offset: number; value: string; bytes: number[]; via: string | undefined }[] = [];
        await new Promise<void>((resolve, reject) => {
          consumer.on(consumer.events.STOP, () => resolve());
          consumer
            .run({
              eachMessage: async ({ message }: any) => {
                seen.push({ offset: message.offset, value: message.value.toString(), bytes: Array.from(message.value), via: message.headers.via?.toString() });
                if (seen.length === 2) await consumer.stop();
              },
            })
            .catch(reject);
        });
        return { origin: (globalThis as any).location.origin as string, partitions: sent.map((s: { partition: number }) => s.partition), seen };
      },
      { url: broker.url, token: broker.adminToken!, topic, groupId },
    );
    expect(result.origin).toBe(siteUrl);
    expect(new URL(broker.url).origin).not.toBe(result.origin);
    expect(result.partitions).toHaveLength(1);
    expect(result.seen.map((m) => m.offset)).toEqual([0, 1]);
    expect(result.seen[0]).toMatchObject({ value: "héllo from a page", via: "chromium" });
    expect(result.seen[1]!.bytes).toEqual([0, 255, 7]);
  }, 120_000);

  it("cannot call a gateway whose CORS policy does not allow the page's origin (the browser blocks it)", async () => {
    const invoked: string[] = [];
    const refuse = async () => {
      invoked.push("handler");
      return { statusCode: 500 };
    };
    const handlers: FunctionHandlers = { admin: refuse, produce: refuse, fetch: refuse, commit: refuse, transactions: refuse, subscriptions: refuse };
    const gateway = createGateway(handlers, { cors: { allowOrigins: ["https://elsewhere.example"] } });
    const url = await listen(gateway);
    try {
      const outcome = await page.evaluate(async (url) => {
        const { Dynalog, logLevel } = (globalThis as any).DynalogSDK;
        const dynalog = new Dynalog({ url, auth: { type: "bearer", token: "t" }, logLevel: logLevel.NOTHING, retry: { retries: 0 } });
        return dynalog
          .admin()
          .listTopics()
          .then(
            () => "answered",
            (error: Error) => `${error.name}: ${error.message}`,
          );
      }, url);
      expect(outcome).not.toBe("answered");
      expect(outcome).toMatch(/fetch/i);
      // The preflight failed, so the request itself was never sent.
      expect(invoked).toEqual([]);
    } finally {
      await close(gateway);
    }
  }, 60_000);
});
