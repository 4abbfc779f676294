/** KafkaJS-style instrumentation events: `x.on(x.events.NAME, listener)` returns a remover. */
import { randomId } from "./bytes.js";

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
    if (!this.known.includes(type)) throw new TypeError(`Unknown event "${type}"; one of ${this.known.join(", ")}`);
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
