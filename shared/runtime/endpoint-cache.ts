/**
 * Stands in for `@aws-sdk/endpoint-cache` in the Lambda bundles (an esbuild alias,
 * infra/lambda-build.ts): the same class over a Map instead of mnemonist's LRU cache, which was
 * ~7 KB of every function against the 400 KB budget (issue 17, docs/deploy.md). The DynamoDB
 * client constructs one for endpoint discovery, which the broker never turns on (the SDK's
 * default), so it is normally never read; when it is, it behaves like the original: entries
 * expire after their CachePeriodInMinutes, reads refresh recency, the least recently used entry
 * goes beyond `capacity`.
 */
interface Endpoint {
  readonly Address: string | undefined;
  readonly CachePeriodInMinutes: number | undefined;
}

interface EndpointWithExpiry {
  readonly Address: string;
  readonly Expires: number;
}

export class EndpointCache {
  private readonly cache = new Map<string, EndpointWithExpiry[]>();

  constructor(private readonly capacity: number) {}

  getEndpoint(key: string): string | undefined {
    const endpoints = this.get(key);
    if (!endpoints || endpoints.length === 0) return undefined;
    return endpoints[Math.floor(Math.random() * endpoints.length)]!.Address;
  }

  get(key: string): EndpointWithExpiry[] | undefined {
    if (!this.has(key)) return undefined;
    const value = this.cache.get(key)!;
    // Most recently used last (a Map iterates in insertion order).
    this.cache.delete(key);
    this.cache.set(key, value);
    const now = Date.now();
    const live = value.filter((endpoint) => now < endpoint.Expires);
    if (live.length === 0) {
      this.delete(key);
      return undefined;
    }
    return live;
  }

  set(key: string, endpoints: readonly Endpoint[]): void {
    const now = Date.now();
    this.cache.delete(key);
    this.cache.set(
      key,
      endpoints.map(({ Address, CachePeriodInMinutes }) => ({ Address: Address!, Expires: now + CachePeriodInMinutes! * 60 * 1000 })),
    );
    if (this.cache.size > this.capacity) this.cache.delete(this.cache.keys().next().value!);
  }

  delete(key: string): void {
    this.set(key, []);
  }

  has(key: string): boolean {
    return (this.cache.get(key)?.length ?? 0) > 0;
  }

  clear(): void {
    this.cache.clear();
  }
}
