/** The deployed console function's handler over a bundle directory (functions/console.ts passes its asset's). */
import { handle } from "hono/aws-lambda";
import { createConsoleRoutes } from "../http/console-routes.js";
import { readConsoleBundle } from "./console-bundle.js";

export function consoleLambdaHandler(bundleDir: string): ReturnType<typeof handle> {
  return handle(createConsoleRoutes(readConsoleBundle(bundleDir)));
}
