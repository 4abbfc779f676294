/**
 * A process-wide hook on every DynamoDB client the handlers create, so the local broker can add
 * middleware (its chaos mode installs local/faults there) without the Lambda code knowing about
 * faults. Kept on globalThis so handler bundles, each with its own copy of this module, share it.
 * On Lambda nothing registers a hook and this costs nothing.
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";

export type DynamoDbClientHook = (client: DynamoDBClient) => void;

const REGISTRY = Symbol.for("dynalog.dynamoDbClientHooks");

function hooks(): Set<DynamoDbClientHook> {
  const global = globalThis as { [REGISTRY]?: Set<DynamoDbClientHook> };
  return (global[REGISTRY] ??= new Set());
}

/** Run `hook` on every DynamoDB client created from now on; returns a function that removes it. */
export function onDynamoDbClientCreated(hook: DynamoDbClientHook): () => void {
  hooks().add(hook);
  return () => void hooks().delete(hook);
}

/** Called by the runtime right after it creates a DynamoDB client. */
export function dynamoDbClientCreated(client: DynamoDBClient): DynamoDBClient {
  for (const hook of hooks()) hook(client);
  return client;
}
