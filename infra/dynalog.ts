/**
 * `new Dynalog(scope, id, props)`: a complete broker as one construct — the DynamoDB tables (from
 * shared/storage/tables.ts, the same definitions the local setup uses), one Lambda function per
 * handler with exactly the DynamoDB actions it needs, HTTP APIs whose every route requires
 * authentication (SigV4 on one, broker-issued API keys on the other) — but for the web console's
 * static files on the key API (infra/console.ts) — and the alarms and dashboard to run it.
 */
import { iamPrincipal, validatePrincipal } from "../shared/security/security.js";
import { Annotations, Duration, RemovalPolicy, Stack } from "aws-cdk-lib";
import { CorsHttpMethod, HttpApi, HttpMethod, HttpRoute, HttpStage, LogGroupLogDestination, type CorsPreflightOptions, type IHttpRouteAuthorizer } from "aws-cdk-lib/aws-apigatewayv2";
import { HttpIamAuthorizer, HttpLambdaAuthorizer, HttpLambdaResponseType } from "aws-cdk-lib/aws-apigatewayv2-authorizers";
import { HttpLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import type { Table } from "aws-cdk-lib/aws-dynamodb";
import { PolicyStatement, type IGrantable } from "aws-cdk-lib/aws-iam";
import type { Function as LambdaFunction } from "aws-cdk-lib/aws-lambda";
import { LogGroup, RetentionDays } from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import { ROUTES, apiGatewayPath, FUNCTION_NAMES, type FunctionName, type RouteDefinition } from "../shared/http/routes.js";
import { MAX_RETENTION_MS, MIN_RETENTION_MS } from "../shared/limits.js";
import { CORS_ALLOW_HEADERS, CORS_ALLOW_METHODS, CORS_DEFAULT_MAX_AGE_SECONDS, CORS_EXPOSE_HEADERS, type CorsPolicy } from "../shared/http/cors.js";
import type { TableId } from "../shared/storage/tables.js";
import { assertSafeHoleTimeout, AUTHORIZER_SETTINGS, DISPATCHER_SETTINGS, gatewayTimeoutProblems, DEFAULT_HOLE_TIMEOUT, FUNCTION_SETTINGS } from "./functions.js";
import { accessLogFormat, vendedLogGroupName } from "./access-logs.js";
import { DynalogConsole, isConsoleRoute } from "./console.js";
import { resolveCapacity } from "./capacity.js";
import { DynalogObservability } from "./observability.js";
import { consumeRoutes, produceRoutes, routeResourcePath } from "./grants.js";
import { COMPACTION_SCHEDULE_DESCRIPTION, compactorSettings, DEFAULT_COMPACTION_RATE } from "./compactor-schedule.js";
import { DEFAULT_HISTORY_RATE, HISTORY_SCHEDULE_DESCRIPTION, historySettings } from "./history-schedule.js";
import { RateSchedule } from "./rate-schedule.js";
import { DynalogNotifications } from "./notifications.js";
import { validateSubscriptionTargets, wireSubscriptionDispatcher } from "./subscriptions.js";
import { DEFAULT_AUTHORIZER_CACHE_TTL, type DynalogProps } from "./dynalog-props.js";
import { createDynalogTables } from "./dynalog-tables.js";
import { capitalize, createDynalogFunction, LAMBDA_RUNTIME, REPO_ROOT } from "./function-factory.js";
import { AUTHORIZER_ACCESS, COMPACTOR_ACCESS, DISPATCHER_ACCESS, FUNCTION_ACCESS, HISTORY_ACCESS } from "./permissions.js";

export { bundlingOptions } from "./bundling.js";
export type { AwsSdkSource } from "./lambda-build.js";
export { DEFAULT_AUTHORIZER_CACHE_TTL, type DynalogAuth, type DynalogBilling, type DynalogProps } from "./dynalog-props.js";
export { LAMBDA_RUNTIME } from "./function-factory.js";

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
  /** The history sampler behind the console's charts (absent with `history: false`). */
  readonly history?: LambdaFunction;
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

    this.tables = createDynalogTables(this, props.billing ?? { mode: "on-demand" }, removalPolicy, props.deletionProtection ?? removalPolicy !== RemovalPolicy.DESTROY);

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

    // The functions subscriptions may name: what the dispatcher's role may invoke. Only creating a
    // subscription checks it (the subscriptions function); the dispatcher keeps it beside its
    // invoke grant, as before. The other functions no longer carry it.
    const subscriptionEnvironment = { ...environment, DYNALOG_SUBSCRIPTION_FUNCTIONS: subscriptionTargets.join(",") };

    const functions = {} as Record<FunctionName, LambdaFunction>;
    for (const fn of FUNCTION_NAMES) {
      functions[fn] = createDynalogFunction(this, this.tables, fn, FUNCTION_ACCESS[fn], FUNCTION_SETTINGS[fn], {
        environment: fn === "subscriptions" ? subscriptionEnvironment : environment,
        logRetention,
        memorySize: capacity.memoryMb(fn),
        reservedConcurrency: capacity.reserved(fn),
        awsSdk: props.awsSdk ?? "bundled",
        restrictAttributes,
      });
    }
    this.functions = functions;
    this.dispatcher = createDynalogFunction(this, this.tables, "dispatcher", DISPATCHER_ACCESS, DISPATCHER_SETTINGS, {
      environment: subscriptionEnvironment,
      logRetention,
      memorySize: capacity.memoryMb("dispatcher"),
      reservedConcurrency: capacity.reserved("dispatcher"),
      awsSdk: props.awsSdk ?? "bundled",
      restrictAttributes,
    });
    wireSubscriptionDispatcher(this, { dispatcher: this.dispatcher, logTable: this.tables.log, targets: subscriptionTargets });

    if (props.compaction !== false) {
      const rate = props.compaction?.rate ?? DEFAULT_COMPACTION_RATE;
      this.compactor = createDynalogFunction(this, this.tables, "compactor", COMPACTOR_ACCESS, compactorSettings(rate), {
        environment,
        logRetention,
        memorySize: capacity.memoryMb("admin"),
        reservedConcurrency: undefined,
        awsSdk: props.awsSdk ?? "bundled",
        restrictAttributes,
      });
      // A run late by a whole period would overlap the next one: dropped, the next does the same work.
      new RateSchedule(this, "CompactionSchedule", { target: this.compactor, rate, description: COMPACTION_SCHEDULE_DESCRIPTION, maxEventAge: rate });
    }

    if (props.history !== false) {
      const rate = props.history?.rate ?? DEFAULT_HISTORY_RATE;
      this.history = createDynalogFunction(this, this.tables, "history", HISTORY_ACCESS, historySettings(rate), {
        environment,
        logRetention,
        memorySize: 256,
        reservedConcurrency: undefined,
        awsSdk: props.awsSdk ?? "bundled",
        restrictAttributes,
      });
      // A late sample still lands in its own bucket; EventBridge's floor for the age is 60 s.
      new RateSchedule(this, "HistorySchedule", { target: this.history, rate, description: HISTORY_SCHEDULE_DESCRIPTION, maxEventAge: Duration.seconds(Math.max(60, rate.toSeconds())) });
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
      this.keyAuthorizer = createDynalogFunction(this, this.tables, "authorizer", AUTHORIZER_ACCESS, AUTHORIZER_SETTINGS, {
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
          createDynalogFunction(this, this.tables, fn, access, settings, {
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
        ...(this.history ? [["history", this.history] as const] : []),
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

  /** Every route of shared/http/routes.ts on `api`, each to its function, all behind `authorizer`. */
  private addRoutes(api: HttpApi, authorizer: IHttpRouteAuthorizer, idPrefix: string): void {
    // An integration belongs to one API: one set per API.
    const integrations = new Map(FUNCTION_NAMES.map((fn) => [fn, new HttpLambdaIntegration(`${idPrefix}${capitalize(fn)}Integration`, this.functions[fn])]));
    for (const route of ROUTES) {
      api.addRoutes({ path: apiGatewayPath(route), methods: [HttpMethod[route.method]], integration: integrations.get(route.fn)!, authorizer });
    }
  }
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
