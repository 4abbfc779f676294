/// <reference path="./provided-context.d.ts" />
import { randomBytes } from "node:crypto";
import { inject } from "vitest";
import { assertLocalEndpoint } from "../../local/dynamodb-local.js";

/** The DynamoDB Local endpoint provided by test/global-setup.ts (guaranteed local). */
export function testEndpoint(): string {
  const endpoint = inject("dynamodbEndpoint");
  if (!endpoint) throw new Error("dynamodbEndpoint was not provided: is test/global-setup.ts configured as globalSetup?");
  assertLocalEndpoint(endpoint);
  return endpoint;
}

let counter = 0;
const VALID_PREFIX = /^[a-zA-Z0-9_.-]*$/;

/**
 * A name unique across test files and workers, e.g. `orders-k3x9f2-1`.
 * Only uses [a-zA-Z0-9_.-], so it is valid as (a prefix of) a DynamoDB table name.
 */
export function uniqueName(prefix: string): string {
  if (!VALID_PREFIX.test(prefix)) {
    throw new Error(`uniqueName prefix ${JSON.stringify(prefix)} may only contain [a-zA-Z0-9_.-]`);
  }
  counter += 1;
  const random = randomBytes(4).readUInt32BE(0).toString(36).padStart(6, "0").slice(-6);
  const sep = prefix === "" || /[_.-]$/.test(prefix) ? "" : "-";
  return `${prefix}${sep}${random}-${counter}`;
}
