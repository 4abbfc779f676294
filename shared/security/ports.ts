/** What the security layer needs from storage (the DynamoDB adapter is shared/storage/security-store.ts). */
import type { AclRule } from "./acl.js";

export interface StoredApiKey {
  readonly keyId: string;
  readonly principal: string;
  readonly secretHash: string;
  readonly description: string;
  readonly createdAt: number;
  readonly revokedAt: number | null;
}

export interface StoredAcl extends AclRule {
  readonly id: string;
  readonly createdAt: number;
}

export interface QuotaUsage {
  readonly requests: number;
  readonly bytes: number;
}

export interface SecurityStore {
  getApiKey(keyId: string): Promise<StoredApiKey | undefined>;
  putApiKey(key: StoredApiKey): Promise<void>;
  /** Marks the key revoked; returns it, or undefined if there is no such key. */
  revokeApiKey(keyId: string, at: number): Promise<StoredApiKey | undefined>;
  listApiKeys(): Promise<StoredApiKey[]>;
  listAcls(): Promise<StoredAcl[]>;
  putAcl(acl: StoredAcl): Promise<void>;
  deleteAcl(id: string): Promise<StoredAcl | undefined>;
  /** Adds to a principal's usage in one quota window and returns the window's totals. */
  addUsage(principal: string, kind: string, window: number, delta: QuotaUsage, expiresAtSeconds: number): Promise<QuotaUsage>;
}
