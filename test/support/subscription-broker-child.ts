/**
 * A local broker in a child process, for the kill/restart test (test/e2e/subscription-restart.test.ts):
 * DynamoDB at DYNALOG_CHILD_ENDPOINT with the tables under DYNALOG_CHILD_PREFIX (what a restarted
 * broker finds again), its dispatcher running. Prints "ready <url>" once it serves; runs until killed.
 */
import { startLocalBroker } from "../../local/local-broker.js";

const broker = await startLocalBroker({
  dynamodbEndpoint: process.env["DYNALOG_CHILD_ENDPOINT"]!,
  tablePrefix: process.env["DYNALOG_CHILD_PREFIX"]!,
  console: false,
  compactionIntervalMs: 0,
});
process.stdout.write(`ready ${broker.url}\n`);
