/**
 * The deployed notification path's pure pieces: the key authorizer's answer on the WebSocket
 * $connect, reading appended batches from a log-table stream event, and posting to connections
 * through the management API (signed, 410 = gone).
 */
import type { APIGatewayRequestAuthorizerEvent, DynamoDBStreamEvent } from "aws-lambda";
import { afterEach, describe, expect, it } from "vitest";
import { managementApiPoster } from "../../shared/runtime/connection-poster.js";
import { appendedBatches } from "../../shared/runtime/notify-lambda.js";
import { authorizeWebSocketConnect, isWebSocketConnect } from "../../shared/runtime/websocket-authorizer.js";
import type { KeyAuthorizer } from "../../shared/runtime/authorizer.js";

const TOKEN = `dlk_${"a".repeat(16)}_${"b".repeat(43)}`;
const METHOD_ARN = "arn:aws:execute-api:eu-west-1:123456789012:abc/v1/$connect";

function connectEvent(protocols: string | undefined): APIGatewayRequestAuthorizerEvent {
  return {
    type: "REQUEST",
    methodArn: METHOD_ARN,
    headers: protocols === undefined ? {} : { "Sec-WebSocket-Protocol": protocols },
    requestContext: { connectionId: "conn-1", eventType: "CONNECT", routeKey: "$connect" },
  } as unknown as APIGatewayRequestAuthorizerEvent;
}

/** Accepts exactly TOKEN, as the key check would. */
const seen: string[] = [];
const authorize: KeyAuthorizer = async (event) => {
  const authorization = event.headers?.["authorization"] ?? "";
  seen.push(authorization);
  return authorization === `Bearer ${TOKEN}` ? { isAuthorized: true, context: { principal: "User:alice" } } : { isAuthorized: false };
};

describe("WebSocket $connect authorization", () => {
  it("tells a WebSocket $connect event from an HTTP API one", () => {
    expect(isWebSocketConnect(connectEvent(undefined))).toBe(true);
    expect(isWebSocketConnect({ version: "2.0", type: "REQUEST", requestContext: { requestId: "r" } })).toBe(false);
  });

  it("allows the key offered as a subprotocol, with its principal as context", async () => {
    const answer = await authorizeWebSocketConnect(authorize, connectEvent(`dynalog.notifications.v1, ${TOKEN}`));
    expect(answer).toEqual({
      principalId: "User:alice",
      policyDocument: { Version: "2012-10-17", Statement: [{ Action: "execute-api:Invoke", Effect: "Allow", Resource: METHOD_ARN }] },
      context: { principal: "User:alice" },
    });
  });

  it("denies a wrong key, and a connection offering none without asking the key check", async () => {
    const wrong = await authorizeWebSocketConnect(authorize, connectEvent(`dynalog.notifications.v1, dlk_${"c".repeat(16)}_${"d".repeat(43)}`));
    expect(wrong.policyDocument.Statement[0]).toMatchObject({ Effect: "Deny" });
    expect(wrong.context).toBeUndefined();
    const before = seen.length;
    const none = await authorizeWebSocketConnect(authorize, connectEvent("dynalog.notifications.v1"));
    expect(none.policyDocument.Statement[0]).toMatchObject({ Effect: "Deny" });
    expect(seen.length).toBe(before);
  });
});

describe("stream events", () => {
  it("reads inserted batch items only, keyed by topic incarnation and partition", () => {
    const record = (eventName: string, image: Record<string, unknown> | undefined) => ({ eventName, dynamodb: image && { NewImage: image } });
    const event = {
      Records: [
        record("INSERT", { p: { S: "t-1#3" }, o: { N: "42" }, k: { S: "B" }, c: { N: "5" } }),
        record("INSERT", { p: { S: "t-1#3" }, o: { N: "47" }, k: { S: "V" } }),
        record("MODIFY", { p: { S: "t-1#3" }, o: { N: "42" }, k: { S: "B" } }),
        record("REMOVE", undefined),
        record("INSERT", { p: { S: "topic#with#hashes#0" }, o: { N: "0" }, k: { S: "B" } }),
      ],
    } as unknown as DynamoDBStreamEvent;
    expect(appendedBatches(event)).toEqual([
      { topicId: "t-1", partition: 3, baseOffset: 42 },
      { topicId: "topic#with#hashes", partition: 0, baseOffset: 0 },
    ]);
  });
});

describe("management API poster", () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it("posts signed to @connections/<id>, and reads 410 as gone", async () => {
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: "AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY: "secret", AWS_SESSION_TOKEN: "session" });
    const calls: { url: string; init: RequestInit }[] = [];
    const statuses = [200, 410];
    const poster = managementApiPoster("https://abc.execute-api.eu-west-1.amazonaws.com/v1/", "eu-west-1", async (url, init) => {
      calls.push({ url: String(url), init: init! });
      return new Response(null, { status: statuses.shift()! });
    });
    expect(await poster.post("Zx1=", '{"type":"records"}')).toBe("sent");
    expect(await poster.post("gone-id", "{}")).toBe("gone");
    expect(calls[0]!.url).toBe("https://abc.execute-api.eu-west-1.amazonaws.com/v1/@connections/Zx1%3D");
    expect(calls[0]!.init.method).toBe("POST");
    expect(calls[0]!.init.body).toBe('{"type":"records"}');
    const headers = calls[0]!.init.headers as Record<string, string>;
    expect(headers["authorization"]).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request/);
    expect(headers["x-amz-security-token"]).toBe("session");
  });
});
