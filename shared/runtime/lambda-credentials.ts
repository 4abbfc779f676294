/**
 * Stands in for `@aws-sdk/credential-provider-node` in the Lambda bundles (an esbuild alias,
 * infra/lambda-build.ts). On Lambda the execution role's credentials are always in the environment
 * for the lifetime of the instance, so the default chain's other providers (SSO, STS web identity,
 * INI files, IMDS, …) are dead code; they and the nested STS/SSO clients they bring were ~135 KB of
 * every bundle (`npm run bench:bundles`). Against DynamoDB Local the handlers pass static
 * credentials and never call this.
 */
import type { AwsCredentialIdentity } from "@smithy/types";

export function defaultProvider(): () => Promise<AwsCredentialIdentity> {
  return async () => {
    const accessKeyId = process.env["AWS_ACCESS_KEY_ID"];
    const secretAccessKey = process.env["AWS_SECRET_ACCESS_KEY"];
    if (!accessKeyId || !secretAccessKey) throw new Error("No AWS credentials in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), where Lambda puts the execution role's");
    const sessionToken = process.env["AWS_SESSION_TOKEN"];
    return { accessKeyId, secretAccessKey, ...(sessionToken && { sessionToken }) };
  };
}
