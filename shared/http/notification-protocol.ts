/**
 * The notification WebSocket's protocol (docs/api.md, "Notifications"), one implementation for the
 * deployed API Gateway WebSocket API (functions/notify-connect.ts) and the local broker
 * (local/notifications.ts).
 *
 * Authentication happens once, at connect: browsers cannot set headers on a WebSocket, so the API
 * key travels as a second subprotocol next to NOTIFICATION_SUBPROTOCOL
 * (`new WebSocket(url, ["dynalog.notifications.v1", "dlk_…"])`); the server selects only the first.
 * Client → server: {"action":"subscribe","id":…,"partitions":[{"topic","partition"}]} and
 * {"action":"ping","id":…}. Server → client: {"type":"subscribed"|"pong","id"}, {"type":"error",
 * "id","error":{code,message,…}} and {"type":"records","topic","partition","offset"}.
 */
import * as z from "../zod.js";
import { MAX_SUBSCRIPTIONS_PER_MESSAGE, type Notifications } from "../core/notifications.js";
import { DynalogError } from "../errors.js";

export { authorizationFromSubprotocols, LOCAL_NOTIFICATIONS_PATH, NOTIFICATION_SUBPROTOCOL, offersNotificationProtocol } from "./notification-subprotocol.js";

/** A client message, at most (API Gateway's WebSocket frame limit is 32 KB; a full subscribe is ~8 KB). */
export const MAX_CLIENT_MESSAGE_BYTES = 32 * 1024;

const topicName = z.string().check(z.minLength(1), z.maxLength(249));
const requestId = z.optional(z.string().check(z.maxLength(64)));

export const clientMessageSchema = z.discriminatedUnion("action", [
  z.strictObject({
    action: z.literal("subscribe"),
    id: requestId,
    partitions: z
      .array(z.strictObject({ topic: topicName, partition: z.int().check(z.minimum(0), z.maximum(9_999)) }))
      .check(z.minLength(1), z.maxLength(MAX_SUBSCRIPTIONS_PER_MESSAGE)),
  }),
  z.strictObject({ action: z.literal("ping"), id: requestId }),
]);
export type ClientMessage = z.infer<typeof clientMessageSchema>;

/** Parses and answers one client message (a subscribe, a ping): the reply to send back, as JSON text. */
export async function answerClientMessage(notifications: Notifications, connectionId: string, text: string): Promise<string> {
  let id: string | undefined;
  try {
    if (text.length > MAX_CLIENT_MESSAGE_BYTES) throw new DynalogError("REQUEST_TOO_LARGE", `A message may have at most ${MAX_CLIENT_MESSAGE_BYTES} bytes`);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new DynalogError("INVALID_REQUEST", "A message must be a JSON object");
    }
    const rawId = (json as { id?: unknown } | null)?.id;
    if (typeof rawId === "string" && rawId.length <= 64) id = rawId;
    const parsed = clientMessageSchema.safeParse(json);
    if (!parsed.success) throw new DynalogError("INVALID_REQUEST", `Invalid message: ${z.prettifyError(parsed.error).replace(/\n/g, "; ")}`);
    const message = parsed.data;
    if (message.action === "ping") return JSON.stringify({ type: "pong", id });
    const partitions = await notifications.subscribe(connectionId, message.partitions);
    return JSON.stringify({ type: "subscribed", id, partitions });
  } catch (error) {
    const refusal = error instanceof DynalogError ? error : new DynalogError("UNKNOWN_SERVER_ERROR", "The subscription could not be stored; retry");
    return JSON.stringify({ type: "error", id, error: refusal.toJSON() });
  }
}
