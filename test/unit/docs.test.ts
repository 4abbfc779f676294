import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ERROR_TABLE, type ErrorCode } from "../../shared/errors.js";

const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");

describe("README error table", () => {
  const table = readme.split("<!-- error-table:start -->")[1]?.split("<!-- error-table:end -->")[0] ?? "";
  const rows = new Map(
    [...table.matchAll(/^\| `([A-Z_]+)` \| (\d{3}) \| (yes|no) \| (definite|indefinite) \|/gm)].map((m) => [m[1]!, { status: Number(m[2]), retriable: m[3] === "yes", outcome: m[4] }]),
  );

  it("lists every error code with the status, retriable flag and outcome the broker uses", () => {
    for (const [code, spec] of Object.entries(ERROR_TABLE)) {
      expect(rows.get(code), `README row for ${code}`).toEqual({ status: spec.status, retriable: spec.retriable, outcome: spec.outcome });
    }
  });

  it("lists no code the broker does not have", () => {
    for (const code of rows.keys()) expect(Object.keys(ERROR_TABLE)).toContain(code as ErrorCode);
  });
});
