/**
 * The dispatcher's targets (shared/core/dispatch-event.ts `Invoker`): webhooks (HTTP POST, signed),
 * Lambda functions (AWS SDK), and — in the local broker only — a module path standing in for a
 * function. Invokers never throw: every failure is an outcome the dispatcher retries.
 */
import { createHmac } from "node:crypto";
import { pathToFileURL } from "node:url";
import type { InvocationOutcome, Invoker, SubscriptionEvent } from "../core/dispatch-event.js";
import type { SubscriptionRecord } from "../core/subscription-model.js";
import type { WebhookGuard } from "./webhook-guard.js";

export const SIGNATURE_HEADER = "x-dynalog-signature";
export const SUBSCRIPTION_HEADER = "x-dynalog-subscription";
/** Bytes of a target's answer read at most (a partial batch response is small). */
const MAX_RESPONSE_BYTES = 1_048_576;

/**
 * `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the subscription's secret>`: the
 * timestamp is signed too, so a receiver can refuse replays older than a few minutes
 * (docs/subscriptions.md, "Verifying webhook signatures").
 */
export function signatureHeader(secret: string, body: string, nowSeconds: number, previousSecret?: string): string {
  const sign = (key: string) => createHmac("sha256", key).update(`${nowSeconds}.${body}`).digest("hex");
  // During a rotation's grace period both keys sign, as Stripe does: a receiver accepts the
  // delivery when any v1 matches the key it has.
  return `t=${nowSeconds},v1=${sign(secret)}${previousSecret === undefined ? "" : `,v1=${sign(previousSecret)}`}`;
}

/** The rotated-out secret while its grace period lasts. */
function previousSecretAt(subscription: SubscriptionRecord, now: number): string | undefined {
  const previous = subscription.previousSecret;
  return previous && previous.until > now ? previous.secret : undefined;
}

const describe = (error: unknown): string => {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code || cause?.message ? `${error.message} (${cause.code ?? cause.message})` : error.message;
};

function parseAnswer(text: string): unknown {
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined; // a 2xx with a non-JSON body is a plain success
  }
}

export interface WebhookInvokerOptions {
  readonly fetch?: typeof fetch;
  readonly clock?: () => number;
  /** Deliver only to public addresses, checked at connect time (deployed default; webhook-guard.ts). */
  readonly guard?: WebhookGuard;
}

export function webhookInvoker(options: WebhookInvokerOptions = {}) {
  const send = options.fetch ?? fetch;
  const clock = options.clock ?? Date.now;
  const guard = options.guard;
  return async (subscription: SubscriptionRecord, url: string, event: SubscriptionEvent): Promise<InvocationOutcome> => {
    const body = JSON.stringify(event);
    const headers = {
      "content-type": "application/json",
      "user-agent": "dynalog-dispatcher",
      [SUBSCRIPTION_HEADER]: subscription.name,
      [SIGNATURE_HEADER]: signatureHeader(subscription.secret, body, Math.floor(clock() / 1000), previousSecretAt(subscription, clock())),
    };
    const signal = AbortSignal.timeout(subscription.timeoutMs);
    try {
      // Neither follows redirects: a webhook answers where it was registered, or fails.
      const { status, text } = guard
        ? await guard.post(url, { body, headers, signal, maxResponseBytes: MAX_RESPONSE_BYTES })
        : await send(url, { method: "POST", body, redirect: "manual", signal, headers }).then(async (r) => ({ status: r.status, text: (await r.text()).slice(0, MAX_RESPONSE_BYTES) }));
      if (status >= 200 && status < 300) return { ok: true, response: parseAnswer(text) };
      return { ok: false, error: `webhook answered HTTP ${status}${text ? `: ${text.slice(0, 300)}` : ""}` };
    } catch (error) {
      const timedOut = error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
      return { ok: false, error: timedOut ? `webhook did not answer within ${subscription.timeoutMs} ms` : `webhook unreachable: ${describe(error)}` };
    }
  };
}

type ModuleHandler = (event: SubscriptionEvent, context: Record<string, unknown>) => unknown;

/** Local broker only: `import()`s the module once and calls its `handler(event)` as Lambda would. */
export function moduleInvoker() {
  const loaded = new Map<string, Promise<ModuleHandler>>();
  const load = (path: string): Promise<ModuleHandler> => {
    let handler = loaded.get(path);
    if (!handler) {
      handler = import(pathToFileURL(path).href).then((module: { handler?: unknown; default?: unknown }) => {
        const fn = module.handler ?? module.default;
        if (typeof fn !== "function") throw new Error(`${path} exports no handler function`);
        return fn as ModuleHandler;
      });
      // A module that failed to load (a typo, a syntax error being fixed) is tried again next time.
      handler.catch(() => loaded.delete(path));
      loaded.set(path, handler);
    }
    return handler;
  };
  return async (subscription: SubscriptionRecord, path: string, event: SubscriptionEvent): Promise<InvocationOutcome> => {
    let timer: NodeJS.Timeout | undefined;
    try {
      const handler = await load(path);
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`handler did not finish within ${subscription.timeoutMs} ms`)), subscription.timeoutMs);
      });
      const response = await Promise.race([Promise.resolve(handler(event, { functionName: path, subscription: subscription.name })), timeout]);
      return { ok: true, response };
    } catch (error) {
      return { ok: false, error: `function error: ${describe(error)}` };
    } finally {
      clearTimeout(timer);
    }
  };
}

/** Invokes Lambda functions with the AWS SDK (loaded on first use), synchronously (RequestResponse). */
export function lambdaInvoker() {
  type Client = { send(command: unknown, options?: { abortSignal?: AbortSignal }): Promise<{ FunctionError?: string; Payload?: Uint8Array }> };
  const clients = new Map<string, Promise<{ client: Client; command: (input: Record<string, unknown>) => unknown }>>();
  const clientFor = (region: string) => {
    let entry = clients.get(region);
    if (!entry) {
      entry = import("@aws-sdk/client-lambda").then((sdk) => ({
        client: new sdk.LambdaClient({ region }) as unknown as Client,
        command: (input: Record<string, unknown>) => new sdk.InvokeCommand(input as never),
      }));
      clients.set(region, entry);
    }
    return entry;
  };
  return async (subscription: SubscriptionRecord, arn: string, event: SubscriptionEvent): Promise<InvocationOutcome> => {
    try {
      const region = arn.split(":")[3]!;
      const { client, command } = await clientFor(region);
      const result = await client.send(command({ FunctionName: arn, InvocationType: "RequestResponse", Payload: new TextEncoder().encode(JSON.stringify(event)) }), {
        abortSignal: AbortSignal.timeout(subscription.timeoutMs),
      });
      const text = result.Payload ? new TextDecoder().decode(result.Payload) : "";
      if (result.FunctionError) return { ok: false, error: `function error (${result.FunctionError}): ${text.slice(0, 300)}` };
      return { ok: true, response: parseAnswer(text) };
    } catch (error) {
      return { ok: false, error: `invoke failed: ${describe(error)}` };
    }
  };
}

/** Routes each subscription to the invoker of its target's kind. */
export function createInvoker(options: WebhookInvokerOptions = {}): Invoker {
  const webhook = webhookInvoker(options);
  const module = moduleInvoker();
  const lambda = lambdaInvoker();
  return {
    invoke(subscription, event) {
      const target = subscription.target;
      if (target.kind === "webhook") return webhook(subscription, target.url, event);
      if (target.kind === "module") return module(subscription, target.path, event);
      return lambda(subscription, target.arn, event);
    },
  };
}
