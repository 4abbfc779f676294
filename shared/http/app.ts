/**
 * The whole HTTP API as one Hono app: every function's route modules composed (compose.ts). Tests
 * and tools serve it in-process; each Lambda function composes only its own route modules
 * (functions/*.ts → function-routes/<fn>.ts), so its bundle holds only what its routes use.
 */
import type { Broker } from "../core/broker.js";
import { composeApi, type ApiOptions, type DynalogApi, type RouteHandlers } from "./compose.js";
import { adminRoutes } from "./function-routes/admin.js";
import { commitRoutes } from "./function-routes/commit.js";
import { fetchRoutes } from "./function-routes/fetch.js";
import { produceRoutes } from "./function-routes/produce.js";
import { transactionRoutes } from "./function-routes/transactions.js";
import type { FunctionName } from "./routes.js";

export { composeApi, type ApiOptions, type DynalogApi, type Handler, type RouteHandlers } from "./compose.js";

/** Each function's route modules (the same ones its Lambda entry point imports). */
export const FUNCTION_ROUTES: Readonly<Record<FunctionName, readonly RouteHandlers[]>> = {
  admin: adminRoutes,
  produce: produceRoutes,
  fetch: fetchRoutes,
  commit: commitRoutes,
  transactions: transactionRoutes,
};

/** Every route (or, with `options.functions`, those functions' routes). */
export function createApi(broker: Broker, options: ApiOptions = {}): DynalogApi {
  return composeApi(broker, Object.values(FUNCTION_ROUTES).flat(), options);
}
