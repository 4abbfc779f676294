/**
 * Lambda entry point of the web console's static files on the key API (docs/console.md, "Deployed
 * stacks"): the bundle lies beside this file in the function's asset (console/), is read once per
 * cold start and served by the same route module as the local broker's. No DynamoDB, no AWS SDK,
 * no data: the stack's only unauthenticated routes, so they may reach nothing (infra/console.ts).
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { CONSOLE_ASSET_FOLDER } from "../shared/runtime/console-bundle.js";
import { consoleLambdaHandler } from "../shared/runtime/console-lambda.js";

export const handler = consoleLambdaHandler(path.join(path.dirname(fileURLToPath(import.meta.url)), CONSOLE_ASSET_FOLDER));
