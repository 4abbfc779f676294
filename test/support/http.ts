/** A tiny JSON client for end-to-end tests. */
export interface JsonResponse<T = any> {
  readonly status: number;
  readonly body: T;
  readonly headers: Headers;
}

export function jsonClient(baseUrl: string) {
  const call = async <T = any>(method: string, path: string, body?: unknown, rawBody?: string): Promise<JsonResponse<T>> => {
    const response = await fetch(baseUrl + path, {
      method,
      headers: body !== undefined || rawBody !== undefined ? { "content-type": "application/json" } : {},
      body: rawBody ?? (body === undefined ? undefined : JSON.stringify(body)),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers };
  };
  return {
    get: <T = any>(path: string) => call<T>("GET", path),
    post: <T = any>(path: string, body?: unknown) => call<T>("POST", path, body),
    postRaw: <T = any>(path: string, raw: string) => call<T>("POST", path, undefined, raw),
    delete: <T = any>(path: string) => call<T>("DELETE", path),
  };
}

export type JsonClient = ReturnType<typeof jsonClient>;

export const b64 = (text: string | Uint8Array) => Buffer.from(text).toString("base64");
export const unb64 = (text: string) => Buffer.from(text, "base64");
