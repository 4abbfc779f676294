/**
 * KafkaJS's "Pause & Resume" guide (docs/Consuming.md → pause-resume), as written there — only
 * the import and the connection config differ. A dependency answers "too many requests" for
 * chosen messages: the first time the handler pauses the whole topic (`consumer.pause`), the
 * second time only its partition (the payload's `pause()`), resumes after `retryAfter` seconds and
 * rethrows, so the message is delivered again after the resume. Returns the timeline.
 */
import { Kafka, type KafkaConfig, type KafkaMessage } from "dynalog/client";

export type Connection = Pick<KafkaConfig, "url" | "auth" | "logLevel" | "fetch">;

class TooManyRequestsError extends Error {
  constructor(readonly retryAfter: number) {
    super("Too many requests");
  }
}

export async function run({
  topic, groupId, count, throttle, retryAfter,
  ...connection
}: Connection & { topic: string; groupId: string; count: number; throttle: string[]; retryAfter: number }): Promise<string[]> {
  const kafka = new Kafka({ clientId: "my-app", ...connection });
  const consumer = kafka.consumer({ groupId });
  const timeline: string[] = [];
  const throttled = new Set<string>();
  const delivered = new Set<string>();
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));

  // The overloaded dependency: refuses each value in `throttle` once.
  const sendToDependency = async (message: KafkaMessage) => {
    const value = message.value!.toString();
    if (throttle.includes(value) && !throttled.has(value)) {
      throttled.add(value);
      timeline.push(`throttled ${value}`);
      throw new TooManyRequestsError(retryAfter);
    }
    timeline.push(`processed ${value}`);
    delivered.add(value);
    if (delivered.size >= count) done();
  };

  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ topic, partition, message, pause }) => {
      try {
        await sendToDependency(message);
      } catch (e) {
        if (e instanceof TooManyRequestsError) {
          if (throttled.size === 1) {
            consumer.pause([{ topic }]);
            timeline.push(`paused ${JSON.stringify(consumer.paused())}`);
            setTimeout(() => {
              timeline.push("resumed");
              consumer.resume([{ topic }]);
            }, e.retryAfter * 1000);
          } else {
            const resumeThisPartition = pause();
            timeline.push(`paused ${JSON.stringify(consumer.paused())}`);
            // Other partitions that are paused will continue to be paused
            setTimeout(() => {
              timeline.push(`resumed ${partition}`);
              resumeThisPartition();
            }, e.retryAfter * 1000);
          }
        }
        throw e;
      }
    },
  });

  await finished;
  await consumer.disconnect();
  return timeline;
}
