/**
 * Every statement the SQLite store runs, prepared once per connection (the engine's hot path,
 * openChat + commit, then only binds and steps). Tables: src/store/sqlite-schema.ts.
 */
import type Database from "better-sqlite3";

type Lease = { chat: string; owner: string; until: number; now: number };
/** A chat's applied Telegram updates as stored (src/store/applied-updates.ts): the floor and the window above it. */
type AppliedRow = { last_update_id: number; recent_update_ids: string; updates_applied_at: number };
/** The applied updates as a commit writes them: floor, window, time. */
type AppliedValues = readonly [number, string, number];
const SET_APPLIED = "last_update_id = ?, recent_update_ids = ?, updates_applied_at = ?";
type ChatRow = AppliedRow & { rev: number; record: string | null; order_record: string | null };
type OpenRow = ChatRow & { lease_owner: string | null; lease_until: number | null };
type CommitRow = AppliedRow & { rev: number; lease_owner: string | null; lease_until: number | null };
type GoodsRow = { entry: string | null; claim_owner: string | null; claim_until: number | null };
type Claim = { key: string; owner: string; until: number | null; now: number };

/** The store's prepared statements, one set per connection. */
export type Statements = ReturnType<typeof prepareStatements>;

/** Prepares every statement of the store on `db` (after the migration: the tables must exist). */
export function prepareStatements(db: Database.Database) {
  return {
    // A lease is free when nobody holds it, this owner holds it (re-entrant), or it ran out.
    takeLease: db.prepare<Lease>(
      `INSERT INTO chats(chat_id, lease_owner, lease_until) VALUES (@chat, @owner, @until)
       ON CONFLICT(chat_id) DO UPDATE SET lease_owner = excluded.lease_owner, lease_until = excluded.lease_until
       WHERE chats.lease_owner IS NULL OR chats.lease_owner = excluded.lease_owner OR chats.lease_until <= @now`,
    ),
    leaseHolder: db.prepare<[string, number], { lease_owner: string }>(
      "SELECT lease_owner FROM chats WHERE chat_id = ? AND lease_owner IS NOT NULL AND (lease_until IS NULL OR lease_until > ?)",
    ),
    renewLease: db.prepare<Lease>(
      "UPDATE chats SET lease_until = @until WHERE chat_id = @chat AND lease_owner = @owner AND (lease_until IS NULL OR lease_until > @now)",
    ),
    releaseLease: db.prepare<[string, string]>(
      "UPDATE chats SET lease_owner = NULL, lease_until = NULL WHERE chat_id = ? AND lease_owner = ?",
    ),
    chatState: db.prepare<[string], ChatRow>(
      `SELECT c.rev, c.record, c.last_update_id, c.recent_update_ids, c.updates_applied_at, o.record AS order_record
       FROM chats c LEFT JOIN orders o ON o.order_id = c.current_order_id WHERE c.chat_id = ?`,
    ),
    // The chat as openChat reads it: with its lease, so a lease this owner already holds is not written again.
    openState: db.prepare<[string], OpenRow>(
      `SELECT c.rev, c.record, c.last_update_id, c.recent_update_ids, c.updates_applied_at, o.record AS order_record,
         c.lease_owner, c.lease_until
       FROM chats c LEFT JOIN orders o ON o.order_id = c.current_order_id WHERE c.chat_id = ?`,
    ),
    // The chat's revision, applied updates and lease without its records: what a commit checks, what
    // openChatSince compares before it reads the records (only when the chat moved), and what
    // acceptUpdate reads (the applied updates, and the revision it hands a new holder).
    chatHead: db.prepare<[string], CommitRow>(
      "SELECT rev, last_update_id, recent_update_ids, updates_applied_at, lease_owner, lease_until FROM chats WHERE chat_id = ?",
    ),
    writeChat: db.prepare<[string, string | null, ...AppliedValues, string]>(
      `UPDATE chats SET rev = rev + 1, record = ?, current_order_id = ?, ${SET_APPLIED} WHERE chat_id = ?`,
    ),
    bumpChat: db.prepare<[...AppliedValues, string]>(`UPDATE chats SET rev = rev + 1, ${SET_APPLIED} WHERE chat_id = ?`),
    applyUpdate: db.prepare<[...AppliedValues, string]>(`UPDATE chats SET ${SET_APPLIED} WHERE chat_id = ?`),
    // An order never changes chats: leaving chat_id out of the update spares its index a write per commit.
    writeOrder: db.prepare<[string, string, string, number | null, number, number]>(
      `INSERT INTO orders(order_id, chat_id, record, due_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT(order_id) DO UPDATE SET record = excluded.record, due_at = excluded.due_at, updated_at = excluded.updated_at`,
    ),
    readOrder: db.prepare<[string], { record: string }>("SELECT record FROM orders WHERE order_id = ?"),
    readChatOrder: db.prepare<[string, string], { record: string }>("SELECT record FROM orders WHERE order_id = ? AND chat_id = ?"),
    dueOrders: db.prepare<[number, number], { order_id: string; chat_id: string; due_at: number }>(
      "SELECT order_id, chat_id, due_at FROM orders WHERE due_at IS NOT NULL AND due_at <= ? ORDER BY due_at LIMIT ?",
    ),
    indexOrder: db.prepare<[string, string]>(
      "INSERT INTO order_index(order_id, chat_id) VALUES (?, ?) ON CONFLICT(order_id) DO UPDATE SET chat_id = excluded.chat_id",
    ),
    appendAudit: db.prepare<[string, string | null, string]>("INSERT INTO audit(chat_id, order_id, entry) VALUES (?, ?, ?)"),
    auditOf: db.prepare<[string], { entry: string }>("SELECT entry FROM audit WHERE order_id = ? ORDER BY pos"),
    readLog: db.prepare<[number, number], { pos: number; entry: string }>(
      "SELECT pos, entry FROM audit WHERE pos > ? ORDER BY pos LIMIT ?",
    ),
    indexPayment: db.prepare<[string, string, string]>(
      `INSERT INTO payment_index(key, order_id, chat_id) VALUES (?, ?, ?)
       ON CONFLICT(key) DO UPDATE SET order_id = excluded.order_id, chat_id = excluded.chat_id`,
    ),
    findPayment: db.prepare<[string], { order_id: string; chat_id: string }>("SELECT order_id, chat_id FROM payment_index WHERE key = ?"),
    goods: db.prepare<[string], GoodsRow>("SELECT entry, claim_owner, claim_until FROM goods WHERE order_id = ?"),
    claimGoods: db.prepare<{ order: string; chat: string; owner: string; until: number; now: number }>(
      `INSERT INTO goods(order_id, chat_id, claim_owner, claim_until) VALUES (@order, @chat, @owner, @until)
       ON CONFLICT(order_id) DO UPDATE SET claim_owner = excluded.claim_owner, claim_until = excluded.claim_until
       WHERE goods.entry IS NULL AND (goods.claim_owner IS NULL OR goods.claim_owner = excluded.claim_owner OR goods.claim_until <= @now)`,
    ),
    // The issuer's claim ends with its goods; another owner's (a stale one) is left to expire.
    putGoods: db.prepare<{ order: string; chat: string; entry: string; owner: string }>(
      `INSERT INTO goods(order_id, chat_id, entry) VALUES (@order, @chat, @entry)
       ON CONFLICT(order_id) DO UPDATE SET chat_id = excluded.chat_id, entry = excluded.entry,
         claim_owner = CASE WHEN goods.claim_owner = @owner THEN NULL ELSE goods.claim_owner END,
         claim_until = CASE WHEN goods.claim_owner = @owner THEN NULL ELSE goods.claim_until END`,
    ),
    rewriteGoods: db.prepare<[string, string]>("UPDATE goods SET entry = ? WHERE order_id = ?"),
    queueUpdate: db.prepare<[string, number, string, number]>(
      "INSERT OR IGNORE INTO inbox(chat_id, update_id, raw, received_at) VALUES (?, ?, ?, ?)",
    ),
    // The inbox holds no applied update: the commit that applies one deletes it, and acceptUpdate refuses
    // applied ones. So whatever it holds waits, also ids below the chat's newest applied one (late ones).
    oldestPending: db.prepare<[string], { update_id: number }>("SELECT update_id FROM inbox WHERE chat_id = ? ORDER BY update_id LIMIT 1"),
    dropApplied: db.prepare<[string, number]>("DELETE FROM inbox WHERE chat_id = ? AND update_id = ?"),
    queued: db.prepare<[string, number], { update_id: number; raw: string }>(
      "SELECT update_id, raw FROM inbox WHERE chat_id = ? ORDER BY update_id LIMIT ?",
    ),
    waiting: db.prepare<[number, number], { chat_id: string }>("SELECT DISTINCT chat_id FROM inbox WHERE received_at <= ? LIMIT ?"),
    loadProjection: db.prepare<[string], { position: string; state: string }>("SELECT position, state FROM projections WHERE name = ?"),
    saveProjection: db.prepare<[string, string, string]>(
      "INSERT INTO projections(name, position, state) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET position = excluded.position, state = excluded.state",
    ),
    tryClaim: db.prepare<Claim>(
      `INSERT INTO claims(key, owner, expires_at) VALUES (@key, @owner, @until)
       ON CONFLICT(key) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
       WHERE claims.owner = excluded.owner OR (claims.expires_at IS NOT NULL AND claims.expires_at <= @now)`,
    ),
    releaseClaim: db.prepare<[string, string]>("DELETE FROM claims WHERE key = ? AND owner = ?"),
    purgeClaims: db.prepare<[number]>("DELETE FROM claims WHERE expires_at IS NOT NULL AND expires_at <= ?"),
    promoUses: db.prepare<[string], { n: number }>("SELECT COUNT(*) AS n FROM promo_uses WHERE code = ?"),
    promoUsesOf: db.prepare<[string, string], { n: number }>("SELECT COUNT(*) AS n FROM promo_uses WHERE code = ? AND chat_id = ?"),
    promoHeldBy: db.prepare<[string, string], { found: 1 }>("SELECT 1 AS found FROM promo_uses WHERE code = ? AND order_id = ?"),
    addPromoUse: db.prepare<[string, string, string]>("INSERT INTO promo_uses(code, order_id, chat_id) VALUES (?, ?, ?)"),
    removePromoUse: db.prepare<[string, string]>("DELETE FROM promo_uses WHERE code = ? AND order_id = ?"),
    ping: db.prepare("SELECT 1"),
  };
}
