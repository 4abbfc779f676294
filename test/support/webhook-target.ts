/**
 * A webhook target for push-subscription tests: a local HTTP server that hands each delivered
 * event to the responder registered for its path, and records what it answered.
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { SubscriptionEvent } from "../../shared/core/dispatch-event.js";

/** What one request carried, beside its parsed event; `response` lets a test answer later. */
export interface WebhookRequest {
  readonly headers: IncomingHttpHeaders;
  readonly raw: string;
  readonly response: ServerResponse;
}

/** A status and an optional JSON body; `undefined` holds the response (the test answers it via `response`). */
export type WebhookResponder = (event: SubscriptionEvent, request: WebhookRequest) => { status: number; body?: unknown } | undefined;

/** A request the target answered at once. */
export interface WebhookDelivery {
  readonly path: string;
  readonly raw: string;
  readonly headers: IncomingHttpHeaders;
  readonly event: SubscriptionEvent;
  readonly status: number;
}

export interface WebhookTarget {
  readonly baseUrl: string;
  /** By request path; a path without one gets `fallback`'s answer. */
  readonly responders: Map<string, WebhookResponder>;
  readonly deliveries: WebhookDelivery[];
  close(): Promise<void>;
}

export async function startWebhookTarget(fallback: WebhookResponder): Promise<WebhookTarget> {
  const responders = new Map<string, WebhookResponder>();
  const deliveries: WebhookDelivery[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (c: Buffer) => chunks.push(c));
    request.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      const event = JSON.parse(raw) as SubscriptionEvent;
      const path = request.url ?? "/";
      const answer = (responders.get(path) ?? fallback)(event, { headers: request.headers, raw, response });
      if (answer === undefined) return;
      deliveries.push({ path, raw, headers: request.headers, event, status: answer.status });
      response.writeHead(answer.status, { "content-type": "application/json" });
      response.end(answer.body === undefined ? "" : JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    responders,
    deliveries,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
