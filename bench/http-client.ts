/**
 * A lean keep-alive HTTP client for the benchmark (node:http, one agent). Lighter than global fetch,
 * which matters here: client, server and DynamoDB Local share two cores.
 */
import http from "node:http";

export interface HttpResponse {
  readonly status: number;
  /** Raw body text. */
  readonly text: string;
  /** Body bytes on the wire (before any decoding). */
  readonly bytes: number;
}

export class BenchHttpClient {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  private readonly host: string;
  private readonly port: number;

  constructor(baseUrl: string) {
    const url = new URL(baseUrl);
    this.host = url.hostname;
    this.port = Number(url.port);
  }

  request(method: string, path: string, body?: string): Promise<HttpResponse> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string | number> = {};
      if (body !== undefined) {
        headers["content-type"] = "application/json";
        headers["content-length"] = Buffer.byteLength(body, "utf8");
      }
      const req = http.request({ host: this.host, port: this.port, method, path, headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        let bytes = 0;
        res.on("data", (chunk: Buffer) => {
          chunks.push(chunk);
          bytes += chunk.length;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks, bytes).toString("utf8"), bytes }));
        res.on("error", reject);
      });
      req.on("error", reject);
      if (body !== undefined) req.write(body);
      req.end();
    });
  }

  /** A GET with extra headers whose body comes back as bytes (the binary fetch). */
  getBytes(path: string, headers: Record<string, string>): Promise<{ status: number; contentType: string; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const req = http.request({ host: this.host, port: this.port, method: "GET", path, headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers["content-type"] ?? ""), body: Buffer.concat(chunks) }));
        res.on("error", reject);
      });
      req.on("error", reject);
      req.end();
    });
  }

  async json<T = any>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const response = await this.request(method, path, body === undefined ? undefined : JSON.stringify(body));
    return { status: response.status, body: (response.text ? JSON.parse(response.text) : undefined) as T };
  }

  close(): void {
    this.agent.destroy();
  }
}
