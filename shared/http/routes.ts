/**
 * Every HTTP route and the Lambda function that serves it. The API app registers routes from this
 * table, the local gateway dispatches by it, and the CDK stack creates API routes from it, so the
 * three cannot disagree.
 */

import type { UpstashRouteId } from "./upstash/routes.js";

/** The deployed Lambda functions; each gets only the IAM permissions its routes need. */
export type FunctionName = "admin" | "produce" | "fetch" | "commit" | "transactions" | "subscriptions";
export const FUNCTION_NAMES: readonly FunctionName[] = ["admin", "produce", "fetch", "commit", "transactions", "subscriptions"];

export type HttpMethod = "GET" | "POST" | "DELETE";

export type RouteId =
  | "createTopic"
  | "listTopics"
  | "describeTopic"
  | "deleteTopic"
  | "describeTopicConfigs"
  | "alterTopicConfigs"
  | "createPartitions"
  | "deleteRecords"
  | "deleteGroup"
  | "compactTopic"
  | "initProducer"
  | "produce"
  | "commitTransaction"
  | "fetch"
  | "fetchPartition"
  | "listOffsets"
  | "commitOffsets"
  | "committedOffsets"
  | "groupHeartbeat"
  | "removeGroupMember"
  | "listGroups"
  | "describeGroup"
  | "traceRecord"
  | "createAcl"
  | "listAcls"
  | "deleteAcl"
  | "createApiKey"
  | "listApiKeys"
  | "revokeApiKey"
  | UpstashRouteId
  | SubscriptionRouteId
  | "topicHistory"
  | "groupHistory"
  | "topicsHistory";

export type SubscriptionRouteId = "createSubscription" | "listSubscriptions" | "describeSubscription" | "pauseSubscription" | "resumeSubscription" | "deleteSubscription" | "rotateSubscriptionSecret";

export interface RouteDefinition {
  readonly id: RouteId;
  readonly method: HttpMethod;
  /** Hono-style path (`:name` parameters). */
  readonly path: string;
  readonly fn: FunctionName;
}

export const ROUTES: readonly RouteDefinition[] = [
  { id: "createTopic", method: "POST", path: "/v1/topics", fn: "admin" },
  { id: "listTopics", method: "GET", path: "/v1/topics", fn: "admin" },
  { id: "describeTopic", method: "GET", path: "/v1/topics/:topic", fn: "admin" },
  { id: "deleteTopic", method: "DELETE", path: "/v1/topics/:topic", fn: "admin" },
  // Topic lifecycle (shared/http/lifecycle-routes.ts): admin operations on the topic and log-start hints.
  { id: "describeTopicConfigs", method: "GET", path: "/v1/topics/:topic/configs", fn: "admin" },
  { id: "alterTopicConfigs", method: "POST", path: "/v1/topics/:topic/configs", fn: "admin" },
  { id: "createPartitions", method: "POST", path: "/v1/topics/:topic/partitions", fn: "admin" },
  { id: "deleteRecords", method: "POST", path: "/v1/topics/:topic/delete-records", fn: "admin" },
  { id: "compactTopic", method: "POST", path: "/v1/topics/:topic/compact", fn: "admin" },
  { id: "initProducer", method: "POST", path: "/v1/producers", fn: "produce" },
  { id: "produce", method: "POST", path: "/v1/topics/:topic/records", fn: "produce" },
  // Transactions write records AND offsets: their own function, so plain produce never can.
  { id: "commitTransaction", method: "POST", path: "/v1/transactions", fn: "transactions" },
  { id: "fetch", method: "POST", path: "/v1/fetch", fn: "fetch" },
  { id: "fetchPartition", method: "GET", path: "/v1/topics/:topic/partitions/:partition/records", fn: "fetch" },
  { id: "listOffsets", method: "GET", path: "/v1/topics/:topic/partitions/:partition/offsets", fn: "fetch" },
  { id: "commitOffsets", method: "POST", path: "/v1/groups/:group/offsets", fn: "commit" },
  { id: "committedOffsets", method: "GET", path: "/v1/groups/:group/offsets", fn: "commit" },
  // Group membership writes only the offsets table, like commits; describe/list read the log too (lag).
  { id: "groupHeartbeat", method: "POST", path: "/v1/groups/:group/heartbeat", fn: "commit" },
  { id: "removeGroupMember", method: "DELETE", path: "/v1/groups/:group/members/:memberId", fn: "commit" },
  { id: "listGroups", method: "GET", path: "/v1/groups", fn: "admin" },
  { id: "describeGroup", method: "GET", path: "/v1/groups/:group", fn: "admin" },
  { id: "deleteGroup", method: "DELETE", path: "/v1/groups/:group", fn: "admin" },
  // History for the console's charts (shared/http/history-routes.ts; docs/console.md, "History"):
  // reads the samples the history function keeps in the producers table; describe rights.
  { id: "topicHistory", method: "GET", path: "/v1/topics/:topic/history", fn: "admin" },
  { id: "groupHistory", method: "GET", path: "/v1/groups/:group/history", fn: "admin" },
  // Every topic's totals at once, for the topics list (not /v1/topics/history: a topic may be named "history").
  { id: "topicsHistory", method: "GET", path: "/v1/history/topics", fn: "admin" },
  // Tracing a message (docs/console.md): reads the log, offsets and transaction records; the admin function, like describeGroup.
  { id: "traceRecord", method: "GET", path: "/v1/topics/:topic/partitions/:partition/records/:offset/trace", fn: "admin" },
  { id: "createAcl", method: "POST", path: "/v1/acls", fn: "admin" },
  { id: "listAcls", method: "GET", path: "/v1/acls", fn: "admin" },
  { id: "deleteAcl", method: "DELETE", path: "/v1/acls/:id", fn: "admin" },
  { id: "createApiKey", method: "POST", path: "/v1/api-keys", fn: "admin" },
  { id: "listApiKeys", method: "GET", path: "/v1/api-keys", fn: "admin" },
  { id: "revokeApiKey", method: "DELETE", path: "/v1/api-keys/:keyId", fn: "admin" },
  // Push subscriptions (shared/http/subscription-routes.ts; docs/subscriptions.md): their own
  // function manages them (the webhook guard's ipaddr.js and the subscription model stay out of
  // admin's bundle, issue 17), the dispatcher function (not a route) delivers them.
  { id: "createSubscription", method: "POST", path: "/v1/subscriptions", fn: "subscriptions" },
  { id: "listSubscriptions", method: "GET", path: "/v1/subscriptions", fn: "subscriptions" },
  { id: "describeSubscription", method: "GET", path: "/v1/subscriptions/:name", fn: "subscriptions" },
  { id: "deleteSubscription", method: "DELETE", path: "/v1/subscriptions/:name", fn: "subscriptions" },
  { id: "pauseSubscription", method: "POST", path: "/v1/subscriptions/:name/pause", fn: "subscriptions" },
  { id: "resumeSubscription", method: "POST", path: "/v1/subscriptions/:name/resume", fn: "subscriptions" },
  { id: "rotateSubscriptionSecret", method: "POST", path: "/v1/subscriptions/:name/rotate-secret", fn: "subscriptions" },
  // The Upstash-compatible dialect (docs/upstash.md), at the root as @upstash/kafka calls it.
  { id: "upstashProduce", method: "POST", path: "/produce", fn: "produce" },
  { id: "upstashFetch", method: "POST", path: "/fetch", fn: "fetch" },
  { id: "upstashOffsets", method: "POST", path: "/offsets/:timestamp", fn: "fetch" },
  { id: "upstashTopics", method: "GET", path: "/topics", fn: "admin" },
  { id: "upstashConsumers", method: "GET", path: "/consumers", fn: "admin" },
  // Consumer instances are group members with stored positions: the commit function, which owns
  // the offsets table, with read access to the log for consume.
  { id: "upstashConsume", method: "POST", path: "/consume/:group/:instance", fn: "commit" },
  { id: "upstashCommit", method: "POST", path: "/commit/:group/:instance", fn: "commit" },
  { id: "upstashCommitted", method: "POST", path: "/committed/:group/:instance", fn: "commit" },
  { id: "upstashDeleteConsumer", method: "POST", path: "/delete-consumer/:group/:instance", fn: "commit" },
  // Its forms documented for curl (shared/http/upstash/curl-routes.ts).
  { id: "upstashProduceMessage", method: "GET", path: "/produce/:topic/:message", fn: "produce" },
  { id: "upstashProduceTopic", method: "POST", path: "/produce/:topic", fn: "produce" },
  { id: "upstashWebhook", method: "POST", path: "/webhook", fn: "produce" },
  { id: "upstashConsumeTopic", method: "GET", path: "/consume/:group/:instance/:topic", fn: "commit" },
];


/** API Gateway's path syntax (`{name}`) for a route. */
export function apiGatewayPath(route: RouteDefinition): string {
  return route.path.replace(/:([A-Za-z]+)/g, "{$1}");
}

/** Does `path` match the route's pattern (any method)? */
export function matchesPath(route: RouteDefinition, path: string): boolean {
  const pattern = new RegExp(`^${route.path.replace(/:[A-Za-z]+/g, "[^/]+")}/?$`);
  return pattern.test(path);
}
