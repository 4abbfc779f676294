/**
 * Named chaos profiles for the local broker (`npm start -- --chaos <profile>`) and for tests: plain
 * data (rules and stale-read settings) with a one-line description each.
 */
import { DynamoDbFaults, type FaultRule } from "./dynamodb-faults.js";
import type { StaleReadOptions } from "./stale-reads.js";

export interface ChaosProfile {
  readonly description: string;
  readonly rules: readonly FaultRule[];
  readonly staleReads?: StaleReadOptions;
}

const WRITES = /^(PutItem|UpdateItem|DeleteItem|TransactWriteItems|BatchWriteItem)Command$/;
const ANY = /Command$/;
const TRANSACTIONS = /^TransactWriteItemsCommand$/;

export type ChaosProfileName = "light" | "heavy" | "stale-reads" | "lost-acks";

export const CHAOS_PROFILES: Readonly<Record<ChaosProfileName, ChaosProfile>> = {
  light: {
    description: "1% lost write responses, 2% throttles, 5% stale reads, 0–50 ms delays",
    rules: [
      { name: "lost response", commands: WRITES, placement: "inside-retries", probability: 0.01, action: { kind: "drop-response" } },
      { name: "throttle", commands: ANY, placement: "inside-retries", probability: 0.02, action: { kind: "throttle" } },
      { name: "delay", commands: ANY, action: { kind: "delay", minMs: 0, maxMs: 50 } },
    ],
    staleReads: { probability: 0.05 },
  },
  heavy: {
    description: "5% lost write responses (some seen by the broker), 10% throttles, 3% transaction conflicts, 2% failed requests, 20% stale reads, 0–200 ms delays",
    rules: [
      { name: "lost response, seen by the broker", commands: WRITES, placement: "outside-retries", probability: 0.01, action: { kind: "drop-response" } },
      { name: "transaction conflict", commands: TRANSACTIONS, probability: 0.03, action: { kind: "transaction-conflict" } },
      { name: "failed before sending", commands: ANY, placement: "outside-retries", probability: 0.02, action: { kind: "fail-before" } },
      { name: "delay", commands: ANY, action: { kind: "delay", minMs: 0, maxMs: 200 } },
      { name: "lost response", commands: WRITES, placement: "inside-retries", probability: 0.04, action: { kind: "drop-response" } },
      { name: "throttle", commands: ANY, placement: "inside-retries", probability: 0.1, action: { kind: "throttle", error: "ThrottlingException" } },
    ],
    staleReads: { probability: 0.2 },
  },
  "stale-reads": {
    description: "50% of eventually consistent reads answered from an older view; nothing else",
    rules: [],
    staleReads: { probability: 0.5 },
  },
  "lost-acks": {
    description: "10% of write responses lost after the write was applied (half retried by the SDK, half seen by the broker)",
    rules: [
      { name: "lost response, seen by the broker", commands: WRITES, placement: "outside-retries", probability: 0.05, action: { kind: "drop-response" } },
      { name: "lost response", commands: WRITES, placement: "inside-retries", probability: 0.05, action: { kind: "drop-response" } },
    ],
  },
};

export const CHAOS_PROFILE_NAMES = Object.keys(CHAOS_PROFILES) as ChaosProfileName[];

export function isChaosProfileName(name: string): name is ChaosProfileName {
  return Object.hasOwn(CHAOS_PROFILES, name);
}

/** A fault layer for a named profile (install it with `.install(client)`). */
export function faultsForProfile(name: ChaosProfileName, seed = 1): DynamoDbFaults {
  const profile = CHAOS_PROFILES[name];
  return new DynamoDbFaults({ seed, rules: profile.rules, staleReads: profile.staleReads });
}

/** "light: 1% lost …" lines, for usage messages and the README. */
export function describeChaosProfiles(): string {
  return CHAOS_PROFILE_NAMES.map((name) => `  ${name.padEnd(12)} ${CHAOS_PROFILES[name].description}`).join("\n");
}
