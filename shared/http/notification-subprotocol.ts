/**
 * How a notification WebSocket authenticates (shared/http/notification-protocol.ts): the protocol's
 * name and the API key offered as subprotocols. Apart from the protocol module (and its zod
 * schemas) so the key authorizer's bundle carries only this.
 */

/** The subprotocol the server selects; the client offers it first and its API key second. */
export const NOTIFICATION_SUBPROTOCOL = "dynalog.notifications.v1";
/** Where the local broker serves the WebSocket (the deployed API has its own URL: the stack's NotificationsUrl output). */
export const LOCAL_NOTIFICATIONS_PATH = "/v1/notifications";
/**
 * The API key offered in a `Sec-WebSocket-Protocol` header, as an Authorization header value
 * ("Bearer dlk_…"); undefined when none is offered.
 */
export function authorizationFromSubprotocols(header: string | undefined): string | undefined {
  const offered = (header ?? "").split(",").map((p) => p.trim());
  const key = offered.find((p) => p.startsWith("dlk_"));
  return key === undefined ? undefined : `Bearer ${key}`;
}

/** Whether the client offered the protocol this server speaks. */
export function offersNotificationProtocol(header: string | undefined): boolean {
  return (header ?? "").split(",").some((p) => p.trim() === NOTIFICATION_SUBPROTOCOL);
}
