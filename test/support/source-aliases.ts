/**
 * The package's own entry points (`dynalog/client`, …) resolved to the TypeScript sources, so tests
 * and examples import them by name without a build (package.json's exports point at dist/, which
 * only `npm run build` makes). The same map as tsconfig.json's `paths`, which tsc and tsx use.
 */
import { fileURLToPath } from "node:url";

const source = (path: string): string => fileURLToPath(new URL(`../../${path}`, import.meta.url));

export const SOURCE_ALIASES = [
  // Longest first: `dynalog/client/node` must not be taken for `dynalog/client` + "/node".
  { find: /^dynalog\/client\/node$/, replacement: source("client/node.ts") },
  { find: /^dynalog\/client$/, replacement: source("client/index.ts") },
  { find: /^dynalog\/local$/, replacement: source("local/index.ts") },
  { find: /^dynalog\/cdk$/, replacement: source("infra/index.ts") },
];
