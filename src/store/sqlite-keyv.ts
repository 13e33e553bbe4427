/**
 * Plain key-value on the SQLite store's own connection: a keyv storage adapter over the `kv` table
 * (`namespace, key, value, expires_at`). Expiry is kept in its own column and judged by the store's
 * clock, so tests move it with a fake clock and a lookup never returns what has run out.
 */
import { EventEmitter } from "node:events";
import type Database from "better-sqlite3";
import Keyv, { type KeyvStoreAdapter } from "keyv";

/**
 * How many writes go by between two purges of expired rows, here and for the store's claims (a read
 * never returns them anyway; one-off keys would pile up otherwise).
 */
export const PURGE_EVERY = 500;

/** Runs a statement, turning failures that mean "the store cannot answer now" into the store's error. */
export type Attempt = <R>(work: () => R) => R;

type Statements = {
  get: Database.Statement<[string, string, number], { value: string }>;
  set: Database.Statement<[string, string, string, number | null]>;
  delete: Database.Statement<[string, string]>;
  clear: Database.Statement<[string]>;
  purge: Database.Statement<[number]>;
};

/** The statements every namespace shares, prepared once per connection. */
export function kvStatements(db: Database.Database): Statements {
  return {
    get: db.prepare("SELECT value FROM kv WHERE namespace = ? AND key = ? AND (expires_at IS NULL OR expires_at > ?)"),
    set: db.prepare(
      `INSERT INTO kv(namespace, key, value, expires_at) VALUES (?, ?, ?, ?)
       ON CONFLICT(namespace, key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
    ),
    delete: db.prepare("DELETE FROM kv WHERE namespace = ? AND key = ?"),
    clear: db.prepare("DELETE FROM kv WHERE namespace = ?"),
    purge: db.prepare("DELETE FROM kv WHERE expires_at IS NOT NULL AND expires_at <= ?"),
  };
}

/** A keyv storage adapter for one namespace of the `kv` table. Keys arrive without keyv's prefix. */
class SqliteKvAdapter extends EventEmitter implements KeyvStoreAdapter {
  readonly opts: { dialect: "sqlite"; namespace: string };
  namespace: string | undefined;
  private writes = 0;

  constructor(
    private readonly statements: Statements,
    namespace: string,
    private readonly clock: () => number,
    private readonly attempt: Attempt,
  ) {
    super();
    this.opts = { dialect: "sqlite", namespace };
    this.namespace = namespace;
  }

  // keyv assigns its namespace here; the table's namespace column follows it.
  private get space(): string {
    return this.namespace ?? this.opts.namespace;
  }

  async get<Value>(key: string): Promise<Value | undefined> {
    return this.attempt(() => this.statements.get.get(this.space, key, this.clock()))?.value as Value | undefined;
  }

  async getMany<Value>(keys: string[]): Promise<Array<Value | undefined>> {
    const now = this.clock();
    return this.attempt(() => keys.map((key) => this.statements.get.get(this.space, key, now)?.value as Value | undefined));
  }

  async has(key: string): Promise<boolean> {
    return this.attempt(() => this.statements.get.get(this.space, key, this.clock())) !== undefined;
  }

  async set(key: string, value: string, ttl?: number): Promise<boolean> {
    const now = this.clock();
    const purge = ++this.writes >= PURGE_EVERY;
    if (purge) this.writes = 0;
    this.attempt(() => {
      if (purge) this.statements.purge.run(now);
      this.statements.set.run(this.space, key, value, typeof ttl === "number" && ttl > 0 ? now + ttl : null);
    });
    return true;
  }

  async delete(key: string): Promise<boolean> {
    return this.attempt(() => this.statements.delete.run(this.space, key)).changes > 0;
  }

  async clear(): Promise<void> {
    this.attempt(() => this.statements.clear.run(this.space));
  }

  async disconnect(): Promise<void> {
    // The connection belongs to the store, which closes it once.
  }
}

/**
 * A Keyv for `namespace` on the `kv` table. Values are stored as their plain JSON (no keyv envelope):
 * keyv's own `expires` would be judged by the wall clock, the adapter's by the store's. A failing
 * store throws (keyv's default would read it as a missing key).
 */
export function sqliteKeyv(statements: Statements, namespace: string, clock: () => number, attempt: Attempt): Keyv {
  return new Keyv({
    store: new SqliteKvAdapter(statements, namespace, clock, attempt),
    namespace,
    useKeyPrefix: false,
    throwOnErrors: true,
    serialize: (data) => JSON.stringify(data.value ?? null),
    deserialize: (text) => ({ value: JSON.parse(text) as never }),
  });
}
