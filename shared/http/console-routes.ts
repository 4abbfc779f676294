/**
 * Serves the web console's static bundle (docs/console.md) at `/console`: `index.html` for every
 * page path — the console routes in the browser, so `/console/topics/orders` must load the same
 * page — and the content-hashed files under `/console/assets/`. Runtime-agnostic like the API app:
 * the local gateway serves it today; a deployed stack can serve the same bundle (see the plan in
 * docs/console.md).
 *
 * No authentication here on purpose: the bundle holds no data and no secrets, and the login form
 * is part of it. Every byte of data the console shows comes from the API, which authenticates each
 * request with the key the user typed in.
 */
import { Hono, type Context } from "hono";

/** Where the console lives; the bundle's index.html refers to its assets by this absolute path. */
export const CONSOLE_BASE_PATH = "/console";
/** Hashed asset names live under this folder of the bundle. */
export const CONSOLE_ASSETS_DIR = "assets";

/** The only kinds of file a console bundle has. */
export const CONSOLE_CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
};

/** The content type of a bundle file by its name, or undefined for a kind the console never has. */
export function consoleContentType(name: string): string | undefined {
  const dot = name.lastIndexOf(".");
  return dot < 0 ? undefined : CONSOLE_CONTENT_TYPES[name.slice(dot)];
}

export interface ConsoleAsset {
  readonly body: Uint8Array;
  readonly contentType: string;
}

/** A built console: its index page and its assets by file name (`main-4F2KQ.js`). */
export interface ConsoleBundle {
  readonly index: Uint8Array;
  readonly assets: ReadonlyMap<string, ConsoleAsset>;
}

/** Hashed names change whenever their content does: cache them for a year and never revalidate. */
const IMMUTABLE = "public, max-age=31536000, immutable";
/** index.html names the current hashed assets: always revalidate, so a new build shows at once. */
const REVALIDATE = "no-cache";

/**
 * Locks the page to its own bundle and its own origin's API: no inline script, no third-party
 * fetch, no framing. The API key lives in sessionStorage, so script injection is the threat that
 * matters; this makes a slipped-through injection inert.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const COMMON_HEADERS: Readonly<Record<string, string>> = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

export function isConsolePath(path: string): boolean {
  return path === CONSOLE_BASE_PATH || path.startsWith(`${CONSOLE_BASE_PATH}/`);
}

/** The console's routes as a Hono app; `app.fetch` serves them on any runtime. */
export function createConsoleRoutes(bundle: ConsoleBundle): Hono {
  const app = new Hono();
  // Each file copied once into an ArrayBuffer of its own: a Node Buffer (readFileSync of a small
  // file) is a view into a shared pool, so its `.buffer` would send the whole pool.
  const index = ownBytes(bundle.index);
  const assets = new Map([...bundle.assets].map(([name, asset]) => [name, { body: ownBytes(asset.body), contentType: asset.contentType }]));
  const assetPrefix = `${CONSOLE_BASE_PATH}/${CONSOLE_ASSETS_DIR}/`;

  app.on(["GET", "HEAD"], `${assetPrefix}*`, (c) => {
    const name = c.req.path.slice(assetPrefix.length);
    const asset = assets.get(name);
    // A missing asset is a 404, never index.html: a stale page asking for an old hash must not get HTML as script.
    if (!asset) return c.text(`No console asset ${name}`, 404, { ...COMMON_HEADERS, "cache-control": REVALIDATE });
    return respond(c, asset.body, { "content-type": asset.contentType, "cache-control": IMMUTABLE });
  });

  // Every other path under /console is a page of the console: the browser-side router picks it up.
  const page = (c: Context) =>
    respond(c, index, { "content-type": "text/html; charset=utf-8", "cache-control": REVALIDATE, "content-security-policy": CONTENT_SECURITY_POLICY });
  app.on(["GET", "HEAD"], CONSOLE_BASE_PATH, page);
  app.on(["GET", "HEAD"], `${CONSOLE_BASE_PATH}/*`, page);

  app.all("*", (c) => c.text(`${c.req.method} is not allowed on ${c.req.path}; use GET`, 405, { ...COMMON_HEADERS, allow: "GET, HEAD" }));
  return app;
}

function ownBytes(bytes: Uint8Array): ArrayBuffer {
  return new Uint8Array(bytes).buffer;
}

function respond(c: Context, body: ArrayBuffer, headers: Record<string, string>): Response {
  const all = { ...COMMON_HEADERS, ...headers, "content-length": String(body.byteLength) };
  if (c.req.method === "HEAD") return c.body(null, 200, all);
  return c.body(body, 200, all);
}
