/**
 * The Upstash dialect under test: a served broker with security on, the published @upstash/kafka
 * client signed in as a super-user (HTTP Basic = an API key's id and secret), and curl-like calls.
 */
import { Kafka } from "@upstash/kafka";
import { createTestBroker, createTestTables, serveApp, topicName, type Served, type TestBroker, type TestBrokerOptions } from "./broker.js";

export interface UpstashFixture {
  readonly harness: TestBroker;
  readonly served: Served;
  readonly kafka: Kafka;
  /** `Basic …` for the super-user (the client's credentials). */
  readonly basic: string;
  /** Another super-user's `Basic …`: a different principal. */
  readonly otherBasic: string;
  newTopic(label: string, partitions: number): Promise<string>;
  /** A curl-like call: JSON body (or a string as is), the super-user's Basic auth unless given. */
  raw(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }>;
  /** Every record of a partition from offset 0, as the dialect's fetch returns them. */
  records(topic: string, partition: number): Promise<{ offset: number; key: string; value: string; headers: { key: string; value: string }[] }[]>;
}

const SUPER_USERS = ["User:upstash-admin", "User:upstash-other"];

export async function startUpstash(label: string, options: TestBrokerOptions = {}): Promise<UpstashFixture> {
  const tables = await createTestTables(label);
  const harness = createTestBroker(tables, { ...options, security: { enabled: true, superUsers: SUPER_USERS } });
  const served = await serveApp(harness.app);
  const basicOf = async (principal: string) => {
    const issued = await harness.security.createApiKey(principal);
    return { issued, basic: `Basic ${Buffer.from(`${issued.key.keyId}:${issued.secret}`).toString("base64")}` };
  };
  const admin = await basicOf(SUPER_USERS[0]!);
  const other = await basicOf(SUPER_USERS[1]!);
  const kafka = new Kafka({ url: served.url, username: admin.issued.key.keyId, password: admin.issued.secret });
  const raw: UpstashFixture["raw"] = async (method, path, body, headers = {}) => {
    const response = await fetch(served.url + path, {
      method,
      headers: { authorization: admin.basic, "content-type": "application/json", ...headers },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  return {
    harness,
    served,
    kafka,
    basic: admin.basic,
    otherBasic: other.basic,
    async newTopic(name, partitions) {
      const topic = topicName(name);
      await harness.broker.createTopic({ name: topic, partitions });
      return topic;
    },
    raw,
    async records(topic, partition) {
      const fetched = await raw("POST", "/fetch", { topic, partition, offset: 0 });
      if (fetched.status !== 200) throw new Error(`fetch failed: ${JSON.stringify(fetched.body)}`);
      return (fetched.body as unknown as { offset: number; key: string; value: string; headers: { key: string; value: string }[] }[]).map(({ offset, key, value, headers }) => ({ offset, key, value, headers }));
    },
  };
}
