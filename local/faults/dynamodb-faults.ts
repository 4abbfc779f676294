/**
 * Fault injection at the DynamoDB layer, as AWS SDK v3 middleware on a DynamoDBClient: lost
 * responses, failures before a request is applied, throttling, transaction conflicts, delays,
 * eventually consistent (stale) reads and forced interleavings. Used by the tests and by the local
 * broker's chaos mode (`npm start -- --chaos <profile>`, profiles in ./profiles.ts).
 *
 * Two placements, because they fail differently in the real world:
 * - "outside-retries" (middleware step "initialize"): the caller sees the fault; the SDK does not
 *   retry it. The broker must handle the error itself.
 * - "inside-retries" (finalizeRequest, right after the SDK's "retryMiddleware"): each attempt is
 *   judged separately and the SDK retries retriable faults itself — so a write whose response was
 *   lost is sent again, and a conditional write's retry meets its own item.
 *
 * Every probabilistic decision draws from one seeded PRNG: the same seed and the same sequence of
 * requests give the same faults (`decisions` lists them).
 *
 *     const faults = new DynamoDbFaults({ seed: 42 });
 *     faults.install(client);
 *     faults.addRule({ commands: /^PutItemCommand$/, placement: "inside-retries", action: { kind: "drop-response" }, times: 1 });
 */
import type { DynamoDBClient, ServiceInputTypes, ServiceOutputTypes } from "@aws-sdk/client-dynamodb";
import type { FinalizeRequestMiddleware } from "@smithy/types";
import { injectedConnectionReset, injectedThrottle, injectedTimeout, injectedTransactionConflict, type ThrottleErrorName } from "./errors.js";
import { mulberry32, randomInt, type Random } from "./random.js";
import { StaleReads, type StaleReadOptions } from "./stale-reads.js";

export type FaultPlacement = "outside-retries" | "inside-retries";

export type FaultAction =
  /** The request reaches DynamoDB and is applied; its response is lost (default: a TimeoutError). */
  | { readonly kind: "drop-response"; readonly error?: () => Error }
  /** The request fails before it is sent: nothing applied (default: a connection reset). */
  | { readonly kind: "fail-before"; readonly error?: () => Error }
  /** DynamoDB throttles the request (not applied; retriable). */
  | { readonly kind: "throttle"; readonly error?: ThrottleErrorName }
  /** TransactWriteItems is cancelled with a TransactionConflict on one action (other commands pass). */
  | { readonly kind: "transaction-conflict" }
  /** The request is delayed by a random time in [minMs, maxMs] before it is sent. */
  | { readonly kind: "delay"; readonly minMs: number; readonly maxMs: number };

/**
 * The request a rule or hook is asked about. `input` is the command's input at that step: outside
 * the retry loop as the caller passed it (plain values for lib-dynamodb's commands), inside it
 * marshalled (AttributeValues: `{ pk: { S: "…" } }`) for every caller.
 */
export interface FaultRequest {
  /** The SDK command name, e.g. "PutItemCommand" (also for lib-dynamodb's PutCommand). */
  readonly command: string;
  readonly input: Readonly<Record<string, unknown>>;
  readonly placement: FaultPlacement;
}

export interface FaultRule {
  /** For the decision log (default: the action's kind). */
  readonly name?: string;
  /** Matched against the command name, e.g. /^(PutItem|TransactWriteItems)Command$/. */
  readonly commands: RegExp;
  /** Default "outside-retries". */
  readonly placement?: FaultPlacement;
  /** Chance per matching request (default 1). */
  readonly probability?: number;
  /** Inject at most this many times (default unlimited). */
  readonly times?: number;
  /** Narrow further, e.g. by table: `(r) => r.input["TableName"] === tables.log`. */
  readonly where?: (request: FaultRequest) => boolean;
  readonly action: FaultAction;
}

/** A free-form decider, consulted after the rules (used by test/support/broker.ts's FaultInjector). */
export type FaultDecider = (request: FaultRequest) => FaultAction | undefined;

export interface FaultDecision {
  /** 1-based count of requests seen by this layer (both placements) when the decision was made. */
  readonly request: number;
  readonly command: string;
  readonly placement: FaultPlacement;
  readonly rule: string;
  readonly action: FaultAction["kind"] | "stale-read" | "interleave";
}

export interface DynamoDbFaultsOptions {
  /** PRNG seed (default 1); print it with a failure so the run can be replayed. */
  readonly seed?: number;
  readonly rules?: readonly FaultRule[];
  readonly staleReads?: StaleReadOptions;
}

interface Hook {
  readonly commands: RegExp;
  readonly where?: (request: FaultRequest) => boolean;
  left: number;
  readonly run: (request: FaultRequest) => Promise<void> | void;
  readonly fired: () => void;
}

const WRITES = /^(PutItem|UpdateItem|DeleteItem|TransactWriteItems|BatchWriteItem)Command$/;

export class DynamoDbFaults {
  readonly seed: number;
  /** Every fault injected, in order. */
  readonly decisions: FaultDecision[] = [];
  private readonly random: Random;
  private rules: { rule: FaultRule; left: number }[] = [];
  private deciders: { placement: FaultPlacement; decide: FaultDecider }[] = [];
  private hooks: Hook[] = [];
  private stale: StaleReads | undefined;
  private requests = 0;

  constructor(options: DynamoDbFaultsOptions = {}) {
    this.seed = options.seed ?? 1;
    this.random = mulberry32(this.seed);
    for (const rule of options.rules ?? []) this.addRule(rule);
    this.setStaleReads(options.staleReads);
  }

  /** Add a rule; returns a function that removes it. */
  addRule(rule: FaultRule): () => void {
    const entry = { rule, left: rule.times ?? Number.POSITIVE_INFINITY };
    this.rules.push(entry);
    return () => {
      this.rules = this.rules.filter((r) => r !== entry);
    };
  }

  addDecider(placement: FaultPlacement, decide: FaultDecider): void {
    this.deciders.push({ placement, decide });
  }

  /**
   * Turn eventually consistent reads on, change their settings (responses recorded so far are
   * kept, so start with `probability: 0` to record before going stale), or off with undefined.
   */
  setStaleReads(options: StaleReadOptions | undefined): void {
    if (!options) this.stale = undefined;
    else if (this.stale) this.stale.configure(options);
    else this.stale = new StaleReads(options, this.random);
  }

  /**
   * Run `hook` when a matching command is about to be sent (outside the retry loop) — after the
   * operation's earlier reads (its check) and before this write — then let the command proceed.
   * Fires `times` times (default 1). `fired` resolves after the first run.
   */
  beforeCommand(
    commands: RegExp,
    hook: (request: FaultRequest) => Promise<void> | void,
    options: { readonly times?: number; readonly where?: (request: FaultRequest) => boolean } = {},
  ): { readonly fired: Promise<void>; remove(): void } {
    let fired!: () => void;
    const firedPromise = new Promise<void>((resolve) => (fired = resolve));
    const entry: Hook = { commands, where: options.where, left: options.times ?? 1, run: hook, fired };
    this.hooks.push(entry);
    return { fired: firedPromise, remove: () => (this.hooks = this.hooks.filter((h) => h !== entry)) };
  }

  /** Remove every rule, decider, hook and stale-read setting (the decision log is kept). */
  clear(): void {
    this.rules = [];
    this.deciders = [];
    this.hooks = [];
    this.stale = undefined;
  }

  /** Install both middlewares on `client` (its lib-dynamodb document clients share them). */
  install(client: DynamoDBClient): void {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const request: FaultRequest = { command: String(context.commandName ?? ""), input: inputOf(args), placement: "outside-retries" };
        await this.runHooks(request);
        return this.apply(request, () => next(args));
      },
      { step: "initialize", name: "dynalogFaultsOutsideRetries" },
    );
    const insideRetries: FinalizeRequestMiddleware<ServiceInputTypes, ServiceOutputTypes> = (next, context) => async (args) => {
      const request: FaultRequest = { command: String(context.commandName ?? ""), input: inputOf(args), placement: "inside-retries" };
      const result = await this.apply(request, () => next(args));
      // Here inputs are raw AttributeValues for every caller (lib-dynamodb marshalled them), but a
      // document client's output is already unmarshalled: the stale-read layer compares and
      // stores raw forms, converting document outputs both ways.
      const stale = this.stale;
      if (stale) {
        if (WRITES.test(request.command)) stale.afterWrite(request.command, request.input);
        const output = result.output as unknown as Record<string, unknown> | undefined;
        const answer = output && stale.afterRead(request.command, request.input, output, isDocumentCommand(context));
        if (answer) {
          this.log(request, "stale-reads", "stale-read");
          return { ...result, output: answer.output as unknown as ServiceOutputTypes };
        }
      }
      return result;
    };
    client.middlewareStack.addRelativeTo(insideRetries, { relation: "after", toMiddleware: "retryMiddleware", name: "dynalogFaultsInsideRetries" });
  }

  private async runHooks(request: FaultRequest): Promise<void> {
    for (const hook of this.hooks) {
      if (hook.left <= 0 || !hook.commands.test(request.command) || (hook.where && !hook.where(request))) continue;
      hook.left -= 1; // before running: the hook's own requests must not fire it again
      this.log(request, "beforeCommand", "interleave");
      await hook.run(request);
      hook.fired();
    }
  }

  private decide(request: FaultRequest): { action: FaultAction; rule: string } | undefined {
    this.requests += 1;
    for (const entry of this.rules) {
      const { rule } = entry;
      if (entry.left <= 0 || (rule.placement ?? "outside-retries") !== request.placement || !rule.commands.test(request.command)) continue;
      if (rule.where && !rule.where(request)) continue;
      if (rule.probability !== undefined && rule.probability < 1 && this.random() >= rule.probability) continue;
      entry.left -= 1;
      return { action: rule.action, rule: rule.name ?? rule.action.kind };
    }
    for (const decider of this.deciders) {
      if (decider.placement !== request.placement) continue;
      const action = decider.decide(request);
      if (action) return { action, rule: "decider" };
    }
    return undefined;
  }

  private async apply<T>(request: FaultRequest, send: () => Promise<T>): Promise<T> {
    const decision = this.decide(request);
    if (!decision) return send();
    const { action, rule } = decision;
    if (action.kind === "transaction-conflict" && request.command !== "TransactWriteItemsCommand") return send();
    this.log(request, rule, action.kind);
    switch (action.kind) {
      case "fail-before":
        throw (action.error ?? injectedConnectionReset)();
      case "throttle":
        throw injectedThrottle(action.error);
      case "transaction-conflict": {
        const actions = ((request.input["TransactItems"] as unknown[] | undefined) ?? []).length;
        throw injectedTransactionConflict(actions, [randomInt(this.random, 0, Math.max(0, actions - 1))]);
      }
      case "delay": {
        const ms = randomInt(this.random, action.minMs, action.maxMs);
        await new Promise((resolve) => setTimeout(resolve, ms));
        return send();
      }
      case "drop-response": {
        await send();
        throw (action.error ?? injectedTimeout)();
      }
    }
  }

  private log(request: FaultRequest, rule: string, action: FaultDecision["action"]): void {
    this.decisions.push({ request: this.requests, command: request.command, placement: request.placement, rule, action });
  }
}

/** lib-dynamodb marks its commands with the "DDB_MAPPER" feature (for the user agent). */
function isDocumentCommand(context: object): boolean {
  const sdk = (context as { __aws_sdk_context?: { features?: Record<string, unknown> } }).__aws_sdk_context;
  return sdk?.features?.["DDB_MAPPER"] !== undefined;
}

function inputOf(args: { input?: unknown }): Record<string, unknown> {
  return (args.input ?? {}) as Record<string, unknown>;
}
