/** The produce function's route modules, and the part of the core they call. */
import { brokerContext, produceOperations, type BrokerDependencies } from "../../core/broker-areas.js";
import { ProducerIds } from "../../core/producer-ids.js";
import { TopicCatalog } from "../../core/topics.js";
import type { RouteHandlers } from "../compose.js";
import { curlProduceHandlers } from "../upstash/curl-routes.js";
import { produceHandlers } from "../produce-routes.js";
import { upstashProduceHandlers } from "../upstash/routes.js";

export function produceCore(deps: BrokerDependencies) {
  const ctx = brokerContext(deps);
  return produceOperations(ctx, new TopicCatalog(ctx), new ProducerIds(ctx));
}

export const produceRoutes: readonly RouteHandlers<ReturnType<typeof produceCore>>[] = [produceHandlers, upstashProduceHandlers(), curlProduceHandlers()];
