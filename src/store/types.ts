/**
 * The shapes every backend provides: validated collections, compare-and-set collections and atomic
 * claims. Kept apart from `backend.ts` (which loads the backends) so the backends depend on these
 * types only, and nothing depends back on the loader.
 */
import type { z } from "zod";

/** A keyed set of records of one shape. Reads are validated: a record that fails is treated as absent. */
export type Collection<T> = {
  get(key: string): Promise<T | undefined>;
  /** Like `get`, but tells a missing record from one that exists and fails its schema ("invalid"). */
  read(key: string): Promise<T | undefined | "invalid">;
  set(key: string, value: T, ttlMs?: number): Promise<void>;
  delete(key: string): Promise<void>;
  /** Every record, in no particular order. Meant for small collections (deadlines) and reports. */
  entries(): AsyncIterable<[string, T]>;
};

/** Set-if-absent with expiry: the building block of locks and exactly-once claims. */
export type Claims = {
  /** True when `owner` now holds `key` (it was free or its claim had expired). `ttlMs` null never expires. */
  tryClaim(key: string, owner: string, ttlMs: number | null): Promise<boolean>;
  /** Frees `key` if `owner` still holds it; does nothing otherwise. */
  release(key: string, owner: string): Promise<void>;
  /** Who holds `key`, if anyone (expired claims count as free). */
  holder(key: string): Promise<string | undefined>;
};

/** A stored record with its revision: 0 when absent; "invalid" when it exists but fails its schema. */
export type VersionedRead<T> = { record: T | undefined | "invalid"; rev: number };

/**
 * A collection whose records carry a revision (`rev`) and whose writes are compare-and-set: a write
 * names the revision it read and fails when another writer moved the record since. A lock only makes
 * conflicts rare; the revision makes them harmless (a writer that lost its lease cannot overwrite).
 */
export type VersionedCollection<T extends { rev: number }> = {
  get(key: string): Promise<T | undefined>;
  read(key: string): Promise<VersionedRead<T>>;
  /** Stores `value` if the stored revision is still `value.rev - 1` (0: absent). False when it moved. */
  write(key: string, value: T): Promise<boolean>;
  delete(key: string): Promise<void>;
  entries(): AsyncIterable<[string, T]>;
};

export type BackendKind = "memory" | "sqlite" | "redis";

export type Backend = {
  kind: BackendKind;
  collection<S extends z.ZodType>(name: string, schema: S): Collection<z.infer<S>>;
  versioned<S extends z.ZodType<{ rev: number }>>(name: string, schema: S): VersionedCollection<z.infer<S>>;
  claims: Claims;
  /** Resolves when the store answers; rejects otherwise. Used by /healthz. */
  ping(): Promise<void>;
  close(): Promise<void>;
};
