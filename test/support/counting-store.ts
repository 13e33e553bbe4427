/**
 * Counts the round trips a store is asked for: every {@link ShopStore} method, the claims, and the
 * key-value namespaces (`kv(name).get/set/…`, one round trip each on SQLite and Redis). The store's
 * methods are wrapped in place, so everything already holding the store (the engine, the inbox, the
 * providers) is counted from now on. Used by the round-trip test and by `npm run bench`.
 */
import type Keyv from "keyv";
import type { ShopStore } from "../../src/store/index.ts";

export type StoreCalls = {
  /** Calls since the last reset, in the order they were made: `openChat`, `commit`, `kv:preferences.get`, … */
  readonly log: readonly string[];
  /** How many calls since the last reset, optionally only those `which` accepts. */
  count(which?: (call: string) => boolean): number;
  /** Calls since the last reset, by name, e.g. `{ openChat: 1, commit: 1 }`. */
  byName(): Record<string, number>;
  reset(): void;
};

/** Store methods that are not round trips: the handle's own bookkeeping. */
const NOT_CALLS = new Set(["kind", "kv", "close", "legacy", "claims"]);
/** The Keyv methods that reach the backend. */
const KV_CALLS = ["get", "getMany", "set", "setMany", "delete", "deleteMany", "has", "hasMany", "clear"] as const;

type AnyFunction = (...args: unknown[]) => unknown;

/** The key-value namespaces the product opens while the app is built (so before any wrapping). */
const PRODUCT_NAMESPACES = ["preferences", "sandbox_invoices", "sandbox_outbox", "cryptopay_invoices", "stars_invoices", "stars_payments"];

/**
 * Wraps `store`'s methods (in place) to count every call; returns the counter. Key-value namespaces
 * opened before (the store hands out one Keyv per namespace) are counted too.
 */
export function countStoreCalls(store: ShopStore): StoreCalls {
  const log: string[] = [];
  const wrap = <T extends object>(target: T, key: string, name: string) => {
    const method = (target as Record<string, unknown>)[key];
    if (typeof method !== "function") return;
    (target as Record<string, unknown>)[key] = function counted(this: unknown, ...args: unknown[]) {
      log.push(name);
      return (method as AnyFunction).apply(target, args);
    };
  };
  for (const key of Object.keys(store)) if (!NOT_CALLS.has(key)) wrap(store, key, key);
  wrap(store.claims, "tryClaim", "claims.tryClaim");
  wrap(store.claims, "release", "claims.release");
  const kv = store.kv.bind(store);
  const counted = new WeakSet<Keyv>();
  store.kv = (namespace: string) => {
    const keyv = kv(namespace);
    if (!counted.has(keyv)) {
      counted.add(keyv);
      for (const op of KV_CALLS) wrap(keyv, op, `kv:${namespace}.${op}`);
    }
    return keyv;
  };
  for (const namespace of PRODUCT_NAMESPACES) store.kv(namespace);
  return {
    log,
    count: (which) => (which ? log.filter(which).length : log.length),
    byName() {
      const names: Record<string, number> = {};
      for (const call of log) names[call] = (names[call] ?? 0) + 1;
      return names;
    },
    reset() {
      log.length = 0;
    },
  };
}
