import type { FetchRunResult } from "./workload.js";
export async function runBinaryConsumer(_url: string, _topic: string, _end: number, _maxBytes: number): Promise<FetchRunResult> {
  throw new Error("not yet");
}
