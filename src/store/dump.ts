/**
 * A whole store as a stream of backend-neutral items: what {@link ShopStore.exportAll} yields and
 * {@link ShopStore.importAll} takes, so a shop can be backed up, restored and moved between memory,
 * SQLite, Redis and Redis Cluster (`npm run backup`, `npm run restore`, `npm run migrate-store`).
 *
 * Records travel as the JSON text the store holds, never re-validated on the way: a record this
 * version cannot read is copied as it is (and still reads as "invalid" at the other end), so moving a
 * shop never loses or "repairs" anything. What only means something to a running process is left
 * out: chat leases, goods claims and other claims (a moved shop starts with none held).
 *
 * Order of the stream: chats, orders, goods, inbox updates and the indexes in any order; the audit
 * log's entries in log order; each saved read model (projection) after the last audit entry, with
 * the number of log entries it had applied, so the target can give it its own log position.
 */
import { z } from "zod";
import { type AppliedUpdates, appliedAtOrNow } from "./applied-updates.ts";

const Id = z.string().min(1);
const Count = z.number().int().nonnegative();

/** One thing a store holds. */
export const StoreItem = z.discriminatedUnion("kind", [
  /**
   * A chat: its record (JSON, null when only its Telegram bookkeeping exists), revision and applied
   * updates (src/store/applied-updates.ts): every id up to `lastUpdateId`, and `recentUpdateIds`
   * above it, as of `updatesAppliedAt` (both absent in backups of versions that kept only the newest
   * applied id, which then is the floor, as of the restore).
   */
  z.object({
    kind: z.literal("chat"),
    chatId: Id,
    rev: Count,
    record: z.string().nullable(),
    currentOrderId: z.string().nullable(),
    lastUpdateId: Count,
    recentUpdateIds: z.array(z.number().int().positive()).optional(),
    updatesAppliedAt: Count.optional(),
  }),
  /** An order (snapshot and summary, as JSON) with its deadline index entry. */
  z.object({
    kind: z.literal("order"),
    orderId: Id,
    chatId: Id,
    record: z.string(),
    dueAt: z.number().int().nullable(),
    createdAt: z.number().int(),
    updatedAt: z.number().int(),
  }),
  /** Which chat an order belongs to (the write-first index). */
  z.object({ kind: z.literal("order_chat"), orderId: Id, chatId: Id }),
  /** One audit log entry (JSON), in log order, with the chat it was appended for. */
  z.object({ kind: z.literal("audit"), chatId: z.string(), entry: z.string() }),
  /** A provider's payment id → its order. */
  z.object({ kind: z.literal("payment"), key: Id, orderId: Id, chatId: Id }),
  /** Issued goods (JSON of the entry, the secret included while it was not yet shown). */
  z.object({ kind: z.literal("goods"), orderId: Id, chatId: Id, entry: z.string() }),
  /** A Telegram update kept in a chat's inbox, not yet applied. */
  z.object({ kind: z.literal("update"), chatId: Id, updateId: z.number().int().positive(), raw: z.string(), receivedAt: z.number().int() }),
  /**
   * A saved read model. `logEntries`: how many of the exported audit entries (the first ones) it had
   * applied; null when that cannot be said exactly (it is then rebuilt from the log on first use).
   */
  z.object({ kind: z.literal("projection"), name: Id, state: z.string(), logEntries: Count.nullable() }),
  /** An order holding a use of a promo code (reserved at Confirm, kept when paid), with its customer. */
  z.object({ kind: z.literal("promo_use"), code: Id, orderId: Id, chatId: Id }),
  /** One key of a plain key-value namespace (settings, providers' invoices); `expiresAt` in ms. */
  z.object({ kind: z.literal("kv"), namespace: Id, key: z.string(), value: z.unknown(), expiresAt: z.number().int().nullable() }),
]);
export type StoreItem = z.infer<typeof StoreItem>;
export type StoreItemKind = StoreItem["kind"];

/** Every item kind, in the order counts are printed. */
export const STORE_ITEM_KINDS: readonly StoreItemKind[] = [
  "chat",
  "order",
  "order_chat",
  "audit",
  "payment",
  "goods",
  "update",
  "projection",
  "promo_use",
  "kv",
];

/** How many items of each kind went by. */
export type StoreCounts = Record<StoreItemKind, number>;

export const emptyCounts = (): StoreCounts => ({
  chat: 0,
  order: 0,
  order_chat: 0,
  audit: 0,
  payment: 0,
  goods: 0,
  update: 0,
  projection: 0,
  promo_use: 0,
  kv: 0,
});

/** Words for each kind (one, many), for progress lines and reports. */
const KIND_WORDS: Record<StoreItemKind, [string, string]> = {
  chat: ["chat", "chats"],
  order: ["order", "orders"],
  order_chat: ["order index entry", "order index entries"],
  audit: ["audit entry", "audit entries"],
  payment: ["payment index entry", "payment index entries"],
  goods: ["goods entry", "goods entries"],
  update: ["queued Telegram update", "queued Telegram updates"],
  projection: ["saved read model", "saved read models"],
  promo_use: ["promo code use", "promo code uses"],
  kv: ["setting or provider record", "settings and provider records"],
};

/** "12 chats, 1 order, …" (kinds with none left out; "nothing" when empty). */
export function formatCounts(counts: StoreCounts): string {
  const parts = STORE_ITEM_KINDS.filter((kind) => counts[kind] > 0).map(
    (kind) => `${counts[kind].toLocaleString("en-US")} ${KIND_WORDS[kind][counts[kind] === 1 ? 0 : 1]}`,
  );
  return parts.length === 0 ? "nothing" : parts.join(", ");
}

export type ImportOptions = {
  /** Called now and then while a long import runs, with what was written so far. */
  onProgress?: (counts: StoreCounts) => void;
  /** How many items go by between two progress calls (default 5,000). */
  progressEvery?: number;
};

/** What an import wrote; `projectionsLeftToRebuild`: saved read models that will be rebuilt from the log. */
export type ImportReport = { counts: StoreCounts; projectionsLeftToRebuild: number };

/** The target of an import already holds a shop's data: importing would mix two shops. */
export class StoreNotEmptyError extends Error {
  constructor(target: string, found: string) {
    super(
      `${target} is not empty (it holds ${found}). Load into an empty store: a new SQLite file, or a Redis prefix ` +
        `(?prefix=…) or database with none of this shop's keys; to replace what is there, remove it first.`,
    );
    this.name = "StoreNotEmptyError";
  }
}

/** The store still holds the layout of a version before store schema 3, which only the bot's start converts. */
export class StoreNeedsUpgradeError extends Error {
  constructor(target: string) {
    super(
      `${target} still holds the previous version's layout (store schema 2): start the bot on it once (it upgrades the data on start), stop it, then try again`,
    );
    this.name = "StoreNeedsUpgradeError";
  }
}

/** Counts items and reports progress every `progressEvery` of them. */
export function progressCounter(options: ImportOptions = {}): { counts: StoreCounts; add(kind: StoreItemKind): void } {
  const counts = emptyCounts();
  const every = options.progressEvery ?? 5_000;
  let seen = 0;
  return {
    counts,
    add(kind) {
      counts[kind]++;
      if (options.onProgress && ++seen % every === 0) options.onProgress({ ...counts });
    },
  };
}

/** JSON.parse, or undefined for text that is not JSON. */
export function parseLoosely(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** A string field of a JSON object text, if it has one (e.g. an audit entry's `orderId`). */
export function fieldOf(text: string, field: string): string | null {
  const value = parseLoosely(text);
  if (typeof value !== "object" || value === null) return null;
  const found = (value as Record<string, unknown>)[field];
  return typeof found === "string" ? found : null;
}

/** A number field of a JSON object text, or `fallback`. */
export function numberOf(text: string, field: string, fallback: number): number {
  const value = parseLoosely(text);
  const found = typeof value === "object" && value !== null ? (value as Record<string, unknown>)[field] : undefined;
  return typeof found === "number" && Number.isInteger(found) ? found : fallback;
}

/** A backed-up chat's applied updates, as a store restoring it at `now` keeps them. */
export function appliedOfItem(item: Extract<StoreItem, { kind: "chat" }>, now: number): AppliedUpdates {
  const recent = item.recentUpdateIds ?? [];
  return { upTo: item.lastUpdateId, recent, at: appliedAtOrNow(item.updatesAppliedAt, item.lastUpdateId, recent, now) };
}
