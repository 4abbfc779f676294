/**
 * `import { Dynalog } from "dynalog/cdk"`: the broker as a construct for a user's own CDK app
 * (aws-cdk-lib and constructs are peer dependencies). From the published package it deploys the
 * prebuilt function bundles in dist/lambda/ (no bundling, no Docker at synthesis).
 */
export { Dynalog, DEFAULT_AUTHORIZER_CACHE_TTL, type AwsSdkSource, type DynalogAuth, type DynalogBilling, type DynalogProps } from "./dynalog.js";
export { DynalogStack, type DynalogStackProps } from "./dynalog-stack.js";
export { DynalogObservability } from "./observability.js";
export type { FunctionName } from "../shared/http/routes.js";
export type { TableId } from "../shared/storage/tables.js";
export type { LogLevel } from "../shared/runtime/config.js";
