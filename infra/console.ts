/**
 * The web console on a deployed stack (docs/console.md, "Deployed stacks"): a `console` function
 * serving the static bundle on the key API at `GET /console` and `GET /console/{proxy+}` — the
 * same origin as the API, so the console's calls need no CORS and `connect-src 'self'` holds.
 *
 * These two routes are the stack's only unauthenticated ones, on purpose: the login form is one of
 * the files, and the files hold no data and no secret. What makes the exception safe is what the
 * function cannot do: its role may write its own logs and nothing else (no DynamoDB, no other AWS
 * API; it has no AWS SDK), and it has no environment. `isConsoleRoute` names the exception for the
 * construct's no-route-without-auth check: only routes this construct made, on those two paths.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { Duration, RemovalPolicy } from "aws-cdk-lib";
import { HttpMethod, HttpNoneAuthorizer, HttpRoute, HttpRouteKey, type HttpApi } from "aws-cdk-lib/aws-apigatewayv2";
import { HttpLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import { PolicyStatement, Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { Architecture, Code, Function as LambdaFunction, type Runtime } from "aws-cdk-lib/aws-lambda";
import { NodejsFunction } from "aws-cdk-lib/aws-lambda-nodejs";
import { LogGroup, type RetentionDays } from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import { CONSOLE_BASE_PATH } from "../shared/http/console-routes.js";
import { CONSOLE_ASSET_FOLDER } from "../shared/runtime/console-bundle.js";
import { bundlingOptions } from "./bundling.js";
import { prebuiltBundleDir } from "./lambda-build.js";

/** The console's route keys: the only ones a Dynalog stack serves without authentication. */
export const CONSOLE_ROUTE_PATHS = [CONSOLE_BASE_PATH, `${CONSOLE_BASE_PATH}/{proxy+}`] as const;

/** Routes made by DynalogConsole (and only those) are the named exception. */
const consoleRoutes = new WeakSet<HttpRoute>();

/** Whether `route` is one of the console's static-file routes (made by DynalogConsole, GET on its two paths). */
export function isConsoleRoute(route: HttpRoute): boolean {
  if (!consoleRoutes.has(route)) return false;
  const key = (route.node.defaultChild as { routeKey?: string } | undefined)?.routeKey;
  return CONSOLE_ROUTE_PATHS.some((p) => key === `GET ${p}`);
}

export interface DynalogConsoleProps {
  readonly api: HttpApi;
  readonly runtime: Runtime;
  readonly logRetention: RetentionDays;
  /** The repository (bundles functions/console.ts and builds the console at synthesis) or dist/ (prebuilt). */
  readonly root: string;
}

export class DynalogConsole extends Construct {
  readonly function: LambdaFunction;
  readonly routes: readonly HttpRoute[];

  constructor(scope: Construct, id: string, props: DynalogConsoleProps) {
    super(scope, id);
    // Its own logs and nothing else: no table grant, no AWS managed policy.
    const role = new Role(this, "Role", { assumedBy: new ServicePrincipal("lambda.amazonaws.com"), description: "Dynalog console function (static files only)" });
    const logGroup = new LogGroup(this, "Logs", { retention: props.logRetention, removalPolicy: RemovalPolicy.DESTROY });
    role.addToPolicy(new PolicyStatement({ actions: ["logs:CreateLogStream", "logs:PutLogEvents"], resources: [logGroup.logGroupArn] }));
    const common = {
      description: "Dynalog web console (static files; reads no data)",
      runtime: props.runtime,
      architecture: Architecture.ARM_64,
      memorySize: 256,
      timeout: Duration.seconds(5),
      role,
      logGroup,
    };
    const entry = path.join(props.root, "functions", "console.ts");
    if (existsSync(entry)) {
      this.function = new NodejsFunction(this, "Function", {
        ...common,
        entry,
        handler: "handler",
        projectRoot: props.root,
        depsLockFilePath: path.join(props.root, "package-lock.json"),
        bundling: {
          ...bundlingOptions("runtime", "console"),
          // The console's own build, into the asset beside index.mjs (the function reads it at cold start).
          commandHooks: {
            beforeBundling: () => [],
            beforeInstall: () => [],
            afterBundling: (_inputDir: string, outputDir: string) => [`npx --no-install tsx scripts/build-console.ts ${JSON.stringify(path.join(outputDir, CONSOLE_ASSET_FOLDER))}`],
          },
        },
      });
    } else {
      // The published package: scripts/build-lambdas.ts put the console bundle into the prebuilt asset.
      const bundleDir = prebuiltBundleDir(props.root, "runtime", "console");
      if (!existsSync(path.join(bundleDir, CONSOLE_ASSET_FOLDER, "index.html"))) throw new Error(`Dynalog: no prebuilt console function at ${bundleDir} (run npm run build)`);
      this.function = new LambdaFunction(this, "Function", { ...common, code: Code.fromAsset(bundleDir), handler: "index.handler" });
    }
    const integration = new HttpLambdaIntegration("Integration", this.function);
    this.routes = CONSOLE_ROUTE_PATHS.map((routePath, i) => {
      const route = new HttpRoute(this, `Route${i}`, {
        httpApi: props.api,
        routeKey: HttpRouteKey.with(routePath, HttpMethod.GET),
        integration,
        authorizer: new HttpNoneAuthorizer(),
      });
      consoleRoutes.add(route);
      return route;
    });
  }
}
