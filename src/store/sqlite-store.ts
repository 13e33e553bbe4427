/**
 * The SQLite store (`sqlite://path`, the default): one file, one connection per process, and several
 * processes may share the file. Every method is one transaction (`BEGIN IMMEDIATE` when it writes),
 * so no other process's step can come between its reads and its writes; WAL lets readers go on while
 * one writer works. Tables, indexes and migrations: src/store/sqlite-schema.ts.
 */
import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import Database from "better-sqlite3";
import type Keyv from "keyv";
import type { ChatId, OrderId } from "../domain/ids.ts";
import { AuditEntry, ChatRecord, GoodsEntry, OrderRecord, PaymentIndexEntry } from "../domain/records.ts";
import { type AppliedUpdates, NONE_APPLIED, appliedFrom, formatRecent, wasApplied, withApplied } from "./applied-updates.ts";
import { parseLogPosition } from "./log-position.ts";
import {
  type ChatState,
  type CommitResult,
  type CommitStep,
  type GoodsClaim,
  type LeaseRequest,
  type PromoLimits,
  type PromoUseResult,
  type ShopStore,
  StoreUnavailableError,
  expectedRevOf,
} from "./shop-store.ts";
import { PURGE_EVERY, kvStatements, sqliteKeyv } from "./sqlite-keyv.ts";
import { exportSqlite, importSqlite } from "./sqlite-dump.ts";
import { legacyData } from "./sqlite-legacy.ts";
import { configure, migrate } from "./sqlite-schema.ts";
import { groupCommit } from "./sqlite-group-commit.ts";
import { type Statements, prepareStatements } from "./sqlite-statements.ts";

export type SqliteStoreOptions = {
  /** The time leases, claims, inbox ages and kv expiry are judged by (tests inject a fake one). */
  clock?: () => number;
};

/** SQLite failures that mean "not now" (locked past the busy timeout, disk full or failing), not a bug. */
const UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|IOERR|FULL|READONLY|CANTOPEN|PROTOCOL)/;

type Schema<T> = { safeParse(raw: unknown): { success: true; data: T } | { success: false } };

/** A stored JSON text read through its schema: "invalid" when it is not JSON or fails the schema. */
function parseJson<T>(schema: Schema<T>, text: string): T | "invalid" {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return "invalid";
  }
  const parsed = schema.safeParse(raw);
  return parsed.success ? parsed.data : "invalid";
}

/**
 * Opens (creating it and its directory if needed) the store file at `path` and migrates it to store
 * schema 3. Rejects with an error naming the path when the file cannot be opened or is not a SQLite
 * database.
 */
export async function sqliteStore(path: string, options: SqliteStoreOptions = {}): Promise<ShopStore> {
  const clock = options.clock ?? Date.now;
  const file = path === ":memory:" ? path : resolve(path);
  let db: Database.Database | undefined;
  try {
    if (file !== ":memory:") mkdirSync(dirname(file), { recursive: true });
    db = new Database(file, { timeout: 5000 });
    configure(db);
    migrate(db, clock());
  } catch (error) {
    db?.close();
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(
      `cannot open the SQLite store ${file}: ${reason} (check the path, its permissions, and that it is a TokenGoblin store file)`,
      {
        cause: error,
      },
    );
  }
  return openedStore(db, file, clock);
}

function openedStore(db: Database.Database, file: string, clock: () => number): ShopStore {
  const s: Statements = prepareStatements(db);
  const kv = kvStatements(db);
  const keyvs = new Map<string, Keyv>();
  let claimsSincePurge = 0;

  /** Failures that mean the store cannot answer now become StoreUnavailableError; anything else is a bug and stays as it is. */
  const codeOf = (error: unknown) => (error as { code?: unknown } | null | undefined)?.code;
  const failure = (error: unknown): unknown => {
    const code = codeOf(error);
    if (typeof code === "string" && UNAVAILABLE.test(code)) return new StoreUnavailableError(`SQLite ${file}: ${code}`, { cause: error });
    if (!db.open) return new StoreUnavailableError(`SQLite ${file} was closed`, { cause: error });
    return error;
  };
  /** A write that shared its COMMIT with one that failed: nothing of it was stored, and it may be tried again. */
  const groupFailure = (error: unknown): unknown => {
    const mapped = failure(error);
    if (mapped instanceof StoreUnavailableError) return mapped;
    const reason = String(codeOf(error) ?? (error instanceof Error ? error.message : error));
    return new StoreUnavailableError(`SQLite ${file}: the commit this write shared failed (${reason}); nothing of it was stored`, {
      cause: error,
    });
  };
  const group = groupCommit(db, { failure, groupFailure });
  /** Runs a call that is not grouped (a read, a single statement) after every write asked for before it. */
  const attempt = <R>(work: () => R): R => {
    group.flush();
    try {
      return work();
    } catch (error) {
      throw failure(error);
    }
  };
  /**
   * `work` as one write transaction, prepared once: BEGIN IMMEDIATE, so no other process's write comes
   * between; it may share its COMMIT with other chats' writes of the same moment (sqlite-group-commit.ts).
   */
  const write = <A extends [unknown, ...unknown[]], R>(keyOf: (first: A[0]) => string, work: (...args: A) => R) => group.write(work, keyOf);
  /** A write that holds only a chat's lease: it commits without waiting for the disk (a lost lease runs out by itself). */
  const leaseWrite = <A extends [unknown, ...unknown[]], R>(keyOf: (first: A[0]) => string, work: (...args: A) => R) =>
    group.write(work, keyOf, { durable: false });
  /** `work` as one read transaction, prepared once. */
  const read = <A extends unknown[], R>(work: (...args: A) => R) => {
    const transaction = db.transaction(work);
    return (...args: A): R => attempt(() => transaction.deferred(...args));
  };
  const byChat = (chatId: ChatId) => chatId;

  const take = (chat: string, lease: LeaseRequest, now: number) =>
    s.takeLease.run({ chat, owner: lease.owner, until: now + lease.ttlMs, now }).changes > 0;
  const appliedIn = (row: { last_update_id: number; recent_update_ids: string; updates_applied_at: number } | undefined): AppliedUpdates =>
    row ? appliedFrom(row.last_update_id, row.recent_update_ids, row.updates_applied_at) : NONE_APPLIED;
  const oldestPending = (chatId: string) => s.oldestPending.get(chatId)?.update_id ?? null;
  const pendingIn = (chatId: string) => oldestPending(chatId) !== null;

  // Rows are read inside a transaction and validated after it: the write lock is held for SQL only.
  type ChatRow = ReturnType<typeof s.chatState.get>;
  const stateOf = (row: ChatRow): ChatState => {
    if (!row) return { chat: undefined, rev: 0, order: undefined, applied: NONE_APPLIED };
    const chat = row.record === null ? undefined : parseJson(ChatRecord, row.record);
    // The order is the one the valid record names (the column mirrors it): an unreadable chat has none.
    const order =
      typeof chat === "object" && chat.currentOrderId !== null && row.order_record !== null
        ? parseJson(OrderRecord, row.order_record)
        : undefined;
    return { chat, rev: row.rev, order, applied: appliedIn(row) };
  };

  const readGoods = (orderId: string): GoodsEntry | undefined => {
    const text = s.goods.get(orderId)?.entry;
    if (text === undefined || text === null) return undefined;
    const entry = parseJson(GoodsEntry, text);
    // Never "absent": that would let the goods be issued a second time.
    if (entry === "invalid")
      throw new Error(`the goods of order ${orderId} fail their schema in ${file} (table goods): repair or remove that row`);
    return entry;
  };

  type Held = { held: true } | { held: false; holder: string | null };
  /**
   * Takes the chat's lease for `lease.owner` given its row as just read, inside the caller's
   * transaction. Already this owner's for at least half its time (the inbox took it for the update, or
   * the step re-enters): nothing is written, so the transaction commits without touching the file. A
   * holder renews at a third of the time, so the lease cannot run out under it.
   */
  const claimLease = (
    chatId: ChatId,
    lease: LeaseRequest,
    row: { lease_owner: string | null; lease_until: number | null } | undefined,
  ): Held => {
    const now = clock();
    const holder = row?.lease_owner ?? null;
    const until = row?.lease_until ?? null;
    const live = holder !== null && (until === null || until > now);
    if (live && holder !== lease.owner) return { held: false, holder };
    if (live && (until === null || until - now >= lease.ttlMs / 2)) return { held: true };
    if (!take(chatId, lease, now)) return { held: false, holder: s.leaseHolder.get(chatId, now)?.lease_owner ?? null };
    return { held: true };
  };

  const open = leaseWrite(
    byChat,
    (chatId: ChatId, lease: LeaseRequest): { held: true; row: ChatRow } | { held: false; holder: string | null } => {
      const row = s.openState.get(chatId);
      const claimed = claimLease(chatId, lease, row);
      return claimed.held ? { held: true, row: row ?? s.chatState.get(chatId) } : claimed;
    },
  );

  type SinceResult =
    { held: true; unchanged: true; applied: AppliedUpdates } | { held: true; row: ChatRow } | { held: false; holder: string | null };
  /** openChat for a caller holding revision `knownRev`: the records are read only when the chat moved since. */
  const openSince = leaseWrite(byChat, (chatId: ChatId, lease: LeaseRequest, knownRev: number): SinceResult => {
    const row = s.chatHead.get(chatId);
    const claimed = claimLease(chatId, lease, row);
    if (!claimed.held) return claimed;
    if (row && knownRev > 0 && row.rev === knownRev) return { held: true, unchanged: true, applied: appliedIn(row) };
    return { held: true, row: s.chatState.get(chatId) };
  });

  /**
   * A step as its transaction writes it, taken when the commit is asked for (the transaction may run a
   * moment later, in a group): its records serialised, every value it needs read off the step.
   */
  type CommitPlan = {
    chatId: ChatId;
    owner: string;
    /** The chat record's JSON; null keeps the record. */
    chat: { json: string; currentOrderId: string | null } | null;
    /** The revision the commit is compare-and-set on (`expectedRevOf`); null: not checked. */
    expectedRev: number | null;
    orders: { orderId: string; json: string; dueAt: number | null; createdAt: number; updatedAt: number }[];
    audit: ReturnType<typeof auditRow>[];
    appliedUpdateId: number | undefined;
    release: boolean;
  };
  /** An audit entry as its row in the log is written. */
  const auditRow = (entry: AuditEntry) => ({ orderId: entry.orderId, json: JSON.stringify(entry) });
  const planOf = (step: CommitStep): CommitPlan => ({
    chatId: step.chatId,
    owner: step.owner,
    chat: step.chat
      ? {
          json: JSON.stringify(step.chat.record),
          // Read defensively: a record that fails its schema may still be written (it then reads as "invalid").
          currentOrderId: (step.chat.record as { currentOrderId?: string | null }).currentOrderId ?? null,
        }
      : null,
    orders: (step.orders ?? []).map((order) => ({
      orderId: order.orderId,
      json: JSON.stringify(order),
      dueAt: order.summary.dueAt,
      createdAt: order.createdAt,
      updatedAt: order.updatedAt,
    })),
    audit: (step.audit ?? []).map(auditRow),
    expectedRev: expectedRevOf(step) ?? null,
    appliedUpdateId: step.appliedUpdateId,
    release: step.release ?? false,
  });
  const commit = write(
    (plan: CommitPlan) => plan.chatId,
    (plan: CommitPlan): CommitResult => {
      const row = s.chatHead.get(plan.chatId);
      const leaseLive = row?.lease_owner === plan.owner && (row.lease_until === null || row.lease_until > clock());
      if (!row || !leaseLive) return { ok: false, reason: "lease_lost" };
      if (plan.expectedRev !== null && row.rev !== plan.expectedRev) return { ok: false, reason: "moved" };
      let rev = row.rev;
      // The window is parsed only when an update joins it. The update leaves the inbox first: the floor
      // of applied updates stays below the ones still waiting there. Nothing else in the commit changes
      // the inbox, so the oldest waiting update also says whether updates wait when it ends.
      let { last_update_id: floor, recent_update_ids: recent, updates_applied_at: appliedAt } = row;
      if (plan.appliedUpdateId !== undefined) s.dropApplied.run(plan.chatId, plan.appliedUpdateId);
      const waiting = oldestPending(plan.chatId);
      if (plan.appliedUpdateId !== undefined) {
        const applied = withApplied(appliedIn(row), plan.appliedUpdateId, clock(), waiting);
        [floor, recent, appliedAt] = [applied.upTo, formatRecent(applied.recent), applied.at];
      }
      const updates = [floor, recent, appliedAt] as const;
      if (plan.chat !== null) {
        s.writeChat.run(plan.chat.json, plan.chat.currentOrderId, ...updates, plan.chatId);
        rev += 1;
      } else if (plan.orders.length > 0 && rev > 0) {
        // Orders written without the record still move the chat on: a process holding it warm must read it again.
        s.bumpChat.run(...updates, plan.chatId);
        rev += 1;
      } else if (plan.appliedUpdateId !== undefined) s.applyUpdate.run(...updates, plan.chatId);
      for (const order of plan.orders)
        s.writeOrder.run(order.orderId, plan.chatId, order.json, order.dueAt, order.createdAt, order.updatedAt);
      for (const entry of plan.audit) s.appendAudit.run(plan.chatId, entry.orderId, entry.json);
      const pendingUpdates = waiting !== null;
      if (plan.release && !pendingUpdates) s.releaseLease.run(plan.chatId, plan.owner);
      return { ok: true, rev, pendingUpdates };
    },
  );

  const release = leaseWrite(byChat, (chatId: ChatId, owner: string) => {
    if (pendingIn(chatId)) return { pendingUpdates: true };
    s.releaseLease.run(chatId, owner);
    return { pendingUpdates: false };
  });

  const accept = write(byChat, (chatId: ChatId, updateId: number, raw: string, lease: LeaseRequest) => {
    const now = clock();
    const head = s.chatHead.get(chatId);
    const accepted = !wasApplied(appliedIn(head), updateId, now) && s.queueUpdate.run(chatId, updateId, raw, now).changes > 0;
    const oldest = oldestPending(chatId);
    const held = oldest !== null && take(chatId, lease, now);
    return { accepted, held, next: held ? oldest : null, rev: held ? (head?.rev ?? 0) : null };
  });

  const claimGoods = write(
    (orderId: OrderId) => orderId,
    (orderId: OrderId, chatId: ChatId, owner: string, ttlMs: number): GoodsClaim => {
      const entry = readGoods(orderId);
      if (entry) return { kind: "exists", entry };
      const now = clock();
      return s.claimGoods.run({ order: orderId, chat: chatId, owner, until: now + ttlMs, now }).changes > 0
        ? { kind: "claimed" }
        : { kind: "busy" };
    },
  );

  const markSent = write(
    (orderId: OrderId) => orderId,
    (orderId: OrderId, at: number) => {
      const entry = readGoods(orderId);
      if (entry && entry.sentAt === null) s.rewriteGoods.run(JSON.stringify({ ...entry, secret: null, sentAt: at }), orderId);
    },
  );

  const readOrders = read((chatId: ChatId, orderIds: readonly OrderId[]) =>
    orderIds.flatMap((orderId) => {
      const text = s.readChatOrder.get(orderId, chatId)?.record;
      const record = text === undefined ? "invalid" : parseJson(OrderRecord, text);
      return record === "invalid" ? [] : [record];
    }),
  );

  const validEntries = (rows: { entry: string }[]) =>
    rows.flatMap((row) => {
      const entry = parseJson(AuditEntry, row.entry);
      return entry === "invalid" ? [] : [entry];
    });

  const tryClaim = write(
    (key: string) => `claim:${key}`,
    (key: string, owner: string, ttlMs: number | null) => {
      const now = clock();
      if (++claimsSincePurge >= PURGE_EVERY) {
        claimsSincePurge = 0;
        s.purgeClaims.run(now);
      }
      return s.tryClaim.run({ key, owner, until: ttlMs === null ? null : now + ttlMs, now }).changes > 0;
    },
  );

  // Read and counted inside one BEGIN IMMEDIATE: no other process's use can come between the count and the insert.
  const usePromo = write(
    (code: string) => `promo:${code}`,
    (code: string, orderId: OrderId, chatId: ChatId, limits: PromoLimits): PromoUseResult => {
      if (s.promoHeldBy.get(code, orderId)) return "ok";
      if (limits.maxUses !== null && (s.promoUses.get(code)?.n ?? 0) >= limits.maxUses) return "used_up";
      if (limits.oncePerCustomer && (s.promoUsesOf.get(code, chatId)?.n ?? 0) > 0) return "already_used_by_you";
      s.addPromoUse.run(code, orderId, chatId);
      return "ok";
    },
  );
  const promoUses = read((code: string, chatId: ChatId, orderId: OrderId | undefined) => ({
    uses: s.promoUses.get(code)?.n ?? 0,
    byCustomer: s.promoUsesOf.get(code, chatId)?.n ?? 0,
    heldByOrder: orderId !== undefined && s.promoHeldBy.get(code, orderId) !== undefined,
  }));

  const appendAudit = write(byChat, (chatId: ChatId, entries: ReturnType<typeof auditRow>[]) => {
    for (const entry of entries) s.appendAudit.run(chatId, entry.orderId, entry.json);
  });

  // Writes of one statement: grouped like the others (a burst of new orders shares its COMMITs).
  const indexOrder = write(byChat, (chatId: ChatId, orderId: OrderId) => void s.indexOrder.run(orderId, chatId));
  const indexPayment = write(
    (key: string) => `payment:${key}`,
    (key: string, orderId: string, chatId: string) => void s.indexPayment.run(key, orderId, chatId),
  );
  const putGoods = write(
    (orderId: string) => orderId,
    (orderId: string, chatId: string, json: string, owner: string) =>
      void s.putGoods.run({ order: orderId, chat: chatId, entry: json, owner }),
  );
  const renewLease = leaseWrite(byChat, (chatId: ChatId, lease: LeaseRequest) => {
    const now = clock();
    return s.renewLease.run({ chat: chatId, owner: lease.owner, until: now + lease.ttlMs, now }).changes > 0;
  });

  // Reads of a single statement are a transaction of their own: those need no BEGIN, only the error mapping.
  const store: ShopStore = {
    kind: "sqlite",
    openChat: async (chatId, lease) => {
      const opened = await open(chatId, lease);
      return opened.held ? { held: true, state: stateOf(opened.row) } : opened;
    },
    openChatSince: async (chatId, lease, knownRev) => {
      const opened = await openSince(chatId, lease, knownRev);
      return "row" in opened ? { held: true, state: stateOf(opened.row) } : opened;
    },
    renewLease: (chatId, lease) => renewLease(chatId, lease),
    releaseLease: async (chatId, owner) => release(chatId, owner),
    readChat: async (chatId) => stateOf(attempt(() => s.chatState.get(chatId))),
    commit: (step) => commit(planOf(step)),

    indexOrder: (orderId, chatId) => indexOrder(chatId, orderId),
    readOrder: async (orderId) => {
      const text = attempt(() => s.readOrder.get(orderId))?.record;
      const record = text === undefined ? undefined : parseJson(OrderRecord, text);
      return record === "invalid" ? undefined : record;
    },
    readOrders: async (chatId, orderIds) => readOrders(chatId, orderIds),
    dueOrders: async (now, limit) =>
      attempt(() => s.dueOrders.all(now, limit)).map((row) => ({
        orderId: row.order_id as OrderId,
        chatId: row.chat_id as ChatId,
        dueAt: row.due_at,
      })),

    indexPayment: (key, entry) => indexPayment(key, entry.orderId, entry.chatId),
    findPayment: async (key) => {
      const row = attempt(() => s.findPayment.get(key));
      const parsed = row ? PaymentIndexEntry.safeParse({ orderId: row.order_id, chatId: row.chat_id }) : undefined;
      return parsed?.success ? parsed.data : undefined;
    },

    claimGoods: async (orderId, chatId, owner, ttlMs) => claimGoods(orderId, chatId, owner, ttlMs),
    putGoods: (entry, owner) => putGoods(entry.orderId, entry.chatId, JSON.stringify(entry), owner),
    goods: async (orderId) => attempt(() => readGoods(orderId)),
    markGoodsSent: async (orderId, _chatId, at) => markSent(orderId, at),

    usePromo: async (code, orderId, chatId, limits) => usePromo(code, orderId, chatId, limits),
    releasePromo: async (code, orderId) => void attempt(() => s.removePromoUse.run(code, orderId)),
    promoUses: async (code, chatId, orderId) => promoUses(code, chatId, orderId),

    acceptUpdate: async (chatId, updateId, raw, lease) => accept(chatId, updateId, raw, lease),
    queuedUpdates: async (chatId, limit) =>
      attempt(() => s.queued.all(chatId, limit)).map((row) => ({ updateId: row.update_id, raw: row.raw })),
    waitingInboxes: async (before, limit) => attempt(() => s.waiting.all(before, limit)).map((row) => row.chat_id as ChatId),

    appendAudit: (chatId, entries) => appendAudit(chatId, entries.map(auditRow)),
    auditOf: async (orderId) => validEntries(attempt(() => s.auditOf.all(orderId))),
    readLog: async (position, limit) => {
      const from = position === null ? 0 : parseLogPosition(position, "sqlite");
      const rows = attempt(() => s.readLog.all(from, limit));
      // The position is the last row read, even when that entry failed its schema (so it is not re-read forever).
      return { entries: validEntries(rows), position: String(rows.at(-1)?.pos ?? from) };
    },

    loadProjection: async (name) => {
      const row = attempt(() => s.loadProjection.get(name));
      return row ? { position: row.position, state: row.state } : undefined;
    },
    saveProjection: async (name, saved) => void attempt(() => s.saveProjection.run(name, saved.position, saved.state)),

    claims: {
      tryClaim: async (key, owner, ttlMs) => tryClaim(key, owner, ttlMs),
      release: async (key, owner) => void attempt(() => s.releaseClaim.run(key, owner)),
    },
    kv(namespace) {
      let keyv = keyvs.get(namespace);
      if (!keyv) keyvs.set(namespace, (keyv = sqliteKeyv(kv, namespace, clock, attempt)));
      return keyv;
    },

    exportAll: () => exportSqlite(db, `the SQLite store ${file}`, clock()),
    importAll: (items, options = {}) => importSqlite(db, `the SQLite store ${file}`, items, options, clock()),

    ping: async () => void attempt(() => s.ping.get()),
    close: async () => {
      group.flush();
      if (db.open) db.close();
    },
  };
  const legacy = legacyData(db, clock);
  if (legacy) store.legacy = legacy;
  return store;
}
