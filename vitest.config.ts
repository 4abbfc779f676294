import { defineConfig } from "vitest/config";
import { SOURCE_ALIASES } from "./test/support/source-aliases.js";

export default defineConfig({
  resolve: { alias: SOURCE_ALIASES },
  test: {
    include: ["test/**/*.test.ts"],
    // Starts one DynamoDB Local (or uses DYNALOG_TEST_DYNAMODB_ENDPOINT) for the whole run.
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Test files run in parallel; CI machines have 2 cores.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
