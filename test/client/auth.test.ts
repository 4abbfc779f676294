/** Authentication options of the SDK against a broker with security on. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { topicName } from "../support/broker.js";
import { client, startBroker, type ClientTestEnv } from "./support.js";

let env: ClientTestEnv;
let token: string;
beforeAll(async () => {
  env = await startBroker("sdk-auth", { security: { enabled: true, superUsers: ["User:admin"] } });
  token = (await env.harness.security.createApiKey("User:admin")).token;
});
afterAll(async () => env?.close());

describe("auth", () => {
  it("sends an API key as Bearer, as Basic, or through a custom header function; refusals are typed", async () => {
    const [, keyId, ...secret] = token.split("_");
    const topic = topicName("auth");
    await client(env.url, { auth: { type: "bearer", token } }).admin().createTopics({ topics: [{ topic }] });
    expect(await client(env.url, { auth: { type: "basic", username: keyId!, password: secret.join("_") } }).admin().listTopics()).toContain(topic);

    const seen: { method: string; url: string; body: string | undefined }[] = [];
    const signer = async (request: { method: string; url: string; headers: Readonly<Record<string, string>>; body: string | undefined }) => {
      seen.push({ method: request.method, url: request.url, body: request.body });
      return { authorization: `Bearer ${token}` };
    };
    const [meta] = await client(env.url, { auth: signer }).producer().send({ topic, messages: [{ value: "signed" }] });
    expect(meta).toMatchObject({ partition: 0, baseOffset: 0 });
    expect(seen.find((r) => r.url.endsWith(`/v1/topics/${topic}/records`))).toMatchObject({ method: "POST", body: expect.stringContaining('"signed"') });

    const refused = await client(env.url).admin().listTopics().catch((e) => e);
    expect(refused).toMatchObject({ name: "DynalogError", code: "AUTHENTICATION_FAILED", status: 401, retriable: false, outcome: "definite" });
    const wrong = await client(env.url, { auth: { type: "bearer", token: `${token}x` } }).admin().listTopics().catch((e) => e);
    expect(wrong.code).toBe("AUTHENTICATION_FAILED");
  });
});
