/**
 * The whole HTTP API as one Hono app: every function's route modules composed (compose.ts). Tests
 * and tools serve it in-process; each Lambda function composes only its own route modules
 * (functions/*.ts → function-routes/<fn>.ts), so its bundle holds only what its routes use.
 */
import type { Broker, BrokerDependencies } from "../core/broker.js";
import { composeApi, type ApiOptions, type DynalogApi, type RouteHandlers } from "./compose.js";
import { adminCore, adminRoutes } from "./function-routes/admin.js";
import { commitCore, commitRoutes } from "./function-routes/commit.js";
import { fetchCore, fetchRoutes } from "./function-routes/fetch.js";
import { produceCore, produceRoutes } from "./function-routes/produce.js";
import { subscriptionRoutes, subscriptionsCore } from "./function-routes/subscriptions.js";
import { transactionRoutes, transactionsCore } from "./function-routes/transactions.js";
import type { FunctionName } from "./routes.js";

export { composeApi, type ApiOptions, type DynalogApi, type Handler, type RouteHandlers } from "./compose.js";

/** Each function's route modules (the same ones its Lambda entry point imports). */
export const FUNCTION_ROUTES: Readonly<Record<FunctionName, readonly RouteHandlers[]>> = {
  admin: adminRoutes,
  produce: produceRoutes,
  fetch: fetchRoutes,
  commit: commitRoutes,
  transactions: transactionRoutes,
  subscriptions: subscriptionRoutes,
};

/** One function's API over only its own core areas, as its Lambda builds it (shared/runtime/lambda.ts). */
export type FunctionApi = (deps: BrokerDependencies, options?: ApiOptions) => DynalogApi;

function functionApi<B>(core: (deps: BrokerDependencies) => B, routes: readonly RouteHandlers<NoInfer<B>>[]): FunctionApi {
  return (deps, options) => composeApi(core(deps), routes, options);
}

/** Each function's API as deployed: its routes over its own core (the IAM coverage test runs these). */
export const FUNCTION_APIS: Readonly<Record<FunctionName, FunctionApi>> = {
  admin: functionApi(adminCore, adminRoutes),
  produce: functionApi(produceCore, produceRoutes),
  fetch: functionApi(fetchCore, fetchRoutes),
  commit: functionApi(commitCore, commitRoutes),
  transactions: functionApi(transactionsCore, transactionRoutes),
  subscriptions: functionApi(subscriptionsCore, subscriptionRoutes),
};

/** Every route (or, with `options.functions`, those functions' routes). */
export function createApi(broker: Broker, options: ApiOptions = {}): DynalogApi {
  return composeApi(broker, Object.values(FUNCTION_ROUTES).flat(), options);
}
