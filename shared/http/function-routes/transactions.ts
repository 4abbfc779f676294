/** The transactions function's route module, and the part of the core it calls. */
import { brokerContext, transactionOperations, type BrokerDependencies } from "../../core/broker-areas.js";
import { ConsumerGroups } from "../../core/groups.js";
import { LogReader } from "../../core/log-reader.js";
import { ProducerIds } from "../../core/producer-ids.js";
import { TopicCatalog } from "../../core/topics.js";
import type { RouteHandlers } from "../compose.js";
import { transactionHandlers } from "../transaction-routes.js";

/** A transaction commits consumer-group offsets too: the groups' fencing comes along. */
export function transactionsCore(deps: BrokerDependencies) {
  const ctx = brokerContext(deps);
  const topics = new TopicCatalog(ctx);
  return transactionOperations(ctx, topics, new ConsumerGroups(ctx, topics, new LogReader(ctx)), new ProducerIds(ctx));
}

export const transactionRoutes: readonly RouteHandlers<ReturnType<typeof transactionsCore>>[] = [transactionHandlers];
