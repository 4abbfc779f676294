/** The produce function's route modules. */
import type { RouteHandlers } from "../compose.js";
import { curlHandlers } from "../upstash/curl-routes.js";
import { produceHandlers } from "../produce-routes.js";
import { upstashProduceHandlers } from "../upstash/routes.js";

export const produceRoutes: readonly RouteHandlers[] = [produceHandlers, upstashProduceHandlers(), curlHandlers()];
