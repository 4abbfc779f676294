/**
 * Per-principal quotas on request rate and byte rate, counted in fixed windows shared by every
 * function instance through DynamoDB counters. To keep quotas from costing a write per request,
 * each warm instance adds its own usage to the shared counter at most once per `flushIntervalMs`
 * and decides from the last shared total plus what it has not flushed yet: across instances the
 * limit is approximate by at most one flush interval of traffic. Refused requests are counted in
 * memory only, so a refusal never writes.
 */
import { DynalogError } from "../errors.js";
import type { QuotaUsage, SecurityStore } from "./ports.js";

export interface QuotaLimits {
  /** null = unlimited. */
  readonly requestsPerSecond: number | null;
  readonly bytesPerSecond: number | null;
  readonly windowMs: number;
  readonly flushIntervalMs: number;
}

interface WindowState {
  window: number;
  shared: QuotaUsage;
  pending: { requests: number; bytes: number };
  lastFlush: number;
}

export class QuotaTracker {
  private readonly states = new Map<string, WindowState>();

  constructor(
    private readonly store: SecurityStore,
    private readonly limits: QuotaLimits,
    private readonly clock: () => number,
    private readonly kind = "rate",
    /** How a refusal names the request-count limit (default: requests per second). */
    private readonly requestQuota: { readonly quota: string; readonly limit: number | null; readonly what: string } = {
      quota: "requestsPerSecond",
      limit: limits.requestsPerSecond,
      what: "request rate",
    },
  ) {}

  /** Whether request and response sizes matter (a byte-rate limit is set). */
  get countsBytes(): boolean {
    return this.limits.bytesPerSecond !== null;
  }

  get enabled(): boolean {
    return this.limits.requestsPerSecond !== null || this.limits.bytesPerSecond !== null;
  }

  /** Refuses with THROTTLING_QUOTA_EXCEEDED when the principal's window is used up. Never writes. */
  check(principal: string): void {
    if (!this.enabled) return;
    const state = this.state(principal);
    const seconds = this.limits.windowMs / 1000;
    const requests = state.shared.requests + state.pending.requests;
    const bytes = state.shared.bytes + state.pending.bytes;
    const overRequests = this.limits.requestsPerSecond !== null && requests + 1 > this.limits.requestsPerSecond * seconds;
    const overBytes = this.limits.bytesPerSecond !== null && bytes > this.limits.bytesPerSecond * seconds;
    if (overRequests || overBytes) {
      const retryAfterMs = (state.window + 1) * this.limits.windowMs - this.clock();
      throw new DynalogError("THROTTLING_QUOTA_EXCEEDED", `Principal ${principal} exceeded its ${overRequests ? this.requestQuota.what : "byte rate"} quota; retry in ${Math.ceil(retryAfterMs / 1000)} s`, {
        details: {
          principal,
          quota: overRequests ? this.requestQuota.quota : "bytesPerSecond",
          limit: (overRequests ? this.requestQuota.limit : this.limits.bytesPerSecond) ?? 0,
          retryAfterMs,
        },
      });
    }
  }

  /** Counts a served request; flushes to the shared counter only when `mayWrite` and due. */
  async record(principal: string, bytes: number, mayWrite: boolean): Promise<void> {
    if (!this.enabled) return;
    const state = this.state(principal);
    state.pending.requests += 1;
    state.pending.bytes += bytes;
    const now = this.clock();
    if (!mayWrite || now - state.lastFlush < this.limits.flushIntervalMs) return;
    const delta = { ...state.pending };
    state.pending = { requests: 0, bytes: 0 };
    state.lastFlush = now;
    const expiresAt = Math.ceil(((state.window + 2) * this.limits.windowMs) / 1000) + 3600;
    try {
      state.shared = await this.store.addUsage(principal, this.kind, state.window, delta, expiresAt);
    } catch {
      // Quota bookkeeping must not fail the request it follows: keep the usage for the next flush.
      state.pending.requests += delta.requests;
      state.pending.bytes += delta.bytes;
    }
  }

  private state(principal: string): WindowState {
    const window = Math.floor(this.clock() / this.limits.windowMs);
    let state = this.states.get(principal);
    if (!state || state.window !== window) {
      state = { window, shared: { requests: 0, bytes: 0 }, pending: { requests: 0, bytes: 0 }, lastFlush: 0 };
      this.states.set(principal, state);
    }
    return state;
  }
}
