#!/usr/bin/env node
// `npx dynalog …`: the CLI is TypeScript (cli/main.ts) run through tsx, which `npm ci` installs.
import { register } from "tsx/esm/api";

register();
const { main } = await import("./main.ts");
const code = await main(process.argv);
// Exit once stdout is flushed (open keep-alive sockets would otherwise hold the process a while).
process.stdout.write("", () => process.exit(code));
