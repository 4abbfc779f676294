/**
 * Clients for the fault matrix rows: producers that keep their sequences as an SDK does, and the
 * fault shapes the rows share ("this Lambda died after k DynamoDB requests", table filters).
 */
import type { FaultRequest, FaultRule } from "../../local/faults/dynamodb-faults.js";
import type { Broker } from "../../shared/core/broker.js";
import type { TestBroker } from "../support/broker.js";
import { asPrincipal, type Resolution, type RowContext } from "./matrix.js";

export const WRITES = /^(PutItem|UpdateItem|DeleteItem|TransactWriteItems|BatchWriteItem)Command$/;
export const ANY_COMMAND = /Command$/;

/** Does the request touch `table` (any placement: the name appears verbatim in its input)? */
export function touches(table: string): (request: FaultRequest) => boolean {
  return (request) => JSON.stringify(request.input).includes(`"${table}"`);
}

/** The append's offset reservation (the only ADD on the partition counter). */
export function isReservation(request: FaultRequest): boolean {
  const expression = request.input["UpdateExpression"];
  const raw = typeof expression === "string" ? expression : "";
  return request.command === "UpdateItemCommand" && raw.startsWith("ADD #next");
}

/** The idempotent append's sequence claim (shared/storage/producer-state.ts, docs/append.md). */
export function isClaim(request: FaultRequest): boolean {
  const expression = request.input["UpdateExpression"];
  const raw = typeof expression === "string" ? expression : "";
  return request.command === "UpdateItemCommand" && raw.startsWith("SET e = :e");
}

/** Lose the response of matching writes after DynamoDB applied them, where the broker sees it. */
export function lostAck(commands: RegExp, probability: number, where?: (r: FaultRequest) => boolean): FaultRule {
  return { name: "lost ack", commands, placement: "outside-retries", probability, where, action: { kind: "drop-response" } };
}

/** Lose responses inside the SDK's retry loop: the SDK sends the applied request again. */
export function sdkRetriedAck(commands: RegExp, probability: number, where?: (r: FaultRequest) => boolean): FaultRule {
  return { name: "lost ack, retried by the SDK", commands, placement: "inside-retries", probability, where, action: { kind: "drop-response" } };
}

export class LambdaDied extends Error {
  override readonly name = "LambdaDied";
}

/**
 * "The Lambda died here": the instance's first `steps` DynamoDB requests go through; every later
 * one fails before it is sent, so nothing after step `steps` happens (cleanup included).
 */
export function dieAfter(lambda: TestBroker, steps: number): void {
  let sent = 0;
  lambda.chaos.beforeCommand(
    ANY_COMMAND,
    () => {
      sent += 1;
      if (sent > steps) throw new LambdaDied(`the instance died after ${steps} DynamoDB requests`);
    },
    { times: Number.POSITIVE_INFINITY },
  );
}

/** "The Lambda died right after this request": the first request matching `match` goes through, every later one fails before it is sent. */
export function dieAfterMatch(lambda: TestBroker, match: (request: FaultRequest) => boolean): void {
  let matched = false;
  lambda.chaos.beforeCommand(
    ANY_COMMAND,
    (request) => {
      if (matched) throw new LambdaDied("the instance died right after its sequence claim");
      if (match(request)) matched = true;
    },
    { times: Number.POSITIVE_INFINITY },
  );
}

/** The DynamoDB requests (command names, in order) one operation makes on a fresh instance. */
export async function probeSteps(lambda: TestBroker, operation: () => Promise<unknown>): Promise<string[]> {
  const steps: string[] = [];
  const hook = lambda.chaos.beforeCommand(ANY_COMMAND, (r) => void steps.push(r.command), { times: Number.POSITIVE_INFINITY });
  try {
    await operation();
  } finally {
    hook.remove();
  }
  return steps;
}

/** An idempotent producer that keeps its own sequence per partition, as an SDK does. */
export class IdempotentProducer {
  private readonly sequences = new Map<string, number>();
  /** Set when a batch's outcome stayed unknown: the next sequence is unknowable, so it stops. */
  broken = false;

  private constructor(
    private readonly ctx: RowContext,
    readonly name: string,
    readonly identity: { readonly producerId: number; readonly epoch: number },
    readonly principal?: string,
  ) {}

  static async init(ctx: RowContext, broker: Broker, name: string, principal?: string): Promise<IdempotentProducer> {
    const identity = await ctx.patiently(() => broker.initProducer(asPrincipal({}, principal)));
    return new IdempotentProducer(ctx, name, identity, principal);
  }

  nextSequence(topic: string, partition: number): number {
    return this.sequences.get(`${topic}\u0000${partition}`) ?? 0;
  }

  /** Send `count` new values in one batch; a definite refusal keeps the sequence (nothing was written). */
  async send(brokers: readonly Broker[], topic: string, partition: number, count: number, attempts?: number): Promise<Resolution | undefined> {
    if (this.broken) return undefined;
    const baseSequence = this.nextSequence(topic, partition);
    const values = this.ctx.values(this.name, count);
    const resolution = await this.ctx.send({ process: this.name, topic, partition, values, brokers, producer: this.identity, baseSequence, principal: this.principal, attempts });
    if (resolution.outcome === "ok") this.sequences.set(`${topic}\u0000${partition}`, baseSequence + count);
    if (resolution.outcome === "info") this.broken = true;
    return resolution;
  }
}

export interface TxnSend {
  readonly topic: string;
  readonly partition: number;
}

/** A transactional producer: one epoch, a transaction sequence it advances on every commit. */
export class TransactionalProducer {
  sequence = 0;
  broken = false;

  private constructor(
    private readonly ctx: RowContext,
    readonly name: string,
    readonly transactionalId: string,
    readonly identity: { readonly producerId: number; readonly epoch: number },
  ) {}

  static async init(ctx: RowContext, broker: Broker, name: string, transactionalId: string): Promise<TransactionalProducer> {
    return new TransactionalProducer(ctx, name, transactionalId, await ctx.patiently(() => broker.initProducer({ transactionalId })));
  }

  /** Commit one transaction of new values (and optional offsets), retried with the same sequence while unknown. */
  async commit(
    brokers: readonly Broker[],
    sends: readonly TxnSend[],
    options: { offsets?: { group: string; memberId?: string; memberEpoch?: number; offsets: { topic: string; partition: number; offset: number }[] }; attempts?: number; values?: readonly string[] } = {},
  ): Promise<Resolution | undefined> {
    if (this.broken) return undefined;
    const values = options.values ?? this.ctx.values(this.name, sends.length);
    const resolution = await this.ctx.txn({
      process: this.name,
      brokers,
      attempts: options.attempts,
      sends: sends.map((s, i) => ({ ...s, value: values[i]! })),
      input: {
        transactionalId: this.transactionalId,
        producerId: this.identity.producerId,
        producerEpoch: this.identity.epoch,
        transactionSequence: this.sequence,
        offsets: options.offsets,
      },
    });
    if (resolution.outcome === "ok") this.sequence += 1;
    if (resolution.outcome === "info") this.broken = true;
    return resolution;
  }
}

/** Plans drawn up front from the seed, so concurrent workers do not race for the PRNG. */
export function plan<T>(ctx: RowContext, count: number, draw: (i: number) => T): T[] {
  return Array.from({ length: count }, (_, i) => draw(i));
}
