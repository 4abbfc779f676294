/**
 * Transactional copy (consume-transform-produce, exactly-once) over HTTP: read a 4-partition input
 * topic with POST /v1/fetch, write every record to a 4-partition output topic and commit the input
 * offsets in one POST /v1/transactions per transaction of `transactionSize` records.
 */
import { diff, type CapacitySnapshot } from "./capacity.js";
import type { BenchWorld } from "./setup.js";
import type { EventPool } from "./workload.js";

export interface CopyRunResult {
  readonly messages: number;
  readonly transactions: number;
  readonly elapsedMs: number;
  readonly latencies: number[];
  readonly cost: CapacitySnapshot;
  readonly verified: string;
}

const PARTITIONS = 4;

async function call(world: BenchWorld, method: string, path: string, body?: unknown): Promise<any> {
  const response = await world.http.json(method, path, body);
  if (response.status >= 300) throw new Error(`${method} ${path}: HTTP ${response.status} ${JSON.stringify(response.body)}`);
  return response.body;
}

export async function runTransactionalCopy(world: BenchWorld, pool: EventPool, options: { messages: number; transactionSize: number; label: string }): Promise<CopyRunResult> {
  const input = `${options.label}-in`;
  const output = `${options.label}-out`;
  await call(world, "POST", "/v1/topics", { name: input, partitions: PARTITIONS });
  await call(world, "POST", "/v1/topics", { name: output, partitions: PARTITIONS });
  // Fill the input (not measured): the same events, spread evenly over the partitions.
  const perPartition = Math.ceil(options.messages / PARTITIONS);
  for (let partition = 0; partition < PARTITIONS; partition++) {
    for (let start = 0; start < perPartition; start += 500) {
      const count = Math.min(500, perPartition - start);
      const { json } = pool.slice(partition * perPartition + start, count);
      const response = await world.http.request("POST", `/v1/topics/${input}/records`, `{"encoding":"utf8","partitions":[{"partition":${partition},"records":${json}}]}`);
      if (response.status !== 200) throw new Error(`fill input: HTTP ${response.status} ${response.text}`);
    }
  }

  const transactionalId = `${options.label}-copier`;
  const group = `${options.label}-group`;
  const producer = await call(world, "POST", "/v1/producers", { transactionalId });
  const positions = Array.from({ length: PARTITIONS }, () => 0);
  const latencies: number[] = [];
  let sequence = 0;
  let copied = 0;
  const before = world.meter.snapshot();
  const started = performance.now();
  for (;;) {
    const t0 = performance.now();
    const fetched = await call(world, "POST", "/v1/fetch", {
      encoding: "utf8",
      partitions: positions.map((offset, partition) => ({ topic: input, partition, offset, maxRecords: Math.ceil(options.transactionSize / PARTITIONS) })),
    });
    const records: { topic: string; partition: number; value: string }[] = [];
    for (const p of fetched.partitions) {
      if (p.error) throw new Error(`fetch: ${JSON.stringify(p.error)}`);
      for (const r of p.records) records.push({ topic: output, partition: p.partition, value: r.value });
      positions[p.partition] = p.nextOffset;
    }
    if (records.length === 0) break;
    await call(world, "POST", "/v1/transactions", {
      transactionalId,
      producerId: producer.producerId,
      producerEpoch: producer.epoch,
      transactionSequence: sequence++,
      encoding: "utf8",
      records,
      offsets: { group, offsets: positions.map((offset, partition) => ({ topic: input, partition, offset })) },
    });
    latencies.push(performance.now() - t0);
    copied += records.length;
  }
  const elapsedMs = performance.now() - started;
  const cost = diff(world.meter.snapshot(), before);

  const described = await call(world, "GET", `/v1/topics/${output}`);
  const written = described.partitions.reduce((sum: number, p: { highWatermark: number }) => sum + p.highWatermark, 0);
  const committed = await call(world, "GET", `/v1/groups/${group}/offsets?topic=${input}`);
  const committedTotal = committed.partitions.reduce((sum: number, p: { offset: number }) => sum + p.offset, 0);
  const problems: string[] = [];
  if (copied !== options.messages) problems.push(`copied ${copied} of ${options.messages}`);
  if (written !== options.messages) problems.push(`output holds ${written}`);
  if (committedTotal !== options.messages) problems.push(`committed offsets sum to ${committedTotal}`);
  return { messages: copied, transactions: sequence, elapsedMs, latencies, cost, verified: problems.length === 0 ? "verified" : `FAILED: ${problems.join("; ")}` };
}
