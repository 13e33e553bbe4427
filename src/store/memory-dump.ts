/**
 * The memory store's tables as a stream of items and back (see dump.ts). An export is taken at once,
 * so it is one moment even while the process goes on writing; an import is checked whole before
 * anything is written, so a failed one leaves the store as it was.
 */
import type Keyv from "keyv";
import type { ChatId, OrderId } from "../domain/ids.ts";
import { GoodsEntry, PaymentIndexEntry } from "../domain/records.ts";
import {
  type ImportOptions,
  type ImportReport,
  type StoreItem,
  StoreNotEmptyError,
  appliedOfItem,
  emptyCounts,
  fieldOf,
  formatCounts,
  parseLoosely,
  progressCounter,
} from "./dump.ts";
import type { AppliedUpdates } from "./applied-updates.ts";
import type { SavedProjection } from "./shop-store.ts";

/** A chat as the memory store keeps it: the record's JSON as written (unvalidated), its revision, its applied updates. */
export type StoredChat = { rev: number; json: string | undefined; applied: AppliedUpdates };

/** An order as the memory store keeps it: its record's JSON as written (unvalidated), and when it was written. */
export type StoredOrder = { chatId: string; json: string; createdAt: number; updatedAt: number };

/** The memory store's maps (owned by memory.ts, read and filled here). */
export type MemoryTables = {
  chats: Map<string, StoredChat>;
  orders: Map<string, StoredOrder>;
  orderChats: Map<string, string>;
  due: Map<string, { chatId: ChatId; orderId: OrderId; dueAt: number }>;
  inboxes: Map<string, Map<number, { raw: string; at: number }>>;
  payments: Map<string, PaymentIndexEntry>;
  goods: Map<string, GoodsEntry>;
  /** The audit log, each entry as its JSON (written once, parsed when read). */
  log: string[];
  /** Per order, its entries of the log (the same strings). */
  trails: Map<string, string[]>;
  projections: Map<string, SavedProjection>;
  /** Each key-value namespace's map under its Keyv: keys `<namespace>:<key>`, values keyv's JSON. */
  kvMaps: Map<string, Map<string, unknown>>;
  /** Per promo code: the orders holding a use, and whose (chat) each is. */
  promos: Map<string, Map<string, string>>;
};

/** exportAll and importAll over `tables`; `kv` gives the store's key-value namespaces. */
export function memoryDump(tables: MemoryTables, kv: (namespace: string) => Keyv, clock: () => number) {
  const { chats, orders, orderChats, due, inboxes, payments, goods, log, trails, projections, kvMaps, promos } = tables;
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
    counts.promo_use = [...promos.values()].reduce((sum, holders) => sum + holders.size, 0);
    counts.kv = [...kvMaps.values()].reduce((sum, map) => sum + map.size, 0);
    const words = formatCounts(counts);
    return words === "nothing" ? null : words;
  };
  const text = (value: unknown) => JSON.stringify(value);
  const snapshotItems = (): StoreItem[] => {
    const items: StoreItem[] = [];
    for (const [chatId, stored] of chats) {
      const currentOrderId = stored.json === undefined ? null : fieldOf(stored.json, "currentOrderId");
      items.push({
        kind: "chat",
        chatId,
        rev: stored.rev,
        record: stored.json ?? null,
        currentOrderId: typeof currentOrderId === "string" ? currentOrderId : null,
        lastUpdateId: stored.applied.upTo,
        recentUpdateIds: [...stored.applied.recent],
        updatesAppliedAt: stored.applied.at,
      });
    }
    for (const [orderId, stored] of orders) {
      items.push({
        kind: "order",
        orderId,
        chatId: stored.chatId,
        record: stored.json,
        dueAt: due.get(orderId)?.dueAt ?? null,
        createdAt: stored.createdAt,
        updatedAt: stored.updatedAt,
      });
    }
    for (const [orderId, chatId] of orderChats) items.push({ kind: "order_chat", orderId, chatId });
    for (const entry of goods.values()) items.push({ kind: "goods", orderId: entry.orderId, chatId: entry.chatId, entry: text(entry) });
    for (const [key, entry] of payments) items.push({ kind: "payment", key, orderId: entry.orderId, chatId: entry.chatId });
    for (const [chatId, inbox] of inboxes) {
      for (const [updateId, queued] of inbox) items.push({ kind: "update", chatId, updateId, raw: queued.raw, receivedAt: queued.at });
    }
    for (const [code, holders] of promos) for (const [orderId, chatId] of holders) items.push({ kind: "promo_use", code, orderId, chatId });
    const now = Date.now();
    for (const [namespace, map] of kvMaps) {
      for (const [stored, serialized] of map) {
        const envelope = parseLoosely(String(serialized)) as { value?: unknown; expires?: unknown } | undefined;
        const expiresAt = typeof envelope?.expires === "number" ? envelope.expires : null;
        if (expiresAt !== null && expiresAt <= now) continue;
        items.push({ kind: "kv", namespace, key: stored.slice(namespace.length + 1), value: envelope?.value ?? null, expiresAt });
      }
    }
    for (const entry of log) items.push({ kind: "audit", chatId: fieldOf(entry, "chatId") ?? "", entry });
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
    for (const item of staged) {
      switch (item.kind) {
        case "chat":
          chats.set(item.chatId, {
            rev: item.rev,
            json: item.record ?? undefined,
            applied: appliedOfItem(item, clock()),
          });
          break;
        case "order":
          orders.set(item.orderId, { chatId: item.chatId, json: item.record, createdAt: item.createdAt, updatedAt: item.updatedAt });
          if (item.dueAt !== null)
            due.set(item.orderId, { chatId: item.chatId as ChatId, orderId: item.orderId as OrderId, dueAt: item.dueAt });
          break;
        case "order_chat":
          orderChats.set(item.orderId, item.chatId);
          break;
        case "audit": {
          // Unreadable JSON is kept as its text: it then reads as "invalid", as it did where it came from.
          log.push(item.entry);
          const orderId = fieldOf(item.entry, "orderId");
          if (orderId) trails.set(orderId, [...(trails.get(orderId) ?? []), item.entry]);
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
        case "promo_use": {
          let holders = promos.get(item.code);
          if (!holders) promos.set(item.code, (holders = new Map()));
          holders.set(item.orderId, item.chatId);
          break;
        }
        case "kv": {
          const ttl = item.expiresAt === null ? undefined : item.expiresAt - Date.now();
          if (ttl !== undefined && ttl <= 0) continue;
          // Keyv's Map store writes synchronously inside set(), so the import stays one step.
          void kv(item.namespace).set(item.key, item.value, ttl);
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

  return {
    async *exportAll(): AsyncGenerator<StoreItem> {
      yield* snapshotItems();
    },
    async importAll(items: AsyncIterable<StoreItem>, options: ImportOptions = {}): Promise<ImportReport> {
      const found = holdings();
      if (found) throw new StoreNotEmptyError("the memory store", found);
      const staged: StoreItem[] = [];
      for await (const item of items) staged.push(item);
      for (const item of staged) if (item.kind === "goods" || item.kind === "payment") checkedRecord(item);
      return load(staged, progressCounter(options));
    },
  };
}
