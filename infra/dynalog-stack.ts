/**
 * The project's own stack: one Dynalog broker, configured from CDK context (`-c key=value` or
 * cdk.json), with its URLs (IAM API, API-key API) as outputs.
 */
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from "aws-cdk-lib";
import type { Construct } from "constructs";
import type { LogLevel } from "../shared/runtime/config.js";
import { Dynalog, type DynalogProps } from "./dynalog.js";

export interface DynalogStackProps extends StackProps {
  readonly broker?: DynalogProps;
}

export class DynalogStack extends Stack {
  readonly broker: Dynalog;

  constructor(scope: Construct, id: string, props: DynalogStackProps = {}) {
    super(scope, id, { description: "Dynalog: a serverless message broker on Lambda and DynamoDB", ...props });
    this.broker = new Dynalog(this, "Broker", { ...propsFromContext(this), ...props.broker });
    new CfnOutput(this, "ApiUrl", { value: this.broker.url, description: "Base URL of the broker's IAM API (SigV4-signed requests)" });
    if (this.broker.keyApiUrl) {
      new CfnOutput(this, "KeyApiUrl", { value: this.broker.keyApiUrl, description: "Base URL of the broker's API-key API (Authorization: Bearer dlk_… or Basic keyId:secret)" });
    }
    new CfnOutput(this, "DashboardName", { value: this.broker.observability.dashboard?.dashboardName ?? "(disabled)" });
  }
}

/**
 * Settings a deployer may give without code:
 *   dynalog:removalPolicy=destroy   tables are deleted with the stack (default: retained)
 *   dynalog:logLevel=DEBUG          function log level
 *   dynalog:alarms=false            no alarms
 *   dynalog:dashboard=false         no dashboard
 *   dynalog:retentionHours=168      default topic retention
 *   dynalog:superUsers=arn:…,User:x principals that bypass ACLs (npm run deploy passes the deployer)
 *   dynalog:auth=iam                the IAM (SigV4) API only, no API-key API (default: iam-and-api-keys)
 *   dynalog:fetchConcurrency=200    cap on concurrent fetch executions (reserved concurrency; default none, with a
 *                                   synth warning: a new account's quota may allow no reservation at all)
 *   dynalog:accountConcurrency=1000 the account's Lambda concurrency quota, to check reservations against
 *   dynalog:holeTimeoutMs=30000     gap age after which readers fill a dead writer's gap (default:
 *                                   derived from the writers' timeouts, 18 s; a smaller unsafe value is refused)
 *   dynalog:subscriptionTargets=arn:…,arn:…:function:team-*
 *                                   Lambda functions push subscriptions may invoke (default none: webhooks only)
 */
function propsFromContext(scope: Construct): DynalogProps {
  const get = (key: string): string | undefined => {
    const value: unknown = scope.node.tryGetContext(`dynalog:${key}`);
    return value === undefined || value === null ? undefined : String(value);
  };
  const removal = get("removalPolicy");
  const logLevel = get("logLevel");
  const alarms = get("alarms");
  const dashboard = get("dashboard");
  const retentionHours = get("retentionHours");
  const superUsers = get("superUsers");
  const auth = get("auth");
  const holeTimeoutMs = get("holeTimeoutMs");
  const fetchConcurrency = get("fetchConcurrency");
  const accountConcurrency = get("accountConcurrency");
  const subscriptionTargets = get("subscriptionTargets");
  for (const [key, value] of [["fetchConcurrency", fetchConcurrency], ["accountConcurrency", accountConcurrency]] as const) {
    if (value !== undefined && !/^\d+$/.test(value)) throw new Error(`dynalog:${key} must be a whole number, got "${value}"`);
  }
  if (removal !== undefined && removal !== "destroy" && removal !== "retain") throw new Error(`dynalog:removalPolicy must be "destroy" or "retain", got "${removal}"`);
  if (logLevel !== undefined && !["DEBUG", "INFO", "WARN", "ERROR"].includes(logLevel)) throw new Error(`dynalog:logLevel must be DEBUG, INFO, WARN or ERROR, got "${logLevel}"`);
  if (auth !== undefined && auth !== "iam" && auth !== "iam-and-api-keys") throw new Error(`dynalog:auth must be "iam" or "iam-and-api-keys", got "${auth}"`);
  if (retentionHours !== undefined && !/^\d+$/.test(retentionHours)) throw new Error(`dynalog:retentionHours must be a whole number of hours, got "${retentionHours}"`);
  if (holeTimeoutMs !== undefined && !/^\d+$/.test(holeTimeoutMs)) throw new Error(`dynalog:holeTimeoutMs must be a whole number of milliseconds, got "${holeTimeoutMs}"`);
  return {
    ...(fetchConcurrency !== undefined && { fetchConcurrency: Number(fetchConcurrency) }),
    ...(accountConcurrency !== undefined && { accountConcurrency: Number(accountConcurrency) }),
    ...(holeTimeoutMs !== undefined && { holeTimeout: Duration.millis(Number(holeTimeoutMs)) }),
    ...(removal !== undefined && { removalPolicy: removal === "destroy" ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN }),
    ...(logLevel !== undefined && { logLevel: logLevel as LogLevel }),
    ...(alarms !== undefined && { alarms: alarms !== "false" }),
    ...(dashboard !== undefined && { dashboard: dashboard !== "false" }),
    ...(retentionHours !== undefined && { defaultTopicRetention: Duration.hours(Number(retentionHours)) }),
    ...(auth !== undefined && { auth: { mode: auth } }),
    ...(subscriptionTargets !== undefined && { subscriptionTargets: subscriptionTargets.split(",").map((t) => t.trim()).filter((t) => t !== "") }),
    ...(superUsers !== undefined && { superUsers: superUsers.split(",").map((p) => p.trim()).filter((p) => p !== "") }),
  };
}
