/**
 * A real headless Chromium for the console's browser tests: Debian's `chromium` package driven by
 * playwright-core (no browser download at install time; .ci/run installs the package). Missing
 * Chromium fails the tests with a clear message instead of skipping them: the console would
 * otherwise go untested without anyone noticing.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";

export const CHROMIUM_PATH = process.env["DYNALOG_TEST_CHROMIUM"] ?? "/usr/bin/chromium";
/** Screenshots of the browser tests: kept as CI artifacts, never committed (.gitignore). */
export const ARTIFACTS_DIR = path.resolve("test-artifacts", "console");

/**
 * Flags for a sandboxless container: no GPU, and none of Chromium's own background traffic
 * (updates, sync, QUIC probing), which this machine's network refuses and which then stalls pages.
 */
const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

export interface TestBrowser {
  readonly context: BrowserContext;
  newPage(): Promise<Page>;
  /** Saves a full-page screenshot under test-artifacts/console/. */
  screenshot(page: Page, name: string): Promise<void>;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<TestBrowser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium is missing at ${CHROMIUM_PATH}: the web console's browser tests need it. ` +
        "Install Debian's package (sudo apt-get install chromium; .ci/run does this) or point DYNALOG_TEST_CHROMIUM at a Chromium binary.",
    );
  }
  // A fresh profile per run: a shared or default one carries state (and locks) between runs.
  const userDataDir = mkdtempSync(path.join(os.tmpdir(), "dynalog-chromium-"));
  const context = await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  return {
    context,
    newPage: async () => {
      const page = await context.newPage();
      page.setDefaultTimeout(30_000);
      return page;
    },
    screenshot: async (page, name) => {
      await page.screenshot({ path: path.join(ARTIFACTS_DIR, `${name}.png`), fullPage: true });
    },
    close: async () => {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/** Waits until an element matching `selector` has exactly this text (trimmed); says what it saw if it never does. */
export async function waitForText(page: Page, selector: string, expected: string): Promise<void> {
  try {
    const exactly = new RegExp(`^\\s*${expected.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\s*$`);
    await page.locator(selector).filter({ hasText: exactly }).first().waitFor({ timeout: 30_000 });
  } catch (error) {
    const seen = await page.locator(selector).allTextContents();
    throw new Error(`${selector}: expected the text ${JSON.stringify(expected)}, found ${JSON.stringify(seen)} (${(error as Error).message.split("\n")[0]})`);
  }
}
