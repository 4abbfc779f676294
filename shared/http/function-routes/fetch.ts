/** The fetch function's route modules. */
import type { RouteHandlers } from "../compose.js";
import { fetchHandlers } from "../fetch-routes.js";
import { upstashFetchHandlers } from "../upstash/routes.js";

export const fetchRoutes: readonly RouteHandlers[] = [fetchHandlers, upstashFetchHandlers()];
