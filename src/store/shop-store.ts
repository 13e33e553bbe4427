/**
 * The store, named for what the engine needs rather than get/set. Every method is one round trip to
 * the backend (one Redis script, one SQLite transaction); the engine's hot path is two of them:
 * {@link ShopStore.openChat} (claim the chat's lease and read the chat with its current order) and
 * {@link ShopStore.commit} (write everything one step changed, atomically, and release the lease).
 *
 * Backends: memory (one process; tests), SQLite (the default; one file, several processes may share
 * it), Redis (several instances; Redis Cluster too). `test/integration/store-contract.ts` is the
 * behaviour every backend must show; each backend runs it.
 *
 * Atomicity on Redis Cluster: every key a commit touches lives in the chat's shard (one hash tag per
 * shard, see `shardOf`), so a commit is one script on one node. The two lookups that cannot live there
 * (a provider's payment id → order, an order id → chat) are written first, before anything refers to
 * them, so a crash between the two writes leaves an unused index entry, never a missing one.
 */
import type Keyv from "keyv";
import type { ChatId, OrderId } from "../domain/ids.ts";
import type { AuditEntry, ChatRecord, GoodsEntry, OrderRecord, PaymentIndexEntry } from "../domain/records.ts";
import type { AppliedUpdates } from "./applied-updates.ts";
import type { ImportOptions, ImportReport, StoreItem } from "./dump.ts";

export type StoreKind = "memory" | "sqlite" | "redis";

/** A chat's lease: which process may write the chat and its orders, for how long without renewal. */
export type LeaseRequest = { owner: string; ttlMs: number };

/** A chat as stored: its record and revision, its current order, and the Telegram updates it applied. */
export type ChatState = {
  chat: ChatRecord | undefined | "invalid";
  /**
   * The chat's revision; 0 when it has no record. Every commit that writes the record or any of the
   * chat's orders moves it on; every chat write is compare-and-set on it.
   */
  rev: number;
  /** The order `chat.currentOrderId` names, if any. */
  order: OrderRecord | undefined | "invalid";
  /** The Telegram updates applied to the chat (src/store/applied-updates.ts): one sent again is a duplicate. */
  applied: AppliedUpdates;
};

export type OpenResult = { held: true; state: ChatState } | { held: false; holder: string | null };

/**
 * What {@link ShopStore.openChatSince} found: as {@link OpenResult}, or the chat still at the revision
 * the caller holds, so its record and order were not read again (only its applied updates are).
 */
export type OpenSinceResult = OpenResult | { held: true; unchanged: true; applied: AppliedUpdates };

/** Everything one step changed, written at once or not at all. */
export type CommitStep = {
  chatId: ChatId;
  /** The lease owner: the commit is refused unless this owner still holds the chat's lease. */
  owner: string;
  /** The chat record to write, compare-and-set: refused unless the stored revision is `expectedRev`. */
  chat?: { record: ChatRecord; expectedRev: number };
  /**
   * The revision the writer read the chat at, for a commit that writes orders without the record:
   * refused as `moved` unless the stored revision is still this one. The lease alone does not say
   * the writer's read is fresh: a writer whose lease ran out may hold it again when its own process
   * took it back (a Telegram update for the chat arrived there) after another process committed.
   */
  expectedRev?: number;
  /**
   * Orders to write (all of this chat). Each order's deadline index entry follows its
   * `summary.dueAt` (null removes it), in the same commit.
   */
  orders?: readonly OrderRecord[];
  /** Audit entries appended to the log, in this order, with the state they describe. */
  audit?: readonly AuditEntry[];
  /** The Telegram update this step applied: it leaves the chat's inbox and joins its applied updates. */
  appliedUpdateId?: number;
  /**
   * Release the lease after writing. It is kept when the chat's inbox still holds updates
   * (`pendingUpdates` says so): the caller must then work them off, so no update waits for a lease
   * that nobody will take.
   */
  release?: boolean;
};

/**
 * The revision a commit is compare-and-set on: the chat record's when it writes one, else the one the
 * writer read (`expectedRev`); undefined: not checked. Every backend asks this one question.
 */
export const expectedRevOf = (step: CommitStep): number | undefined => step.chat?.expectedRev ?? step.expectedRev;

export type CommitResult =
  | { ok: true; rev: number; pendingUpdates: boolean }
  /** `moved`: another writer changed the chat since it was read; `lease_lost`: another process holds the lease. */
  | { ok: false; reason: "moved" | "lease_lost" };

/** An order whose deadline has come. */
export type DueOrder = { orderId: OrderId; chatId: ChatId; dueAt: number };

/**
 * What {@link ShopStore.acceptUpdate} did, and where the inbox's work starts when this owner holds it.
 * `rev`: the chat's revision when held (null otherwise), so a holder that has the chat at that
 * revision in memory can apply `next` without reading the chat again.
 */
export type AcceptResult = { accepted: boolean; held: boolean; next: number | null; rev: number | null };

/** A Telegram update waiting in a chat's inbox. `raw` is the update's JSON, as received. */
export type QueuedUpdate = { updateId: number; raw: string };

/** Where a reader of the audit log stands: opaque to callers, meaningful to the backend that gave it. */
export type LogPosition = string;

/** A batch of the audit log after a position, and the position after the batch. */
export type LogBatch = { entries: AuditEntry[]; position: LogPosition };

/** What a goods claim found: goods already issued, the right to issue them now, or another issuer at work. */
export type GoodsClaim = { kind: "exists"; entry: GoodsEntry } | { kind: "claimed" } | { kind: "busy" };

/** Set-if-absent with expiry, for one-off exclusive work (not chats: those have leases). */
export type Claims = {
  /** True when `owner` now holds `key` (it was free, expired, or already this owner's). `ttlMs` null never expires. */
  tryClaim(key: string, owner: string, ttlMs: number | null): Promise<boolean>;
  /** Frees `key` if `owner` still holds it. */
  release(key: string, owner: string): Promise<void>;
};

/**
 * What a promo code allows (the catalog's `max_uses` and `once_per_customer`): how many orders may
 * hold a use of it at once, shop-wide (null: any number), and whether one customer (chat) may hold more than one.
 */
export type PromoLimits = { maxUses: number | null; oncePerCustomer: boolean };

/** Whether an order now holds a use of a code: `ok` (also when it already did), or why not. */
export type PromoUseResult = "ok" | "used_up" | "already_used_by_you";

/** How many orders hold uses of a code: shop-wide, of one customer, and whether one given order is among them. */
export type PromoUsage = { uses: number; byCustomer: number; heldByOrder: boolean };

/** A saved read model and the log position it has applied everything up to. */
export type SavedProjection = { position: LogPosition; state: string };

export type ShopStore = {
  readonly kind: StoreKind;

  /** Claims the chat's lease for `lease.owner` (re-entrant) and reads the chat; `held: false` when another owner holds it. */
  openChat(chatId: ChatId, lease: LeaseRequest): Promise<OpenResult>;
  /**
   * {@link ShopStore.openChat} for a caller that still holds the chat as it stood at revision
   * `knownRev` (the process that wrote it last): when the stored revision is still that one, the
   * record and order are not read again (every commit that writes either moves the revision on).
   */
  openChatSince(chatId: ChatId, lease: LeaseRequest, knownRev: number): Promise<OpenSinceResult>;
  /** Extends the owner's lease; false when the owner no longer holds it. */
  renewLease(chatId: ChatId, lease: LeaseRequest): Promise<boolean>;
  /** Releases the owner's lease unless updates wait in the chat's inbox (then it is kept: `pendingUpdates`). */
  releaseLease(chatId: ChatId, owner: string): Promise<{ pendingUpdates: boolean }>;
  /** Reads the chat without a lease (a look that changes nothing). */
  readChat(chatId: ChatId): Promise<ChatState>;
  /** Writes one step atomically (see {@link CommitStep}). */
  commit(step: CommitStep): Promise<CommitResult>;

  /** Records which chat an order belongs to, before the order's first commit (write-first index). */
  indexOrder(orderId: OrderId, chatId: ChatId): Promise<void>;
  /** One order by id, from any chat; undefined when unknown or unreadable. */
  readOrder(orderId: OrderId): Promise<OrderRecord | undefined>;
  /** Several orders of one chat, in the order asked (unknown ones left out). */
  readOrders(chatId: ChatId, orderIds: readonly OrderId[]): Promise<OrderRecord[]>;
  /** Orders whose deadline is at or before `now`, earliest first: an index, never a scan. */
  dueOrders(now: number, limit: number): Promise<DueOrder[]>;

  /** Records which order a provider's payment belongs to, before the invoice is handed out. */
  indexPayment(key: string, entry: PaymentIndexEntry): Promise<void>;
  findPayment(key: string): Promise<PaymentIndexEntry | undefined>;

  /** The order's goods if issued; otherwise the right to issue them (for `ttlMs`), unless another owner has it. */
  claimGoods(orderId: OrderId, chatId: ChatId, owner: string, ttlMs: number): Promise<GoodsClaim>;
  /** Stores issued goods (replacing earlier ones of the order) and releases the owner's claim. */
  putGoods(entry: GoodsEntry, owner: string): Promise<void>;
  goods(orderId: OrderId, chatId: ChatId): Promise<GoodsEntry | undefined>;
  /** The customer was sent the secret: erase it, keep the reference. Does nothing if already erased. */
  markGoodsSent(orderId: OrderId, chatId: ChatId, at: number): Promise<void>;

  /**
   * Gives `orderId` a use of promo `code` (as compared: trimmed, upper case) in one atomic step, unless
   * `limits` forbid it: the code's uses would pass `maxUses`, or (`oncePerCustomer`) another order of
   * `chatId` holds one. Idempotent per order: an order that holds a use is told `ok` and counted once.
   * However many orders race for the last use, from however many processes, at most `maxUses` hold one.
   */
  usePromo(code: string, orderId: OrderId, chatId: ChatId, limits: PromoLimits): Promise<PromoUseResult>;
  /** Gives back the order's use of `code` (an order that closed unpaid); nothing when it holds none. */
  releasePromo(code: string, orderId: OrderId, chatId: ChatId): Promise<void>;
  /** The code's uses, shop-wide and of `chatId`'s orders, and whether `orderId` holds one (one round trip). */
  promoUses(code: string, chatId: ChatId, orderId?: OrderId): Promise<PromoUsage>;

  /**
   * Keeps a Telegram update in the chat's inbox (before it is acknowledged to Telegram) and tries to
   * take the chat's lease. `accepted` is false for an update already applied or already queued (an
   * older id than one applied is accepted: a chat's updates may reach the shop out of order);
   * `held` true means this owner now holds the lease and must work the inbox off, starting with the
   * update `next` names (the oldest waiting: this one, unless older ones wait); `next` is null when not held.
   */
  acceptUpdate(chatId: ChatId, updateId: number, raw: string, lease: LeaseRequest): Promise<AcceptResult>;
  /** The chat's queued updates not yet applied, oldest first. */
  queuedUpdates(chatId: ChatId, limit: number): Promise<QueuedUpdate[]>;
  /** Chats whose inbox has held an update since `before` or longer (nobody is working it off). */
  waitingInboxes(before: number, limit: number): Promise<ChatId[]>;

  /** Appends audit entries outside a step (something that happened after a commit, e.g. a failed send). */
  appendAudit(chatId: ChatId, entries: readonly AuditEntry[]): Promise<void>;
  /** One order's audit trail, oldest first. */
  auditOf(orderId: OrderId): Promise<AuditEntry[]>;
  /** The audit log after `position` (null: from the start), at most about `limit` entries. */
  readLog(position: LogPosition | null, limit: number): Promise<LogBatch>;

  loadProjection(name: string): Promise<SavedProjection | undefined>;
  saveProjection(name: string, saved: SavedProjection): Promise<void>;

  claims: Claims;
  /** Plain key-value for what needs nothing more (language preferences, sandbox invoices, caches). */
  kv(namespace: string): Keyv;

  /**
   * Data written by versions before store schema 3, if this store holds any: read once by the
   * migration on first start (src/store/migrate.ts), then dropped. Absent on stores that never had any.
   */
  legacy?: LegacyData;

  /**
   * Everything the store holds, as backend-neutral items (src/store/dump.ts), read as one consistent
   * picture: one read transaction on SQLite; on Redis each shard as it stood at one moment (a chat and
   * all it refers to live in one shard). A full read: for tools (backup, moving a shop), never a
   * request's path. Throws `StoreNeedsUpgradeError` while the previous version's layout waits.
   */
  exportAll(): AsyncIterable<StoreItem>;
  /**
   * Writes what {@link ShopStore.exportAll} gave (of any backend) into this store, which must hold no
   * shop data (`StoreNotEmptyError` otherwise). All or nothing on memory and SQLite; on Redis a failed
   * import leaves part of the data, to be removed before trying again. Nothing else may use the store
   * meanwhile.
   */
  importAll(items: AsyncIterable<StoreItem>, options?: ImportOptions): Promise<ImportReport>;

  /** Resolves when the store answers; rejects otherwise (used by /healthz). */
  ping(): Promise<void>;
  close(): Promise<void>;
};

/**
 * Records of the key-value layout used before store schema 3 (keyv's: one collection per name, each
 * value wrapped as `{"value": <record>}`), unwrapped and unvalidated, for the migration to convert.
 */
export type LegacyData = {
  /** The collections that hold records, e.g. "conversations", "orders", "ledger". */
  collections(): Promise<string[]>;
  /** Every record of a collection, keyed as it was stored (without the collection prefix). */
  entries(collection: string): AsyncIterable<[key: string, value: unknown]>;
  /** Removes the old layout once everything was converted and committed. */
  drop(): Promise<void>;
};

/** The store could not be reached or did not answer in time: the step failed and nothing was written. */
export class StoreUnavailableError extends Error {
  constructor(detail: string, options?: { cause?: unknown }) {
    super(`the store is unavailable: ${detail}`, options);
    this.name = "StoreUnavailableError";
  }
}
