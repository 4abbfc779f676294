/**
 * The SDK's built-in SigV4: AWS's published test-suite signatures, and requests through a local
 * "API Gateway" that verifies SigV4 independently (node:crypto, written from AWS's spec, not the
 * SDK's signer) and hands the broker the caller's IAM identity, as API Gateway's IAM auth does.
 */
import { createHash, createHmac } from "node:crypto";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApi } from "../../shared/http/app.js";
import { createTestBroker, createTestTables, topicName, type TestBroker } from "../support/broker.js";
import { sigv4Signer, type AwsCredentials } from "../../client/index.js";
import { sigv4FromEnvironment } from "../../client/node.js";
import { client } from "./support.js";

// The credentials and instant of AWS's SigV4 test suite (aws-sig-v4-test-suite).
const SUITE: AwsCredentials = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" };
const SUITE_TIME = () => new Date("2015-08-30T12:36:00Z");
const suiteSigner = sigv4Signer({ region: "us-east-1", service: "service", credentials: SUITE }, SUITE_TIME);
const scope = "Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date";

describe("SigV4 signing: AWS's published test-suite vectors", () => {
  it("get-vanilla", async () => {
    const headers = await suiteSigner({ method: "GET", url: "https://example.amazonaws.com/", headers: {}, body: undefined });
    expect(headers).toEqual({
      "x-amz-date": "20150830T123600Z",
      authorization: `AWS4-HMAC-SHA256 ${scope}, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31`,
    });
  });

  it("get-vanilla-query-order-key-case (the query is sorted)", async () => {
    const headers = await suiteSigner({ method: "GET", url: "https://example.amazonaws.com/?Param2=value2&Param1=value1", headers: {}, body: undefined });
    expect(headers["authorization"]).toBe(`AWS4-HMAC-SHA256 ${scope}, Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500`);
  });

  it("post-vanilla", async () => {
    const headers = await suiteSigner({ method: "POST", url: "https://example.amazonaws.com/", headers: {}, body: undefined });
    expect(headers["authorization"]).toBe(`AWS4-HMAC-SHA256 ${scope}, Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b`);
  });

  it("refuses incomplete options when the client is made, not at the first request", () => {
    expect(() => client("http://127.0.0.1:1", { auth: { sigv4: { region: "", credentials: SUITE } } })).toThrow(/region/);
    expect(() => client("http://127.0.0.1:1", { auth: { sigv4: { region: "eu-west-1", credentials: { accessKeyId: "AKID" } as AwsCredentials } } })).toThrow(/credentials/);
  });
});

// ---- a local API Gateway with IAM authorization --------------------------------------------------

const ACCOUNT = "123456789012";
const USERS: Record<string, { secret: string; arn: string }> = {
  AKIAALICE: { secret: "alice-secret", arn: `arn:aws:iam::${ACCOUNT}:user/alice` },
  AKIABOB: { secret: "bob-secret", arn: `arn:aws:iam::${ACCOUNT}:user/bob` },
};

const rfc3986 = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const sha256 = (data: string) => createHash("sha256").update(data, "utf8").digest("hex");
const hmac = (key: string | Buffer, data: string) => createHmac("sha256", key).update(data, "utf8").digest();

/** SigV4 verification as AWS documents it; the caller's ARN, or why not. */
async function verify(request: Request): Promise<{ arn: string } | { refused: string }> {
  const auth = request.headers.get("authorization") ?? "";
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return { refused: "not SigV4" };
  const [, keyId, day, region, service, signedHeaders, signature] = m as unknown as string[];
  const user = USERS[keyId!];
  if (!user) return { refused: "unknown access key" };
  if (region !== "eu-west-1" || service !== "execute-api") return { refused: "wrong scope" };
  const amzDate = request.headers.get("x-amz-date") ?? "";
  const signedAt = Date.parse(amzDate.replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, "$1-$2-$3T$4:$5:$6Z"));
  if (!(Math.abs(Date.now() - signedAt) < 5 * 60_000) || !amzDate.startsWith(day!)) return { refused: "stale date" };
  const names = signedHeaders!.split(";");
  if (!names.includes("host") || !names.includes("x-amz-date")) return { refused: "host and x-amz-date must be signed" };
  if (request.headers.has("x-amz-security-token") && !names.includes("x-amz-security-token")) return { refused: "unsigned token" };
  const url = new URL(request.url);
  // Every AWS service but S3: each path segment URI-encoded twice (once by the client, once here).
  const canonicalPath = url.pathname.split("/").map(rfc3986).join("/");
  const canonicalQuery = [...url.searchParams].map(([k, v]) => [rfc3986(k), rfc3986(v)]).sort(([a, x], [b, y]) => (a === b ? (x! < y! ? -1 : 1) : a! < b! ? -1 : 1)).map(([k, v]) => `${k}=${v}`).join("&");
  const canonicalHeaders = names.map((n) => `${n}:${(request.headers.get(n) ?? "").trim().replace(/\s+/g, " ")}\n`).join("");
  const body = await request.clone().text();
  const canonical = [request.method, canonicalPath, canonicalQuery, canonicalHeaders, signedHeaders, sha256(body)].join("\n");
  const credentialScope = `${day}/${region}/${service}/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", amzDate, credentialScope, sha256(canonical)].join("\n");
  const key = hmac(hmac(hmac(hmac(`AWS4${user.secret}`, day!), region!), service!), "aws4_request");
  if (hmac(key, stringToSign).toString("hex") !== signature) return { refused: "signature mismatch" };
  return { arn: user.arn };
}

let broker: TestBroker;
let url: string;
let close: () => Promise<void>;
const tokensSeen: (string | null)[] = [];
beforeAll(async () => {
  broker = createTestBroker(await createTestTables("sdk-sigv4"), { security: { enabled: true, superUsers: [`IAM:${USERS["AKIAALICE"]!.arn}`] } });
  const app = createApi(broker.broker, { security: broker.security, iamIdentity: (c) => (c.env as { iamArn?: string } | undefined)?.iamArn });
  const gateway = async (request: Request): Promise<Response> => {
    const verdict = await verify(request);
    if ("refused" in verdict) return Response.json({ message: `Forbidden: ${verdict.refused}` }, { status: 403 });
    tokensSeen.push(request.headers.get("x-amz-security-token"));
    return app.fetch(request, { iamArn: verdict.arn });
  };
  await new Promise<void>((resolve) => {
    const server = serve({ fetch: gateway, port: 0, hostname: "127.0.0.1" }, (info: AddressInfo) => {
      url = `http://127.0.0.1:${info.port}`;
      close = () => new Promise<void>((done) => server.close(() => done()));
      resolve();
    });
  });
});
afterAll(async () => close?.());

describe("SigV4 through an IAM-authorizing gateway", () => {
  it("signs every request: the broker sees the IAM principal (ACLs apply), a wrong secret is refused", async () => {
    const alice = client(url, { auth: { sigv4: { region: "eu-west-1", credentials: { accessKeyId: "AKIAALICE", secretAccessKey: "alice-secret" } } } });
    const topic = topicName("sigv4");
    await alice.admin().createTopics({ topics: [{ topic, numPartitions: 2 }] });
    const [meta] = await alice.producer().send({ topic, messages: [{ key: "k", value: "signed value" }] });
    expect(meta).toMatchObject({ baseOffset: 0, duplicate: false });
    // GETs with query strings (sorted and encoded in the canonical request) and a group consumer's POSTs.
    expect(await alice.admin().fetchTopicOffsetsByTimestamp(topic, 0)).toEqual(expect.arrayContaining([{ partition: meta!.partition, offset: 0 }]));
    const consumer = alice.consumer({ groupId: topicName("g"), maxWaitTimeInMs: 100, heartbeatInterval: 200 });
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    const got = new Promise<string>((resolve) => void consumer.run({ eachMessage: async ({ message }) => resolve(message.value!.toString()) }));
    expect(await got).toBe("signed value");
    await consumer.stop();

    // Bob is authenticated (his signature verifies) but not authorized: the broker names his IAM principal.
    const bob = client(url, { auth: { sigv4: { region: "eu-west-1", credentials: async () => ({ accessKeyId: "AKIABOB", secretAccessKey: "bob-secret", sessionToken: "bob-session" }) } } });
    const denied = await bob.producer({ idempotent: false }).send({ topic, messages: [{ value: "x" }] }).catch((e) => e);
    expect(denied).toMatchObject({ code: "TOPIC_AUTHORIZATION_FAILED", status: 403 });
    expect(denied.message).toContain(`IAM:${USERS["AKIABOB"]!.arn}`);
    expect(tokensSeen).toContain("bob-session"); // the session token went along, signed

    const forged = client(url, { auth: { sigv4: { region: "eu-west-1", credentials: { accessKeyId: "AKIAALICE", secretAccessKey: "not-alices" } } } });
    const refused = await forged.admin().listTopics().catch((e) => e);
    expect(refused).toMatchObject({ code: "HTTP_ERROR", status: 403 });
    expect(refused.message).toContain("signature mismatch");
  });

  it("client/node.ts: credentials and region from Node's standard chain (here: the environment)", async () => {
    const saved = { ...process.env };
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: "AKIAALICE", AWS_SECRET_ACCESS_KEY: "alice-secret", AWS_REGION: "eu-west-1" });
    delete process.env["AWS_SESSION_TOKEN"];
    delete process.env["AWS_PROFILE"];
    try {
      const auth = sigv4FromEnvironment();
      expect(auth.sigv4.region).toBe("eu-west-1");
      expect(await client(url, { auth }).admin().listTopics()).toEqual(expect.any(Array));
    } finally {
      for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
      Object.assign(process.env, saved);
    }
    delete process.env["AWS_REGION"];
    delete process.env["AWS_DEFAULT_REGION"];
    try {
      expect(() => sigv4FromEnvironment()).toThrow(/region/);
    } finally {
      Object.assign(process.env, saved);
    }
  });
});
