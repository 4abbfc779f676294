/** KafkaJS-style instrumentation events: `x.on(x.events.NAME, listener)` returns a remover. */
import { randomId } from "./bytes.js";
import type { RequestAttempt, Transport } from "./transport.js";

export interface InstrumentationEvent<T = unknown> {
  readonly id: string;
  readonly type: string;
  readonly timestamp: number;
  readonly payload: T;
}

export type RemoveInstrumentationEventListener = () => void;

export class Instrumentation<Names extends string> {
  private readonly listeners = new Map<string, Set<(event: InstrumentationEvent<any>) => void>>();

  constructor(private readonly known: readonly Names[]) {}

  on(type: Names, listener: (event: InstrumentationEvent<any>) => void): RemoveInstrumentationEventListener {
    if (!this.known.includes(type)) {
      // `x.events.NAME` is undefined for KafkaJS events without a counterpart here (REQUEST_QUEUE_SIZE:
      // no client-side request queue; RECEIVED_UNSUBSCRIBED_TOPICS: the broker assigns).
      const hint = type === undefined ? " (this KafkaJS event does not exist in Dynalog: README, Coming from KafkaJS)" : "";
      throw new TypeError(`Unknown event "${type}"${hint}; one of ${this.known.join(", ")}`);
    }
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    set.add(listener);
    return () => set!.delete(listener);
  }

  emit(type: Names, payload: unknown): void {
    const set = this.listeners.get(type);
    if (!set || set.size === 0) return;
    const event: InstrumentationEvent = { id: randomId(), type, timestamp: Date.now(), payload };
    for (const listener of [...set]) {
      try {
        listener(event);
      } catch {
        // A listener's failure is the listener's business.
      }
    }
  }
}

/**
 * KafkaJS's REQUEST event payload for one HTTP attempt. KafkaJS reports Kafka protocol requests
 * (`apiName` "Fetch", "Produce", …, a correlation id per connection); Dynalog's requests are HTTP,
 * so `apiName` is the method and path (`"POST /v1/fetch"`), `broker` the base URL, and `size` is
 * absent. `pendingDuration` is 0: there is no client-side request queue.
 */
export function requestEventPayload(attempt: RequestAttempt, broker: string, clientId: string | undefined): Record<string, unknown> {
  return {
    broker,
    clientId: clientId ?? null,
    apiName: `${attempt.method} ${attempt.path}`,
    method: attempt.method,
    path: attempt.path,
    status: attempt.status ?? null,
    createdAt: attempt.createdAt,
    sentAt: attempt.createdAt,
    pendingDuration: 0,
    duration: attempt.duration,
    ...(attempt.error ? { errorCode: attempt.error.code } : {}),
  };
}

/** A transport that emits `requestType` for every attempt, and `timeoutType` for those that timed out. */
export function instrumentedTransport<Names extends string>(transport: Transport, instrumentation: Instrumentation<Names>, requestType: Names, timeoutType: Names): Transport {
  return transport.withObserver((attempt) => {
    const payload = requestEventPayload(attempt, transport.baseUrl, transport.clientId);
    instrumentation.emit(requestType, payload);
    if (attempt.error?.code === "CLIENT_TIMEOUT") instrumentation.emit(timeoutType, payload);
  });
}
