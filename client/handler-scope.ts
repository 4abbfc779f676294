/**
 * "Is this code running inside an eachMessage/eachBatch handler?" — so that `consumer.stop()`
 * called (and awaited) from inside a handler does not wait for that very handler to finish.
 *
 * Following a call across `await`s needs AsyncLocalStorage. Node, Bun, Deno and Cloudflare
 * Workers (nodejs_compat) have it; it is looked up at run time, never imported, so the SDK has no
 * Node built-in imports for bundlers to trip over. Where it is missing (browsers) the answer
 * falls back to "some handler is running right now": a `stop()` from outside while a handler runs
 * then returns without waiting for that handler too — listen for `consumer.events.STOP` to know
 * when the consumer has stopped.
 */
interface ScopeStorage {
  run<R>(store: true, fn: () => R): R;
  getStore(): true | undefined;
}

type ScopeStorageClass = new () => ScopeStorage;

function findAsyncLocalStorage(): ScopeStorageClass | undefined {
  const g = globalThis as { AsyncLocalStorage?: ScopeStorageClass; process?: { getBuiltinModule?: (id: string) => unknown } };
  if (typeof g.AsyncLocalStorage === "function") return g.AsyncLocalStorage;
  try {
    const hooks = g.process?.getBuiltinModule?.("node:async_hooks") as { AsyncLocalStorage?: ScopeStorageClass } | undefined;
    return typeof hooks?.AsyncLocalStorage === "function" ? hooks.AsyncLocalStorage : undefined;
  } catch {
    return undefined;
  }
}

const Storage = findAsyncLocalStorage();
const storage: ScopeStorage | undefined = Storage ? new Storage() : undefined;
let running = 0;

/** Runs a user handler inside the scope. */
export async function runInHandlerScope<R>(handler: () => Promise<R>): Promise<R> {
  if (storage) return storage.run(true, handler);
  running++;
  try {
    return await handler();
  } finally {
    running--;
  }
}

/** True when called from inside a handler (without AsyncLocalStorage: while any handler runs). */
export function insideHandler(): boolean {
  return storage ? storage.getStore() === true : running > 0;
}

/** Whether handler scope follows awaits in this runtime (AsyncLocalStorage found). */
export const handlerScopeIsExact = storage !== undefined;
