/**
 * The store the product keeps everything in, opened from `STORE_URL`. Each backend lives in its own
 * module and is loaded only when the URL names it, so the default SQLite start-up never loads the
 * Redis client. See `shop-store.ts` for what every backend does.
 */
import type { ShopStore } from "./shop-store.ts";

export type {
  ChatState,
  Claims,
  CommitResult,
  CommitStep,
  DueOrder,
  GoodsClaim,
  LeaseRequest,
  LegacyData,
  LogBatch,
  LogPosition,
  OpenResult,
  OpenSinceResult,
  QueuedUpdate,
  SavedProjection,
  ShopStore,
  StoreKind,
} from "./shop-store.ts";
export { StoreUnavailableError } from "./shop-store.ts";
export {
  type ImportOptions,
  type ImportReport,
  type StoreCounts,
  StoreItem,
  StoreNeedsUpgradeError,
  StoreNotEmptyError,
  emptyCounts,
  formatCounts,
} from "./dump.ts";
export { type Collection, collectionOf } from "./kv.ts";

/** Where `STORE_URL` points, parsed once. */
export type StoreLocation = { kind: "memory" } | { kind: "sqlite"; path: string } | { kind: "redis"; url: string };

/** Parses `memory://`, `sqlite://relative/or/absolute/path`, `redis://…`/`rediss://…` and `redis-cluster://host:port,…`. */
export function parseStoreUrl(url: string): StoreLocation | null {
  if (url === "memory://" || url === "memory") return { kind: "memory" };
  if (url.startsWith("sqlite://")) {
    const path = url.slice("sqlite://".length);
    return path.length > 0 ? { kind: "sqlite", path } : null;
  }
  if (/^(rediss?|redis-cluster):\/\/.+/.test(url)) return { kind: "redis", url };
  return null;
}

/** Opens the store `location` names. SQLite creates its directory and tables on first run. */
export async function openStore(location: StoreLocation, options: { clock?: () => number } = {}): Promise<ShopStore> {
  switch (location.kind) {
    case "memory":
      return (await import("./memory.ts")).memoryStore(options);
    case "sqlite":
      return (await import("./sqlite-store.ts")).sqliteStore(location.path, options);
    case "redis":
      return (await import("./redis-store.ts")).redisStore(location.url, options);
    default: {
      const unhandled: never = location;
      throw new Error(`unknown store ${JSON.stringify(unhandled)}`);
    }
  }
}
