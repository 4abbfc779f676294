/** The admin function's route modules (topics, groups, topic lifecycle, ACLs and keys, Upstash listings, message traces, history samples), and the part of the core they call. Push subscriptions have their own function (function-routes/subscriptions.ts). */
import {
  brokerContext,
  compactionOperations,
  groupOperations,
  historyOperations,
  lifecycleOperations,
  topicOperations,
  traceOperations,
  type BrokerDependencies,
} from "../../core/broker-areas.js";
import { ConsumerGroups } from "../../core/groups.js";
import { LogReader } from "../../core/log-reader.js";
import { TopicCatalog } from "../../core/topics.js";
import { adminHandlers } from "../admin-routes.js";
import type { RouteHandlers } from "../compose.js";
import { historyHandlers } from "../history-routes.js";
import { lifecycleHandlers } from "../lifecycle-routes.js";
import { securityHandlers } from "../security-routes.js";
import { traceHandlers } from "../trace-routes.js";
import { consumerListingHandlers } from "../upstash/consumers.js";
import { upstashTopicHandlers } from "../upstash/routes.js";

/** Everything but produce, fetch, transactions, group membership writes and push subscriptions. */
export function adminCore(deps: BrokerDependencies) {
  const ctx = brokerContext(deps);
  const topics = new TopicCatalog(ctx);
  const reader = new LogReader(ctx);
  const groups = new ConsumerGroups(ctx, topics, reader);
  return {
    ...topicOperations(ctx, topics, reader),
    ...lifecycleOperations(ctx, topics, reader),
    ...compactionOperations(ctx, topics, reader),
    ...groupOperations(groups),
    ...traceOperations(ctx, topics, groups),
    ...historyOperations(ctx, topics, reader),
    consumerInstances: ctx.storage.consumerInstances,
  };
}

export const adminRoutes: readonly RouteHandlers<ReturnType<typeof adminCore>>[] = [
  adminHandlers,
  lifecycleHandlers,
  securityHandlers,
  upstashTopicHandlers(),
  consumerListingHandlers(),
  traceHandlers,
  historyHandlers,
];
