/** `dynalog consume <topic>`: print messages as they arrive, optionally as a group member that commits what it printed. */
import { Option, type Command } from "commander";
import type { Consumer, Dynalog, KafkaMessage } from "../../client/index.js";
import { positiveInt } from "../arguments.js";
import { onInterrupt } from "../interrupt.js";
import { Progress } from "../progress.js";

export function registerConsumeCommand(program: Command, client: () => Dynalog): void {
  program
    .command("consume <topic>")
    .description("print messages as they arrive; follows until Ctrl-C (or --max)")
    .option("-g, --group <group>", "consume as a member of this consumer group (commits what it printed)")
    .option("--from-beginning", "without a committed offset, start at the oldest record (default: only new ones)")
    .addOption(new Option("-f, --format <format>", "output").choices(["value", "json"]).default("value"))
    .option("-n, --max <n>", "exit after this many messages", positiveInt)
    .action(async (topic: string, opts: { group?: string; fromBeginning?: boolean; format: "value" | "json"; max?: number }) => {
      const dynalog = client();
      await dynalog.admin().describeTopic(topic); // a clear error for an unknown topic (a group would just wait for it)
      const consumer = dynalog.consumer({ groupId: opts.group, maxWaitTimeInMs: 2_000 });
      const stop = deferred<unknown>();
      consumer.on(consumer.events.CRASH, (event) => {
        if (!event.payload.restart) stop.resolve(event.payload.error);
      });
      let printed = 0;
      // Live progress only when the messages go elsewhere than the terminal (`> file`, `| tool`).
      const progress = new Progress({ verb: "Consumed", where: `from ${topic}`, live: process.stderr.isTTY === true && process.stdout.isTTY !== true, totalRecords: opts.max });
      await consumer.subscribe({ topics: [topic], fromBeginning: opts.fromBeginning === true });
      await consumer.run({
        eachBatchAutoResolve: false,
        eachBatch: async ({ batch, resolveOffset, isRunning, isStale }) => {
          for (const message of batch.messages) {
            if (opts.max !== undefined && printed >= opts.max) break;
            if (!isRunning() || isStale()) break;
            const text = format(batch.topic, batch.partition, message, opts.format);
            process.stdout.write(text);
            resolveOffset(message.offset);
            printed++;
            progress.add(1, Buffer.byteLength(text));
          }
          if (opts.max !== undefined && printed >= opts.max) stop.resolve(undefined);
        },
      });
      const interrupted = onInterrupt(() => stop.resolve(undefined));
      const error = await stop.promise;
      interrupted.dispose();
      await disconnectWithin(consumer, 10_000);
      progress.finish();
      if (error) throw error;
    });
}

function format(topic: string, partition: number, m: KafkaMessage, style: "value" | "json"): string {
  if (style === "value") return `${m.value === null ? "null" : m.value.toString("utf8")}\n`;
  const json: Record<string, unknown> = { topic, partition, offset: m.offset, timestamp: m.timestamp };
  Object.assign(json, bytesField("key", m.key), bytesField("value", m.value));
  const headers: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(m.headers)) headers[key] = Array.isArray(value) ? value.map(text) : text(value);
  json["headers"] = headers;
  return `${JSON.stringify(json)}\n`;
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });
function bytesField(name: string, bytes: Buffer | null): Record<string, unknown> {
  if (bytes === null) return { [name]: null };
  try {
    return { [name]: strictUtf8.decode(bytes) };
  } catch {
    return { [name]: bytes.toString("base64"), [`${name}Encoding`]: "base64" };
  }
}
function text(bytes: Buffer | null): string | null {
  return bytes === null ? null : bytes.toString("utf8");
}

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

async function disconnectWithin(consumer: Consumer, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([consumer.disconnect(), new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
