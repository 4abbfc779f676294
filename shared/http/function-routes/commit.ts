/** The commit function's route modules (offsets and group membership, Upstash consumer instances), and the part of the core they call. */
import { brokerContext, fetchOperations, groupOperations, membershipOperations, type BrokerDependencies } from "../../core/broker-areas.js";
import { GroupMembership } from "../../core/group-membership.js";
import { ConsumerGroups } from "../../core/groups.js";
import { LogReader } from "../../core/log-reader.js";
import { TopicCatalog } from "../../core/topics.js";
import { commitHandlers } from "../commit-routes.js";
import type { RouteHandlers } from "../compose.js";
import { curlConsumeHandlers } from "../upstash/curl-routes.js";
import { consumerHandlers } from "../upstash/consumers.js";

/** Upstash consumer instances also read the log (consume is a fetch). */
export function commitCore(deps: BrokerDependencies) {
  const ctx = brokerContext(deps);
  const topics = new TopicCatalog(ctx);
  const reader = new LogReader(ctx);
  return {
    ...groupOperations(new ConsumerGroups(ctx, topics, reader)),
    ...membershipOperations(new GroupMembership(ctx, topics)),
    ...fetchOperations(ctx, topics, reader),
    consumerInstances: ctx.storage.consumerInstances,
  };
}

export const commitRoutes: readonly RouteHandlers<ReturnType<typeof commitCore>>[] = [commitHandlers, consumerHandlers(), curlConsumeHandlers()];
