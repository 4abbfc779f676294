/**
 * The subscriptions function's route module (push-subscription management, docs/subscriptions.md),
 * and the part of the core it calls. Its own function rather than admin's (issue 17): the
 * subscription model, its store and the webhook guard's ipaddr.js (~29 KB) keep admin's bundle
 * under the 400 KB budget with room to grow.
 */
import { brokerContext, subscriptionOperations, type BrokerDependencies } from "../../core/broker-areas.js";
import { ConsumerGroups } from "../../core/groups.js";
import { LogReader } from "../../core/log-reader.js";
import { TopicCatalog } from "../../core/topics.js";
import type { RouteHandlers } from "../compose.js";
import { subscriptionHandlers } from "../subscription-routes.js";

/** A subscription reads its topic as a group: describe shows the group's lag, create pins its starting offsets. */
export function subscriptionsCore(deps: BrokerDependencies) {
  const ctx = brokerContext(deps);
  const topics = new TopicCatalog(ctx);
  const reader = new LogReader(ctx);
  return subscriptionOperations(ctx, topics, reader, new ConsumerGroups(ctx, topics, reader));
}

export const subscriptionRoutes: readonly RouteHandlers<ReturnType<typeof subscriptionsCore>>[] = [subscriptionHandlers];
