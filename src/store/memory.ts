/**
 * The memory store (`memory://`): one process, nothing kept across restarts (tests, benchmarks). It is
 * also the reference for what every backend does: each method works on plain maps synchronously, so
 * each is trivially atomic. Records are validated on read like every other backend's.
 */
import Keyv from "keyv";
import type { ChatId, OrderId } from "../domain/ids.ts";
import { AuditEntry, ChatRecord, type GoodsEntry, OrderRecord, type PaymentIndexEntry } from "../domain/records.ts";
import {
  type ChatState,
  type GoodsClaim,
  type LeaseRequest,
  type PromoUseResult,
  type QueuedUpdate,
  type SavedProjection,
  type ShopStore,
  expectedRevOf,
} from "./shop-store.ts";
import { type StoredChat, type StoredOrder, memoryDump } from "./memory-dump.ts";
import { NONE_APPLIED, wasApplied, withApplied } from "./applied-updates.ts";
import { parseLoosely } from "./dump.ts";
import { parseLogPosition } from "./log-position.ts";

type Held = { owner: string; until: number | null };

export type MemoryStoreOptions = { clock?: () => number };

export function memoryStore(options: MemoryStoreOptions = {}): ShopStore {
  const clock = options.clock ?? Date.now;
  const chats = new Map<string, StoredChat>();
  const orders = new Map<string, StoredOrder>();
  const orderChats = new Map<string, string>();
  const due = new Map<string, { chatId: ChatId; orderId: OrderId; dueAt: number }>();
  const leases = new Map<string, Held>();
  const inboxes = new Map<string, Map<number, { raw: string; at: number }>>();
  const payments = new Map<string, PaymentIndexEntry>();
  const goods = new Map<string, GoodsEntry>();
  const goodsClaims = new Map<string, Held>();
  const log: string[] = [];
  const trails = new Map<string, string[]>();
  const projections = new Map<string, SavedProjection>();
  const claims = new Map<string, Held>();
  const keyvs = new Map<string, Keyv>();
  // Each namespace's map under its Keyv (keys `<namespace>:<key>`, values keyv's JSON), read by exportAll.
  const kvMaps = new Map<string, Map<string, unknown>>();
  /** Per promo code: the orders holding a use, and whose (chat) each is. */
  const promos = new Map<string, Map<string, string>>();

  const live = (table: Map<string, Held>, key: string): Held | undefined => {
    const held = table.get(key);
    if (held && held.until !== null && held.until <= clock()) {
      table.delete(key);
      return undefined;
    }
    return held;
  };
  const take = (table: Map<string, Held>, key: string, owner: string, ttlMs: number | null): boolean => {
    const held = live(table, key);
    if (held && held.owner !== owner) return false;
    table.set(key, { owner, until: ttlMs === null ? null : clock() + ttlMs });
    return true;
  };
  const readRecord = <T>(
    schema: { safeParse(raw: unknown): { success: true; data: T } | { success: false } },
    raw: unknown,
  ): T | "invalid" => {
    const parsed = schema.safeParse(raw);
    return parsed.success ? parsed.data : "invalid";
  };
  /**
   * The oldest update waiting in the chat's inbox, or null. The inbox holds no applied update (the
   * commit that applies one deletes it; acceptUpdate refuses applied ones): whatever it holds waits.
   */
  const oldestPending = (chatId: string): number | null => {
    let oldest: number | null = null;
    for (const id of inboxes.get(chatId)?.keys() ?? []) if (oldest === null || id < oldest) oldest = id;
    return oldest;
  };
  const pendingIn = (chatId: string) => oldestPending(chatId) !== null;
  const stateOf = (chatId: string): ChatState => {
    const stored = chats.get(chatId);
    if (!stored) return { chat: undefined, rev: 0, order: undefined, applied: NONE_APPLIED };
    if (stored.json === undefined) return { chat: undefined, rev: stored.rev, order: undefined, applied: stored.applied };
    const chat = readRecord(ChatRecord, parseLoosely(stored.json));
    const orderId = chat === "invalid" ? null : chat.currentOrderId;
    const json = orderId ? orders.get(orderId)?.json : undefined;
    return {
      chat,
      rev: stored.rev,
      order: json === undefined ? undefined : readRecord(OrderRecord, parseLoosely(json)),
      applied: stored.applied,
    };
  };
  // Records are kept as JSON (or copies): a caller changing its object later must not change the store.
  const copy = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
  /** Entries as read back: those that parse and pass their schema (as on SQLite and Redis). */
  const validEntries = (texts: readonly string[]): AuditEntry[] =>
    texts.flatMap((json) => {
      const entry = readRecord(AuditEntry, parseLoosely(json));
      return entry === "invalid" ? [] : [entry];
    });
  /** Appends entries to the log and their orders' trails, as JSON written once. */
  const append = (entries: readonly AuditEntry[]) => {
    for (const entry of entries) {
      const json = JSON.stringify(entry);
      log.push(json);
      if (entry.orderId) trailOf(entry.orderId).push(json);
    }
  };
  // Appended in place: copying a long trail for every entry made each commit cost the trail's length.
  const trailOf = (orderId: string): string[] => {
    let trail = trails.get(orderId);
    if (!trail) trails.set(orderId, (trail = []));
    return trail;
  };
  const release = (chatId: string, owner: string) => {
    if (pendingIn(chatId)) return { pendingUpdates: true };
    if (live(leases, chatId)?.owner === owner) leases.delete(chatId);
    return { pendingUpdates: false };
  };

  const dump = memoryDump(
    { chats, orders, orderChats, due, inboxes, payments, goods, log, trails, projections, kvMaps, promos },
    (namespace) => store.kv(namespace),
    clock,
  );

  const store: ShopStore = {
    kind: "memory",
    async openChat(chatId, lease: LeaseRequest) {
      if (!take(leases, chatId, lease.owner, lease.ttlMs)) return { held: false, holder: live(leases, chatId)?.owner ?? null };
      return { held: true, state: stateOf(chatId) };
    },
    async openChatSince(chatId, lease, knownRev) {
      if (!take(leases, chatId, lease.owner, lease.ttlMs)) return { held: false, holder: live(leases, chatId)?.owner ?? null };
      const stored = chats.get(chatId);
      if (stored && knownRev > 0 && stored.rev === knownRev) return { held: true, unchanged: true, applied: stored.applied };
      return { held: true, state: stateOf(chatId) };
    },
    async renewLease(chatId, lease) {
      if (live(leases, chatId)?.owner !== lease.owner) return false;
      return take(leases, chatId, lease.owner, lease.ttlMs);
    },
    async releaseLease(chatId, owner) {
      return release(chatId, owner);
    },
    async readChat(chatId) {
      return stateOf(chatId);
    },
    async commit(step) {
      if (live(leases, step.chatId)?.owner !== step.owner) return { ok: false, reason: "lease_lost" };
      const stored = chats.get(step.chatId) ?? { rev: 0, json: undefined, applied: NONE_APPLIED };
      const expectedRev = expectedRevOf(step);
      if (expectedRev !== undefined && stored.rev !== expectedRev) return { ok: false, reason: "moved" };
      const next: StoredChat = { ...stored };
      if (step.chat) Object.assign(next, { rev: stored.rev + 1, json: JSON.stringify(step.chat.record) });
      else if (step.orders?.length && stored.rev > 0) next.rev = stored.rev + 1;
      if (step.appliedUpdateId !== undefined) {
        // The update leaves the inbox first: the floor of applied updates stays below the ones still waiting.
        inboxes.get(step.chatId)?.delete(step.appliedUpdateId);
        next.applied = withApplied(stored.applied, step.appliedUpdateId, clock(), oldestPending(step.chatId));
      }
      if (step.chat || step.appliedUpdateId !== undefined || next.rev !== stored.rev) chats.set(step.chatId, next);
      for (const order of step.orders ?? []) {
        // Kept as its JSON, as the other backends keep it: writing it costs one stringify, not a copy.
        orders.set(order.orderId, {
          chatId: step.chatId,
          json: JSON.stringify(order),
          createdAt: order.createdAt,
          updatedAt: order.updatedAt,
        });
        if (order.summary.dueAt === null) due.delete(order.orderId);
        else due.set(order.orderId, { chatId: step.chatId, orderId: order.orderId, dueAt: order.summary.dueAt });
      }
      append(step.audit ?? []);
      const inbox = inboxes.get(step.chatId);
      if (inbox?.size === 0) inboxes.delete(step.chatId);
      const pendingUpdates = step.release ? release(step.chatId, step.owner).pendingUpdates : pendingIn(step.chatId);
      return { ok: true, rev: next.rev, pendingUpdates };
    },

    async indexOrder(orderId, chatId) {
      orderChats.set(orderId, chatId);
    },
    async readOrder(orderId) {
      const json = orders.get(orderId)?.json;
      const record = json === undefined ? undefined : readRecord(OrderRecord, parseLoosely(json));
      return record === "invalid" ? undefined : record;
    },
    async readOrders(chatId, orderIds) {
      return orderIds.flatMap((orderId) => {
        const stored = orders.get(orderId);
        if (!stored || stored.chatId !== chatId) return [];
        const record = readRecord(OrderRecord, parseLoosely(stored.json));
        return record === "invalid" ? [] : [record];
      });
    },
    async dueOrders(now, limit) {
      return [...due.values()]
        .filter((entry) => entry.dueAt <= now)
        .sort((a, b) => a.dueAt - b.dueAt)
        .slice(0, limit);
    },

    async indexPayment(key, entry) {
      payments.set(key, copy(entry));
    },
    async findPayment(key) {
      return payments.get(key);
    },

    async claimGoods(orderId, _chatId, owner, ttlMs): Promise<GoodsClaim> {
      const entry = goods.get(orderId);
      if (entry) return { kind: "exists", entry: copy(entry) };
      return take(goodsClaims, orderId, owner, ttlMs) ? { kind: "claimed" } : { kind: "busy" };
    },
    async putGoods(entry, owner) {
      goods.set(entry.orderId, copy(entry));
      if (live(goodsClaims, entry.orderId)?.owner === owner) goodsClaims.delete(entry.orderId);
    },
    async goods(orderId) {
      const entry = goods.get(orderId);
      return entry ? copy(entry) : undefined;
    },
    async markGoodsSent(orderId, _chatId, at) {
      const entry = goods.get(orderId);
      if (entry && entry.sentAt === null) goods.set(orderId, { ...entry, secret: null, sentAt: at });
    },

    async usePromo(code, orderId, chatId, limits): Promise<PromoUseResult> {
      let holders = promos.get(code);
      if (holders?.has(orderId)) return "ok";
      const held = holders ? [...holders.values()] : [];
      if (limits.maxUses !== null && held.length >= limits.maxUses) return "used_up";
      if (limits.oncePerCustomer && held.includes(chatId)) return "already_used_by_you";
      if (!holders) promos.set(code, (holders = new Map()));
      holders.set(orderId, chatId);
      return "ok";
    },
    async releasePromo(code, orderId) {
      promos.get(code)?.delete(orderId);
    },
    async promoUses(code, chatId, orderId) {
      const holders = promos.get(code) ?? new Map<string, string>();
      return {
        uses: holders.size,
        byCustomer: [...holders.values()].filter((chat) => chat === chatId).length,
        heldByOrder: orderId !== undefined && holders.has(orderId),
      };
    },

    async acceptUpdate(chatId, updateId, raw, lease) {
      let inbox = inboxes.get(chatId);
      const accepted = !wasApplied(chats.get(chatId)?.applied ?? NONE_APPLIED, updateId, clock()) && !inbox?.has(updateId);
      if (accepted) {
        if (!inbox) inboxes.set(chatId, (inbox = new Map()));
        inbox.set(updateId, { raw, at: clock() });
      }
      const oldest = oldestPending(chatId);
      const held = oldest !== null && take(leases, chatId, lease.owner, lease.ttlMs);
      return { accepted, held, next: held ? oldest : null, rev: held ? (chats.get(chatId)?.rev ?? 0) : null };
    },
    async queuedUpdates(chatId, limit): Promise<QueuedUpdate[]> {
      const inbox = inboxes.get(chatId);
      if (!inbox) return [];
      return [...inbox]
        .sort(([a], [b]) => a - b)
        .slice(0, limit)
        .map(([updateId, { raw }]) => ({ updateId, raw }));
    },
    async waitingInboxes(before, limit) {
      const waiting: ChatId[] = [];
      for (const [chatId, inbox] of inboxes) {
        if (waiting.length >= limit) break;
        if (pendingIn(chatId) && [...inbox.values()].some((queued) => queued.at <= before)) waiting.push(chatId as ChatId);
      }
      return waiting;
    },

    async appendAudit(_chatId, entries) {
      append(entries);
    },
    async auditOf(orderId) {
      return validEntries(trails.get(orderId) ?? []);
    },
    async readLog(position, limit) {
      const from = position === null ? 0 : parseLogPosition(position, "memory");
      const entries = log.slice(from, from + limit);
      // The position counts entries read, also one that failed its schema (so it is not re-read forever).
      return { entries: validEntries(entries), position: String(from + entries.length) };
    },

    async loadProjection(name) {
      return projections.get(name);
    },
    async saveProjection(name, saved) {
      projections.set(name, { ...saved });
    },

    claims: {
      async tryClaim(key, owner, ttlMs) {
        return take(claims, key, owner, ttlMs);
      },
      async release(key, owner) {
        if (live(claims, key)?.owner === owner) claims.delete(key);
      },
    },
    kv(namespace) {
      let keyv = keyvs.get(namespace);
      if (!keyv) {
        const map = new Map<string, unknown>();
        kvMaps.set(namespace, map);
        keyvs.set(namespace, (keyv = new Keyv({ store: map, namespace })));
      }
      return keyv;
    },

    exportAll: dump.exportAll,
    importAll: dump.importAll,
    async ping() {},
    async close() {},
  };
  return store;
}
