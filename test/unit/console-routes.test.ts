/** The console's static routes (shared/http/console-routes.ts) over an in-memory bundle: paths, cache headers, refusals. */
import { describe, expect, it } from "vitest";
import { createConsoleRoutes, isConsolePath, type ConsoleBundle } from "../../shared/http/console-routes.js";

const encode = (text: string) => new TextEncoder().encode(text);
const bundle: ConsoleBundle = {
  index: encode("<!doctype html><title>console</title>"),
  assets: new Map([
    ["main-ABC123.js", { body: encode("console.log(1)"), contentType: "text/javascript; charset=utf-8" }],
    ["main-DEF456.css", { body: encode("body{}"), contentType: "text/css; charset=utf-8" }],
  ]),
};
const app = createConsoleRoutes(bundle);
const request = (path: string, method = "GET") => app.fetch(new Request(`http://local${path}`, { method }));

describe("console routes", () => {
  it("answers index.html, never cached without revalidation, for every page path, topic names with dots included", async () => {
    for (const path of ["/console", "/console/", "/console/topics/orders.v1.js", "/console/groups/a%2Fb", "/console/anything/else"]) {
      const response = await request(path);
      expect(response.status, path).toBe(200);
      expect(response.headers.get("cache-control")).toBe("no-cache");
      expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(response.headers.get("content-security-policy")).toMatch(/default-src 'none'.*script-src 'self'.*connect-src 'self'.*frame-ancestors 'none'/);
      expect(response.headers.get("x-content-type-options")).toBe("nosniff");
      expect(await response.text()).toBe("<!doctype html><title>console</title>");
    }
  });

  it("serves exactly the file when the bundle's bytes are Buffers sharing a pool (as readFileSync's small files are)", async () => {
    const pool = Buffer.from("<!doctype html><title>pooled</title>body{color:red}");
    const viewed: ConsoleBundle = {
      index: pool.subarray(0, pool.indexOf("body")),
      assets: new Map([["main-XYZ789.css", { body: pool.subarray(pool.indexOf("body")), contentType: "text/css; charset=utf-8" }]]),
    };
    const routes = createConsoleRoutes(viewed);
    const page = await routes.fetch(new Request("http://local/console"));
    expect(await page.text()).toBe("<!doctype html><title>pooled</title>");
    const css = await routes.fetch(new Request("http://local/console/assets/main-XYZ789.css"));
    expect(await css.text()).toBe("body{color:red}");
  });

  it("answers hashed assets as immutable with their content type, and a missing one with 404 rather than HTML", async () => {
    const script = await request("/console/assets/main-ABC123.js");
    expect(script.status).toBe(200);
    expect(script.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(script.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(script.headers.get("content-length")).toBe("14");
    expect(await script.text()).toBe("console.log(1)");
    expect((await request("/console/assets/main-DEF456.css")).headers.get("content-type")).toBe("text/css; charset=utf-8");

    const missing = await request("/console/assets/main-OLD.js");
    expect(missing.status).toBe(404);
    expect(missing.headers.get("content-type")).toMatch(/^text\/plain/);
  });

  it("answers HEAD without a body and refuses writes with 405", async () => {
    const head = await request("/console/assets/main-ABC123.js", "HEAD");
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe("14");
    expect(await head.text()).toBe("");
    for (const method of ["POST", "PUT", "DELETE"]) {
      const refused = await request("/console/topics/x", method);
      expect(refused.status, method).toBe(405);
      expect(refused.headers.get("allow")).toBe("GET, HEAD");
    }
  });

  it("claims /console and what is under it, nothing else", () => {
    expect(["/console", "/console/", "/console/topics/x"].every(isConsolePath)).toBe(true);
    expect(["/", "/consoles", "/v1/topics", "/console.js"].some(isConsolePath)).toBe(false);
  });
});
