import "vitest";

declare module "vitest" {
  export interface ProvidedContext {
    /** http://127.0.0.1:<port> of the DynamoDB Local shared by the whole test run. */
    dynamodbEndpoint: string;
  }
}
