/** The commit function's route modules: offsets and group membership, Upstash consumer instances. */
import { commitHandlers } from "../commit-routes.js";
import type { RouteHandlers } from "../compose.js";
import { curlHandlers } from "../upstash/curl-routes.js";
import { consumerHandlers } from "../upstash/consumers.js";

export const commitRoutes: readonly RouteHandlers[] = [commitHandlers, consumerHandlers(), curlHandlers()];
