/** The fetch function's route modules, and the part of the core they call. */
import { brokerContext, fetchOperations, type BrokerDependencies } from "../../core/broker-areas.js";
import { LogReader } from "../../core/log-reader.js";
import { TopicCatalog } from "../../core/topics.js";
import type { RouteHandlers } from "../compose.js";
import { fetchHandlers } from "../fetch-routes.js";
import { upstashFetchHandlers } from "../upstash/routes.js";

export function fetchCore(deps: BrokerDependencies) {
  const ctx = brokerContext(deps);
  return fetchOperations(ctx, new TopicCatalog(ctx), new LogReader(ctx));
}

export const fetchRoutes: readonly RouteHandlers<ReturnType<typeof fetchCore>>[] = [fetchHandlers, upstashFetchHandlers()];
