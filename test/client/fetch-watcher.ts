/** A fetch for the SDK that records each consumer fetch's maxWaitMs and counts long polls in flight (notification tests). */
import type { FetchFunction } from "../../client/index.js";
import { deferred } from "./support.js";

/** Every fetch request's maxWaitMs, and how many long polls (maxWaitMs > 0) are in flight. */
export function fetchWatcher() {
  const waits: number[] = [];
  let longPollsInFlight = 0;
  const firstImmediateFetchDone = deferred();
  const fetchImpl: FetchFunction = async (input, init) => {
    const isFetch = new URL(input).pathname === "/v1/fetch";
    const maxWaitMs = isFetch && typeof init.body === "string" ? (JSON.parse(init.body) as { maxWaitMs: number }).maxWaitMs : undefined;
    if (maxWaitMs !== undefined) waits.push(maxWaitMs);
    if (maxWaitMs !== undefined && maxWaitMs > 0) longPollsInFlight++;
    try {
      const response = await fetch(input, init);
      await response.clone().arrayBuffer();
      return response;
    } finally {
      if (maxWaitMs !== undefined && maxWaitMs > 0) longPollsInFlight--;
      if (maxWaitMs === 0) firstImmediateFetchDone.resolve();
    }
  };
  return { waits, fetch: fetchImpl, inFlight: () => longPollsInFlight, idle: firstImmediateFetchDone.promise };
}

