/** The admin function's route modules: topics, groups, topic lifecycle, ACLs and keys, Upstash listings, push subscriptions (served only with `subscriptions`), message traces, history samples. */
import { adminHandlers } from "../admin-routes.js";
import type { RouteHandlers } from "../compose.js";
import { historyHandlers } from "../history-routes.js";
import { lifecycleHandlers } from "../lifecycle-routes.js";
import { securityHandlers } from "../security-routes.js";
import { subscriptionHandlers } from "../subscription-routes.js";
import { traceHandlers } from "../trace-routes.js";
import { consumerHandlers } from "../upstash/consumers.js";
import { upstashTopicHandlers } from "../upstash/routes.js";

export const adminRoutes: readonly RouteHandlers[] = [adminHandlers, lifecycleHandlers, securityHandlers, upstashTopicHandlers(), consumerHandlers(), subscriptionHandlers, traceHandlers, historyHandlers];
