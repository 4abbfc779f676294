/**
 * One `POST /v1/fetch` of the consumer, in the binary format by default (the broker sends the
 * stored batches as they are and they are decoded here: client/fetch-frame.ts) or in JSON. A
 * broker that does not know the binary format answers JSON, which is read as such.
 */
import type { FetchResult } from "./consumer-context.js";
import { batchAcceptHeader, decodeFetchFrame } from "./fetch-frame.js";
import type { Transport } from "./transport.js";

export interface FetchRequestBody {
  readonly maxWaitMs: number;
  readonly maxBytes: number;
  readonly maxRecords: number;
  readonly partitions: readonly { topic: string; partition: number; offset: number; maxBytes?: number }[];
  /** Producer id and "transactional" per record (JSON fetch only). */
  readonly metadata?: boolean;
}

export async function requestFetch(transport: Transport, body: FetchRequestBody, options: { format: "binary" | "json"; signal: AbortSignal }): Promise<FetchResult[]> {
  const binary = options.format === "binary";
  const answer = await transport.request<{ partitions: FetchResult[] } | Uint8Array>({
    method: "POST",
    path: "/v1/fetch",
    body: binary ? body : { encoding: "base64", ...body },
    idempotent: true,
    extraTimeoutMs: body.maxWaitMs,
    signal: options.signal,
    ...(binary ? { accept: batchAcceptHeader() } : {}),
  });
  if (!(answer instanceof Uint8Array)) return answer.partitions;
  return (await decodeFetchFrame(answer)).map((p): FetchResult => ("error" in p ? { topic: p.topic, partition: p.partition, error: p.error } : p));
}
