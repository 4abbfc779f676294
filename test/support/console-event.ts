/** An API Gateway HTTP API (payload 2.0) GET event, as the console function receives one. */
export function consoleEvent(path: string): Record<string, unknown> {
  return {
    version: "2.0",
    routeKey: path === "/console" ? "GET /console" : "GET /console/{proxy+}",
    rawPath: path,
    rawQueryString: "",
    headers: { host: "example.execute-api.eu-west-1.amazonaws.com", accept: "*/*" },
    isBase64Encoded: false,
    requestContext: {
      accountId: "123456789012",
      apiId: "example",
      domainName: "example.execute-api.eu-west-1.amazonaws.com",
      domainPrefix: "example",
      http: { method: "GET", path, protocol: "HTTP/1.1", sourceIp: "192.0.2.1", userAgent: "test" },
      requestId: "r",
      routeKey: path === "/console" ? "GET /console" : "GET /console/{proxy+}",
      stage: "$default",
      time: "02/Dec/2026:07:00:00 +0000",
      timeEpoch: 1796194800000,
    },
  };
}
