/**
 * A local broker in a child process, for the kill/restart test (test/e2e/subscription-restart.test.ts):
 * as `npm start --data-dir` runs it — its own DynamoDB Local persisting to DYNALOG_CHILD_DATA_DIR
 * (what a restarted broker finds again), its dispatcher running. Prints "ready <url>" once it
 * serves; runs until killed (its process group, DynamoDB Local's Java process included).
 */
import { startLocalBroker } from "../../local/local-broker.js";

const broker = await startLocalBroker({
  dataDir: process.env["DYNALOG_CHILD_DATA_DIR"]!,
  port: 0,
  console: false,
  compactionIntervalMs: 0,
});
process.stdout.write(`ready ${broker.url}\n`);
