/**
 * The SQLite store as a stream of items and back (see dump.ts). Export reads inside one read
 * transaction, so it sees the file as it stood at one moment while other processes go on writing
 * (WAL); import writes inside one `BEGIN IMMEDIATE` transaction, so it lands whole or not at all.
 * Both take a connection of their own caller: the store's, or a backup file's opened read-only.
 */
import type Database from "better-sqlite3";
import { formatRecent, parseRecent } from "./applied-updates.ts";
import { GoodsEntry, PaymentIndexEntry, STORE_SCHEMA_VERSION } from "../domain/records.ts";
import {
  type ImportOptions,
  type ImportReport,
  type StoreItem,
  StoreNeedsUpgradeError,
  StoreNotEmptyError,
  appliedOfItem,
  emptyCounts,
  fieldOf,
  formatCounts,
  parseLoosely,
  progressCounter,
} from "./dump.ts";
import { columnsOf } from "./sqlite-schema.ts";

type Row = Record<string, unknown>;

/**
 * How a backup reads a chat's applied Telegram updates, and which `chats` rows are chats to back up
 * (a record, or only Telegram bookkeeping). A file of a release before the window of applied updates
 * (same store schema, opened by the tools without the migration) has only `last_update_id`: its rows
 * then carry no window and no time, so a restore dates them itself.
 */
function appliedColumns(db: Database.Database): { select: string; holdsAChat: string } {
  const names = columnsOf(db, "chats");
  const window = names.has("recent_update_ids");
  return {
    select: `${window ? "recent_update_ids" : "'' AS recent_update_ids"}, ${names.has("updates_applied_at") ? "updates_applied_at" : "NULL AS updates_applied_at"}`,
    holdsAChat: `record IS NOT NULL OR last_update_id > 0${window ? " OR recent_update_ids <> ''" : ""}`,
  };
}

/** Whether the file's tables are this version's, or the previous layout still waits for the upgrade on start. */
function schemaOf(db: Database.Database, target: string): "current" | "previous" {
  const version = db.pragma("user_version", { simple: true }) as number;
  if (version > STORE_SCHEMA_VERSION) {
    throw new Error(
      `${target} was written by a newer version (store schema ${version}; this version knows up to ${STORE_SCHEMA_VERSION}): use that version's tools`,
    );
  }
  const legacy = db
    .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'legacy\\_%' ESCAPE '\\'")
    .all();
  const waiting = legacy.some(({ name }) => db.prepare(`SELECT 1 FROM "${name}" LIMIT 1`).get() !== undefined);
  return version < STORE_SCHEMA_VERSION || waiting ? "previous" : "current";
}

/** What the file holds of a shop's data, in words, or null when it holds none (leases alone do not count). */
export function sqliteHoldings(db: Database.Database, now: number): string | null {
  const count = (sql: string, ...args: unknown[]) =>
    (db
      .prepare(sql)
      .pluck()
      .get(...args) as number | undefined) ?? 0;
  const counts = emptyCounts();
  counts.chat = count(`SELECT COUNT(*) FROM chats WHERE ${appliedColumns(db).holdsAChat}`);
  counts.order = count("SELECT COUNT(*) FROM orders");
  counts.order_chat = count("SELECT COUNT(*) FROM order_index");
  counts.audit = count("SELECT COUNT(*) FROM audit");
  counts.payment = count("SELECT COUNT(*) FROM payment_index");
  counts.goods = count("SELECT COUNT(*) FROM goods WHERE entry IS NOT NULL");
  counts.update = count("SELECT COUNT(*) FROM inbox");
  counts.projection = count("SELECT COUNT(*) FROM projections");
  counts.promo_use = count("SELECT COUNT(*) FROM promo_uses");
  counts.kv = count("SELECT COUNT(*) FROM kv WHERE expires_at IS NULL OR expires_at > ?", now);
  const words = formatCounts(counts);
  return words === "nothing" ? null : words;
}

/**
 * Every item of the store on `db`, read in one transaction. `now` decides which key-value entries
 * have expired. The connection must not be used for anything else until the iteration ends.
 */
export async function* exportSqlite(db: Database.Database, target: string, now: number): AsyncGenerator<StoreItem> {
  if (schemaOf(db, target) === "previous") throw new StoreNeedsUpgradeError(target);
  db.exec("BEGIN");
  try {
    // The first read fixes the moment every later read of this transaction sees.
    const rows = (sql: string, ...args: unknown[]) => db.prepare<unknown[], Row>(sql).iterate(...args);
    const updatesSql = appliedColumns(db);
    for (const row of rows(
      `SELECT chat_id, rev, record, current_order_id, last_update_id, ${updatesSql.select} FROM chats
       WHERE ${updatesSql.holdsAChat} ORDER BY rowid`,
    )) {
      yield {
        kind: "chat",
        chatId: String(row.chat_id),
        rev: Number(row.rev),
        record: row.record === null ? null : String(row.record),
        currentOrderId: row.current_order_id === null ? null : String(row.current_order_id),
        lastUpdateId: Number(row.last_update_id),
        recentUpdateIds: parseRecent(String(row.recent_update_ids)),
        ...(row.updates_applied_at === null ? {} : { updatesAppliedAt: Number(row.updates_applied_at) }),
      };
    }
    for (const row of rows("SELECT order_id, chat_id, record, due_at, created_at, updated_at FROM orders ORDER BY rowid")) {
      yield {
        kind: "order",
        orderId: String(row.order_id),
        chatId: String(row.chat_id),
        record: String(row.record),
        dueAt: row.due_at === null ? null : Number(row.due_at),
        createdAt: Number(row.created_at),
        updatedAt: Number(row.updated_at),
      };
    }
    for (const row of rows("SELECT order_id, chat_id FROM order_index"))
      yield { kind: "order_chat", orderId: String(row.order_id), chatId: String(row.chat_id) };
    for (const row of rows("SELECT order_id, chat_id, entry FROM goods WHERE entry IS NOT NULL ORDER BY rowid")) {
      yield { kind: "goods", orderId: String(row.order_id), chatId: String(row.chat_id), entry: String(row.entry) };
    }
    for (const row of rows("SELECT key, order_id, chat_id FROM payment_index"))
      yield { kind: "payment", key: String(row.key), orderId: String(row.order_id), chatId: String(row.chat_id) };
    for (const row of rows("SELECT chat_id, update_id, raw, received_at FROM inbox ORDER BY chat_id, update_id")) {
      yield {
        kind: "update",
        chatId: String(row.chat_id),
        updateId: Number(row.update_id),
        raw: String(row.raw),
        receivedAt: Number(row.received_at),
      };
    }
    for (const row of rows("SELECT code, order_id, chat_id FROM promo_uses ORDER BY code, order_id")) {
      yield { kind: "promo_use", code: String(row.code), orderId: String(row.order_id), chatId: String(row.chat_id) };
    }
    for (const row of rows(
      "SELECT namespace, key, value, expires_at FROM kv WHERE expires_at IS NULL OR expires_at > ? ORDER BY namespace, key",
      now,
    )) {
      yield {
        kind: "kv",
        namespace: String(row.namespace),
        key: String(row.key),
        value: parseLoosely(String(row.value)) ?? null,
        expiresAt: row.expires_at === null ? null : Number(row.expires_at),
      };
    }
    for (const row of rows("SELECT chat_id, entry FROM audit ORDER BY pos"))
      yield { kind: "audit", chatId: String(row.chat_id), entry: String(row.entry) };
    // A position is the last row a read model applied; the rows up to it are the first ones of the export.
    const applied = db.prepare<[number], number>("SELECT COUNT(*) FROM audit WHERE pos <= ?").pluck();
    // Read whole first: a connection runs one statement at a time while an iteration is open.
    for (const row of db.prepare<[], Row>("SELECT name, position, state FROM projections ORDER BY name").all()) {
      const position = String(row.position);
      yield {
        kind: "projection",
        name: String(row.name),
        state: String(row.state),
        logEntries: /^\d+$/.test(position) ? (applied.get(Number(position)) ?? 0) : null,
      };
    }
    db.exec("COMMIT");
  } finally {
    if (db.inTransaction) db.exec("ROLLBACK");
  }
}

/**
 * Writes `items` into the store on `db`, which must hold no shop data, in one transaction. `now`
 * decides which key-value entries have already expired (they are left out).
 */
export async function importSqlite(
  db: Database.Database,
  target: string,
  items: AsyncIterable<StoreItem>,
  options: ImportOptions,
  now: number,
): Promise<ImportReport> {
  if (schemaOf(db, target) === "previous") throw new StoreNotEmptyError(target, "the previous version's data");
  const counter = progressCounter(options);
  let leftToRebuild = 0;
  let auditRows = 0;
  db.exec("BEGIN IMMEDIATE");
  try {
    const found = sqliteHoldings(db, now);
    if (found) throw new StoreNotEmptyError(target, found);
    const put = {
      chat: db.prepare(
        `INSERT INTO chats(chat_id, rev, record, current_order_id, last_update_id, recent_update_ids, updates_applied_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(chat_id) DO UPDATE SET rev = excluded.rev, record = excluded.record, current_order_id = excluded.current_order_id,
           last_update_id = excluded.last_update_id, recent_update_ids = excluded.recent_update_ids,
           updates_applied_at = excluded.updates_applied_at, lease_owner = NULL, lease_until = NULL`,
      ),
      order: db.prepare("INSERT INTO orders(order_id, chat_id, record, due_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)"),
      orderChat: db.prepare("INSERT OR REPLACE INTO order_index(order_id, chat_id) VALUES (?, ?)"),
      audit: db.prepare("INSERT INTO audit(chat_id, order_id, entry) VALUES (?, ?, ?)"),
      payment: db.prepare("INSERT OR REPLACE INTO payment_index(key, order_id, chat_id) VALUES (?, ?, ?)"),
      goods: db.prepare(
        `INSERT INTO goods(order_id, chat_id, entry) VALUES (?, ?, ?)
         ON CONFLICT(order_id) DO UPDATE SET chat_id = excluded.chat_id, entry = excluded.entry, claim_owner = NULL, claim_until = NULL`,
      ),
      update: db.prepare("INSERT OR IGNORE INTO inbox(chat_id, update_id, raw, received_at) VALUES (?, ?, ?, ?)"),
      projection: db.prepare("INSERT OR REPLACE INTO projections(name, position, state) VALUES (?, ?, ?)"),
      kv: db.prepare("INSERT OR REPLACE INTO kv(namespace, key, value, expires_at) VALUES (?, ?, ?, ?)"),
      promoUse: db.prepare("INSERT OR REPLACE INTO promo_uses(code, order_id, chat_id) VALUES (?, ?, ?)"),
    };
    // The position after the first n rows written (the table was empty, so they are its first n).
    const positionAfter = db.prepare<[number], number>("SELECT pos FROM audit ORDER BY pos LIMIT 1 OFFSET ?").pluck();
    for await (const item of items) {
      switch (item.kind) {
        case "chat": {
          const applied = appliedOfItem(item, now);
          put.chat.run(item.chatId, item.rev, item.record, item.currentOrderId, applied.upTo, formatRecent(applied.recent), applied.at);
          break;
        }
        case "order":
          put.order.run(item.orderId, item.chatId, item.record, item.dueAt, item.createdAt, item.updatedAt);
          break;
        case "order_chat":
          put.orderChat.run(item.orderId, item.chatId);
          break;
        case "audit":
          put.audit.run(item.chatId, fieldOf(item.entry, "orderId"), item.entry);
          auditRows++;
          break;
        case "payment": {
          const entry = PaymentIndexEntry.safeParse({ orderId: item.orderId, chatId: item.chatId });
          if (!entry.success) throw new Error(`payment index entry ${item.key} is unreadable; repair it in the source first`);
          put.payment.run(item.key, item.orderId, item.chatId);
          break;
        }
        case "goods": {
          // Goods decide whether an order's goods are issued again: an unreadable entry must not pass.
          if (!GoodsEntry.safeParse(parseLoosely(item.entry)).success)
            throw new Error(`the goods of order ${item.orderId} are unreadable; repair them in the source first`);
          put.goods.run(item.orderId, item.chatId, item.entry);
          break;
        }
        case "update":
          put.update.run(item.chatId, item.updateId, item.raw, item.receivedAt);
          break;
        case "projection": {
          if (item.logEntries === null || item.logEntries > auditRows) {
            leftToRebuild++;
            continue;
          }
          const position = item.logEntries === 0 ? 0 : positionAfter.get(item.logEntries - 1);
          put.projection.run(item.name, String(position ?? 0), item.state);
          break;
        }
        case "promo_use":
          put.promoUse.run(item.code, item.orderId, item.chatId);
          break;
        case "kv":
          if (item.expiresAt !== null && item.expiresAt <= now) continue;
          put.kv.run(item.namespace, item.key, JSON.stringify(item.value ?? null), item.expiresAt);
          break;
        default: {
          const unhandled: never = item;
          throw new Error(`unknown store item ${JSON.stringify(unhandled)}`);
        }
      }
      counter.add(item.kind);
    }
    db.exec("COMMIT");
  } finally {
    if (db.inTransaction) db.exec("ROLLBACK");
  }
  return { counts: counter.counts, projectionsLeftToRebuild: leftToRebuild };
}
