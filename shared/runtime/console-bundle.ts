/**
 * Reads a web console bundle written by scripts/build-console.ts (`index.html` and `assets/*`) from
 * disk: the local broker's prebuilt dist/console/, and the deployed console function's asset.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { CONSOLE_ASSETS_DIR, consoleContentType, type ConsoleAsset, type ConsoleBundle } from "../http/console-routes.js";

/** The folder a console function's asset keeps the bundle in, beside its index.mjs. */
export const CONSOLE_ASSET_FOLDER = "console";

export function readConsoleBundle(dir: string): ConsoleBundle {
  const index = path.join(dir, "index.html");
  if (!existsSync(index)) throw new Error(`No console bundle in ${dir} (npm run build writes it)`);
  const assets = new Map<string, ConsoleAsset>();
  for (const name of readdirSync(path.join(dir, CONSOLE_ASSETS_DIR))) {
    const contentType = consoleContentType(name);
    if (contentType) assets.set(name, { body: readFileSync(path.join(dir, CONSOLE_ASSETS_DIR, name)), contentType });
  }
  return { index: readFileSync(index), assets };
}
