/**
 * Node-only helpers of the SDK, kept out of the main entry so that it stays free of Node built-ins
 * (this file loads the AWS SDK's Node credential chain: files, processes, the instance metadata
 * service). Import it only where Node (or Lambda) runs:
 *
 *   import { Dynalog } from "dynalog/client";
 *   import { sigv4FromEnvironment } from "dynalog/client/node";
 *
 *   const dynalog = new Dynalog({ url, auth: sigv4FromEnvironment() });
 */
import { defaultProvider, type DefaultProviderInit } from "@aws-sdk/credential-provider-node";
import type { AwsCredentialsProvider, SigV4Options } from "./sigv4.js";

/**
 * AWS's standard credential chain for Node — environment variables, SSO, the shared config and
 * credentials files (`profile`), web identity, ECS and EC2 instance roles — cached and refreshed
 * before expiry. The same chain `fromNodeProviderChain` of @aws-sdk/credential-providers builds.
 */
export function fromNodeProviderChain(init: DefaultProviderInit = {}): AwsCredentialsProvider {
  return defaultProvider(init);
}

/**
 * `auth` for `new Dynalog(…)`: SigV4 with the standard chain's credentials. The region defaults to
 * AWS_REGION (set in Lambda) or AWS_DEFAULT_REGION.
 */
export function sigv4FromEnvironment(options: { region?: string; service?: string; credentials?: DefaultProviderInit } = {}): { sigv4: SigV4Options } {
  const region = options.region ?? process.env["AWS_REGION"] ?? process.env["AWS_DEFAULT_REGION"];
  if (!region) throw new TypeError("sigv4FromEnvironment needs a region: pass { region } or set AWS_REGION");
  return { sigv4: { region, credentials: fromNodeProviderChain(options.credentials), ...(options.service ? { service: options.service } : {}) } };
}
