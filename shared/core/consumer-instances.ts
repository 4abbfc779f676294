/**
 * Named consumer instances for the Upstash-compatible REST dialect (shared/http/upstash): a
 * stateless client calls `consume` with a group and an instance name, and the broker remembers
 * for it what a Kafka consumer keeps in memory — its subscription, group membership, fetch
 * positions and auto-commit settings. Items live in shared/storage/consumer-instance-store.ts.
 */

export interface InstancePosition {
  readonly topic: string;
  readonly partition: number;
  /** The next offset to consume. */
  readonly offset: number;
}

export interface ConsumerInstanceRecord {
  readonly group: string;
  readonly instance: string;
  /** The group member this instance heartbeats as (shared/core/groups.ts). */
  readonly memberId: string;
  readonly memberEpoch: number;
  readonly topics: readonly string[];
  /** What the last heartbeat assigned. */
  readonly assignment: readonly { readonly topic: string; readonly partitions: readonly number[] }[];
  readonly positions: readonly InstancePosition[];
  readonly autoCommit: boolean;
  readonly autoCommitIntervalMs: number;
  readonly autoOffsetReset: "earliest" | "latest" | "none";
  /** When positions were last committed (auto-commit counts the interval from here). */
  readonly lastCommitAt: number;
  readonly lastSeenAt: number;
  /** Optimistic-concurrency version; 0 for a record never stored. */
  readonly version: number;
}

export interface ConsumerInstanceStore {
  /** Strongly consistent. */
  get(group: string, instance: string): Promise<ConsumerInstanceRecord | undefined>;
  /** Writes `record` at version + 1 if the stored version is still `record.version` (absent = 0); false otherwise. */
  put(record: ConsumerInstanceRecord): Promise<boolean>;
  /** true when there was an item to delete. */
  delete(group: string, instance: string): Promise<boolean>;
  list(): Promise<ConsumerInstanceRecord[]>;
}
