/**
 * The console's only way to the broker: the public HTTP API (docs/api.md) on the page's own origin,
 * with the API key from the login form as a Bearer token. Every failure becomes a `Problem` the
 * pages can show: refused credentials, a refusal, an unreachable broker, or an API error.
 */
import type { GroupDescription, GroupHistory, GroupSummary, ProduceResult, RecordPage, RecordTrace, Subscription, SubscriptionDescription, TopicDescription, TopicHistory, TopicsHistory, TopicSummary } from "./types.js";

export type Problem =
  /** 401, or API Gateway refusing the key: the login form takes over. */
  | { readonly kind: "unauthenticated"; readonly status: number; readonly code: string; readonly message: string }
  /** 403 with the broker's envelope: the key is fine, its ACLs do not allow this. */
  | { readonly kind: "forbidden"; readonly status: number; readonly code: string; readonly message: string }
  /** No answer at all, or a gateway error without the broker's envelope. */
  | { readonly kind: "unreachable"; readonly message: string }
  | { readonly kind: "error"; readonly status: number; readonly code: string; readonly message: string; readonly details: Readonly<Record<string, unknown>> };

export class ApiError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.message);
  }
}

const KEY_STORAGE = "dynalog.console.apiKey";

/** The API key lives for the browser tab only (sessionStorage), never in a cookie or the URL. */
export const credentials = {
  get: (): string | null => sessionStorage.getItem(KEY_STORAGE),
  set: (token: string): void => sessionStorage.setItem(KEY_STORAGE, token.trim()),
  clear: (): void => sessionStorage.removeItem(KEY_STORAGE),
};

type Listener = (problem: Problem) => void;
const authListeners = new Set<Listener>();

/** Called whenever the broker refuses the credentials, wherever the request came from. */
export function onUnauthenticated(listener: Listener): () => void {
  authListeners.add(listener);
  return () => authListeners.delete(listener);
}

interface ErrorEnvelope {
  readonly error?: { readonly code?: string; readonly message?: string; readonly [detail: string]: unknown };
  /** API Gateway's own refusals: `{"message": "Forbidden"}`. */
  readonly message?: string;
}

async function call<T>(method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  const token = credentials.get();
  if (token) headers["authorization"] = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  let response: Response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: "no-store" });
  } catch (error) {
    throw new ApiError({ kind: "unreachable", message: `The broker at ${location.origin} is unreachable (${error instanceof Error ? error.message : String(error)}).` });
  }
  const text = await response.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (response.ok) return json as T;
  throw new ApiError(problemOf(response.status, json as ErrorEnvelope | undefined));
}

function problemOf(status: number, body: ErrorEnvelope | undefined): Problem {
  const envelope = body?.error;
  if (!envelope?.code) {
    // Not the broker speaking: API Gateway refusing a key (401/403), or a proxy failing.
    if (status === 401 || status === 403) {
      return notify({ kind: "unauthenticated", status, code: "GATEWAY_REFUSED", message: `The gateway refused the request: ${body?.message ?? "no credentials, or a key it does not accept"}` });
    }
    return { kind: "unreachable", message: `The broker did not answer properly (HTTP ${status}${body?.message ? `: ${body.message}` : ""}).` };
  }
  const { code, message = code, ...details } = envelope;
  if (status === 401) return notify({ kind: "unauthenticated", status, code, message });
  if (status === 403) return { kind: "forbidden", status, code, message };
  return { kind: "error", status, code, message, details };
}

function notify(problem: Problem): Problem {
  for (const listener of authListeners) listener(problem);
  return problem;
}

const topicPath = (topic: string) => `/v1/topics/${encodeURIComponent(topic)}`;
const groupPath = (group: string) => `/v1/groups/${encodeURIComponent(group)}`;
const subscriptionPath = (name: string) => `/v1/subscriptions/${encodeURIComponent(name)}`;

export interface ProduceInput {
  readonly key: string | null;
  readonly value: string | null;
  readonly headers: readonly { readonly key: string; readonly value: string }[];
  readonly partition?: number;
}

export const api = {
  listTopics: () => call<{ topics: TopicSummary[] }>("GET", "/v1/topics").then((r) => r.topics),
  describeTopic: (topic: string) => call<TopicDescription>("GET", topicPath(topic)),
  /**
   * Records as text where they are UTF-8 (`encoding=utf8`); the rest comes marked as base64. With
   * `metadata=true`: each record's producer id and whether a transaction wrote it.
   */
  fetchRecords: (topic: string, partition: number, offset: number, maxRecords: number) =>
    call<RecordPage>("GET", `${topicPath(topic)}/partitions/${partition}/records?offset=${offset}&maxRecords=${maxRecords}&encoding=utf8&metadata=true`),
  offsetAt: (topic: string, partition: number, at: "earliest" | "latest" | number) =>
    call<{ offset: number | null; timestamp: number | null }>("GET", `${topicPath(topic)}/partitions/${partition}/offsets?at=${at}`),
  produce: (topic: string, record: ProduceInput) => call<ProduceResult>("POST", `${topicPath(topic)}/records`, { encoding: "utf8", records: [record] }),
  /** The broker's samples of the last `minutes` (docs/console.md, "History"). */
  topicHistory: (topic: string, minutes: number) => call<TopicHistory>("GET", `${topicPath(topic)}/history?minutes=${minutes}`),
  /** Every topic's samples in one request (the topics list: not one request per topic). */
  topicsHistory: (minutes: number) => call<TopicsHistory>("GET", `/v1/history/topics?minutes=${minutes}`),
  groupHistory: (group: string, minutes: number) => call<GroupHistory>("GET", `${groupPath(group)}/history?minutes=${minutes}`),
  listGroups: () => call<{ groups: GroupSummary[] }>("GET", "/v1/groups").then((r) => r.groups),
  describeGroup: (group: string) => call<GroupDescription>("GET", groupPath(group)),
  /** Where a record came from and went (docs/api.md, "Trace a record"). */
  traceRecord: (topic: string, partition: number, offset: number) => call<RecordTrace>("GET", `${topicPath(topic)}/partitions/${partition}/records/${offset}/trace`),
  listSubscriptions: () => call<{ subscriptions: Subscription[] }>("GET", "/v1/subscriptions").then((r) => r.subscriptions),
  describeSubscription: (name: string) => call<SubscriptionDescription>("GET", subscriptionPath(name)),
  /** Pause or resume delivery (Alter on the cluster). */
  setSubscriptionState: (name: string, action: "pause" | "resume") => call<Subscription>("POST", `${subscriptionPath(name)}/${action}`),
};

/** `work` over `items`, at most `limit` at a time: describing a hundred topics must not fire a hundred requests at once. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
