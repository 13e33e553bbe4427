/**
 * Shapes of everything the product stores (schema version 3 of the store). Each record carries a
 * version `v`; stores validate on read, and a record that fails is reported as "invalid" (a chat then
 * restarts politely; an order is never rewritten from anything but its own snapshot, so none is lost).
 *
 * A chat holds conversation memory and points at its current order. Each order keeps its own machine
 * snapshot for its whole life (`OrderRecord`), so any event for any order — a late webhook, an admin
 * refund, a deadline — restores that order's actor. `summary` is what the rest of the product reads
 * about an order without restoring it (derived from the snapshot at each commit, never written apart).
 */
import type { Snapshot } from "xstate";
import { z } from "zod";
import { ChatId, OrderId, PaymentId } from "./ids.ts";
import { Money } from "./money.ts";

/** The store schema this code writes; older stores are migrated on open (see src/store/migrate.ts). */
export const STORE_SCHEMA_VERSION = 3;

type StoredSnapshot = Snapshot<unknown> & { value: unknown; context: Record<string, unknown> };

/** True for the shape of `actor.getPersistedSnapshot()`: a status, a state value and a context object. */
export function isStoredSnapshot(raw: unknown): raw is StoredSnapshot {
  if (typeof raw !== "object" || raw === null || !("value" in raw) || !("status" in raw) || !("context" in raw)) return false;
  const { status, context } = raw;
  return (
    (status === "active" || status === "done" || status === "error" || status === "stopped") &&
    typeof context === "object" &&
    context !== null
  );
}

/** `actor.getPersistedSnapshot()` of an order's machine: checked structurally here, fully on restore. */
export const PersistedSnapshot = z.custom<StoredSnapshot>(isStoredSnapshot, { message: "not a persisted purchase snapshot" });

/** How many ended orders a chat remembers for the customer's order list. */
export const MAX_REMEMBERED_ORDERS = 20;

/** What the bot's last message asked for, so the next message is read as its answer. */
export const AskedFor = z.enum(["amount", "choice"]);
export type AskedFor = z.infer<typeof AskedFor>;

/**
 * One amount a clarifying question offered: its tokens and the budget (US cents) it came from, if any.
 * A bare number (how the first v3 records kept an amount) reads as an amount without a budget.
 */
export const AmountChoiceRecord = z.union([
  z.object({ tokens: z.number().int().positive(), usdCents: z.number().int().positive().optional() }).strict(),
  z
    .number()
    .int()
    .positive()
    .transform((tokens) => ({ tokens })),
]);

/** Who the customer is, as Telegram last told us (the owner's dashboard shows it beside the chat id). */
export const CustomerProfile = z.object({ username: z.string().nullable(), firstName: z.string().nullable() });
export type CustomerProfile = z.infer<typeof CustomerProfile>;

/**
 * One chat's conversation. Its revision (`rev`, kept by the store beside the record) makes every write
 * compare-and-set; the chat's lease says which process may write it at all.
 */
export const ChatRecord = z.object({
  v: z.literal(3),
  chatId: ChatId,
  /** The order the chat is working on, or its last one once that ended; null before the first. */
  currentOrderId: OrderId.nullable(),
  /** Earlier orders of the chat, oldest first, at most `MAX_REMEMBERED_ORDERS` (the customer's `/orders`). */
  recentOrderIds: z.array(OrderId),
  /** The last few things the customer wrote, for the LLM's context. Bounded in count and length. */
  turns: z.array(z.string()),
  /** What the bot's last message asked for, if anything. */
  askedFor: AskedFor.nullable(),
  /**
   * The amounts a clarifying question offered (a "yes" must never pick one of them by itself), each
   * with the budget it was worked out from, if any, so the question can be asked again as it was.
   */
  choices: z.array(AmountChoiceRecord),
  profile: CustomerProfile,
  /** The last time the customer did anything (the conversation's memory times out after a while). */
  lastActivityAt: z.number().int(),
  updatedAt: z.number().int(),
});
export type ChatRecord = z.infer<typeof ChatRecord>;

/**
 * What the product reads about an order without restoring its machine: derived from the snapshot at
 * every commit. `state` is the machine's state path ("paid.delivering") and `tags` its tags: code
 * outside `machines/` decides by tags, never by comparing the path with a string.
 */
export const OrderSummary = z.object({
  state: z.string(),
  tags: z.array(z.string()),
  /** The catalog product; "" while the customer has not chosen one (a shop of several). */
  productId: z.string(),
  tokens: z.number().int().nullable(),
  usd: Money.nullable(),
  charge: Money.nullable(),
  provider: z.string().nullable(),
  paymentId: PaymentId.nullable(),
  payUrl: z.string().nullable(),
  /** Paid after the order had closed (LATE_PAYMENT=deliver). */
  late: z.boolean(),
  paidAt: z.number().int().nullable(),
  deliveredAt: z.number().int().nullable(),
  /** The delivered goods' harmless hint (last characters of a code); never the secret. */
  deliveryHint: z.string().nullable(),
  /** Money returned to the customer, once it was. */
  refunded: Money.nullable(),
  /** The next moment the sweeper must look at this order, or null. */
  dueAt: z.number().int().nullable(),
  /** Extra payments (a second charge) the provider could not return: the owner returns them by hand. Absent before it was kept. */
  owedStrays: z.number().int().optional(),
  // Issue 21: how the price was made, for reports to sum (absent in summaries written before catalogs).
  /** The promo code the quote applied (the owner's spelling). */
  promoCode: z.string().nullable().optional(),
  /** What the promo code took off the quote (USD), when it took anything. */
  discount: Money.nullable().optional(),
  /** The volume tier that priced the quote: its `from` threshold; null at the product's own price. */
  tier: z.number().int().nullable().optional(),
  /** The OpenRouter credit sold (the key's limit); null for vouchers. */
  credit: Money.nullable().optional(),
  /** What the owner keeps of an OpenRouter key's price: the USD price minus the credit (negative when a promo sold below cost). */
  margin: z
    .object({ minor: z.number().int(), currency: z.literal("USD") })
    .nullable()
    .optional(),
  /** How many times the delivered goods were replaced ("I lost my key"). */
  reissues: z.number().int().nonnegative().optional(),
});
export type OrderSummary = z.infer<typeof OrderSummary>;

/** One order: its machine snapshot for its whole life, and the summary derived from it. */
export const OrderRecord = z.object({
  v: z.literal(2),
  orderId: OrderId,
  chatId: ChatId,
  snapshot: PersistedSnapshot,
  summary: OrderSummary,
  createdAt: z.number().int(),
  updatedAt: z.number().int(),
});
export type OrderRecord = z.infer<typeof OrderRecord>;

/**
 * The delivered goods of an order: written the moment the provider issued them, before the order's
 * next commit, so goods that exist are never forgotten. The secret (voucher code or API key) is kept
 * only until the customer was sent it (`sentAt`), then erased; `ref` is the provider's lasting handle.
 */
export const GoodsEntry = z.object({
  v: z.literal(1),
  orderId: OrderId,
  chatId: ChatId,
  provider: z.string(),
  ref: z.string(),
  hint: z.string(),
  secret: z.string().nullable(),
  issuedAt: z.number().int(),
  sentAt: z.number().int().nullable(),
  /** Earlier goods of this order that were revoked when they were reissued, oldest first. */
  revoked: z.array(z.object({ ref: z.string(), at: z.number().int() })).default([]),
});
export type GoodsEntry = z.infer<typeof GoodsEntry>;

/** Maps a provider's payment id to its order, written before the invoice exists (so a webhook always finds it). */
export const PaymentIndexEntry = z.object({ orderId: OrderId, chatId: ChatId });
export type PaymentIndexEntry = z.infer<typeof PaymentIndexEntry>;

/** A JSON value, as audit details hold them. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
const Json: z.ZodType<Json> = z.lazy(() =>
  z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(Json), z.record(z.string(), Json)]),
);

/** What an audit entry records. */
export const AuditType = z.enum([
  "command",
  "transition",
  "order",
  "payment",
  "not_understood",
  "llm",
  "admin",
  "secret_undeliverable",
  "needs_owner",
  "profile",
  "reply",
]);
export type AuditType = z.infer<typeof AuditType>;

/**
 * One line of the audit log: something that happened to an order (a command and where it came from,
 * a machine transition, the order's summary after a change, a payment, an LLM call, an admin action,
 * a text the bot did not understand, what the bot answered (codes, never words), who the customer is). It is appended in the same commit as the state it describes, so
 * the log can neither fall behind nor lose entries. Never payment secrets or goods.
 */
export const AuditEntry = z.object({
  v: z.literal(2),
  type: AuditType,
  chatId: ChatId,
  orderId: OrderId.nullable(),
  at: z.number().int(),
  /** Which process wrote it (for the operator; order comes from the log itself). */
  instance: z.string(),
  detail: z.record(z.string(), Json),
});
export type AuditEntry = z.infer<typeof AuditEntry>;
