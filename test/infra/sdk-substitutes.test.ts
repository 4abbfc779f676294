/**
 * The modules the Lambda bundles substitute for parts of the AWS SDK (esbuild aliases,
 * infra/lambda-build.ts): the endpoint-discovery cache behaves as @aws-sdk/endpoint-cache's, and the
 * missing event-stream codec fails loudly rather than silently.
 */
import { EndpointCache as SdkEndpointCache } from "@aws-sdk/endpoint-cache";
import { afterEach, describe, expect, it, vi } from "vitest";
import { EndpointCache } from "../../shared/runtime/endpoint-cache.js";
import { EventStreamSerde, eventStreamSerdeProvider } from "../../shared/runtime/no-event-streams.js";

afterEach(() => vi.useRealTimers());

describe("the endpoint cache substitute", () => {
  it("answers as the SDK's through sets, reads, expiry, deletes and eviction", () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const ours = new EndpointCache(2);
    const theirs = new SdkEndpointCache(2);
    const both = <T>(f: (cache: EndpointCache | SdkEndpointCache) => T): [T, T] => [f(ours), f(theirs)];
    const same = <T>(f: (cache: EndpointCache | SdkEndpointCache) => T) => {
      const [a, b] = both(f);
      expect(a).toEqual(b);
      return a;
    };
    expect(same((c) => c.getEndpoint("a"))).toBeUndefined();
    both((c) => c.set("a", [{ Address: "a.example", CachePeriodInMinutes: 1 }]));
    both((c) => c.set("b", [{ Address: "b.example", CachePeriodInMinutes: 10 }]));
    expect(same((c) => c.getEndpoint("a"))).toBe("a.example");
    expect(same((c) => c.has("b"))).toBe(true);
    // "a" was read last: adding "c" evicts "b", the least recently used.
    both((c) => c.set("c", [{ Address: "c.example", CachePeriodInMinutes: 10 }]));
    expect(same((c) => [c.has("a"), c.has("b"), c.has("c")])).toEqual([true, false, true]);
    vi.advanceTimersByTime(61_000);
    expect(same((c) => c.get("a"))).toBeUndefined();
    expect(same((c) => c.has("a"))).toBe(false);
    expect(same((c) => c.get("c"))).toEqual([{ Address: "c.example", Expires: 1_000_000 + 600_000 }]);
    both((c) => c.delete("c"));
    expect(same((c) => [c.has("c"), c.getEndpoint("c")])).toEqual([false, undefined]);
    both((c) => c.set("d", [{ Address: "d.example", CachePeriodInMinutes: 5 }]));
    both((c) => c.clear());
    expect(same((c) => c.has("d"))).toBe(false);
  });
});

describe("the event-stream codec substitute", () => {
  it("refuses with an error that names the bundling choice", () => {
    expect(() => new EventStreamSerde()).toThrow(/event streams are not bundled/);
    expect(() => eventStreamSerdeProvider()).toThrow(/infra\/lambda-build\.ts/);
  });
});
