/**
 * The records of store schema 2 (before each order kept its own snapshot), read only by the migration
 * (src/store/migrate.ts) when a store written by an earlier version is opened.
 */
import type { Snapshot } from "xstate";
import { z } from "zod";
import { ChatId, OrderId, PaymentId } from "../../domain/ids.ts";
import { Money as StoredMoney } from "../../domain/money.ts";

/** A top-level state name of the machine of store schema 2 (see `migrate.ts` for how each maps today). */
export const OrderState = z.string();
export type OrderState = string;

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
export const ConversationSnapshot = z.custom<StoredSnapshot>(isStoredSnapshot, { message: "not a persisted purchase snapshot" });

const ConversationFields = {
  chatId: ChatId,
  snapshot: ConversationSnapshot,
  lastOrderId: OrderId.nullable(),
  /** The last few things the customer wrote, for the LLM's context. Bounded in count and length. */
  turns: z.array(z.string()),
  updatedAt: z.number().int(),
  /** The chat's ended orders, oldest first, bounded (see `MAX_REMEMBERED_ORDERS`): the customer's `/orders`. */
  orderIds: z.array(OrderId).default([]),
  /** The bot's last message asked "how many tokens?", so a bare number answers it. */
  askedHowMany: z.boolean().default(false),
};

/** How many ended orders a conversation remembers for the customer's order list. */
export const MAX_REMEMBERED_ORDERS = 20;

/**
 * A chat's conversation: the purchase machine's persisted snapshot plus a little dialogue memory. `rev`
 * counts writes: every write is compare-and-set on it (see `VersionedCollection`). Version 1 records
 * (before revisions) are read as revision 0 and rewritten as version 2 on their next write.
 */
export const ConversationRecord = z.union([
  z.object({ v: z.literal(2), rev: z.number().int().positive(), ...ConversationFields }),
  z.object({ v: z.literal(1), ...ConversationFields }).transform((old) => ({ ...old, v: 2 as const, rev: 0 })),
]);
export type ConversationRecord = z.infer<typeof ConversationRecord>;

/**
 * An order as the machine sees it: a projection of the purchase snapshot, written by the engine under
 * the chat lock. Kept apart from conversations so a reset chat never loses an order.
 */
export const OrderProjection = z.object({
  v: z.literal(1),
  orderId: OrderId,
  chatId: ChatId,
  state: OrderState,
  tokens: z.number().int().nullable(),
  usd: StoredMoney.nullable(),
  charge: StoredMoney.nullable(),
  provider: z.string().nullable(),
  paymentId: PaymentId.nullable(),
  payUrl: z.string().nullable(),
  createdAt: z.number().int(),
  updatedAt: z.number().int(),
  quotedAt: z.number().int().nullable(),
  paidAt: z.number().int().nullable(),
  deliveredAt: z.number().int().nullable(),
  deliveryRef: z.string().nullable(),
});
export type OrderProjection = z.infer<typeof OrderProjection>;

/** A payment that arrived after the order stopped being payable (or in the wrong amount): refund it, never lose it. */
export const LatePayment = z.object({
  paymentId: PaymentId,
  amount: StoredMoney.nullable(),
  /** A payment in a currency the shop does not price in, as the provider reported it (amount is then null). */
  foreign: z.object({ amount: z.string(), unit: z.string() }).nullable().default(null),
  /** Why it is kept: it came after the order closed, or in another amount or currency than invoiced. */
  reason: z.enum(["late", "wrong_amount", "foreign_currency", "extra"]).default("late"),
  at: z.number().int(),
  /**
   * What the shop did with it (issue 13): `pending` while the LATE_PAYMENT policy is being carried out
   * (a crash leaves it pending and the next look at the payment finishes it), `delivered` when the goods
   * were issued for it, `refunded` when the provider returned it, `kept` when an admin must act.
   */
  resolution: z.enum(["pending", "delivered", "refunded", "kept"]).default("kept"),
});
export type LatePayment = z.infer<typeof LatePayment>;

/** An admin's refund. `refundId` is the provider's; null with `manual` when it was done by hand in the provider's app. */
export const Refund = z.object({
  paymentId: PaymentId,
  amount: StoredMoney,
  refundId: z.string().nullable(),
  manual: z.boolean(),
  at: z.number().int(),
});
export type Refund = z.infer<typeof Refund>;

/**
 * An order as the shop sees it: the machine's projection plus the money facts the machine does not know
 * (a late payment, a refund). Those are written by the payment layer and admins, outside the chat lock,
 * so each is stored in its own collection keyed by order id and joined on read (`readOrder`): the
 * engine's projection writes can never overwrite them, and need not read them first.
 */
export const OrderRecord = OrderProjection.extend({
  latePayment: LatePayment.nullable(),
  refund: Refund.nullable(),
});
export type OrderRecord = z.infer<typeof OrderRecord>;

/**
 * The delivery ledger: one entry per order, written after the provider issued the goods. The secret
 * (voucher code or API key) is kept only until the customer has been sent it, then wiped.
 */
export const LedgerEntry = z.object({
  v: z.literal(1),
  orderId: OrderId,
  chatId: ChatId,
  provider: z.string(),
  ref: z.string(),
  hint: z.string(),
  secret: z.string().nullable(),
  issuedAt: z.number().int(),
  sentAt: z.number().int().nullable(),
});
export type LedgerEntry = z.infer<typeof LedgerEntry>;

/** A verified payment event, keyed by provider and provider payment id (the uniqueness rule). */
export const PaymentRecord = z.object({
  v: z.literal(1),
  provider: z.string(),
  paymentId: PaymentId,
  orderId: OrderId,
  chatId: ChatId,
  status: z.enum(["received", "applied", "rejected", "late"]),
  amount: StoredMoney.nullable(),
  /** What was paid when it was in a currency the shop does not price in, exactly as the provider said it. */
  foreign: z.object({ amount: z.string(), unit: z.string() }).nullable().default(null),
  reason: z.string().nullable(),
  receivedAt: z.number().int(),
  appliedAt: z.number().int().nullable(),
});
export type PaymentRecord = z.infer<typeof PaymentRecord>;

/** Maps a provider payment id to its order, written when the invoice is created. */
export const PaymentIndexEntry = z.object({ v: z.literal(1), orderId: OrderId, chatId: ChatId });
export type PaymentIndexEntry = z.infer<typeof PaymentIndexEntry>;

/** The earliest deadline of a chat's open order, for the sweeper. Absent when nothing is due. */
export const DeadlineEntry = z.object({ v: z.literal(1), chatId: ChatId, orderId: OrderId, dueAt: z.number().int() });
export type DeadlineEntry = z.infer<typeof DeadlineEntry>;

/**
 * One line of the audit trail: something the engine observed about an order (a command and where it
 * came from, a machine transition, a payment confirmation, an LLM call). `detail` holds only
 * whitelisted, non-secret fields — never message text, payment secrets or goods.
 */
export const AuditEntry = z.object({
  v: z.literal(1),
  type: z.enum(["command", "transition", "payment", "not_understood", "llm", "admin", "secret_undeliverable"]),
  chatId: z.string(),
  orderId: z.string(),
  at: z.number().int(),
  /** Which process wrote it, and its sequence there: orders entries written in the same millisecond. */
  instance: z.string(),
  seq: z.number().int().nonnegative(),
  detail: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
});
export type AuditEntry = z.infer<typeof AuditEntry>;

/**
 * A chunk of the entries one process run wrote for one order, keyed `${orderId}/${writer}/${n}` with
 * n = 0, 1, 2…: one writer per key (no lost updates) and a bounded size (no ever-growing rewrites).
 */
export const AuditBucket = z.object({ v: z.literal(1), orderId: z.string(), entries: z.array(AuditEntry) });
export type AuditBucket = z.infer<typeof AuditBucket>;

/** Which writers (process runs) hold audit chunks for an order, so `forOrder` reads them directly. */
export const AuditIndex = z.object({ v: z.literal(1), writers: z.array(z.string()) });
export type AuditIndex = z.infer<typeof AuditIndex>;
