/**
 * One consumer reading partition 0 from offset 0 to `end` with the binary fetch format
 * (GET …/records with Accept: application/vnd.dynalog.batches), decoded by the SDK's own decoder
 * (client/fetch-frame.ts) — so the figures include the client's decompress and decode.
 */
import { batchAcceptHeader, decodeFetchFrame } from "../client/fetch-frame.js";
import type { BenchHttpClient } from "./http-client.js";
import type { FetchRunResult } from "./workload.js";

export async function runBinaryConsumer(http: BenchHttpClient, topic: string, end: number, maxBytes: number): Promise<FetchRunResult> {
  const accept = batchAcceptHeader();
  const latencies: number[] = [];
  let offset = 0;
  let expected = 0;
  let contiguous = true;
  let messages = 0;
  let payloadBytes = 0;
  let wireBytes = 0;
  let requests = 0;
  let errors = 0;
  const started = performance.now();
  while (offset < end) {
    const t0 = performance.now();
    const response = await http.getBytes(`/v1/topics/${topic}/partitions/0/records?offset=${offset}&maxBytes=${maxBytes}`, { accept });
    if (response.status !== 200) {
      errors++;
      if (errors > 10) throw new Error(`binary fetch failed: HTTP ${response.status} ${response.body.toString("utf8").slice(0, 500)}`);
      continue;
    }
    const [partition] = await decodeFetchFrame(response.body);
    latencies.push(performance.now() - t0);
    if (!partition || "error" in partition) throw new Error(`binary fetch: ${JSON.stringify(partition)}`);
    requests++;
    wireBytes += response.body.length;
    for (const message of partition.messages) {
      if (message.offset !== expected) contiguous = false;
      expected = message.offset + 1;
      messages++;
      payloadBytes += message.value?.length ?? 0;
    }
    if (partition.nextOffset <= offset) throw new Error(`binary fetch made no progress at offset ${offset}`);
    offset = partition.nextOffset;
  }
  if (expected !== end) contiguous = false;
  return { messages, payloadBytes, wireBytes, requests, elapsedMs: performance.now() - started, latencies, errors, contiguous };
}
