/**
 * The SQLite backend (the default, `sqlite://path`): one connection per process, WAL, tables in
 * keyv's layout so files from earlier versions keep working. Several processes may share one file:
 * claims and compare-and-set writes are single statements, atomic across them.
 */
import { EventEmitter } from "node:events";
import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import Keyv from "keyv";
import KeyvSqlite from "@keyv/sqlite";
import type { Backend } from "./types.ts";
import { json, shared, versionedOver, wrap } from "./keyv.ts";

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

export async function sqliteBackend(path: string): Promise<Backend> {
  const file = resolve(path);
  mkdirSync(dirname(file), { recursive: true });
  const opened = new Map<string, Keyv>();
  const control = await openSqliteConnection(file);
  await control.query(
    "CREATE TABLE IF NOT EXISTS claims(key TEXT PRIMARY KEY, owner TEXT NOT NULL, expires_at INTEGER)",
  );
  let claimsSincePurge = 0;
  const keyvFor = (name: string) =>
    shared(opened, name, () => new Keyv({ store: new SharedConnectionTable(control, name), namespace: name, ...json }));
  return {
    kind: "sqlite",
    collection(name, schema) {
      return wrap(keyvFor(name), schema);
    },
    versioned(name, schema) {
      const table = tableName(name);
      const ensureTable = control.query(`CREATE TABLE IF NOT EXISTS ${table}(key VARCHAR(255) PRIMARY KEY, value TEXT )`);
      return versionedOver(keyvFor(name), schema, async (key, value) => {
        await ensureTable;
        // keyv's layout: key "<namespace>:<key>", value {"value": <record>}.
        const stored = `${name}:${key}`;
        const text = json.serialize({ value });
        const expected = value.rev - 1;
        // One statement each, atomic across processes sharing the file. The first revision may replace
        // a record without one (written before revisions existed); later ones only the revision read.
        const rows = (await (expected === 0
          ? control.query(
              `INSERT INTO ${table}(key, value) VALUES (?, ?)
               ON CONFLICT(key) DO UPDATE SET value = excluded.value
               WHERE IFNULL(json_extract(${table}.value, '$.value.rev'), 0) = 0
               RETURNING 1 AS written`,
              stored,
              text,
            )
          : control.query(
              `UPDATE ${table} SET value = ? WHERE key = ? AND json_extract(value, '$.value.rev') = ? RETURNING 1 AS written`,
              text,
              stored,
              expected,
            ))) as { written: number }[];
        return rows.length > 0;
      });
    },
    claims: {
      async tryClaim(key, owner, ttlMs) {
        const now = Date.now();
        // Expired claims are replaced only when their key is claimed again; one-off keys (a Telegram
        // update id, held a day) would pile up, so every few hundred claims the expired ones are dropped.
        if (++claimsSincePurge >= PURGE_EVERY) {
          claimsSincePurge = 0;
          await control.query("DELETE FROM claims WHERE expires_at IS NOT NULL AND expires_at <= ?", now);
        }
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
    const table = tableName(name);
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


/** How many claims are taken between two purges of expired ones. */
const PURGE_EVERY = 500;

/** The table of a collection: its name, restricted to what is safe to put in SQL unquoted. */
function tableName(name: string): string {
  const table = name.replace(/[^a-zA-Z0-9_]/g, "");
  if (!/^[a-zA-Z]/.test(table)) throw new Error(`invalid collection name "${name}"`);
  return table;
}
