/** A plain-text summary of a CheckResult, for the CLI and for test failure messages. */
import { ANOMALY_DESCRIPTIONS, ANOMALY_KINDS } from "./anomalies.js";
import type { CheckResult } from "./checker.js";

export function formatVerdict(result: CheckResult): string {
  const lines: string[] = [];
  const { stats } = result;
  lines.push(result.valid ? "VALID: no anomalies found" : `INVALID: ${Object.values(result.anomalies).reduce((n, a) => n + (a?.count ?? 0), 0)} anomalies`);
  const ops = Object.entries(stats.operations)
    .map(([type, o]) => `${type} ${o.ok} ok/${o.fail} fail/${o.info} info`)
    .join(", ");
  lines.push(`operations: ${ops || "none"}`);
  lines.push(
    `values: ${stats.valuesSent} sent, ${stats.valuesAcknowledged} acknowledged, ${stats.valuesRead} read` +
      (stats.drained === undefined ? ", no final drain" : `, ${stats.drained} drained`) +
      `; indefinite writes ${stats.indefiniteSeen} seen / ${stats.indefiniteUnseen} unseen` +
      (stats.allowedDuplicates > 0 ? `; ${stats.allowedDuplicates} allowed duplicates (at-least-once producers)` : ""),
  );
  if (stats.copy) lines.push(`copy: ${stats.copy.inputs} input records, ${stats.copy.due} committed by the copier, ${stats.copy.outputs} output records`);
  for (const kind of ANOMALY_KINDS) {
    const report = result.anomalies[kind];
    if (!report) continue;
    lines.push(`${kind}: ${report.count} (${ANOMALY_DESCRIPTIONS[kind]})`);
    for (const example of report.examples) lines.push(`  - ${example.message}`);
    if (report.count > report.examples.length) lines.push(`  … and ${report.count - report.examples.length} more`);
  }
  return lines.join("\n");
}
