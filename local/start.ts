/**
 * `npm start`: runs the broker locally on an embedded DynamoDB Local and prints its endpoint.
 *   --port <n>          HTTP port (default 8790, or DYNALOG_PORT)
 *   --data-dir <dir>    keep data between runs (default in-memory, or DYNALOG_DATA_DIR)
 *   --auth              require API keys and enforce ACLs (prints a super-user token)
 *   --table-prefix <p>  table name prefix (default "dynalog")
 */
import { parseArgs } from "node:util";

// The AWS SDK warns once that its 2027 releases need Node 22; say it in one line, not ten.
process.removeAllListeners("warning");
process.on("warning", (warning) => {
  if (warning.message.includes("NodeVersionSupportWarning")) console.error("Note: AWS SDK releases after January 2027 need Node.js 22+.");
  else console.error(`${warning.name}: ${warning.message}`);
});
import { checkJava } from "./java.js";
import { startLocalBroker } from "./local-broker.js";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: process.env["DYNALOG_PORT"] ?? "8790" },
    "data-dir": { type: "string", default: process.env["DYNALOG_DATA_DIR"] },
    auth: { type: "boolean", default: false },
    "table-prefix": { type: "string", default: "dynalog" },
    help: { type: "boolean", short: "h", default: false },
  },
});

if (values.help) {
  console.log("Usage: npm start -- [--port 8790] [--data-dir ./.dynalog/data] [--table-prefix dynalog] [--auth]");
  process.exit(0);
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

const broker = await startLocalBroker({ port, dataDir: values["data-dir"], tablePrefix: values["table-prefix"], auth: values.auth }).catch((error: unknown) => {
  console.error(`Could not start the local broker: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});

console.log(`Dynalog is running at ${broker.url}`);
console.log(`  DynamoDB Local: ${broker.dynamodbEndpoint} (${values["data-dir"] ? `data in ${values["data-dir"]}` : "in-memory"})`);
console.log(
  broker.adminToken
    ? `  Auth is on. Super-user "User:admin": -H 'Authorization: Bearer ${broker.adminToken}'`
    : "  Auth is off (every caller is a super-user); npm start -- --auth turns it on",
);
const authHeader = broker.adminToken ? ` -H 'Authorization: Bearer ${broker.adminToken}'` : "";
console.log(`  Try: curl -s -X POST ${broker.url}/v1/topics -H 'content-type: application/json'${authHeader} -d '{"name":"events","partitions":3}'`);
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
