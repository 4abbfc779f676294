/** History recording and checking for `dynalog verify` (pure TypeScript, no Node built-ins). */
export * from "./history.js";
export * from "./anomalies.js";
export { checkHistory, type CheckOptions, type CheckResult, type CheckStats, type WriteStatus } from "./checker.js";
export { formatVerdict } from "./verdict.js";
export { checkCopy, copySource, copyValue, type CopySpec, type CopyStats } from "./copy-check.js";
