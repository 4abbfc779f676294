/**
 * The consumer's notification channel (docs/api.md, "Notifications"): one WebSocket to the
 * broker's notification endpoint, subscribed to the partitions the consumer fetches. While it is
 * open and confirmed, the fetch loop fetches without waiting and, after an empty fetch, waits for
 * a notification (or `fallbackIntervalMs`) instead of long-polling — an idle consumer then holds
 * a connection, not a running function. Whenever the channel is not ready (connecting,
 * reconnecting with backoff, refused), the fetch loop long-polls as before.
 *
 * Isomorphic: the global WebSocket (browsers, Deno, Bun, workers, Node 22+) or an injected
 * constructor (Node 20: `ws`'s WebSocket).
 */
import type { Logger } from "./logger.js";

/** The part of the WHATWG WebSocket the channel uses (browsers' and `ws`'s both fit). */
export interface NotificationSocket {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: "open" | "message" | "close" | "error", listener: (event: { readonly data?: unknown }) => void): void;
}
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => NotificationSocket;

export interface NotificationOptions {
  /** The broker's notification endpoint: the stack's NotificationsUrl output, or the local broker's `notificationsUrl`. */
  readonly url: string;
  /** The WebSocket implementation; default the global one. Without either, the consumer long-polls. */
  readonly WebSocket?: WebSocketConstructor;
  /** Re-fetch this often even without a notification (ms), in case one is lost. Default 30,000. */
  readonly fallbackIntervalMs?: number;
  /** Keep-alive message interval (ms): API Gateway closes connections idle for 10 minutes. Default 300,000. */
  readonly pingIntervalMs?: number;
}

/** The subprotocol the broker speaks; the API key is offered as a second one (shared/http/notification-protocol.ts). */
const SUBPROTOCOL = "dynalog.notifications.v1";
const OPEN = 1;
const MAX_PARTITIONS_PER_SUBSCRIBE = 100;

interface PartitionRef {
  readonly topic: string;
  readonly partition: number;
}

const keyOf = (p: PartitionRef) => `${p.topic}\u0000${p.partition}`;

/** The notification channel, or undefined when this runtime has no WebSocket to open one with. */
export function openNotificationChannel(options: NotificationOptions, apiKeyToken: string | undefined, log: Logger, wake: () => void): NotificationChannel | undefined {
  const Socket = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (!Socket) {
    log.info("No WebSocket in this runtime (pass notifications.WebSocket): long-polling instead");
    return undefined;
  }
  return new NotificationChannel(options, Socket, apiKeyToken, log, wake);
}

export class NotificationChannel {
  /** Bumped by every notification for a subscribed partition: the fetch loop compares it across a fetch. */
  sequence = 0;
  /** Notifications received (for instrumentation and tests). */
  received = 0;
  readonly fallbackIntervalMs: number;
  private socket: NotificationSocket | undefined;
  private open = false;
  private closed = false;
  private failures = 0;
  private nextId = 0;
  private readonly wanted = new Map<string, PartitionRef>();
  private readonly confirmed = new Set<string>();
  private readonly requested = new Set<string>();
  private readonly inFlight = new Map<string, string[]>();
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private pingTimer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly options: NotificationOptions,
    private readonly Socket: WebSocketConstructor,
    private readonly apiKeyToken: string | undefined,
    private readonly log: Logger,
    /** Wakes the fetch loop (a notification arrived, or the channel became ready or failed). */
    private readonly wake: () => void,
  ) {
    this.fallbackIntervalMs = Math.max(1_000, options.fallbackIntervalMs ?? 30_000);
  }

  /**
   * Asks for notifications on these partitions (subscribing what is new, connecting if need be) and
   * says whether every one of them is confirmed on an open connection — only then may the fetch
   * loop stop long-polling them.
   */
  ready(partitions: readonly PartitionRef[]): boolean {
    if (this.closed) return false;
    const missing: PartitionRef[] = [];
    for (const p of partitions) {
      const key = keyOf(p);
      if (!this.wanted.has(key)) this.wanted.set(key, p);
      if (!this.confirmed.has(key) && !this.requested.has(key)) missing.push(p);
    }
    if (!this.socket) this.connect();
    else if (this.open && missing.length > 0) this.subscribe(missing);
    return this.open && partitions.every((p) => this.confirmed.has(keyOf(p)));
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.pingTimer);
    this.socket?.close(1000, "consumer stopped");
    this.socket = undefined;
  }

  private connect(): void {
    const protocols = this.apiKeyToken ? [SUBPROTOCOL, this.apiKeyToken] : [SUBPROTOCOL];
    let socket: NotificationSocket;
    try {
      socket = new this.Socket(this.options.url, protocols);
    } catch (error) {
      this.log.warn("Could not open the notification channel", { error: (error as Error).message });
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.addEventListener("open", () => {
      if (this.socket !== socket) return;
      this.open = true;
      this.failures = 0;
      this.pingTimer = setInterval(() => this.send({ action: "ping" }), this.options.pingIntervalMs ?? 300_000);
      (this.pingTimer as { unref?: () => void }).unref?.();
      this.subscribe([...this.wanted.values()]);
    });
    socket.addEventListener("message", (event) => {
      if (this.socket === socket && typeof event.data === "string") this.onMessage(event.data);
    });
    socket.addEventListener("close", () => {
      if (this.socket !== socket) return;
      this.reset();
      // API Gateway ends every connection after 2 hours: reconnecting is routine, not an error.
      if (!this.closed) this.scheduleReconnect();
      this.wake();
    });
    socket.addEventListener("error", () => undefined);
  }

  private reset(): void {
    this.socket = undefined;
    this.open = false;
    this.confirmed.clear();
    this.requested.clear();
    this.inFlight.clear();
    clearInterval(this.pingTimer);
  }

  private scheduleReconnect(): void {
    const delay = Math.min(30_000, 500 * 2 ** Math.min(this.failures++, 6)) * (0.8 + 0.4 * Math.random());
    this.reconnectTimer = setTimeout(() => {
      if (!this.closed && !this.socket) this.connect();
    }, delay);
    (this.reconnectTimer as { unref?: () => void }).unref?.();
  }

  private subscribe(partitions: readonly PartitionRef[]): void {
    for (let i = 0; i < partitions.length; i += MAX_PARTITIONS_PER_SUBSCRIBE) {
      const chunk = partitions.slice(i, i + MAX_PARTITIONS_PER_SUBSCRIBE);
      const id = `s${++this.nextId}`;
      const keys = chunk.map(keyOf);
      for (const key of keys) this.requested.add(key);
      this.inFlight.set(id, keys);
      this.send({ action: "subscribe", id, partitions: chunk.map(({ topic, partition }) => ({ topic, partition })) });
    }
  }

  private send(message: unknown): void {
    if (this.socket?.readyState === OPEN) this.socket.send(JSON.stringify(message));
  }

  private onMessage(text: string): void {
    let message: { type?: unknown; id?: unknown; topic?: unknown; partition?: unknown; error?: { code?: unknown; message?: unknown } };
    try {
      message = JSON.parse(text) as typeof message;
    } catch {
      return;
    }
    if (message.type === "records") {
      this.received++;
      if (typeof message.topic === "string" && typeof message.partition === "number" && this.wanted.has(keyOf({ topic: message.topic, partition: message.partition }))) {
        this.sequence++;
        this.wake();
      }
      return;
    }
    const keys = typeof message.id === "string" ? this.inFlight.get(message.id) : undefined;
    if (!keys) return;
    this.inFlight.delete(message.id as string);
    if (message.type === "subscribed") {
      for (const key of keys) this.confirmed.add(key);
      this.wake();
    } else if (message.type === "error") {
      // Refused (no Read on the topic, unknown partition): those partitions keep long-polling; the next connection asks again.
      this.log.warn("Notification subscription refused; long-polling those partitions", { code: String(message.error?.code), error: String(message.error?.message) });
    }
  }
}
