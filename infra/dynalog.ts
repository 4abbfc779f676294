/**
 * `new Dynalog(scope, id, props)`: a complete broker as one construct — the DynamoDB tables (from
 * shared/storage/tables.ts, the same definitions the local setup uses), one Lambda function per
 * handler with exactly the DynamoDB actions it needs, HTTP APIs whose every route requires
 * authentication (SigV4 on one, broker-issued API keys on the other) — but for the web console's
 * static files on the key API (infra/console.ts) — and the alarms and dashboard to run it.
 */
import { iamPrincipal, validatePrincipal } from "../shared/security/security.js";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Annotations, Duration, RemovalPolicy, Stack } from "aws-cdk-lib";
import { CorsHttpMethod, HttpApi, HttpMethod, HttpRoute, HttpStage, LogGroupLogDestination, type CorsPreflightOptions, type IHttpRouteAuthorizer } from "aws-cdk-lib/aws-apigatewayv2";
import { HttpIamAuthorizer, HttpLambdaAuthorizer, HttpLambdaResponseType } from "aws-cdk-lib/aws-apigatewayv2-authorizers";
import { HttpLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import { AttributeType, BillingMode, Table } from "aws-cdk-lib/aws-dynamodb";
import { Effect, PolicyStatement, Role, ServicePrincipal, type IGrantable } from "aws-cdk-lib/aws-iam";
import { Architecture, Code, Function as LambdaFunction, Runtime } from "aws-cdk-lib/aws-lambda";
import { NodejsFunction } from "aws-cdk-lib/aws-lambda-nodejs";
import { LogGroup, RetentionDays } from "aws-cdk-lib/aws-logs";
import type { ITopic } from "aws-cdk-lib/aws-sns";
import { Construct } from "constructs";
import { ROUTES, apiGatewayPath, FUNCTION_NAMES, type FunctionName, type RouteDefinition } from "../shared/http/routes.js";
import { MAX_RETENTION_MS, MIN_RETENTION_MS } from "../shared/limits.js";
import { CORS_ALLOW_HEADERS, CORS_ALLOW_METHODS, CORS_DEFAULT_MAX_AGE_SECONDS, CORS_EXPOSE_HEADERS, type CorsPolicy } from "../shared/http/cors.js";
import type { LogLevel } from "../shared/runtime/config.js";
import { TABLES, TABLE_IDS, type TableId } from "../shared/storage/tables.js";
import { assertSafeHoleTimeout, AUTHORIZER_SETTINGS, DISPATCHER_SETTINGS, gatewayTimeoutProblems, DEFAULT_HOLE_TIMEOUT, FUNCTION_SETTINGS, type FunctionSettings } from "./functions.js";
import { accessLogFormat, vendedLogGroupName } from "./access-logs.js";
import { DynalogConsole, isConsoleRoute } from "./console.js";
import { resolveCapacity, type CapacityProps } from "./capacity.js";
import { DynalogObservability } from "./observability.js";
import { consumeRoutes, produceRoutes, routeResourcePath } from "./grants.js";
import { bundlingOptions } from "./bundling.js";
import { CompactionSchedule, compactorSettings, DEFAULT_COMPACTION_RATE, type CompactionScheduleProps } from "./compactor-schedule.js";
import { prebuiltBundleDir, type AwsSdkSource, type LambdaFunctionName } from "./lambda-build.js";
import { DynalogNotifications } from "./notifications.js";
import { LOG_TABLE_STREAM_VIEW_TYPE } from "./log-stream.js";
import { validateSubscriptionTargets, wireSubscriptionDispatcher } from "./subscriptions.js";
import { ATTRIBUTE_RESTRICTED_RETURN_VALUES, AUTHORIZER_ACCESS, COMPACTOR_ACCESS, DISPATCHER_ACCESS, FUNCTION_ACCESS, type FunctionAccess, type TableGrant } from "./permissions.js";

/**
 * The functions' runtime. nodejs22.x is what the project builds for (esbuild target node22) and
 * tests; aws-cdk-lib 2.276 has NODEJS_24_X, and cdk-nag's L1 rule wants the newest (acknowledged in
 * nag-suppressions.ts). The move is planned, not forced: docs/deploy.md, "Runtime".
 */
export const LAMBDA_RUNTIME = Runtime.NODEJS_22_X;

/** The repository (sources) or, in the published package, dist/ (compiled, with dist/lambda/). */
const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

export { bundlingOptions } from "./bundling.js";
export type { AwsSdkSource } from "./lambda-build.js";

/** DynamoDB capacity: on-demand (pay per request, nothing at idle) or provisioned per table. */
export type DynalogBilling = { readonly mode: "on-demand" } | { readonly mode: "provisioned"; readonly readCapacity: number; readonly writeCapacity: number };

/**
 * How callers authenticate. There is deliberately no "none": every route of every API requires
 * authentication at the HTTPS layer (checked at synthesis), and the broker functions authenticate
 * every request again and check the ACLs (DYNALOG_AUTH=on).
 *
 * - `iam-and-api-keys` (default): two HTTP APIs with the same routes and the same functions.
 *   - The IAM API (`api`, `url`): every route requires a SigV4 signature (`AWS_IAM`); the broker
 *     sees the signer as `IAM:<arn>` (an assumed role as its role).
 *   - The key API (`keyApi`, `keyApiUrl`): every route requires a broker-issued API key, checked by
 *     a Lambda REQUEST authorizer (functions/authorizer.ts) — for clients that cannot sign.
 * - `iam`: the IAM API only, for deployments that want no entry point outside IAM.
 *
 * Why two APIs rather than one: an HTTP API route takes exactly one authorizer, and a Lambda
 * authorizer cannot verify SigV4 (it never sees the caller's secret), so "SigV4 or a key" on one
 * route is impossible; prefixing a second set of routes on one API (`/keys/v1/…`) would change the
 * paths clients use. Two APIs keep every path identical — a client only picks the base URL — and
 * keep the IAM API exactly as it is (its authorization is API Gateway's, no code of ours).
 * Function URLs support only IAM or no auth, so they cannot carry keys either.
 *
 * Why keys are on by default: the security design gives deployed clients both credentials, the
 * key API costs nothing at idle (per request pricing, like everything else here), and it admits
 * nobody until a super-user creates a key — which only an IAM caller can do on a fresh deployment.
 *
 * `authorizerCacheTtl` (default 30 s, at most 1 h, 0 = off): how long API Gateway reuses the
 * authorizer's answer for one Authorization header. It does not bound revocation: every broker
 * function re-checks the key on every request with its own cache (DYNALOG_AUTH_CACHE_TTL_MS, 5 s),
 * so a revoked key is refused (401) within 5 s; for up to this TTL (plus the authorizer's own
 * 5 s key cache) it may still reach the functions, and be refused there, before API Gateway
 * itself answers 403.
 */
export type DynalogAuth = { readonly mode: "iam" } | { readonly mode: "iam-and-api-keys"; readonly authorizerCacheTtl?: Duration };

export const DEFAULT_AUTHORIZER_CACHE_TTL = Duration.seconds(30);

/** Memory and concurrency (memorySize, fetchMemorySize, reservedConcurrency, fetchConcurrency, accountConcurrency): infra/capacity.ts. */
export interface DynalogProps extends CapacityProps {
  /** Default: on-demand. */
  readonly billing?: DynalogBilling;
  /** Retention of topics created without one; `null` keeps records forever. Default: 7 days. */
  readonly defaultTopicRetention?: Duration | null;
  /** What happens to the tables when they leave the stack. Default: RETAIN (data is never deleted by a deploy). */
  readonly removalPolicy?: RemovalPolicy;
  /** DynamoDB deletion protection. Default: on unless `removalPolicy` is DESTROY. */
  readonly deletionProtection?: boolean;
  /** Default: `iam-and-api-keys` (an IAM API and an API-key API; see DynalogAuth). */
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
  /**
   * Gap age after which readers fill a dead writer's gap, and so the longest a crashed writer stalls
   * its partition's readers (counted from the next entry's write, or the latest reservation for a
   * gap at the end). Default: the writers' function timeout + DynamoDB request timeout + clock
   * margin + 1 s (18 s); a value at or below that minimum is refused (infra/functions.ts).
   */
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
  /**
   * Web origins whose pages may call the APIs from a browser (the SDK in a web app): API Gateway
   * answers their preflights and adds the CORS headers. Default: none (no CORS; server-side
   * callers need none). `{ allowOrigins: ["*"] }` allows any page — callers still need credentials.
   */
  readonly cors?: CorsPolicy;
  /**
   * The scheduled compactor of compacted topics (docs/compaction.md). Default: a run every
   * 5 minutes; `false` creates none (compact through `POST /v1/topics/:topic/compact` instead).
   */
  readonly compaction?: CompactionScheduleProps | false;
  /**
   * Serve the web console's static files on the key API (`GET /console`, `GET /console/{proxy+}`,
   * the only unauthenticated routes: infra/console.ts). Default: on; needs the key API.
   */
  readonly console?: boolean;
  /**
   * Record notifications over an API Gateway WebSocket API (infra/notifications.ts, docs/api.md):
   * idle consumers wait on a connection instead of a long poll. Default: off.
   */
  readonly notifications?: boolean;
  /**
   * Lambda functions push subscriptions may invoke (docs/subscriptions.md): function ARNs, or ARN
   * prefixes ending in '*'. The dispatcher's role gets `lambda:InvokeFunction` on exactly these,
   * and the broker refuses a subscription naming any other function. Default: none (webhooks only).
   */
  readonly subscriptionTargets?: readonly string[];
}

export class Dynalog extends Construct {
  readonly tables: Readonly<Record<TableId, Table>>;
  readonly functions: Readonly<Record<FunctionName, LambdaFunction>>;
  /** The IAM API: every route requires a SigV4 signature. */
  readonly api: HttpApi;
  readonly stage: HttpStage;
  /** The IAM API's base URL (ends with "/"). */
  readonly url: string;
  /** The key API (auth mode `iam-and-api-keys`): every route requires a broker-issued API key. */
  readonly keyApi?: HttpApi;
  readonly keyApiStage?: HttpStage;
  /** The key API's base URL (ends with "/"). */
  readonly keyApiUrl?: string;
  /** The key API's Lambda authorizer (reads API keys only: GetItem on the security table). */
  readonly keyAuthorizer?: LambdaFunction;
  /** The web console on the key API (static files only; see infra/console.ts). */
  readonly console?: DynalogConsole;
  /** The push-subscription dispatcher, woken by the log table's stream and a schedule (infra/subscriptions.ts). */
  readonly dispatcher: LambdaFunction;
  readonly serviceName: string;
  readonly observability: DynalogObservability;
  /** The scheduled compactor (absent with `compaction: false`). */
  readonly compactor?: LambdaFunction;
  /** With `notifications: true`: the WebSocket API and its functions. */
  readonly notifications?: DynalogNotifications;

  constructor(scope: Construct, id: string, props: DynalogProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const logRetention = props.logRetention ?? RetentionDays.ONE_MONTH;
    const restrictAttributes = props.restrictWriteAttributes ?? true;
    this.serviceName = props.serviceName ?? `${Stack.of(this).stackName}-${id}`;

    const holeTimeout = props.holeTimeout ?? DEFAULT_HOLE_TIMEOUT;
    assertSafeHoleTimeout(holeTimeout.toMilliseconds());
    const retention = props.defaultTopicRetention;
    if (retention && (retention.toMilliseconds() < MIN_RETENTION_MS || retention.toMilliseconds() > MAX_RETENTION_MS)) {
      throw new Error(`defaultTopicRetention must be from ${MIN_RETENTION_MS} to ${MAX_RETENTION_MS} ms`);
    }

    const subscriptionTargets = props.subscriptionTargets ?? [];
    validateSubscriptionTargets(subscriptionTargets);
    const capacity = resolveCapacity(props);
    for (const warning of capacity.warnings) Annotations.of(this).addWarningV2("dynalog:fetch-concurrency", warning);
    if ((props.superUsers ?? []).length === 0) {
      // `npm run deploy` passes the deploying identity; a plain `cdk deploy` does not.
      Annotations.of(this).addWarningV2(
        "dynalog:no-super-users",
        "No super-users: nobody will be able to create API keys or ACLs on this broker (every caller starts with no rights). " +
          "Deploy with `npm run deploy` (it passes your identity) or `cdk deploy -c dynalog:superUsers=<your IAM ARN>`; docs/deploy.md.",
      );
    }
    this.node.addValidation({ validate: () => gatewayTimeoutProblems() });

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
      // The functions subscriptions may name: what the dispatcher's role may invoke.
      DYNALOG_SUBSCRIPTION_FUNCTIONS: subscriptionTargets.join(","),
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

    const functions = {} as Record<FunctionName, LambdaFunction>;
    for (const fn of FUNCTION_NAMES) {
      functions[fn] = this.createFunction(fn, FUNCTION_ACCESS[fn], FUNCTION_SETTINGS[fn], {
        environment,
        logRetention,
        memorySize: capacity.memoryMb(fn),
        reservedConcurrency: capacity.reserved(fn),
        awsSdk: props.awsSdk ?? "bundled",
        restrictAttributes,
      });
    }
    this.functions = functions;
    this.dispatcher = this.createFunction("dispatcher", DISPATCHER_ACCESS, DISPATCHER_SETTINGS, {
      environment,
      logRetention,
      memorySize: capacity.memoryMb("dispatcher"),
      reservedConcurrency: capacity.reserved("dispatcher"),
      awsSdk: props.awsSdk ?? "bundled",
      restrictAttributes,
    });
    wireSubscriptionDispatcher(this, { dispatcher: this.dispatcher, logTable: this.tables.log, targets: subscriptionTargets });

    if (props.compaction !== false) {
      const rate = props.compaction?.rate ?? DEFAULT_COMPACTION_RATE;
      this.compactor = this.createFunction("compactor", COMPACTOR_ACCESS, compactorSettings(rate), {
        environment,
        logRetention,
        memorySize: capacity.memoryMb("admin"),
        reservedConcurrency: undefined,
        awsSdk: props.awsSdk ?? "bundled",
        restrictAttributes,
      });
      new CompactionSchedule(this, "CompactionSchedule", { compactor: this.compactor, rate });
    }

    const apiLogs = new LogGroup(this, "ApiAccessLogs", { logGroupName: vendedLogGroupName(this, "api-access"), retention: logRetention, removalPolicy: RemovalPolicy.DESTROY });
    const corsPreflight = props.cors && corsPreflightOptions(props.cors);
    this.api = new HttpApi(this, "Api", { description: "Dynalog broker API", createDefaultStage: false, corsPreflight });
    this.stage = new HttpStage(this, "DefaultStage", {
      httpApi: this.api,
      stageName: "$default",
      autoDeploy: true,
      accessLogSettings: { destination: new LogGroupLogDestination(apiLogs), format: accessLogFormat() },
    });
    this.url = this.stage.url;
    this.addRoutes(this.api, new HttpIamAuthorizer(), "");

    const auth = props.auth ?? { mode: "iam-and-api-keys" };
    if (auth.mode !== "iam" && auth.mode !== "iam-and-api-keys") {
      throw new Error(`auth.mode must be "iam" or "iam-and-api-keys", got ${JSON.stringify((auth as { mode: unknown }).mode)}`);
    }
    if (auth.mode === "iam-and-api-keys") {
      const cacheTtl = auth.authorizerCacheTtl ?? DEFAULT_AUTHORIZER_CACHE_TTL;
      if (cacheTtl.toSeconds() > 3600) throw new Error("authorizerCacheTtl must be at most 1 hour (API Gateway's limit)");
      // Only what the authorizer reads: the security table's name, the key cache, logging.
      const authorizerEnvironment: Record<string, string> = {
        DYNALOG_TABLE_SECURITY: environment["DYNALOG_TABLE_SECURITY"]!,
        DYNALOG_AUTH: "on",
        DYNALOG_SERVICE_NAME: this.serviceName,
        DYNALOG_LOG_LEVEL: environment["DYNALOG_LOG_LEVEL"]!,
        NODE_OPTIONS: environment["NODE_OPTIONS"]!,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
      };
      this.keyAuthorizer = this.createFunction("authorizer", AUTHORIZER_ACCESS, AUTHORIZER_SETTINGS, {
        environment: authorizerEnvironment,
        logRetention,
        memorySize: capacity.memoryMb("authorizer"),
        reservedConcurrency: capacity.reserved("authorizer"),
        awsSdk: props.awsSdk ?? "bundled",
        restrictAttributes,
      });
      const keyApiLogs = new LogGroup(this, "KeyApiAccessLogs", { logGroupName: vendedLogGroupName(this, "key-api-access"), retention: logRetention, removalPolicy: RemovalPolicy.DESTROY });
      this.keyApi = new HttpApi(this, "KeyApi", { description: "Dynalog broker API (broker-issued API keys)", createDefaultStage: false, corsPreflight });
      this.keyApiStage = new HttpStage(this, "KeyApiDefaultStage", {
        httpApi: this.keyApi,
        stageName: "$default",
        autoDeploy: true,
        accessLogSettings: { destination: new LogGroupLogDestination(keyApiLogs), format: accessLogFormat({ withKeyPrincipal: true }) },
      });
      this.keyApiUrl = this.keyApiStage.url;
      const authorizer = new HttpLambdaAuthorizer("ApiKeyAuthorizer", this.keyAuthorizer, {
        authorizerName: "dynalog-api-keys",
        identitySource: ["$request.header.Authorization"],
        responseTypes: [HttpLambdaResponseType.SIMPLE],
        resultsCacheTtl: cacheTtl,
      });
      this.addRoutes(this.keyApi, authorizer, "Key");
      if (props.console ?? true) this.console = new DynalogConsole(this, "Console", { api: this.keyApi, runtime: LAMBDA_RUNTIME, logRetention, root: REPO_ROOT });
    }

    if (props.notifications) {
      this.notifications = new DynalogNotifications(this, "Notifications", {
        tables: this.tables,
        environment,
        logRetention,
        ...(this.keyAuthorizer && { keyAuthorizer: this.keyAuthorizer }),
        createFunction: (fn, access, settings, functionEnvironment) =>
          this.createFunction(fn, access, settings, {
            environment: functionEnvironment,
            logRetention,
            memorySize: 256,
            reservedConcurrency: undefined,
            awsSdk: props.awsSdk ?? "bundled",
            restrictAttributes,
          }),
      });
    }

    this.observability = new DynalogObservability(this, "Observability", {
      serviceName: this.serviceName,
      tables: this.tables,
      functions: this.functions,
      api: this.api,
      ...(this.keyApi && { keyApi: this.keyApi }),
      ...(this.keyAuthorizer && { keyAuthorizer: this.keyAuthorizer }),
      ...(this.console && { consoleFunction: this.console.function }),
      backgroundFunctions: [
        ["dispatcher", this.dispatcher] as const,
        ...(this.compactor ? [["compactor", this.compactor] as const] : []),
        ...(this.notifications ? [["notifier", this.notifications.notifierFunction] as const, ["notify-connect", this.notifications.connectFunction] as const] : []),
      ],
      alarms: props.alarms ?? true,
      alarmTopic: props.alarmTopic,
      dashboard: props.dashboard ?? true,
    });

    // Refuse to synthesize a route anyone could call unauthenticated, on either API, including
    // routes a user of this construct adds to `api` or `keyApi` later.
    this.node.addValidation({
      validate: () =>
        this.node
          .findAll()
          .filter((c): c is HttpRoute => c instanceof HttpRoute)
          // The one named exception: the console's static files (infra/console.ts).
          .filter((route) => !isConsoleRoute(route))
          .filter((route) => {
            const cfn = route.node.defaultChild as { authorizationType?: string } | undefined;
            return !cfn?.authorizationType || cfn.authorizationType === "NONE";
          })
          .map((route) => `Route ${route.node.path} has no authorization; every Dynalog route must be authenticated`),
    });
  }

  /**
   * Allow `grantee` to call the IAM API's routes of the given functions (default: all), e.g.
   * `broker.grantInvoke(producerRole, "produce")`. The broker's ACLs apply on top.
   */
  grantInvoke(grantee: IGrantable, ...fns: FunctionName[]): void {
    const wanted = fns.length > 0 ? fns : FUNCTION_NAMES;
    this.grantRoutes(grantee, ROUTES.filter((r) => wanted.includes(r.fn)));
  }

  /**
   * Allow `grantee` (e.g. a function's role) to produce through the IAM API: topic metadata,
   * producer ids and records (with `transactions`, transaction commits too). `topic` limits the
   * routes whose path names a topic; the broker's ACLs decide the rest (infra/grants.ts).
   */
  grantProduce(grantee: IGrantable, topic?: string, options: { readonly transactions?: boolean } = {}): void {
    this.grantRoutes(grantee, produceRoutes(options), topic);
  }

  /** Allow `grantee` to consume through the IAM API (fetch, offsets, group membership); see grantProduce. */
  grantConsume(grantee: IGrantable, topic?: string): void {
    this.grantRoutes(grantee, consumeRoutes(), topic);
  }

  private grantRoutes(grantee: IGrantable, routes: readonly RouteDefinition[], topic?: string): void {
    const resources = routes.map((r) => this.api.arnForExecuteApi(r.method, routeResourcePath(r, topic), "$default"));
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
        // The log's stream wakes its consumers (infra/log-stream.ts: one view type for all).
        ...(id === "log" && { stream: LOG_TABLE_STREAM_VIEW_TYPE }),
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        deletionProtection,
        removalPolicy,
      });
    }
    return tables;
  }

  private createFunction(
    fn: LambdaFunctionName,
    access: FunctionAccess,
    settings: FunctionSettings,
    options: {
      environment: Record<string, string>;
      logRetention: RetentionDays;
      memorySize: number;
      reservedConcurrency: number | undefined;
      awsSdk: AwsSdkSource;
      restrictAttributes: boolean;
    },
  ): LambdaFunction {
    const id = capitalize(fn);
    // A role per function with only its own statements (no AWS managed policy: the basic execution
    // role allows writing to every log group in the account).
    const role = new Role(this, `${id}Role`, { assumedBy: new ServicePrincipal("lambda.amazonaws.com"), description: `Dynalog ${fn} function` });
    for (const [table, grants] of Object.entries(access) as [TableId, readonly TableGrant[]][]) {
      for (const grant of grants) role.addToPolicy(dynamoStatement(this.tables[table].tableArn, grant, options.restrictAttributes));
    }
    const logGroup = new LogGroup(this, `${id}Logs`, { retention: options.logRetention, removalPolicy: RemovalPolicy.DESTROY });
    role.addToPolicy(new PolicyStatement({ actions: ["logs:CreateLogStream", "logs:PutLogEvents"], resources: [logGroup.logGroupArn] }));

    const common = {
      description: settings.description,
      runtime: LAMBDA_RUNTIME,
      architecture: Architecture.ARM_64,
      memorySize: options.memorySize,
      timeout: settings.timeout,
      ...(options.reservedConcurrency !== undefined && { reservedConcurrentExecutions: options.reservedConcurrency }),
      role,
      logGroup,
      environment: options.environment,
    };
    // In this repository the sources are bundled at synthesis; the published package has no
    // sources (nor, in a user's app, the lock file and esbuild NodejsFunction needs) and deploys
    // the bundles `npm run build` made with the same settings (infra/lambda-build.ts).
    const entry = path.join(REPO_ROOT, "functions", `${fn}.ts`);
    if (existsSync(entry)) {
      return new NodejsFunction(this, `${id}Function`, {
        ...common,
        entry,
        handler: "handler",
        projectRoot: REPO_ROOT,
        depsLockFilePath: path.join(REPO_ROOT, "package-lock.json"),
        bundling: bundlingOptions(options.awsSdk),
      });
    }
    const bundleDir = prebuiltBundleDir(REPO_ROOT, options.awsSdk, fn);
    if (!existsSync(path.join(bundleDir, "index.mjs"))) throw new Error(`Dynalog: no prebuilt ${fn} function at ${bundleDir} (run npm run build)`);
    return new LambdaFunction(this, `${id}Function`, { ...common, code: Code.fromAsset(bundleDir), handler: "index.handler" });
  }

  /** Every route of shared/http/routes.ts on `api`, each to its function, all behind `authorizer`. */
  private addRoutes(api: HttpApi, authorizer: IHttpRouteAuthorizer, idPrefix: string): void {
    // An integration belongs to one API: one set per API.
    const integrations = new Map(FUNCTION_NAMES.map((fn) => [fn, new HttpLambdaIntegration(`${idPrefix}${capitalize(fn)}Integration`, this.functions[fn])]));
    for (const route of ROUTES) {
      api.addRoutes({ path: apiGatewayPath(route), methods: [HttpMethod[route.method]], integration: integrations.get(route.fn)!, authorizer });
    }
  }
}

function dynamoStatement(tableArn: string, grant: TableGrant, restrictAttributes: boolean): PolicyStatement {
  return new PolicyStatement({
    effect: Effect.ALLOW,
    actions: grant.actions.map((a) => `dynamodb:${a}`),
    resources: [tableArn],
    ...(restrictAttributes &&
      grant.onlyAttributes && {
        conditions: {
          "ForAllValues:StringEquals": { "dynamodb:Attributes": [...grant.onlyAttributes] },
          // As AWS's fine-grained access examples do: a write restricted to some attributes must
          // not return the others (ALL_OLD / ALL_NEW would).
          "StringEqualsIfExists": { "dynamodb:ReturnValues": [...ATTRIBUTE_RESTRICTED_RETURN_VALUES] },
        },
      }),
  });
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

/** The gateway's CORS configuration from the policy the local gateway applies too (shared/http/cors.ts). */
function corsPreflightOptions(policy: CorsPolicy): CorsPreflightOptions {
  if (policy.allowOrigins.length === 0) throw new Error("cors.allowOrigins must name at least one origin (or \"*\")");
  return {
    allowOrigins: [...policy.allowOrigins],
    allowMethods: CORS_ALLOW_METHODS.map((m) => CorsHttpMethod[m]),
    allowHeaders: [...CORS_ALLOW_HEADERS],
    exposeHeaders: [...CORS_EXPOSE_HEADERS],
    maxAge: Duration.seconds(policy.maxAgeSeconds ?? CORS_DEFAULT_MAX_AGE_SECONDS),
  };
}
