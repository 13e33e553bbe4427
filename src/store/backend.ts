/**
 * The one door to keyv. A backend gives typed, zod-validated collections (conversations, orders,
 * ledger…) and an atomic claim primitive (set-if-absent with expiry) used for per-chat locks and
 * exactly-once delivery. Keyv covers get/set/delete/iterate on every store; the claim needs each
 * store's own atomic operation (Map, SQLite `INSERT … ON CONFLICT`, Redis `SET NX PX`), and so do the
 * versioned collections, whose writes are compare-and-set (see {@link VersionedCollection}).
 *
 * Each backend lives in its own module and is loaded only when `STORE_URL` names it, so the default
 * SQLite start-up never loads the Redis client.
 */
import type { Backend } from "./types.ts";

export type { Backend, BackendKind, Claims, Collection, VersionedCollection, VersionedRead } from "./types.ts";

/** Where `STORE_URL` points, parsed once. */
export type StoreLocation =
  | { kind: "memory" }
  | { kind: "sqlite"; path: string }
  | { kind: "redis"; url: string };

/** Parses `memory://`, `sqlite://relative/or/absolute/path` and `redis://…`/`rediss://…`. */
export function parseStoreUrl(url: string): StoreLocation | null {
  if (url === "memory://" || url === "memory") return { kind: "memory" };
  if (url.startsWith("sqlite://")) {
    const path = url.slice("sqlite://".length);
    return path.length > 0 ? { kind: "sqlite", path } : null;
  }
  if (/^rediss?:\/\/.+/.test(url)) return { kind: "redis", url };
  return null;
}

/** Opens the backend `location` names. SQLite creates its directory on first run. */
export async function openBackend(location: StoreLocation): Promise<Backend> {
  switch (location.kind) {
    case "memory":
      return (await import("./memory.ts")).memoryBackend();
    case "sqlite":
      return (await import("./sqlite.ts")).sqliteBackend(location.path);
    case "redis":
      return (await import("./redis.ts")).redisBackend(location.url);
    default: {
      const unhandled: never = location;
      throw new Error(`unknown store ${JSON.stringify(unhandled)}`);
    }
  }
}

