import { DynamoDBClient, ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { describe, expect, it } from "vitest";
import { assertLocalEndpoint, localDynamoDbClientConfig } from "../../local/dynamodb-local.js";
import { checkJava, parseJavaMajorVersion } from "../../local/java.js";
import { testEndpoint, uniqueName } from "../support/dynamodb.js";

describe("DynamoDB Local launcher", () => {
  it("provides an endpoint that answers ListTables", async () => {
    const endpoint = testEndpoint();
    expect(endpoint).toMatch(/^http:\/\/(127\.0\.0\.1|localhost|\[::1\]):\d+$/);
    const client = new DynamoDBClient(localDynamoDbClientConfig(endpoint));
    try {
      const out = await client.send(new ListTablesCommand({}));
      expect(Array.isArray(out.TableNames)).toBe(true);
    } finally {
      client.destroy();
    }
  });

  it("localDynamoDbClientConfig uses us-east-1 and dummy credentials", () => {
    const config = localDynamoDbClientConfig("http://127.0.0.1:8000");
    expect(config).toMatchObject({
      endpoint: "http://127.0.0.1:8000",
      region: "us-east-1",
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
    });
  });
});

describe("assertLocalEndpoint", () => {
  it("refuses real AWS", () => {
    expect(() => assertLocalEndpoint("https://dynamodb.us-east-1.amazonaws.com")).toThrow(/Refusing/);
    expect(() => assertLocalEndpoint("not a url")).toThrow(/Refusing/);
  });

  it("accepts local endpoints", () => {
    expect(() => assertLocalEndpoint("http://127.0.0.1:8000")).not.toThrow();
    expect(() => assertLocalEndpoint("http://localhost:8000")).not.toThrow();
    expect(() => assertLocalEndpoint("http://[::1]:8000")).not.toThrow();
  });
});

describe("checkJava", () => {
  it("reports Java 17+ on this machine", () => {
    const result = checkJava();
    expect(result).toMatchObject({ ok: true });
    if (result.ok) expect(result.version).toBeGreaterThanOrEqual(17);
  });

  it("reports a friendly message for a bogus JAVA_HOME", () => {
    const result = checkJava({ ...process.env, JAVA_HOME: "/nonexistent/dynalog-bogus-java-home" });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.message).toMatch(/Java 17/);
      expect(result.message).toContain("openjdk-17-jre-headless");
      expect(result.message.split("\n").length).toBeLessThanOrEqual(2);
    }
  });

  it("parses both version styles", () => {
    expect(parseJavaMajorVersion('openjdk version "17.0.15" 2025-04-15')).toBe(17);
    expect(parseJavaMajorVersion('java version "1.8.0_292"')).toBe(8);
    expect(parseJavaMajorVersion('openjdk version "21" 2023-09-19')).toBe(21);
    expect(parseJavaMajorVersion('openjdk version "11.0.2-ea" 2019-01-15')).toBe(11);
    expect(parseJavaMajorVersion("garbage")).toBeUndefined();
  });
});

describe("uniqueName", () => {
  it("yields distinct, table-name-safe names", () => {
    const names = new Set(Array.from({ length: 100 }, () => uniqueName("t_")));
    expect(names.size).toBe(100);
    for (const n of names) expect(n).toMatch(/^[a-zA-Z0-9_.-]{3,255}$/);
    expect(() => uniqueName("bad name")).toThrow();
  });
});
