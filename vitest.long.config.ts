import { defineConfig } from "vitest/config";
import { SOURCE_ALIASES } from "./test/support/source-aliases.js";

/**
 * `npm run test:long`: the fault matrix (test/fault-matrix, docs/testing.md) over 20 seeds per row.
 * DYNALOG_MATRIX_SEEDS overrides: a count ("50") or a comma list of seeds ("3,17").
 * `npm test` runs the same rows with 2 seeds each.
 */
export default defineConfig({
  resolve: { alias: SOURCE_ALIASES },
  test: {
    include: ["test/fault-matrix/**/*.test.ts"],
    globalSetup: ["test/global-setup.ts"],
    env: { DYNALOG_MATRIX_DEFAULT_SEEDS: "20" },
    testTimeout: 300_000,
    hookTimeout: 60_000,
    fileParallelism: true,
    maxWorkers: 2,
  },
});
