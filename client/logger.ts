/** KafkaJS-style logging: `logLevel` and an optional `logCreator`. */

export const logLevel = {
  NOTHING: 0,
  ERROR: 1,
  WARN: 2,
  INFO: 4,
  DEBUG: 5,
} as const;
export type LogLevel = (typeof logLevel)[keyof typeof logLevel];

export interface LogEntry {
  readonly namespace: string;
  readonly level: LogLevel;
  readonly label: string;
  readonly log: { readonly timestamp: string; readonly message: string; readonly [key: string]: unknown };
}

export type LogCreator = (level: LogLevel) => (entry: LogEntry) => void;

export interface Logger {
  error(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  info(message: string, extra?: Record<string, unknown>): void;
  debug(message: string, extra?: Record<string, unknown>): void;
  namespace(name: string): Logger;
}

const LABELS: Record<number, string> = { 1: "ERROR", 2: "WARN", 4: "INFO", 5: "DEBUG" };

/** Writes one JSON line per entry to the console (stderr for errors and warnings). */
export const defaultLogCreator: LogCreator = () => (entry) => {
  const line = JSON.stringify({ level: entry.label, logger: "dynalog", namespace: entry.namespace, ...entry.log });
  if (entry.level <= logLevel.WARN) console.error(line);
  else console.log(line);
};

export function createLogger(level: LogLevel = logLevel.INFO, creator: LogCreator = defaultLogCreator, namespace = "Dynalog"): Logger {
  const write = creator(level);
  const at =
    (entryLevel: LogLevel) =>
    (message: string, extra: Record<string, unknown> = {}): void => {
      if (entryLevel > level || level === logLevel.NOTHING) return;
      write({ namespace, level: entryLevel, label: LABELS[entryLevel]!, log: { timestamp: new Date().toISOString(), message, ...extra } });
    };
  return {
    error: at(logLevel.ERROR),
    warn: at(logLevel.WARN),
    info: at(logLevel.INFO),
    debug: at(logLevel.DEBUG),
    namespace: (name) => createLogger(level, creator, name),
  };
}
