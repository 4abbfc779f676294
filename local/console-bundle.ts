/**
 * The web console bundle the local broker serves: built on the fly from console/ in this repository
 * (so `npm start` always shows the current sources), or read from the prebuilt dist/console/ in the
 * published package (which has no console sources and no esbuild).
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { ConsoleBundle } from "../shared/http/console-routes.js";
import { readConsoleBundle } from "../shared/runtime/console-bundle.js";

/** What scripts/build-console.ts exports; imported by path so the published build never follows it. */
interface ConsoleBuilder {
  buildConsole(): Promise<ConsoleBundle>;
}

/** `root`: the repository, or dist/ in the published package. */
export async function loadConsoleBundle(root: string): Promise<ConsoleBundle> {
  const builder = path.join(root, "scripts", "build-console.ts");
  if (existsSync(path.join(root, "console", "src")) && existsSync(builder)) {
    const module = (await import(pathToFileURL(builder).href)) as ConsoleBuilder;
    return module.buildConsole();
  }
  return readConsoleBundle(path.join(root, "console"));
}
