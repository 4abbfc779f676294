/**
 * Posts to WebSocket connections through API Gateway's management API
 * (`POST https://<api>.execute-api.<region>.amazonaws.com/<stage>/@connections/<id>`),
 * signed with the function's role (SigV4, the same signer the SDK uses: client/sigv4.ts).
 * `@aws-sdk/client-apigatewaymanagementapi` would do the same; this keeps the notifier's bundle
 * to what it already carries. 410 Gone means the client disconnected.
 */
import { sigv4Signer } from "../../client/sigv4.js";
import type { ConnectionPoster } from "../core/notifications.js";
import { defaultProvider } from "./lambda-credentials.js";

export function managementApiPoster(endpoint: string, region: string, fetchImpl: typeof fetch = fetch): ConnectionPoster {
  const base = endpoint.replace(/\/+$/, "");
  const sign = sigv4Signer({ region, credentials: defaultProvider() });
  async function call(method: "POST", connectionId: string, body: string): Promise<Response> {
    const url = `${base}/@connections/${encodeURIComponent(connectionId)}`;
    const headers: Record<string, string> = { "content-type": "application/json" };
    const signed = await sign({ method, url, headers, body });
    return fetchImpl(url, { method, headers: { ...headers, ...signed }, body });
  }
  return {
    async post(connectionId, message) {
      const response = await call("POST", connectionId, message);
      await response.body?.cancel();
      if (response.status === 410) return "gone";
      if (!response.ok) throw new Error(`PostToConnection answered ${response.status}`);
      return "sent";
    },
  };
}
