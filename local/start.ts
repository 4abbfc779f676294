/**
 * `npm start`: runs the broker locally on an embedded DynamoDB Local and prints its endpoint.
 *   --port <n>          HTTP port (default 8790, or DYNALOG_PORT)
 *   --data-dir <dir>    keep data between runs (default in-memory, or DYNALOG_DATA_DIR)
 *   --auth              require API keys and enforce ACLs (prints a super-user token)
 *   --table-prefix <p>  table name prefix (default "dynalog")
 *   --chaos <profile>   inject DynamoDB faults (local/faults/profiles.ts: light, heavy, stale-reads, lost-acks)
 *   --chaos-seed <n>    seed of the chaos decisions (default random, printed so a run can be replayed)
 *   --compaction-interval-ms <ms>  compact compacted topics this often (default 60000, or
 *                       DYNALOG_COMPACTION_INTERVAL_MS; 0 = never; docs/compaction.md)
 *   --history-interval-ms <ms>  sample topics and groups for the console's charts this often
 *                       (default 60000, or DYNALOG_HISTORY_INTERVAL_MS; 0 = never; docs/console.md)
 *   --subscription-function <arn>  a Lambda ARN push subscriptions may target (repeatable; or
 *                       DYNALOG_SUBSCRIPTION_FUNCTIONS, comma-separated). Webhooks and local
 *                       modules (--function ./handler.mjs) need nothing (docs/subscriptions.md).
 */
import { parseArgs } from "node:util";

// The AWS SDK warns once that its 2027 releases need Node 22; say it in one line, not ten.
process.removeAllListeners("warning");
process.on("warning", (warning) => {
  if (warning.message.includes("NodeVersionSupportWarning")) console.error("Note: AWS SDK releases after January 2027 need Node.js 22+.");
  else console.error(`${warning.name}: ${warning.message}`);
});
import { randomInt } from "node:crypto";
import { checkJava } from "./java.js";
import { CHAOS_PROFILES, describeChaosProfiles, isChaosProfileName, type ChaosProfileName } from "./faults/profiles.js";
import { startLocalBroker } from "./local-broker.js";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: process.env["DYNALOG_PORT"] ?? "8790" },
    "data-dir": { type: "string", default: process.env["DYNALOG_DATA_DIR"] },
    auth: { type: "boolean", default: false },
    "table-prefix": { type: "string", default: "dynalog" },
    chaos: { type: "string" },
    "chaos-seed": { type: "string" },
    "compaction-interval-ms": { type: "string", default: process.env["DYNALOG_COMPACTION_INTERVAL_MS"] ?? "60000" },
    "history-interval-ms": { type: "string", default: process.env["DYNALOG_HISTORY_INTERVAL_MS"] ?? "60000" },
    "subscription-function": { type: "string", multiple: true, default: (process.env["DYNALOG_SUBSCRIPTION_FUNCTIONS"] ?? "").split(",").filter((f) => f.trim() !== "") },
    help: { type: "boolean", short: "h", default: false },
  },
});

const USAGE = "Usage: npm start -- [--port 8790] [--data-dir ./.dynalog/data] [--table-prefix dynalog] [--auth] [--chaos <profile> [--chaos-seed <n>]] [--compaction-interval-ms 60000] [--history-interval-ms 60000] [--subscription-function <lambda-arn> …]";

if (values.help) {
  console.log(`${USAGE}\n\nChaos profiles (--chaos):\n${describeChaosProfiles()}`);
  process.exit(0);
}

// Checked before anything starts: a typo should not cost a DynamoDB Local start-up.
let chaos: { profile: ChaosProfileName; seed: number } | undefined;
if (values.chaos !== undefined) {
  if (!isChaosProfileName(values.chaos)) {
    console.error(`Unknown chaos profile ${JSON.stringify(values.chaos)}. Choose one of:\n${describeChaosProfiles()}`);
    process.exit(2);
  }
  const seed = values["chaos-seed"] === undefined ? randomInt(2 ** 31) : Number(values["chaos-seed"]);
  if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32) {
    console.error(`--chaos-seed must be an integer from 0 to 4294967295, got ${values["chaos-seed"]}`);
    process.exit(2);
  }
  chaos = { profile: values.chaos, seed };
} else if (values["chaos-seed"] !== undefined) {
  console.error("--chaos-seed needs --chaos <profile>");
  process.exit(2);
}

const java = checkJava();
if (!java.ok) {
  console.error(java.message);
  process.exit(1);
}

const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`--port must be a port number, got ${values.port}`);
  process.exit(1);
}

const compactionIntervalMs = Number(values["compaction-interval-ms"]);
if (!Number.isInteger(compactionIntervalMs) || compactionIntervalMs < 0) {
  console.error(`--compaction-interval-ms must be a whole number of milliseconds (0 = never), got ${values["compaction-interval-ms"]}`);
  process.exit(1);
}

const historyIntervalMs = Number(values["history-interval-ms"]);
if (!Number.isInteger(historyIntervalMs) || (historyIntervalMs !== 0 && historyIntervalMs < 1_000)) {
  console.error(`--history-interval-ms must be 0 (never) or a whole number of milliseconds from 1000, got ${values["history-interval-ms"]}`);
  process.exit(1);
}

const broker = await startLocalBroker({
  port,
  dataDir: values["data-dir"],
  tablePrefix: values["table-prefix"],
  auth: values.auth,
  chaos,
  compactionIntervalMs,
  historyIntervalMs,
  subscriptions: { functionAllowList: values["subscription-function"].map((f) => f.trim()) },
}).catch((error: unknown) => {
  console.error(`Could not start the local broker: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});

console.log(`Dynalog is running at ${broker.url}`);
if (broker.consoleUrl) console.log(`  Web console: ${broker.consoleUrl}${broker.adminToken ? " (log in with the super-user's token below)" : ""}`);
console.log(`  DynamoDB Local: ${broker.dynamodbEndpoint} (${values["data-dir"] ? `data in ${values["data-dir"]}` : "in-memory"})`);
console.log(
  broker.adminToken
    ? `  Auth is on. Super-user "User:admin": -H 'Authorization: Bearer ${broker.adminToken}'`
    : "  Auth is off (every caller is a super-user); npm start -- --auth turns it on",
);
const authHeader = broker.adminToken ? ` -H 'Authorization: Bearer ${broker.adminToken}'` : "";
if (chaos) {
  console.log(`  CHAOS MODE "${chaos.profile}": ${CHAOS_PROFILES[chaos.profile].description}`);
  console.log(`    seed ${chaos.seed} (the same seed and requests give the same faults: --chaos ${chaos.profile} --chaos-seed ${chaos.seed})`);
}
console.log(`  Try: curl -s -X POST ${broker.url}/v1/topics -H 'content-type: application/json'${authHeader} -d '{"name":"events","partitions":3}'`);
console.log(`  Push subscriptions: delivered in process (webhooks, Lambda ARNs on the allow-list, or --function ./handler.mjs); see docs/subscriptions.md`);
console.log("Press Ctrl-C to stop.");

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    console.log("\nStopping…");
    broker.stop().then(() => process.exit(0), () => process.exit(1));
  });
}
