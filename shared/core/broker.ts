/**
 * The broker core: every operation the API offers, with no knowledge of HTTP or of how storage
 * lays out items. Built by a factory from named dependencies: the operations of every area
 * (broker-areas.ts) over one shared set of services. A Lambda function builds only its own
 * areas' operations instead (shared/http/function-routes/<fn>.ts).
 */
import {
  brokerContext,
  compactionOperations,
  fetchOperations,
  groupOperations,
  historyOperations,
  lifecycleOperations,
  membershipOperations,
  produceOperations,
  subscriptionOperations,
  topicOperations,
  traceOperations,
  transactionOperations,
  type BrokerDependencies,
} from "./broker-areas.js";
import { GroupMembership } from "./group-membership.js";
import { ConsumerGroups } from "./groups.js";
import { LogReader } from "./log-reader.js";
import { ProducerIds } from "./producer-ids.js";
import { TopicCatalog } from "./topics.js";

export { brokerContext, partitionSizes, type BrokerDependencies, type ListedOffset, type OffsetSpec, type PartitionDescription, type TopicDescription } from "./broker-areas.js";
export type { CommittedPartitionOffset } from "./groups.js";

export type Broker = ReturnType<typeof createBroker>;

export function createBroker(deps: BrokerDependencies) {
  const ctx = brokerContext(deps);
  const topics = new TopicCatalog(ctx);
  const reader = new LogReader(ctx);
  const producerIds = new ProducerIds(ctx);
  const groups = new ConsumerGroups(ctx, topics, reader);
  return {
    config: ctx.config,
    ...topicOperations(ctx, topics, reader),
    ...lifecycleOperations(ctx, topics, reader),
    ...compactionOperations(ctx, topics, reader),
    ...produceOperations(ctx, topics, producerIds),
    ...transactionOperations(ctx, topics, groups, producerIds),
    ...fetchOperations(ctx, topics, reader),
    ...groupOperations(groups),
    ...membershipOperations(new GroupMembership(ctx, topics)),
    ...traceOperations(ctx, topics, groups),
    ...subscriptionOperations(ctx, topics, reader, groups),
    ...historyOperations(ctx, topics, reader),
    /** Upstash-dialect consumer instances: state the HTTP adapter keeps for stateless clients. */
    consumerInstances: ctx.storage.consumerInstances,
  };
}
