/**
 * A WebSocket (the WHATWG surface the SDK uses) connected in process to the local broker's
 * notification hub — the hub's accept/message/close path, without the framing. It lets tests drive
 * the SDK's notification channel without a WebSocket server package, and see every message.
 */
import type { NotificationSocket, WebSocketConstructor } from "../client/notification-channel.js";
import type { AcceptedConnection, LocalNotificationHub } from "./notifications.js";

type Listener = (event: { readonly data?: unknown }) => void;

export interface LoopbackSocket extends NotificationSocket {
  /** Every message the server sent, parsed. */
  readonly received: Record<string, unknown>[];
  readonly protocols: readonly string[];
  /** Resolves with the accepted connection, or rejects with the hub's refusal. */
  readonly accepted: Promise<AcceptedConnection>;
  /** Resolves with the next message the server sends that matches. */
  next(match: (message: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  /** The network vanished: no close reaches the server. */
  drop(): void;
}

export function loopbackWebSockets(hub: LocalNotificationHub): { readonly WebSocket: WebSocketConstructor; readonly sockets: LoopbackSocket[] } {
  const sockets: LoopbackSocket[] = [];
  class Loopback implements LoopbackSocket {
    readyState = 0;
    readonly received: Record<string, unknown>[] = [];
    readonly protocols: readonly string[];
    readonly accepted: Promise<AcceptedConnection>;
    private readonly listeners = new Map<string, Listener[]>();
    private readonly waiters: { match: (m: Record<string, unknown>) => boolean; resolve: (m: Record<string, unknown>) => void }[] = [];
    private connection: AcceptedConnection | undefined;

    constructor(_url: string, protocols?: string | string[]) {
      this.protocols = protocols === undefined ? [] : ([] as string[]).concat(protocols);
      sockets.push(this);
      this.accepted = hub.accept(this.protocols.join(", "), {
        send: (text) => this.deliver(text),
        close: () => this.closeLocally(),
      });
      this.accepted.then(
        (connection) => {
          this.connection = connection;
          this.readyState = 1;
          this.emit("open", {});
        },
        () => {
          this.readyState = 3;
          this.emit("error", {});
          this.emit("close", {});
        },
      );
    }

    addEventListener(type: string, listener: Listener): void {
      this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
    }

    send(data: string): void {
      if (this.readyState !== 1) throw new Error("not open");
      void this.connection!.message(data);
    }

    close(): void {
      if (this.readyState === 3) return;
      void this.connection?.closed();
      this.closeLocally();
    }

    drop(): void {
      this.connection?.lost();
      this.closeLocally();
    }

    next(match: (message: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
      return new Promise((resolve) => this.waiters.push({ match, resolve }));
    }

    private deliver(text: string): void {
      if (this.readyState !== 1) return;
      const message = JSON.parse(text) as Record<string, unknown>;
      this.received.push(message);
      for (const waiter of this.waiters.filter((w) => w.match(message))) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve(message);
      }
      // Asynchronously, as a real socket delivers.
      queueMicrotask(() => this.emit("message", { data: text }));
    }

    private closeLocally(): void {
      if (this.readyState === 3) return;
      this.readyState = 3;
      this.emit("close", {});
    }

    private emit(type: string, event: { readonly data?: unknown }): void {
      for (const listener of this.listeners.get(type) ?? []) listener(event);
    }
  }
  return { WebSocket: Loopback, sockets };
}
