/**
 * `new Dynalog(scope, id, props)`: a complete broker as one construct — the DynamoDB tables (from
 * shared/storage/tables.ts, the same definitions the local setup uses), one Lambda function per
 * handler with exactly the DynamoDB actions it needs, an HTTP API whose every route requires
 * authentication, and the alarms and dashboard to run it.
 */
import { iamPrincipal, validatePrincipal } from "../shared/security/security.js";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Duration, RemovalPolicy, Stack } from "aws-cdk-lib";
import { HttpApi, HttpMethod, HttpRoute, HttpStage, LogGroupLogDestination, type IHttpRouteAuthorizer } from "aws-cdk-lib/aws-apigatewayv2";
import { HttpIamAuthorizer } from "aws-cdk-lib/aws-apigatewayv2-authorizers";
import { HttpLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import { AccessLogFormat } from "aws-cdk-lib/aws-apigateway";
import { AttributeType, BillingMode, Table } from "aws-cdk-lib/aws-dynamodb";
import { Effect, PolicyStatement, Role, ServicePrincipal, type IGrantable } from "aws-cdk-lib/aws-iam";
import { Architecture, Runtime } from "aws-cdk-lib/aws-lambda";
import { NodejsFunction, OutputFormat, SourceMapMode, type BundlingOptions } from "aws-cdk-lib/aws-lambda-nodejs";
import { LogGroup, RetentionDays } from "aws-cdk-lib/aws-logs";
import type { ITopic } from "aws-cdk-lib/aws-sns";
import { Construct } from "constructs";
import { ROUTES, apiGatewayPath, FUNCTION_NAMES, type FunctionName } from "../shared/http/routes.js";
import { MAX_RETENTION_MS, MIN_RETENTION_MS } from "../shared/limits.js";
import type { LogLevel } from "../shared/runtime/config.js";
import { TABLES, TABLE_IDS, type TableId } from "../shared/storage/tables.js";
import { DEFAULT_HOLE_TIMEOUT, FUNCTION_SETTINGS, minimumHoleTimeoutMs, reservingFunctions } from "./functions.js";
import { DynalogObservability } from "./observability.js";
import { FUNCTION_ACCESS, type TableGrant } from "./permissions.js";

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** DynamoDB capacity: on-demand (pay per request, nothing at idle) or provisioned per table. */
export type DynalogBilling = { readonly mode: "on-demand" } | { readonly mode: "provisioned"; readonly readCapacity: number; readonly writeCapacity: number };

/**
 * How callers authenticate. There is deliberately no "none": every route requires one of these.
 * - `iam` (default): SigV4-signed requests; grant callers access with `grantInvoke`.
 * - `authorizer`: any HTTP API authorizer (Lambda or JWT). This is the extension point for the
 *   broker's own API keys (the security issue) for clients that cannot sign requests.
 */
export type DynalogAuth = { readonly mode: "iam" } | { readonly mode: "authorizer"; readonly authorizer: IHttpRouteAuthorizer };

/** Whether the functions carry the AWS SDK in their bundle or use the one in the Lambda runtime. */
export type AwsSdkSource = "bundled" | "runtime";

export interface DynalogProps {
  /** Default: on-demand. */
  readonly billing?: DynalogBilling;
  /** Retention of topics created without one; `null` keeps records forever. Default: 7 days. */
  readonly defaultTopicRetention?: Duration | null;
  /** What happens to the tables when they leave the stack. Default: RETAIN (data is never deleted by a deploy). */
  readonly removalPolicy?: RemovalPolicy;
  /** DynamoDB deletion protection. Default: on unless `removalPolicy` is DESTROY. */
  readonly deletionProtection?: boolean;
  /** Default: IAM (SigV4). */
  readonly auth?: DynalogAuth;
  /** Default: INFO. */
  readonly logLevel?: LogLevel;
  /** Retention of the functions' and the API's logs. Default: one month. */
  readonly logRetention?: RetentionDays;
  /** CloudWatch alarms on errors, throttles and DynamoDB system errors. Default: on. */
  readonly alarms?: boolean;
  /** Where alarms notify (optional). */
  readonly alarmTopic?: ITopic;
  /** A CloudWatch dashboard. Default: on. */
  readonly dashboard?: boolean;
  /** Reserved concurrency per function (caps it, and guarantees it). Default: unreserved. */
  readonly reservedConcurrency?: Readonly<Partial<Record<FunctionName, number>>>;
  /** Memory of every function, in MB (CPU scales with it). Default: 1024. */
  readonly memorySize?: number;
  /** Gap age after which readers fill a dead writer's gap. Default 60 s; must exceed the writers' timeouts (checked). */
  readonly holeTimeout?: Duration;
  /**
   * Restrict readers' and writers' counter/void writes to named attributes with IAM's
   * `dynamodb:Attributes` condition (fetch can write voids and hints but never records or the
   * sequencer). Default: on. An escape hatch, should a future DynamoDB change evaluate it differently.
   */
  readonly restrictWriteAttributes?: boolean;
  /**
   * Default: "bundled" — measured: cold import ~175 ms bundled vs ~270 ms with the SDK loaded from
   * node_modules (README, `npm run bench:bundles`), and the SDK version deployed is the one tested.
   */
  readonly awsSdk?: AwsSdkSource;
  /** The `service` dimension of the metrics and the `service` key of the logs. Default: `<stack name>-<id>`. */
  readonly serviceName?: string;
  /**
   * Principals that bypass ACLs ("IAM:<arn>" or "User:<name>"); everyone else starts with no
   * rights. `npm run deploy` passes the deploying identity (CDK context dynalog:superUsers).
   */
  readonly superUsers?: readonly string[];
  /** Per-principal quotas; unset = unlimited (see docs/api.md, Security). */
  readonly quotas?: { readonly requestsPerSecond?: number; readonly bytesPerSecond?: number; readonly producerIdsPerHour?: number };
}

export class Dynalog extends Construct {
  readonly tables: Readonly<Record<TableId, Table>>;
  readonly functions: Readonly<Record<FunctionName, NodejsFunction>>;
  readonly api: HttpApi;
  readonly stage: HttpStage;
  /** The API's base URL (ends with "/"). */
  readonly url: string;
  readonly serviceName: string;
  readonly observability: DynalogObservability;

  constructor(scope: Construct, id: string, props: DynalogProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const logRetention = props.logRetention ?? RetentionDays.ONE_MONTH;
    const restrictAttributes = props.restrictWriteAttributes ?? true;
    this.serviceName = props.serviceName ?? `${Stack.of(this).stackName}-${id}`;

    const holeTimeout = props.holeTimeout ?? DEFAULT_HOLE_TIMEOUT;
    for (const fn of reservingFunctions()) {
      const needed = minimumHoleTimeoutMs(FUNCTION_SETTINGS[fn].timeout.toMilliseconds());
      if (holeTimeout.toMilliseconds() <= needed) {
        throw new Error(`holeTimeout ${holeTimeout.toMilliseconds()} ms is unsafe: the ${fn} function writes until ${needed} ms after it starts (DESIGN.md §1.4)`);
      }
    }
    const retention = props.defaultTopicRetention;
    if (retention && (retention.toMilliseconds() < MIN_RETENTION_MS || retention.toMilliseconds() > MAX_RETENTION_MS)) {
      throw new Error(`defaultTopicRetention must be from ${MIN_RETENTION_MS} to ${MAX_RETENTION_MS} ms`);
    }

    this.tables = this.createTables(props.billing ?? { mode: "on-demand" }, removalPolicy, props.deletionProtection ?? removalPolicy !== RemovalPolicy.DESTROY);

    const environment: Record<string, string> = {
      DYNALOG_TABLE_TOPICS: this.tables.topics.tableName,
      DYNALOG_TABLE_PARTITIONS: this.tables.partitions.tableName,
      DYNALOG_TABLE_LOG: this.tables.log.tableName,
      DYNALOG_TABLE_PRODUCERS: this.tables.producers.tableName,
      DYNALOG_TABLE_OFFSETS: this.tables.offsets.tableName,
      DYNALOG_TABLE_SECURITY: this.tables.security.tableName,
      // Every deployed request is authenticated and checked against the ACLs.
      DYNALOG_AUTH: "on",
      DYNALOG_SUPER_USERS: (props.superUsers ?? []).map(normalizePrincipal).join(","),
      ...(props.quotas?.requestsPerSecond !== undefined && { DYNALOG_QUOTA_REQUESTS_PER_SECOND: String(props.quotas.requestsPerSecond) }),
      ...(props.quotas?.bytesPerSecond !== undefined && { DYNALOG_QUOTA_BYTES_PER_SECOND: String(props.quotas.bytesPerSecond) }),
      ...(props.quotas?.producerIdsPerHour !== undefined && { DYNALOG_QUOTA_PRODUCER_IDS_PER_HOUR: String(props.quotas.producerIdsPerHour) }),
      // Explicit, not the code's default: the value is tied to the timeouts above.
      DYNALOG_HOLE_TIMEOUT_MS: String(holeTimeout.toMilliseconds()),
      DYNALOG_SERVICE_NAME: this.serviceName,
      DYNALOG_LOG_LEVEL: props.logLevel ?? "INFO",
      DYNALOG_METRICS_ENABLED: "true",
      ...(retention !== undefined && { DYNALOG_DEFAULT_RETENTION_MS: retention === null ? "forever" : String(retention.toMilliseconds()) }),
      // Readable stack traces from the minified bundle; measured at ~20 ms of a ~175 ms cold import
      // (npm run bench:bundles), worth it for errors that can be acted on.
      NODE_OPTIONS: "--enable-source-maps",
      // The AWS SDK warns on every cold start of a runtime it will stop supporting; noise here.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    };

    const functions = {} as Record<FunctionName, NodejsFunction>;
    for (const fn of FUNCTION_NAMES) {
      functions[fn] = this.createFunction(fn, {
        environment,
        logRetention,
        memorySize: props.memorySize ?? 1024,
        reservedConcurrency: props.reservedConcurrency?.[fn],
        awsSdk: props.awsSdk ?? "bundled",
        restrictAttributes,
      });
    }
    this.functions = functions;

    const apiLogs = new LogGroup(this, "ApiAccessLogs", { retention: logRetention, removalPolicy: RemovalPolicy.DESTROY });
    this.api = new HttpApi(this, "Api", { description: "Dynalog broker API", createDefaultStage: false });
    this.stage = new HttpStage(this, "DefaultStage", {
      httpApi: this.api,
      stageName: "$default",
      autoDeploy: true,
      accessLogSettings: { destination: new LogGroupLogDestination(apiLogs), format: accessLogFormat() },
    });
    this.url = this.stage.url;
    this.addRoutes(props.auth ?? { mode: "iam" });

    this.observability = new DynalogObservability(this, "Observability", {
      serviceName: this.serviceName,
      tables: this.tables,
      functions: this.functions,
      api: this.api,
      alarms: props.alarms ?? true,
      alarmTopic: props.alarmTopic,
      dashboard: props.dashboard ?? true,
    });

    // Refuse to synthesize a route anyone could call unauthenticated, including routes a user of
    // this construct adds to `api` later.
    this.node.addValidation({
      validate: () =>
        this.api.node
          .findAll()
          .filter((c): c is HttpRoute => c instanceof HttpRoute)
          .filter((route) => {
            const cfn = route.node.defaultChild as { authorizationType?: string } | undefined;
            return !cfn?.authorizationType || cfn.authorizationType === "NONE";
          })
          .map((route) => `Route ${route.node.path} has no authorization; every Dynalog route must be authenticated`),
    });
  }

  /**
   * Allow `grantee` to call the routes of the given functions (default: all), e.g.
   * `broker.grantInvoke(producerRole, "produce")`. Only meaningful with IAM auth.
   */
  grantInvoke(grantee: IGrantable, ...fns: FunctionName[]): void {
    const wanted = fns.length > 0 ? fns : FUNCTION_NAMES;
    const resources = ROUTES.filter((r) => wanted.includes(r.fn)).map((r) => this.api.arnForExecuteApi(r.method, r.path.replace(/:[A-Za-z]+/g, "*"), "$default"));
    grantee.grantPrincipal.addToPrincipalPolicy(new PolicyStatement({ actions: ["execute-api:Invoke"], resources }));
  }

  private createTables(billing: DynalogBilling, removalPolicy: RemovalPolicy, deletionProtection: boolean): Record<TableId, Table> {
    const tables = {} as Record<TableId, Table>;
    for (const id of TABLE_IDS) {
      const definition = TABLES[id];
      const key = (k: { name: string; type: "S" | "N" }) => ({ name: k.name, type: k.type === "S" ? AttributeType.STRING : AttributeType.NUMBER });
      tables[id] = new Table(this, `${capitalize(id)}Table`, {
        partitionKey: key(definition.partitionKey),
        ...(definition.sortKey && { sortKey: key(definition.sortKey) }),
        ...(billing.mode === "on-demand"
          ? { billingMode: BillingMode.PAY_PER_REQUEST }
          : { billingMode: BillingMode.PROVISIONED, readCapacity: billing.readCapacity, writeCapacity: billing.writeCapacity }),
        ...(definition.ttlAttribute && { timeToLiveAttribute: definition.ttlAttribute }),
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        deletionProtection,
        removalPolicy,
      });
    }
    return tables;
  }

  private createFunction(
    fn: FunctionName,
    options: {
      environment: Record<string, string>;
      logRetention: RetentionDays;
      memorySize: number;
      reservedConcurrency: number | undefined;
      awsSdk: AwsSdkSource;
      restrictAttributes: boolean;
    },
  ): NodejsFunction {
    const id = capitalize(fn);
    // A role per function with only its own statements (no AWS managed policy: the basic execution
    // role allows writing to every log group in the account).
    const role = new Role(this, `${id}Role`, { assumedBy: new ServicePrincipal("lambda.amazonaws.com"), description: `Dynalog ${fn} function` });
    for (const [table, grants] of Object.entries(FUNCTION_ACCESS[fn]) as [TableId, readonly TableGrant[]][]) {
      for (const grant of grants) role.addToPolicy(dynamoStatement(this.tables[table].tableArn, grant, options.restrictAttributes));
    }
    const logGroup = new LogGroup(this, `${id}Logs`, { retention: options.logRetention, removalPolicy: RemovalPolicy.DESTROY });
    role.addToPolicy(new PolicyStatement({ actions: ["logs:CreateLogStream", "logs:PutLogEvents"], resources: [logGroup.logGroupArn] }));

    return new NodejsFunction(this, `${id}Function`, {
      entry: path.join(REPO_ROOT, "functions", `${fn}.ts`),
      handler: "handler",
      projectRoot: REPO_ROOT,
      depsLockFilePath: path.join(REPO_ROOT, "package-lock.json"),
      description: FUNCTION_SETTINGS[fn].description,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: options.memorySize,
      timeout: FUNCTION_SETTINGS[fn].timeout,
      ...(options.reservedConcurrency !== undefined && { reservedConcurrentExecutions: options.reservedConcurrency }),
      role,
      logGroup,
      environment: options.environment,
      bundling: bundlingOptions(options.awsSdk),
    });
  }

  private addRoutes(auth: DynalogAuth): void {
    const authorizer = auth.mode === "iam" ? new HttpIamAuthorizer() : auth.authorizer;
    const integrations = new Map(FUNCTION_NAMES.map((fn) => [fn, new HttpLambdaIntegration(`${capitalize(fn)}Integration`, this.functions[fn])]));
    for (const route of ROUTES) {
      this.api.addRoutes({ path: apiGatewayPath(route), methods: [HttpMethod[route.method]], integration: integrations.get(route.fn)!, authorizer });
    }
  }
}

/** esbuild settings shared by every function (and by bench/bundles.ts through the construct). */
export function bundlingOptions(awsSdk: AwsSdkSource): BundlingOptions {
  return {
    format: OutputFormat.ESM,
    target: "node22",
    minify: true,
    sourceMap: true,
    sourceMapMode: SourceMapMode.DEFAULT, // a separate .map file, linked from the bundle
    // Stack traces need names and line numbers, not the sources: a smaller map.
    sourcesContent: false,
    // Prefer the ESM builds of dependencies (smaller, tree-shakeable).
    mainFields: ["module", "main"],
    // Some dependencies are CommonJS and call require() for Node builtins; an ESM bundle needs a
    // real require for that.
    banner: "import { createRequire as __dynalogRequire } from 'node:module'; const require = __dynalogRequire(import.meta.url);",
    // [] bundles the AWS SDK too; the runtime's SDK is used otherwise (see AwsSdkSource).
    externalModules: awsSdk === "bundled" ? [] : ["@aws-sdk/*"],
  };
}

function dynamoStatement(tableArn: string, grant: TableGrant, restrictAttributes: boolean): PolicyStatement {
  return new PolicyStatement({
    effect: Effect.ALLOW,
    actions: grant.actions.map((a) => `dynamodb:${a}`),
    resources: [tableArn],
    ...(restrictAttributes && grant.onlyAttributes && { conditions: { "ForAllValues:StringEquals": { "dynamodb:Attributes": [...grant.onlyAttributes] } } }),
  });
}

/** HTTP API access log: one JSON line per request, with who called (SigV4 identity) and how it ended. */
function accessLogFormat(): AccessLogFormat {
  return AccessLogFormat.custom(
    JSON.stringify({
      requestId: "$context.requestId",
      time: "$context.requestTimeEpoch",
      route: "$context.routeKey",
      method: "$context.httpMethod",
      path: "$context.path",
      status: "$context.status",
      responseLength: "$context.responseLength",
      latencyMs: "$context.responseLatency",
      integrationLatencyMs: "$context.integrationLatency",
      integrationError: "$context.integrationErrorMessage",
      sourceIp: "$context.identity.sourceIp",
      caller: "$context.identity.userArn",
      authError: "$context.authorizer.error",
    }),
  );
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** "arn:…" (e.g. from `aws sts get-caller-identity`) becomes the principal the broker will see. */
function normalizePrincipal(principal: string): string {
  const value = principal.startsWith("arn:") ? iamPrincipal(principal) : principal;
  validatePrincipal(value);
  return value;
}
