/**
 * The local broker's record notifications: the WebSocket protocol of the deployed API
 * (shared/http/notification-protocol.ts) served by the local broker at /v1/notifications, with
 * the same core (shared/core/notifications.ts) and the same connection items in DynamoDB Local.
 * Deployed, the log table's stream drives the notifier; locally the gateway reports each
 * successful produce and transaction commit (onAppended) and this hub fans them out.
 *
 * Sockets are an interface (LocalSocket): the WebSocket server itself is `ws` when it is installed
 * (attachWebSocketServer); tests may connect in process through the same `accept`.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { Notifications, type AppendedBatch, type ConnectionPoster } from "../shared/core/notifications.js";
import { DynalogError } from "../shared/errors.js";
import { answerClientMessage, authorizationFromSubprotocols, LOCAL_NOTIFICATIONS_PATH, NOTIFICATION_SUBPROTOCOL, offersNotificationProtocol } from "../shared/http/notification-protocol.js";
import { topicAccess } from "../shared/runtime/notify-lambda.js";
import { Security, type SecurityConfig } from "../shared/security/security.js";
import { createDynamoSecurityStore } from "../shared/storage/security-store.js";
import { createDynamoConnectionStore } from "../shared/storage/connection-store.js";
import { createDynamoStorage } from "../shared/storage/dynamo-storage.js";
import type { TableNames } from "../shared/storage/tables.js";
import { localDynamoDbClientConfig } from "./dynamodb-local.js";

/** One accepted connection, whatever carries it. */
export interface LocalSocket {
  send(text: string): void;
  close(code?: number, reason?: string): void;
}

export interface AcceptedConnection {
  readonly connectionId: string;
  /** Hand each text message from the client here. */
  message(text: string): Promise<void>;
  /** The client went away ($disconnect). */
  closed(): Promise<void>;
  /**
   * The transport died without a close (API Gateway's $disconnect is best effort too): the socket
   * is forgotten, the stored connection stays until a notification finds it gone.
   */
  lost(): void;
}

export interface LocalNotificationHub {
  /**
   * Authenticates a connection by its offered subprotocols (the API key) and records it; the
   * refusal is a DynalogError (AUTHENTICATION_FAILED) to answer with 401.
   */
  accept(subprotocols: string | undefined, socket: LocalSocket): Promise<AcceptedConnection>;
  /** The local stand-in for the log table's stream: appends the gateway saw succeed. */
  appended(appends: readonly { readonly topic: string; readonly partition: number; readonly baseOffset: number }[]): Promise<void>;
  /** Resolves once every notification started so far has been sent (tests wait on it instead of sleeping). */
  settled(): Promise<void>;
  /** Live connections (for tests and stop). */
  readonly connections: ReadonlyMap<string, LocalSocket>;
  stop(): Promise<void>;
}

export function createLocalNotificationHub(options: { readonly endpoint: string; readonly tables: TableNames; readonly security: SecurityConfig }): LocalNotificationHub {
  const client = new DynamoDBClient(localDynamoDbClientConfig(options.endpoint));
  const documents = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  // Keys and ACLs are checked as the handlers check them: same tables, same settings.
  const security = new Security(createDynamoSecurityStore(documents, options.tables), options.security);
  const storage = createDynamoStorage(client, options.tables);
  const sockets = new Map<string, LocalSocket>();
  // A connection the store still lists but nobody holds is gone, as API Gateway's 410 says.
  const poster: ConnectionPoster = {
    async post(connectionId, message) {
      const socket = sockets.get(connectionId);
      if (!socket) return "gone";
      socket.send(message);
      return "sent";
    },
  };
  const notifications = new Notifications(createDynamoConnectionStore(documents, options.tables), storage.topics, topicAccess(security), poster);
  const inFlight = new Set<Promise<void>>();
  async function fanOut(appends: readonly { readonly topic: string; readonly partition: number; readonly baseOffset: number }[]): Promise<void> {
    const batches: AppendedBatch[] = [];
    for (const append of appends) {
      const topic = await storage.topics.get(append.topic);
      if (topic) batches.push({ topicId: topic.topicId, partition: append.partition, baseOffset: append.baseOffset });
    }
    if (batches.length > 0) await notifications.notify(batches);
  }
  return {
    connections: sockets,
    async accept(subprotocols, socket) {
      if (!offersNotificationProtocol(subprotocols)) throw new DynalogError("INVALID_REQUEST", `Offer the subprotocol ${NOTIFICATION_SUBPROTOCOL}`);
      const principal = await security.authenticate({ authorization: authorizationFromSubprotocols(subprotocols) });
      const connectionId = randomUUID();
      await notifications.connect(connectionId, principal);
      sockets.set(connectionId, socket);
      return {
        connectionId,
        message: async (text) => socket.send(await answerClientMessage(notifications, connectionId, text)),
        closed: async () => {
          sockets.delete(connectionId);
          await notifications.disconnect(connectionId);
        },
        lost: () => void sockets.delete(connectionId),
      };
    },
    appended(appends) {
      const done = fanOut(appends);
      const tracked = done.catch(() => undefined).finally(() => inFlight.delete(tracked));
      inFlight.add(tracked);
      return done;
    },
    async settled() {
      while (inFlight.size > 0) await Promise.all([...inFlight]);
    },
    async stop() {
      for (const socket of sockets.values()) socket.close(1001, "broker stopping");
      sockets.clear();
      client.destroy();
    },
  };
}

/** The appends a successful produce or transaction-commit response reports (routes.ts ids). */
export function appendsInResponse(routeId: string, status: number, body: string): { topic: string; partition: number; baseOffset: number }[] {
  if (status !== 200 && status !== 207) return [];
  let json: { topic?: unknown; partitions?: unknown };
  try {
    json = JSON.parse(body) as typeof json;
  } catch {
    return [];
  }
  if (!Array.isArray(json.partitions)) return [];
  const appends: { topic: string; partition: number; baseOffset: number }[] = [];
  for (const p of json.partitions as { topic?: unknown; partition?: unknown; baseOffset?: unknown; duplicate?: unknown }[]) {
    const topic = routeId === "commitTransaction" ? p.topic : json.topic;
    if (typeof topic === "string" && typeof p.partition === "number" && typeof p.baseOffset === "number" && p.duplicate !== true) {
      appends.push({ topic, partition: p.partition, baseOffset: p.baseOffset });
    }
  }
  return appends;
}

/** The subset of `ws` (npm) this module uses: its server in noServer mode and its sockets. */
interface WsSocket {
  send(data: string): void;
  close(code?: number, reason?: string): void;
  on(event: "message", listener: (data: Buffer, isBinary: boolean) => void): void;
  on(event: "close", listener: () => void): void;
}
interface WsServer {
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, callback: (ws: WsSocket) => void): void;
  close(): void;
}
type WsModule = { WebSocketServer: new (options: { noServer: true; maxPayload: number; handleProtocols: (protocols: Set<string>) => string | false }) => WsServer };

/**
 * Serves the hub over real WebSockets on `server` (upgrade requests to /v1/notifications), when the
 * `ws` package is installed; returns undefined otherwise (the broker then does not advertise
 * notifications and consumers long-poll).
 */
export async function attachWebSocketServer(server: Server, hub: LocalNotificationHub): Promise<{ close(): void } | undefined> {
  let ws: WsModule;
  try {
    const name = "ws";
    ws = (await import(name)) as WsModule;
  } catch {
    return undefined;
  }
  const wss = new ws.WebSocketServer({
    noServer: true,
    maxPayload: 32 * 1024,
    handleProtocols: (protocols) => (protocols.has(NOTIFICATION_SUBPROTOCOL) ? NOTIFICATION_SUBPROTOCOL : false),
  });
  server.on("upgrade", (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = new URL(request.url ?? "/", "http://localhost").pathname;
    if (path !== LOCAL_NOTIFICATIONS_PATH) {
      socket.end("HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n");
      return;
    }
    // Accept only once authenticated, as API Gateway's $connect authorizer does.
    const pending: { socket?: WsSocket; queue: string[] } = { queue: [] };
    const proxy: LocalSocket = { send: (text) => (pending.socket ? pending.socket.send(text) : pending.queue.push(text)), close: (code, reason) => pending.socket?.close(code, reason) };
    hub.accept(request.headers["sec-websocket-protocol"], proxy).then(
      (connection) =>
        wss.handleUpgrade(request, socket, head, (client) => {
          pending.socket = client;
          for (const text of pending.queue.splice(0)) client.send(text);
          client.on("message", (data, isBinary) => void connection.message(isBinary ? "" : data.toString("utf8")).catch(() => client.close(1011, "server error")));
          client.on("close", () => void connection.closed().catch(() => undefined));
        }),
      (error: unknown) => {
        const status = error instanceof DynalogError ? error.status : 500;
        socket.end(`HTTP/1.1 ${status} ${status === 401 ? "Unauthorized" : "Refused"}\r\ncontent-length: 0\r\n\r\n`);
      },
    );
  });
  return { close: () => wss.close() };
}
