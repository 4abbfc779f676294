/**
 * Which IAM API routes a producer or consumer calls, for the construct's grantProduce/grantConsume
 * (execute-api:Invoke on exactly those routes). The broker's ACLs remain the authority on topics
 * and groups; these keep an IAM caller to the routes of its role.
 */
import { ROUTES, type RouteDefinition, type RouteId } from "../shared/http/routes.js";

/** Topic metadata, producer ids and records; commits of transactions only when asked for. */
export function produceRoutes(options: { readonly transactions?: boolean } = {}): RouteDefinition[] {
  const ids: RouteId[] = ["describeTopic", "initProducer", "produce", ...(options.transactions ? (["commitTransaction"] as const) : [])];
  return ROUTES.filter((r) => ids.includes(r.id));
}

/** Topic metadata, fetches, offsets, and for consumer groups their commits and membership. */
export function consumeRoutes(): RouteDefinition[] {
  const ids: RouteId[] = ["listTopics", "describeTopic", "fetch", "fetchPartition", "listOffsets", "commitOffsets", "committedOffsets", "groupHeartbeat", "removeGroupMember"];
  return ROUTES.filter((r) => ids.includes(r.id));
}

/**
 * The execute-api resource path of `route`: every parameter a wildcard, except `:topic` when a
 * topic is given (routes that name no topic in their path, e.g. POST /v1/fetch, stay unrestricted).
 */
export function routeResourcePath(route: RouteDefinition, topic?: string): string {
  if (topic !== undefined && (topic === "" || /[/*?]/.test(topic))) throw new Error(`Dynalog grant: topic must be a plain topic name, got ${JSON.stringify(topic)}`);
  return route.path.replace(/:([A-Za-z]+)/g, (_, name: string) => (name === "topic" && topic !== undefined ? encodeURIComponent(topic) : "*"));
}
