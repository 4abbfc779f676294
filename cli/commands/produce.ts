/** `dynalog produce <topic>`: one message per line of standard input, with progress and an ETA. */
import { fstatSync } from "node:fs";
import { createInterface } from "node:readline";
import { Option, type Command } from "commander";
import type { Dynalog, Message } from "../../client/index.js";
import { collectHeader, nonNegativeInt } from "../arguments.js";
import { Progress } from "../progress.js";

export function registerProduceCommand(program: Command, client: () => Dynalog, stdin: NodeJS.ReadableStream): void {
  program
    .command("produce <topic>")
    .description("produce one message per line of standard input")
    .option("-k, --key <key>", "the key of every message")
    .option("--key-separator <sep>", "split each line into key<sep>value")
    .option("-H, --header <key=value>", "a header for every message (repeatable)", collectHeader, [] as { key: string; value: string }[])
    .option("-p, --partition <n>", "write to this partition", nonNegativeInt)
    .addOption(new Option("--compression <codec>", "storage codec for these batches").choices(["none", "gzip", "brotli"]))
    .action(async (topic: string, opts: { key?: string; keySeparator?: string; header: { key: string; value: string }[]; partition?: number; compression?: "none" | "gzip" | "brotli" }) => {
      const producer = client().producer({ linger: 5, compression: opts.compression });
      await producer.connect();
      const progress = new Progress({ verb: "Produced", where: `to ${topic}`, totalBytes: stdinFileSize(stdin) });
      const outstanding = new Set<Promise<unknown>>();
      let failure: unknown;
      let chunk: Message[] = [];
      let chunkBytes = 0; // of stdin, newline included: the ETA compares them with the file's size
      const flush = async () => {
        if (chunk.length === 0) return;
        const messages = chunk;
        const bytes = chunkBytes;
        chunk = [];
        chunkBytes = 0;
        const sending = producer.send({ topic, messages }).then(
          () => progress.add(messages.length, bytes),
          (error) => (failure ??= error),
        );
        outstanding.add(sending);
        void sending.finally(() => outstanding.delete(sending));
        if (outstanding.size >= 8) await Promise.race(outstanding);
      };
      const lines = createInterface({ input: stdin, crlfDelay: Infinity });
      for await (const line of lines) {
        if (failure) break;
        let key: string | undefined = opts.key;
        let value = line;
        if (opts.keySeparator !== undefined) {
          const at = line.indexOf(opts.keySeparator);
          if (at >= 0) {
            key = line.slice(0, at);
            value = line.slice(at + opts.keySeparator.length);
          }
        }
        chunk.push({ key: key ?? null, value, headers: opts.header.length > 0 ? opts.header : undefined, partition: opts.partition });
        chunkBytes += Buffer.byteLength(line) + 1;
        if (chunk.length >= 500) await flush();
      }
      if (!failure) await flush();
      await Promise.allSettled(outstanding);
      await producer.disconnect();
      process.stderr.write(`${progress.finish()}\n`);
      if (failure) throw failure;
    });
}

/** The size of standard input when it is a regular file (`< big.txt`), for the produce ETA. */
function stdinFileSize(stdin: NodeJS.ReadableStream): number | undefined {
  if (stdin !== process.stdin) return undefined;
  try {
    const stat = fstatSync(0);
    return stat.isFile() ? stat.size : undefined;
  } catch {
    return undefined;
  }
}
