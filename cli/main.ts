/**
 * `dynalog` — a thin command-line shell over the SDK (client/). Run it as `npx dynalog …`.
 *
 * Exit codes: 0 ok · 1 refused or failed · 2 usage · 3 broker unreachable · 4 authentication or
 * authorization failed · 5 unknown topic or group · 130 interrupted twice.
 */
import { readFileSync } from "node:fs";
import { Command, CommanderError, Option } from "commander";
import { registerConsumeCommand } from "./commands/consume.js";
import { registerGroupCommands } from "./commands/groups.js";
import { registerHistoryCommands } from "./commands/history.js";
import { registerLifecycleCommands } from "./commands/lifecycle.js";
import { registerProduceCommand } from "./commands/produce.js";
import { registerSecurityCommands } from "./commands/security.js";
import { registerSmoke } from "./commands/smoke.js";
import { registerSubscriptionCommands } from "./commands/subscriptions.js";
import { registerTopicCommands } from "./commands/topics.js";
import { registerVerifyCommand } from "./commands/verify.js";
import { positiveInt } from "./arguments.js";
import { EXIT } from "./exit-codes.js";
import { Dynalog, DynalogError, logLevel } from "../client/index.js";

export const DEFAULT_URL = "http://127.0.0.1:8790";

interface GlobalOptions {
  url: string;
  token?: string;
  timeout: number;
}

/** Runs the CLI; resolves with the exit code. */
export async function main(argv: readonly string[], io: { stdin?: NodeJS.ReadableStream } = {}): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = buildProgram((code) => (exitCode = code), io.stdin ?? process.stdin);
  try {
    await program.parseAsync([...argv]);
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === "dynalog.usage") process.stderr.write(`dynalog: ${error.message}\n`);
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    const { message, code } = describeFailure(error, program.opts<GlobalOptions>().url);
    process.stderr.write(`dynalog: ${message}\n`);
    return code;
  }
  return exitCode;
}

function buildProgram(setExit: (code: number) => void, stdin: NodeJS.ReadableStream): Command {
  const program = new Command("dynalog")
    .description("Dynalog from the command line: topics, produce, consume, consumer groups, offsets, and verify (audit a deployment).")
    .version(packageVersion())
    .addOption(new Option("--url <url>", "the broker's URL").env("DYNALOG_URL").default(DEFAULT_URL))
    .addOption(new Option("--token <token>", "an API key (dlk_…), sent as a Bearer token").env("DYNALOG_TOKEN"))
    .addOption(new Option("--timeout <ms>", "per-request timeout").argParser(positiveInt).default(30_000))
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();
  const client = () => {
    const { url, token, timeout } = program.opts<GlobalOptions>();
    return new Dynalog({
      url,
      auth: token ? { type: "bearer", token } : undefined,
      clientId: "dynalog-cli",
      requestTimeout: timeout,
      logLevel: logLevel.NOTHING,
      // Fail fast: a person is waiting.
      retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 5_000 },
    });
  };

  const topics = registerTopicCommands(program, client, setExit);
  registerProduceCommand(program, client, stdin);
  registerConsumeCommand(program, client);
  const groups = registerGroupCommands(program, client);

  registerVerifyCommand(program, { connection: () => program.opts<GlobalOptions>(), setExit });

  registerSmoke(program, setExit);
  registerLifecycleCommands(topics, groups, client);
  registerHistoryCommands(topics, groups, client);
  registerSubscriptionCommands(program, client);
  registerSecurityCommands(program, client);
  return program;
}

// ---- errors ------------------------------------------------------------------------------------------

export function describeFailure(error: unknown, url: string): { message: string; code: number } {
  if (error instanceof CommanderError) return { message: error.message, code: EXIT.usage };
  if (!(error instanceof DynalogError)) return { message: (error as Error)?.message ?? String(error), code: EXIT.failed };
  const unreachable = ["CONNECTION_ERROR", "NETWORK_ERROR", "CLIENT_TIMEOUT"].includes(error.code) || (error.code === "HTTP_ERROR" && (error.status ?? 0) >= 500);
  if (unreachable) {
    const hint = url === DEFAULT_URL ? "is the local broker running? Start it with `npm start`, or point --url / DYNALOG_URL elsewhere" : "check --url / DYNALOG_URL";
    return { message: `${error.message} — ${hint}`, code: EXIT.unreachable };
  }
  if (error.code === "AUTHENTICATION_FAILED" || error.status === 401) {
    return { message: `authentication failed: ${error.message} — pass an API key with --token or DYNALOG_TOKEN`, code: EXIT.auth };
  }
  if (error.code.endsWith("_AUTHORIZATION_FAILED") || error.status === 403) {
    return { message: `not allowed: ${error.message}`, code: EXIT.auth };
  }
  if (error.code === "UNKNOWN_TOPIC_OR_PARTITION" || error.code === "GROUP_ID_NOT_FOUND" || error.code === "SUBSCRIPTION_NOT_FOUND") {
    return { message: `${error.message} (${error.code})`, code: EXIT.notFound };
  }
  if (error.code === "NON_EMPTY_GROUP") return { message: `${error.message} — stop the group's consumers first`, code: EXIT.failed };
  return { message: `${error.message} (${error.code})`, code: EXIT.failed };
}

// ---- helpers ------------------------------------------------------------------------------------------

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }).version;
  } catch {
    return "0.0.0";
  }
}
