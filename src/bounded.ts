/**
 * A map for in-process state keyed by something that keeps coming (chat, user, order, client): it
 * holds at most `maxEntries` and, with a `ttlMs`, forgets each entry that long after it was written.
 * Whatever the traffic, the memory it takes is bounded (issue 18, point 7).
 *
 * Eviction is least recently used, nearly: writing an entry makes it the newest, and so does reading
 * one that has a quarter of the map's writes behind it. Reading a newer one leaves it where it is: it
 * has three quarters of the map's writes to go before it could be dropped, and moving it on every
 * read cost more than everything else a read does (a reply reads a dozen kept phrases). When a write
 * goes over `maxEntries` the oldest entry goes. Expiry counts from the entry's last write, never from
 * a read. Expired entries are invisible at once; a write sweeps every expired one out, at most once
 * per `ttlMs`, so keys seen once and never again do not sit in memory until `maxEntries` pushes them out.
 */

export type BoundedMapOptions = {
  /** The most entries held at once; a write beyond it drops the least recently used one. */
  maxEntries: number;
  /** How long an entry lives after its last write, in ms; omit for no expiry (size bound only). */
  ttlMs?: number;
  /** The time in ms (tests pass a fake clock); `Date.now` by default. */
  clock?: () => number;
};

export type BoundedMap<K, V> = {
  /** The live value for `key`, or undefined; an entry with a quarter of the writes behind it becomes the newest. */
  get(key: K): V | undefined;
  has(key: K): boolean;
  /** Stores `value`; it expires `ttlMs` from now (default: the map's `ttlMs`). */
  set(key: K, value: V, ttlMs?: number): void;
  delete(key: K): boolean;
  clear(): void;
  /** Entries held, counting expired ones not yet swept. */
  readonly size: number;
};

/** `written`: the map's count of (re)insertions when this entry was last (re)inserted: its age in writes. */
type Entry<V> = { value: V; expiresAt: number; written: number };

/** Builds a {@link BoundedMap}. Throws when `maxEntries` is not a positive integer: that is a bug. */
export function createBoundedMap<K, V>(options: BoundedMapOptions): BoundedMap<K, V> {
  const { maxEntries, ttlMs } = options;
  if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new Error(`maxEntries must be a positive integer, got ${maxEntries}`);
  if (ttlMs !== undefined && !(ttlMs > 0)) throw new Error(`ttlMs must be positive when given, got ${ttlMs}`);
  const clock = options.clock ?? Date.now;
  // A Map iterates in insertion order: re-inserting on use keeps the least recently used first.
  const entries = new Map<K, Entry<V>>();
  let nextSweep = ttlMs === undefined ? Infinity : clock() + ttlMs;
  let insertions = 0;
  const moveAfter = maxEntries / 4;

  const sweep = (now: number) => {
    if (now < nextSweep) return;
    for (const [key, entry] of entries) if (entry.expiresAt <= now) entries.delete(key);
    nextSweep = now + (ttlMs ?? Infinity);
  };

  const live = (key: K): Entry<V> | undefined => {
    const entry = entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= clock()) {
      entries.delete(key);
      return undefined;
    }
    if (insertions - entry.written >= moveAfter) {
      entries.delete(key);
      entries.set(key, entry);
      entry.written = ++insertions;
    }
    return entry;
  };

  return {
    get: (key) => live(key)?.value,
    has: (key) => live(key) !== undefined,
    set(key, value, ttl = ttlMs) {
      const now = clock();
      sweep(now);
      entries.delete(key);
      entries.set(key, { value, expiresAt: ttl === undefined ? Infinity : now + ttl, written: ++insertions });
      if (entries.size > maxEntries) entries.delete(entries.keys().next().value as K);
    },
    delete: (key) => entries.delete(key),
    clear: () => entries.clear(),
    get size() {
      return entries.size;
    },
  };
}
