/**
 * Builds the web console (console/, docs/console.md) into a static bundle: one minified script and
 * one stylesheet under content-hashed names, and an index.html that names them.
 *
 *   tsx scripts/build-console.ts [outDir]   writes dist/console/ (`npm run build` does this)
 *   buildConsole()                          the same bundle in memory (`npm start` builds on the fly)
 *
 * Everything the console needs is in the bundle (preact included): no CDN, works offline.
 */
import { mkdirSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";
import { CONSOLE_ASSETS_DIR, CONSOLE_BASE_PATH, consoleContentType, type ConsoleAsset, type ConsoleBundle } from "../shared/http/console-routes.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const SOURCE = path.join(ROOT, "console");
/** The budget docs/console.md promises; the build fails rather than quietly growing past it. */
export const CONSOLE_SCRIPT_BUDGET_BYTES = 60 * 1024;

export async function buildConsole(): Promise<ConsoleBundle> {
  const result = await build({
    entryPoints: [path.join(SOURCE, "src", "main.tsx")],
    bundle: true,
    write: false,
    outdir: path.join(SOURCE, "out"),
    entryNames: `${CONSOLE_ASSETS_DIR}/[name]-[hash]`,
    format: "esm",
    platform: "browser",
    target: ["es2020", "chrome100", "firefox100", "safari15"],
    minify: true,
    jsx: "automatic",
    jsxImportSource: "preact",
    tsconfig: path.join(SOURCE, "tsconfig.json"),
    legalComments: "none",
    metafile: true,
    logLevel: "warning",
  });
  const assets = new Map<string, ConsoleAsset>();
  let script: string | undefined;
  let stylesheet: string | undefined;
  for (const file of result.outputFiles) {
    const name = path.basename(file.path);
    const contentType = consoleContentType(name);
    if (!contentType) throw new Error(`The console build produced ${name}, which it does not know how to serve`);
    assets.set(name, { body: file.contents, contentType });
    if (name.endsWith(".js")) script = name;
    if (name.endsWith(".css")) stylesheet = name;
  }
  if (!script || !stylesheet) throw new Error("The console build produced no script or no stylesheet");
  const scriptBytes = assets.get(script)!.body.byteLength;
  if (scriptBytes > CONSOLE_SCRIPT_BUDGET_BYTES) {
    throw new Error(`The console script is ${scriptBytes} bytes, over its ${CONSOLE_SCRIPT_BUDGET_BYTES}-byte budget (docs/console.md)`);
  }
  const assetUrl = (name: string) => `${CONSOLE_BASE_PATH}/${CONSOLE_ASSETS_DIR}/${name}`;
  const index = readFileSync(path.join(SOURCE, "index.html"), "utf8")
    .replace("%SCRIPT%", assetUrl(script))
    .replace("%STYLESHEET%", assetUrl(stylesheet));
  return { index: new TextEncoder().encode(index), assets };
}

/** Writes a bundle as files: `index.html` and `assets/<hashed name>`. */
export function writeConsoleBundle(bundle: ConsoleBundle, outDir: string): void {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(path.join(outDir, CONSOLE_ASSETS_DIR), { recursive: true });
  writeFileSync(path.join(outDir, "index.html"), bundle.index);
  for (const [name, asset] of bundle.assets) writeFileSync(path.join(outDir, CONSOLE_ASSETS_DIR, name), asset.body);
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const outDir = path.resolve(process.argv[2] ?? path.join(ROOT, "dist", "console"));
  const bundle = await buildConsole();
  writeConsoleBundle(bundle, outDir);
  const sizes = [...bundle.assets].map(([name, asset]) => `${name} ${(asset.body.byteLength / 1024).toFixed(1)} KB`).join(", ");
  process.stdout.write(`Built the console into ${path.relative(ROOT, outDir) || outDir}/: ${sizes}\n`);
}
