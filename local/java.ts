import { spawnSync } from "node:child_process";
import path from "node:path";

/** Minimum Java major version required by DynamoDB Local 3.x. */
export const MIN_JAVA_VERSION = 17;

export type JavaCheckResult =
  | { ok: true; version: number }
  | { ok: false; message: string };

const INSTALL_HINT =
  "Install it with `sudo apt-get install -y openjdk-17-jre-headless` (Debian/Ubuntu) " +
  "or `brew install openjdk@17` (macOS), or set JAVA_HOME to a Java 17+ installation.";

/**
 * The java executable to run: `$JAVA_HOME/bin/java` when JAVA_HOME is set,
 * otherwise `java` from PATH.
 */
export function javaCommand(env: NodeJS.ProcessEnv = process.env): string {
  const javaHome = env.JAVA_HOME?.trim();
  if (javaHome) {
    const exe = process.platform === "win32" ? "java.exe" : "java";
    return path.join(javaHome, "bin", exe);
  }
  return "java";
}

/**
 * Parses the major version out of `java -version` output. Handles both the
 * modern style (`openjdk version "17.0.15"`, `"21" 2023-09-19`) and the legacy
 * style (`java version "1.8.0_292"` → 8). Returns undefined if unrecognised.
 */
export function parseJavaMajorVersion(output: string): number | undefined {
  const match = /version\s+"(\d+)(?:\.(\d+))?[^"]*"/.exec(output);
  if (!match) return undefined;
  const first = Number(match[1]);
  if (first === 1 && match[2] !== undefined) return Number(match[2]);
  return first;
}

/**
 * Checks that a Java 17+ runtime is available (honouring JAVA_HOME).
 * `env` defaults to `process.env`; pass an override for testing.
 */
export function checkJava(env: NodeJS.ProcessEnv = process.env): JavaCheckResult {
  const command = javaCommand(env);
  const where = env.JAVA_HOME?.trim() ? `JAVA_HOME=${env.JAVA_HOME} (${command})` : "`java` on PATH";

  const result = spawnSync(command, ["-version"], {
    env,
    encoding: "utf8",
    timeout: 15_000,
    stdio: ["ignore", "pipe", "pipe"],
  });

  if (result.error) {
    const code = (result.error as NodeJS.ErrnoException).code;
    const reason = code === "ENOENT" ? "was not found" : `could not be run (${code ?? result.error.message})`;
    return {
      ok: false,
      message: `DynamoDB Local needs Java ${MIN_JAVA_VERSION}+, but ${where} ${reason}.\n${INSTALL_HINT}`,
    };
  }

  const output = `${result.stderr ?? ""}\n${result.stdout ?? ""}`;
  const version = parseJavaMajorVersion(output);
  if (version === undefined) {
    const firstLine = output.trim().split("\n")[0] ?? "";
    return {
      ok: false,
      message:
        `DynamoDB Local needs Java ${MIN_JAVA_VERSION}+, but the version of ${where} could not be determined` +
        (firstLine ? ` ("${firstLine}")` : ` (exit status ${String(result.status)})`) +
        `.\n${INSTALL_HINT}`,
    };
  }
  if (version < MIN_JAVA_VERSION) {
    return {
      ok: false,
      message: `DynamoDB Local needs Java ${MIN_JAVA_VERSION}+, but ${where} is Java ${version}.\n${INSTALL_HINT}`,
    };
  }
  return { ok: true, version };
}
