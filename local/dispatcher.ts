/**
 * The local broker's push-subscription dispatcher (docs/subscriptions.md, "Locally"): the core's
 * Dispatcher in process, polling active subscriptions (reads only while idle) and delivering to
 * webhooks, local modules (`--function ./handler.mjs`) and Lambda functions.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { createBroker } from "../shared/core/broker.js";
import { Dispatcher } from "../shared/core/dispatch.js";
import type { BrokerConfig } from "../shared/core/context.js";
import { dynamoDbClientCreated } from "../shared/runtime/client-hooks.js";
import { createInvoker } from "../shared/runtime/invokers.js";
import { createWebhookGuard } from "../shared/runtime/webhook-guard.js";
import { createDynamoStorage } from "../shared/storage/dynamo-storage.js";
import type { TableNames } from "../shared/storage/tables.js";
import { localDynamoDbClientConfig } from "./dynamodb-local.js";

export interface LocalDispatcher {
  readonly dispatcher: Dispatcher;
  stop(): Promise<void>;
}

export interface LocalDispatcherOptions {
  readonly endpoint: string;
  readonly tables: TableNames;
  readonly config: Partial<BrokerConfig>;
  /** How often an idle dispatcher looks for records (ms); default 250. */
  readonly idleMs?: number;
  /** Deliver webhooks to public addresses only (DYNALOG_SUBSCRIPTION_WEBHOOK_GUARD=on); default off locally. */
  readonly webhookGuard?: boolean;
  /** Start the background loop (default true); tests may drive `dispatcher.drain()` themselves. */
  readonly autoStart?: boolean;
  readonly onError?: (error: unknown, where: { readonly subscription: string; readonly partition?: number }) => void;
}

export function startLocalDispatcher(options: LocalDispatcherOptions): LocalDispatcher {
  // Created like the handlers' clients, so chaos mode (local/faults) reaches the dispatcher too.
  const client = dynamoDbClientCreated(new DynamoDBClient(localDynamoDbClientConfig(options.endpoint)));
  const broker = createBroker({ storage: createDynamoStorage(client, options.tables), config: options.config });
  const dispatcher = new Dispatcher({ broker, invoker: createInvoker(options.webhookGuard ? { guard: createWebhookGuard() } : {}), onError: options.onError });
  if (options.autoStart !== false) dispatcher.start(options.idleMs ?? 250);
  return {
    dispatcher,
    async stop() {
      await dispatcher.stop();
      client.destroy();
    },
  };
}
