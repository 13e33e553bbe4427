/**
 * The one door to keyv. A backend gives typed, zod-validated collections (conversations, orders,
 * ledger…) and an atomic claim primitive (set-if-absent with expiry) used for per-chat locks and
 * exactly-once delivery. Keyv covers get/set/delete/iterate on every store; the claim needs each
 * store's own atomic operation (Map, SQLite `INSERT … ON CONFLICT`, Redis `SET NX PX`).
 */
import { EventEmitter } from "node:events";
import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import Keyv from "keyv";
import KeyvSqlite from "@keyv/sqlite";
import KeyvRedis, { createClient } from "@keyv/redis";
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

export type BackendKind = "memory" | "sqlite" | "redis";

export type Backend = {
  kind: BackendKind;
  collection<S extends z.ZodType>(name: string, schema: S): Collection<z.infer<S>>;
  claims: Claims;
  /** Resolves when the store answers; rejects otherwise. Used by /healthz. */
  ping(): Promise<void>;
  close(): Promise<void>;
};

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
      return memoryBackend();
    case "sqlite":
      return sqliteBackend(location.path);
    case "redis":
      return redisBackend(location.url);
    default: {
      const unhandled: never = location;
      throw new Error(`unknown store ${JSON.stringify(unhandled)}`);
    }
  }
}

/**
 * Plain JSON for every store: our records are plain JSON (zod-checked), and native JSON is several
 * times faster than keyv's default serializer, which walks values to escape Buffers and `:base64:`
 * strings we never store. It was ~15% of a message's CPU in the benchmark (docs/performance.md).
 */
export const json = {
  serialize: (data: unknown) => JSON.stringify(data),
  deserialize: (text: string) => JSON.parse(text) as never,
};

function wrap<S extends z.ZodType>(keyv: Keyv, schema: S): Collection<z.infer<S>> {
  type T = z.infer<S>;
  const parse = (raw: unknown): T | undefined => {
    const result = schema.safeParse(raw);
    return result.success ? result.data : undefined;
  };
  return {
    async get(key) {
      return parse(await keyv.get(key));
    },
    async read(key) {
      const raw: unknown = await keyv.get(key);
      if (raw === undefined || raw === null) return undefined;
      return parse(raw) ?? "invalid";
    },
    async set(key, value, ttlMs) {
      await keyv.set(key, value, ttlMs);
    },
    async delete(key) {
      await keyv.delete(key);
    },
    async *entries() {
      if (!keyv.iterator) return;
      for await (const [key, raw] of keyv.iterator(keyv.namespace) as AsyncIterable<[string, unknown]>) {
        const value = parse(raw);
        if (value !== undefined) yield [key, value] as [string, T];
      }
    },
  };
}

/** One Keyv per collection name, however often a collection is asked for (same data, one connection). */
function shared(cache: Map<string, Keyv>, name: string, open: () => Keyv): Keyv {
  let keyv = cache.get(name);
  if (!keyv) cache.set(name, (keyv = open()));
  return keyv;
}

function memoryBackend(): Backend {
  const maps = new Map<string, Keyv>();
  const held = new Map<string, { owner: string; expiresAt: number | null }>();
  const live = (key: string) => {
    const claim = held.get(key);
    if (claim && claim.expiresAt !== null && claim.expiresAt <= Date.now()) {
      held.delete(key);
      return undefined;
    }
    return claim;
  };
  return {
    kind: "memory",
    collection: (name, schema) => wrap(shared(maps, name, () => new Keyv({ store: new Map(), namespace: name, ...json })), schema),
    claims: {
      async tryClaim(key, owner, ttlMs) {
        const current = live(key);
        if (current && current.owner !== owner) return false;
        held.set(key, { owner, expiresAt: ttlMs === null ? null : Date.now() + ttlMs });
        return true;
      },
      async release(key, owner) {
        if (live(key)?.owner === owner) held.delete(key);
      },
      async holder(key) {
        return live(key)?.owner;
      },
    },
    ping: async () => {},
    close: async () => {},
  };
}

/**
 * Opens the one SQLite connection a process uses for a file. WAL with synchronous=NORMAL: ~3× cheaper
 * writes than the rollback journal, still durable across process crashes (only an OS crash can lose
 * the last transactions). See docs/performance.md.
 */
export async function openSqliteConnection(file: string): Promise<KeyvSqlite> {
  const connection = new KeyvSqlite({ uri: `sqlite://${file}`, table: "meta", busyTimeout: 5000 });
  await connection.query("PRAGMA journal_mode=WAL");
  await connection.query("PRAGMA synchronous=NORMAL");
  return connection;
}

async function sqliteBackend(path: string): Promise<Backend> {
  const file = resolve(path);
  mkdirSync(dirname(file), { recursive: true });
  const opened = new Map<string, Keyv>();
  const control = await openSqliteConnection(file);
  await control.query(
    "CREATE TABLE IF NOT EXISTS claims(key TEXT PRIMARY KEY, owner TEXT NOT NULL, expires_at INTEGER)",
  );
  return {
    kind: "sqlite",
    collection(name, schema) {
      const keyv = shared(opened, name, () => new Keyv({ store: new SharedConnectionTable(control, name), namespace: name, ...json }));
      return wrap(keyv, schema);
    },
    claims: {
      async tryClaim(key, owner, ttlMs) {
        const now = Date.now();
        // One statement, so the check and the write are atomic even across processes sharing the file;
        // RETURNING yields a row only when this owner now holds the claim.
        const rows = (await control.query(
          `INSERT INTO claims(key, owner, expires_at) VALUES (?, ?, ?)
           ON CONFLICT(key) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
           WHERE claims.owner = excluded.owner OR (claims.expires_at IS NOT NULL AND claims.expires_at <= ?)
           RETURNING owner`,
          key,
          owner,
          ttlMs === null ? null : now + ttlMs,
          now,
        )) as { owner: string }[];
        return rows[0]?.owner === owner;
      },
      async release(key, owner) {
        await control.query("DELETE FROM claims WHERE key = ? AND owner = ?", key, owner);
      },
      async holder(key) {
        const rows = (await control.query(
          "SELECT owner FROM claims WHERE key = ? AND (expires_at IS NULL OR expires_at > ?)",
          key,
          Date.now(),
        )) as { owner: string }[];
        return rows[0]?.owner;
      },
    },
    ping: async () => {
      await control.query("SELECT 1");
    },
    close: async () => {
      await control.disconnect();
    },
  };
}

/**
 * A keyv store for one table that uses an already-open SQLite connection. @keyv/sqlite opens one
 * connection per table; with WAL only one connection may write at a time, so a message's three
 * parallel writes (conversation, order, deadline) made two of them sleep in SQLite's busy handler
 * (milliseconds each). One shared connection has no lock contention at all. Same table layout as
 * @keyv/sqlite (`key VARCHAR(255) PRIMARY KEY, value TEXT`), so existing files keep working.
 */
class SharedConnectionTable extends EventEmitter {
  readonly opts: { table: string; dialect: "sqlite" };
  namespace?: string;
  private readonly ready: Promise<unknown>;

  constructor(
    private readonly connection: KeyvSqlite,
    name: string,
  ) {
    super();
    const table = name.replace(/[^a-zA-Z0-9_]/g, "");
    if (!/^[a-zA-Z]/.test(table)) throw new Error(`invalid collection name "${name}"`);
    this.opts = { table, dialect: "sqlite" };
    this.ready = connection.query(`CREATE TABLE IF NOT EXISTS ${table}(key VARCHAR(255) PRIMARY KEY, value TEXT )`);
    this.ready.catch((error: unknown) => this.emit("error", error));
  }

  private async query(sql: string, ...parameters: unknown[]): Promise<Record<string, unknown>[]> {
    await this.ready;
    return (await this.connection.query(sql, ...parameters)) as Record<string, unknown>[];
  }

  async get(key: string) {
    const rows = await this.query(`SELECT value FROM ${this.opts.table} WHERE key = ?`, key);
    return rows[0]?.value as never;
  }

  async set(key: string, value: unknown) {
    await this.query(
      `INSERT INTO ${this.opts.table} (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`,
      key,
      value,
    );
  }

  async delete(key: string) {
    const rows = await this.query(`DELETE FROM ${this.opts.table} WHERE key = ? RETURNING 1 AS found`, key);
    return rows.length > 0;
  }

  async clear() {
    await this.query(`DELETE FROM ${this.opts.table} WHERE key LIKE ?`, this.namespace ? `${this.namespace}:%` : "%");
  }

  async *iterator(namespace?: string) {
    // Keyset paging: each page starts after the last key seen, so a full scan stays linear (OFFSET
    // made SQLite re-walk every earlier row on each page: quadratic at 100,000 orders).
    const page = 500;
    const prefix = namespace ? `${namespace}:` : "";
    for (let after = ""; ; ) {
      const rows = await this.query(
        `SELECT key, value FROM ${this.opts.table} WHERE key LIKE ? AND key > ? ORDER BY key LIMIT ?`,
        `${prefix}%`,
        after,
        page,
      );
      for (const row of rows) yield [row.key as string, row.value as string];
      if (rows.length < page) return;
      after = rows[rows.length - 1]!.key as string;
    }
  }

  async disconnect() {
    // The connection belongs to the backend, which closes it once.
  }
}

/**
 * Claims KEYS[1] for ARGV[1] if it is free or already that owner's (re-entrant); ARGV[2] is the lease
 * in ms, or "" for a claim that never expires (as on the other backends).
 */
const CLAIM = `
local current = redis.call("GET", KEYS[1])
if current and current ~= ARGV[1] then return 0 end
if ARGV[2] == "" then
  redis.call("SET", KEYS[1], ARGV[1])
else
  redis.call("SET", KEYS[1], ARGV[1], "PX", ARGV[2])
end
return 1`;

const RELEASE_IF_OWNER = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) else return 0 end`;

async function redisBackend(url: string): Promise<Backend> {
  const client = createClient({ url, socket: { reconnectStrategy: (retries: number) => Math.min(retries * 100, 2000) } });
  client.on("error", () => {
    // Connection errors surface through failed commands and /healthz; the client reconnects by itself.
  });
  // Every collection's KeyvRedis adapter subscribes to the one shared client's connection events.
  client.setMaxListeners(0);
  await client.connect();
  const opened = new Map<string, Keyv>();
  const claimKey = (key: string) => `tokengoblin:claim:${key}`;
  return {
    kind: "redis",
    collection(name, schema) {
      const keyv = shared(opened, name, () => {
        const adapter = new KeyvRedis(client as never, { namespace: `tokengoblin:${name}` });
        // keyv's iterator SCANs with Redis's default COUNT of 10, i.e. one round trip per ten keys of the
        // whole database for every collection scanned: 20+ s over 100,000 orders. Same walk, 1,000 a trip.
        adapter.iterator = async function* (namespace?: string) {
          const match = namespace ? `${namespace}${adapter.keyPrefixSeparator}*` : "*";
          let cursor = "0";
          do {
            const result = await client.scan(cursor, { MATCH: match, TYPE: "string", COUNT: 1000 });
            cursor = String(result.cursor);
            if (result.keys.length === 0) continue;
            const values = await client.mGet(result.keys);
            for (const [i, key] of result.keys.entries()) yield [adapter.getKeyWithoutPrefix(key, namespace), values[i] ?? undefined];
          } while (cursor !== "0");
        } as typeof adapter.iterator;
        return new Keyv({ store: adapter, namespace: `tokengoblin:${name}`, useKeyPrefix: false, ...json });
      });
      return wrap(keyv, schema);
    },
    claims: {
      async tryClaim(key, owner, ttlMs) {
        // One script, so "free or already mine" and the expiry change are atomic.
        const held = await client.eval(CLAIM, { keys: [claimKey(key)], arguments: [owner, ttlMs === null ? "" : String(ttlMs)] });
        return held === 1;
      },
      async release(key, owner) {
        await client.eval(RELEASE_IF_OWNER, { keys: [claimKey(key)], arguments: [owner] });
      },
      async holder(key) {
        return (await client.get(claimKey(key))) ?? undefined;
      },
    },
    ping: async () => {
      await client.ping();
    },
    close: async () => {
      await client.quit().catch(() => client.destroy());
    },
  };
}
