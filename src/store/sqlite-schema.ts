/**
 * The SQLite store's tables (store schema 3) and the migrations that bring any file up to them.
 *
 * The schema version is `PRAGMA user_version`: 0 is a fresh file or one written before schema 3 (keyv's
 * layout: one `key, value` table per collection), 3 is this layout. Each migration step runs in one
 * `BEGIN IMMEDIATE` transaction, re-reads the version inside it (another process sharing the file may
 * have migrated meanwhile) and sets the version with its changes, so a step is applied exactly once
 * and a crash leaves the file as it was before the step.
 */
import type Database from "better-sqlite3";
import { STORE_SCHEMA_VERSION } from "../domain/records.ts";

/** The collections (keyv tables) written before schema 3; each becomes `legacy_<name>` until the migration drops it. */
export const LEGACY_COLLECTIONS = [
  "conversations",
  "orders",
  "late_payments",
  "refunds",
  "ledger",
  "payments",
  "payment_index",
  "deadlines",
  "audit",
  "audit_index",
  "preferences",
  "sandbox_invoices",
  "cryptopay_invoices",
  "stars_invoices",
  "stars_payments",
  // @keyv/sqlite's table for the old control connection; never written by the product, kept if it holds rows.
  "meta",
] as const;
/** One of {@link LEGACY_COLLECTIONS}. */
export type LegacyCollection = (typeof LEGACY_COLLECTIONS)[number];

/** The table a legacy collection is kept in after the migration. */
export const legacyTable = (collection: LegacyCollection) => `legacy_${collection}`;

/** Schema 3: each table is named for what the engine asks of it, with the index that answers it. */
const SCHEMA_3 = `
CREATE TABLE IF NOT EXISTS chats (
  chat_id TEXT PRIMARY KEY,
  rev INTEGER NOT NULL DEFAULT 0,
  record TEXT,
  current_order_id TEXT,
  last_update_id INTEGER NOT NULL DEFAULT 0,
  recent_update_ids TEXT NOT NULL DEFAULT '',
  updates_applied_at INTEGER NOT NULL DEFAULT 0,
  lease_owner TEXT,
  lease_until INTEGER
);
CREATE TABLE IF NOT EXISTS orders (
  order_id TEXT PRIMARY KEY,
  chat_id TEXT NOT NULL,
  record TEXT NOT NULL,
  due_at INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS orders_due ON orders(due_at) WHERE due_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS orders_chat ON orders(chat_id);
CREATE TABLE IF NOT EXISTS order_index (order_id TEXT PRIMARY KEY, chat_id TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS audit (
  pos INTEGER PRIMARY KEY AUTOINCREMENT,
  chat_id TEXT NOT NULL,
  order_id TEXT,
  entry TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_order ON audit(order_id, pos) WHERE order_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS payment_index (key TEXT PRIMARY KEY, order_id TEXT NOT NULL, chat_id TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS goods (
  order_id TEXT PRIMARY KEY,
  chat_id TEXT NOT NULL,
  entry TEXT,
  claim_owner TEXT,
  claim_until INTEGER
);
CREATE TABLE IF NOT EXISTS inbox (
  chat_id TEXT NOT NULL,
  update_id INTEGER NOT NULL,
  raw TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  PRIMARY KEY (chat_id, update_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS inbox_received ON inbox(received_at);
CREATE TABLE IF NOT EXISTS claims (key TEXT PRIMARY KEY, owner TEXT NOT NULL, expires_at INTEGER) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS kv (
  namespace TEXT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  expires_at INTEGER,
  PRIMARY KEY (namespace, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS kv_expires ON kv(expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS projections (name TEXT PRIMARY KEY, position TEXT NOT NULL, state TEXT NOT NULL) WITHOUT ROWID;
`;

/**
 * Tables added within store schema 3 (issue 21: promo code uses). They are only ever added, never
 * changed, so a file holding them is still read by a version that does not know them: no new schema
 * version, just created (if absent) on every open.
 */
const ADDED_IN_SCHEMA_3 = `
CREATE TABLE IF NOT EXISTS promo_uses (
  code TEXT NOT NULL,
  order_id TEXT NOT NULL,
  chat_id TEXT NOT NULL,
  PRIMARY KEY (code, order_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS promo_uses_chat ON promo_uses(code, chat_id);
`;

/**
 * Columns added within store schema 3, with their defaults, as the tables above name them for a new
 * file. Like the tables, only ever added: a version that does not know one never reads it.
 * - `chats.recent_update_ids` and `chats.updates_applied_at`: the chat's window of applied Telegram
 *   updates and when it last applied one (src/store/applied-updates.ts). A file written before them
 *   has only `last_update_id`, the newest applied id: it becomes the floor, as applied now (`backfill`).
 */
const COLUMNS_ADDED_IN_SCHEMA_3: readonly { table: string; column: string; definition: string; backfill?: string }[] = [
  { table: "chats", column: "recent_update_ids", definition: "TEXT NOT NULL DEFAULT ''" },
  {
    table: "chats",
    column: "updates_applied_at",
    definition: "INTEGER NOT NULL DEFAULT 0",
    backfill: "UPDATE chats SET updates_applied_at = @now WHERE last_update_id > 0 OR recent_update_ids <> ''",
  },
];

/** The names of `table`'s columns (a file of an earlier release may lack some of {@link COLUMNS_ADDED_IN_SCHEMA_3}). */
export const columnsOf = (db: Database.Database, table: string): Set<string> =>
  new Set(db.prepare<[], string>(`SELECT name FROM pragma_table_info('${table}')`).pluck().all());

const addMissingColumns = (db: Database.Database, now: number) => {
  for (const { table, column, definition, backfill } of COLUMNS_ADDED_IN_SCHEMA_3) {
    if (columnsOf(db, table).has(column)) continue;
    db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${definition}`);
    if (backfill) db.prepare(backfill).run({ now });
  }
};

type Migration = { version: number; description: string; up(db: Database.Database): void };

/** Numbered steps, oldest first. A step runs only on a file below its version, inside one transaction. */
const MIGRATIONS: readonly Migration[] = [
  {
    version: 3,
    description: "keyv tables become legacy_<name> (read once by src/store/migrate.ts); the schema 3 tables are created",
    up(db) {
      const exists = db.prepare<[string], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?");
      for (const collection of LEGACY_COLLECTIONS) {
        if (!exists.get(collection)) continue;
        if (collection === "meta" && !db.prepare("SELECT 1 FROM meta LIMIT 1").get()) db.exec("DROP TABLE meta");
        else db.exec(`ALTER TABLE "${collection}" RENAME TO "${legacyTable(collection)}"`);
      }
      // The old claims (update ids, payment jobs) only guarded work of the version that wrote them.
      db.exec("DROP TABLE IF EXISTS claims");
      db.exec(SCHEMA_3);
    },
  },
];

const userVersion = (db: Database.Database) => db.pragma("user_version", { simple: true }) as number;

/**
 * Brings the file up to {@link STORE_SCHEMA_VERSION}. Refuses a file written by a newer version, since
 * this one would misread it.
 */
export function migrate(db: Database.Database, now: number): void {
  const found = userVersion(db);
  if (found > STORE_SCHEMA_VERSION) {
    throw new Error(
      `it was written by a newer version (store schema ${found}; this version knows up to ${STORE_SCHEMA_VERSION}): upgrade TokenGoblin or restore a backup`,
    );
  }
  for (const step of MIGRATIONS) {
    if (step.version <= found) continue;
    db.transaction(() => {
      if (userVersion(db) >= step.version) return;
      step.up(db);
      db.pragma(`user_version = ${step.version}`);
    }).immediate();
  }
  db.transaction(() => {
    db.exec(ADDED_IN_SCHEMA_3);
    addMissingColumns(db, now);
  }).immediate();
}

/**
 * The connection settings every handle uses. WAL with `synchronous=FULL`: a commit is on the disk
 * before anyone is told it is stored, so a power loss loses nothing that was acknowledged (a paid
 * webhook answered 200, goods issued, a Telegram update kept). The store lets writes that hold no data
 * (a chat's lease) commit without waiting for the disk, and groups the commits of many chats into one
 * (sqlite-group-commit.ts), so a busy shop waits for the disk once per group.
 */
export function configure(db: Database.Database): void {
  // Before anything else: waiting for another process's write is normal when several share the file.
  db.pragma("busy_timeout = 5000");
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  // An erased goods secret is overwritten in its page too, at no extra I/O.
  db.pragma("secure_delete = FAST");
}
