/**
 * The memory store (`memory://`): one process, nothing kept across restarts (tests, benchmarks). It is
 * also the reference for what every backend does: each method works on plain maps synchronously, so
 * each is trivially atomic. Records are validated on read like every other backend's.
 */
import Keyv from "keyv";
import type { ChatId, OrderId } from "../domain/ids.ts";
import { AuditEntry, ChatRecord, GoodsEntry, OrderRecord, PaymentIndexEntry } from "../domain/records.ts";
import type { ChatState, GoodsClaim, LeaseRequest, QueuedUpdate, SavedProjection, ShopStore } from "./shop-store.ts";
import { type ImportReport, type StoreItem, StoreNotEmptyError, fieldOf, formatCounts, emptyCounts, parseLoosely, progressCounter } from "./dump.ts";
import { parseLogPosition } from "./log-position.ts";

type StoredChat = { rev: number; record: unknown; lastUpdateId: number };
type Held = { owner: string; until: number | null };

export type MemoryStoreOptions = { clock?: () => number };

export function memoryStore(options: MemoryStoreOptions = {}): ShopStore {
  const clock = options.clock ?? Date.now;
  const chats = new Map<string, StoredChat>();
  const orders = new Map<string, { chatId: string; record: unknown }>();
  const orderChats = new Map<string, string>();
  const due = new Map<string, { chatId: ChatId; orderId: OrderId; dueAt: number }>();
  const leases = new Map<string, Held>();
  const inboxes = new Map<string, Map<number, { raw: string; at: number }>>();
  const payments = new Map<string, PaymentIndexEntry>();
  const goods = new Map<string, GoodsEntry>();
  const goodsClaims = new Map<string, Held>();
  const log: AuditEntry[] = [];
  const trails = new Map<string, AuditEntry[]>();
  const projections = new Map<string, SavedProjection>();
  const claims = new Map<string, Held>();
  const keyvs = new Map<string, Keyv>();
  // Each namespace's map under its Keyv (keys `<namespace>:<key>`, values keyv's JSON), read by exportAll.
  const kvMaps = new Map<string, Map<string, unknown>>();

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
  const readRecord = <T>(schema: { safeParse(raw: unknown): { success: true; data: T } | { success: false } }, raw: unknown): T | "invalid" => {
    const parsed = schema.safeParse(raw);
    return parsed.success ? parsed.data : "invalid";
  };
  const pendingIn = (chatId: string) => {
    const inbox = inboxes.get(chatId);
    const last = chats.get(chatId)?.lastUpdateId ?? 0;
    return inbox ? [...inbox.keys()].some((id) => id > last) : false;
  };
  const stateOf = (chatId: string): ChatState => {
    const stored = chats.get(chatId);
    if (!stored) return { chat: undefined, rev: 0, order: undefined, lastUpdateId: 0 };
    const chat = readRecord(ChatRecord, stored.record);
    const orderId = chat === "invalid" ? null : chat.currentOrderId;
    const raw = orderId ? orders.get(orderId)?.record : undefined;
    return { chat, rev: stored.rev, order: raw === undefined ? undefined : readRecord(OrderRecord, raw), lastUpdateId: stored.lastUpdateId };
  };
  // Records are stored as JSON round-trips: a caller changing its object later must not change the store.
  const copy = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
  const release = (chatId: string, owner: string) => {
    if (pendingIn(chatId)) return { pendingUpdates: true };
    if (live(leases, chatId)?.owner === owner) leases.delete(chatId);
    return { pendingUpdates: false };
  };

  /** What the store holds, in words ("2 chats, 3 orders"), or null when it holds nothing of a shop's. */
  const holdings = (): string | null => {
    const counts = emptyCounts();
    counts.chat = chats.size;
    counts.order = orders.size;
    counts.order_chat = orderChats.size;
    counts.audit = log.length;
    counts.payment = payments.size;
    counts.goods = goods.size;
    counts.update = inboxes.size;
    counts.projection = projections.size;
    counts.kv = [...kvMaps.values()].reduce((sum, map) => sum + map.size, 0);
    const words = formatCounts(counts);
    return words === "nothing" ? null : words;
  };
  const text = (value: unknown) => JSON.stringify(value);
  const snapshotItems = (): StoreItem[] => {
    const items: StoreItem[] = [];
    for (const [chatId, stored] of chats) {
      const currentOrderId = typeof stored.record === "object" && stored.record !== null ? (stored.record as { currentOrderId?: unknown }).currentOrderId : null;
      items.push({
        kind: "chat",
        chatId,
        rev: stored.rev,
        record: stored.record === undefined ? null : text(stored.record),
        currentOrderId: typeof currentOrderId === "string" ? currentOrderId : null,
        lastUpdateId: stored.lastUpdateId,
      });
    }
    for (const [orderId, stored] of orders) {
      const record = text(stored.record);
      const times = stored.record as { createdAt?: unknown; updatedAt?: unknown };
      const at = (value: unknown) => (typeof value === "number" ? value : 0);
      items.push({ kind: "order", orderId, chatId: stored.chatId, record, dueAt: due.get(orderId)?.dueAt ?? null, createdAt: at(times.createdAt), updatedAt: at(times.updatedAt) });
    }
    for (const [orderId, chatId] of orderChats) items.push({ kind: "order_chat", orderId, chatId });
    for (const entry of goods.values()) items.push({ kind: "goods", orderId: entry.orderId, chatId: entry.chatId, entry: text(entry) });
    for (const [key, entry] of payments) items.push({ kind: "payment", key, orderId: entry.orderId, chatId: entry.chatId });
    for (const [chatId, inbox] of inboxes) {
      for (const [updateId, queued] of inbox) items.push({ kind: "update", chatId, updateId, raw: queued.raw, receivedAt: queued.at });
    }
    const now = Date.now();
    for (const [namespace, map] of kvMaps) {
      for (const [stored, serialized] of map) {
        const envelope = parseLoosely(String(serialized)) as { value?: unknown; expires?: unknown } | undefined;
        const expiresAt = typeof envelope?.expires === "number" ? envelope.expires : null;
        if (expiresAt !== null && expiresAt <= now) continue;
        items.push({ kind: "kv", namespace, key: stored.slice(namespace.length + 1), value: envelope?.value ?? null, expiresAt });
      }
    }
    for (const entry of log) items.push({ kind: "audit", chatId: entry.chatId, entry: text(entry) });
    for (const [name, saved] of projections) {
      // A memory position counts entries: the first ones of the log, exactly.
      const applied = /^\d+$/.test(saved.position) ? Math.min(Number(saved.position), log.length) : null;
      items.push({ kind: "projection", name, state: saved.state, logEntries: applied });
    }
    return items;
  };
  /** Goods and payment index entries are typed records here: one that fails its schema cannot be loaded. */
  const checkedRecord = (item: Extract<StoreItem, { kind: "goods" | "payment" }>) => {
    if (item.kind === "payment") {
      const entry = PaymentIndexEntry.safeParse({ orderId: item.orderId, chatId: item.chatId });
      if (!entry.success) throw new Error(`payment index entry ${item.key} is unreadable; repair it in the source first`);
      return entry.data;
    }
    const entry = GoodsEntry.safeParse(parseLoosely(item.entry));
    if (!entry.success) throw new Error(`the goods of order ${item.orderId} are unreadable; repair them in the source first`);
    return entry.data;
  };
  const load = (staged: StoreItem[], counter: ReturnType<typeof progressCounter>): ImportReport => {
    let leftToRebuild = 0;
    // Unreadable JSON is kept as its text: it then reads as "invalid", as it did where it came from.
    const record = (json: string) => parseLoosely(json) ?? json;
    for (const item of staged) {
      switch (item.kind) {
        case "chat":
          chats.set(item.chatId, { rev: item.rev, record: item.record === null ? undefined : record(item.record), lastUpdateId: item.lastUpdateId });
          break;
        case "order":
          orders.set(item.orderId, { chatId: item.chatId, record: record(item.record) });
          if (item.dueAt !== null) due.set(item.orderId, { chatId: item.chatId as ChatId, orderId: item.orderId as OrderId, dueAt: item.dueAt });
          break;
        case "order_chat":
          orderChats.set(item.orderId, item.chatId);
          break;
        case "audit": {
          const entry = record(item.entry) as AuditEntry;
          log.push(entry);
          const orderId = fieldOf(item.entry, "orderId");
          if (orderId) trails.set(orderId, [...(trails.get(orderId) ?? []), entry]);
          break;
        }
        case "payment":
          payments.set(item.key, checkedRecord(item) as PaymentIndexEntry);
          break;
        case "goods":
          goods.set(item.orderId, checkedRecord(item) as GoodsEntry);
          break;
        case "update": {
          let inbox = inboxes.get(item.chatId);
          if (!inbox) inboxes.set(item.chatId, (inbox = new Map()));
          inbox.set(item.updateId, { raw: item.raw, at: item.receivedAt });
          break;
        }
        case "projection":
          if (item.logEntries === null || item.logEntries > log.length) {
            leftToRebuild++;
            continue;
          }
          projections.set(item.name, { position: String(item.logEntries), state: item.state });
          break;
        case "kv": {
          const ttl = item.expiresAt === null ? undefined : item.expiresAt - Date.now();
          if (ttl !== undefined && ttl <= 0) continue;
          // Keyv's Map store writes synchronously inside set(), so the import stays one step.
          void store.kv(item.namespace).set(item.key, item.value, ttl);
          break;
        }
        default: {
          const unhandled: never = item;
          throw new Error(`unknown store item ${JSON.stringify(unhandled)}`);
        }
      }
      counter.add(item.kind);
    }
    return { counts: counter.counts, projectionsLeftToRebuild: leftToRebuild };
  };

  const store: ShopStore = {
    kind: "memory",
    async openChat(chatId, lease: LeaseRequest) {
      if (!take(leases, chatId, lease.owner, lease.ttlMs)) return { held: false, holder: live(leases, chatId)?.owner ?? null };
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
      const stored = chats.get(step.chatId) ?? { rev: 0, record: undefined, lastUpdateId: 0 };
      if (step.chat && stored.rev !== step.chat.expectedRev) return { ok: false, reason: "moved" };
      const next: StoredChat = { ...stored };
      if (step.chat) Object.assign(next, { rev: stored.rev + 1, record: copy(step.chat.record) });
      if (step.appliedUpdateId !== undefined && step.appliedUpdateId > next.lastUpdateId) next.lastUpdateId = step.appliedUpdateId;
      if (step.chat || step.appliedUpdateId !== undefined) chats.set(step.chatId, next);
      for (const order of step.orders ?? []) {
        orders.set(order.orderId, { chatId: step.chatId, record: copy(order) });
        if (order.summary.dueAt === null) due.delete(order.orderId);
        else due.set(order.orderId, { chatId: step.chatId, orderId: order.orderId, dueAt: order.summary.dueAt });
      }
      for (const entry of step.audit ?? []) {
        log.push(copy(entry));
        if (entry.orderId) trails.set(entry.orderId, [...(trails.get(entry.orderId) ?? []), copy(entry)]);
      }
      const inbox = inboxes.get(step.chatId);
      if (inbox) for (const id of [...inbox.keys()]) if (id <= next.lastUpdateId) inbox.delete(id);
      if (inbox?.size === 0) inboxes.delete(step.chatId);
      const pendingUpdates = step.release ? release(step.chatId, step.owner).pendingUpdates : pendingIn(step.chatId);
      return { ok: true, rev: next.rev, pendingUpdates };
    },

    async indexOrder(orderId, chatId) {
      orderChats.set(orderId, chatId);
    },
    async readOrder(orderId) {
      const raw = orders.get(orderId)?.record;
      const record = raw === undefined ? undefined : readRecord(OrderRecord, raw);
      return record === "invalid" ? undefined : record;
    },
    async readOrders(chatId, orderIds) {
      return orderIds.flatMap((orderId) => {
        const stored = orders.get(orderId);
        if (!stored || stored.chatId !== chatId) return [];
        const record = readRecord(OrderRecord, stored.record);
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

    async acceptUpdate(chatId, updateId, raw, lease) {
      const last = chats.get(chatId)?.lastUpdateId ?? 0;
      let inbox = inboxes.get(chatId);
      const accepted = updateId > last && !inbox?.has(updateId);
      if (accepted) {
        if (!inbox) inboxes.set(chatId, (inbox = new Map()));
        inbox.set(updateId, { raw, at: clock() });
      }
      const held = pendingIn(chatId) && take(leases, chatId, lease.owner, lease.ttlMs);
      return { accepted, held };
    },
    async queuedUpdates(chatId, limit): Promise<QueuedUpdate[]> {
      const last = chats.get(chatId)?.lastUpdateId ?? 0;
      const inbox = inboxes.get(chatId);
      if (!inbox) return [];
      return [...inbox]
        .filter(([id]) => id > last)
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
      for (const entry of entries) {
        log.push(copy(entry));
        if (entry.orderId) trails.set(entry.orderId, [...(trails.get(entry.orderId) ?? []), copy(entry)]);
      }
    },
    async auditOf(orderId) {
      return (trails.get(orderId) ?? []).map((entry) => {
        const parsed = AuditEntry.safeParse(entry);
        return parsed.success ? parsed.data : entry;
      });
    },
    async readLog(position, limit) {
      const from = position === null ? 0 : parseLogPosition(position, "memory");
      const entries = log.slice(from, from + limit);
      return { entries: copy(entries), position: String(from + entries.length) };
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

    async *exportAll() {
      // Taken at once, so the copy is one moment even if the process goes on writing.
      yield* snapshotItems();
    },
    async importAll(items, options = {}) {
      const found = holdings();
      if (found) throw new StoreNotEmptyError("the memory store", found);
      const staged: StoreItem[] = [];
      for await (const item of items) staged.push(item);
      // Checked before anything is written, so a failed import leaves the store as it was.
      for (const item of staged) if (item.kind === "goods" || item.kind === "payment") checkedRecord(item);
      return load(staged, progressCounter(options));
    },
    async ping() {},
    async close() {},
  };
  return store;
}
