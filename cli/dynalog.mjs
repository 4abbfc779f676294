#!/usr/bin/env node
// `npx dynalog …`. In the published package this runs the compiled CLI (dist/cli/main.js) with
// plain Node. In the repository (where cli/main.ts sits next to this file) it runs the sources
// through tsx, a devDependency, so the CLI never runs a stale build and needs none.
import { existsSync } from "node:fs";

const fromSources = existsSync(new URL("./main.ts", import.meta.url));
let main;
if (fromSources) {
  const { register } = await import("tsx/esm/api");
  register();
  ({ main } = await import("./main.ts"));
} else {
  ({ main } = await import("../dist/cli/main.js"));
}
const code = await main(process.argv);
// Exit once stdout is flushed (open keep-alive sockets would otherwise hold the process a while).
process.stdout.write("", () => process.exit(code));
