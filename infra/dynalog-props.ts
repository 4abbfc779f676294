/**
 * What `new Dynalog(scope, id, props)` takes (infra/dynalog.ts): billing, authentication, logging,
 * capacity, and the optional parts (console, compaction schedule, notifications, subscription targets).
 */
import { Duration, type RemovalPolicy } from "aws-cdk-lib";
import type { RetentionDays } from "aws-cdk-lib/aws-logs";
import type { ITopic } from "aws-cdk-lib/aws-sns";
import type { CorsPolicy } from "../shared/http/cors.js";
import type { LogLevel } from "../shared/runtime/config.js";
import type { CapacityProps } from "./capacity.js";
import type { CompactionScheduleProps } from "./compactor-schedule.js";
import type { HistoryScheduleProps } from "./history-schedule.js";
import type { AwsSdkSource } from "./lambda-build.js";

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
   * The history sampler behind the console's throughput and lag charts (docs/console.md,
   * "History"): a function run every minute that keeps one sample of each topic and consumer group,
   * for a day. Default: on, every minute; `false` creates none (the history routes then answer no
   * samples). Its cost grows with topics and groups: per month, 43,800 invocations (~$0.01 with
   * their run time), and per topic or group 43,800 item writes (~$0.03) plus its reads (docs/console.md).
   */
  readonly history?: HistoryScheduleProps | false;
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
