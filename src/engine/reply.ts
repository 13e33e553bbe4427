/**
 * What the engine answers: codes and facts taken from the machine's snapshot, never words. The
 * renderer (`src/render`) turns a reply into text and buttons for the console or Telegram.
 */
import type { SnapshotFrom } from "xstate";
import type { PurchaseMachine, Problem } from "../../machines/purchase.machine.ts";
import type { AmountChoice } from "../domain/commands.ts";
import type { FaqTopic } from "../domain/faq.ts";
import type { OrderId } from "../domain/ids.ts";
import type { Money } from "../domain/money.ts";
import type { OrderState } from "../domain/records.ts";

/** The customer-visible facts of one order. */
export type OrderView = {
  orderId: OrderId;
  state: OrderState;
  tokens: number | null;
  usd: Money | null;
  charge: Money | null;
  /** The payment provider of the invoice; "sandbox" means a test payment with no real money. */
  provider: string | null;
  payUrl: string | null;
  quoteExpiresAt: number | null;
  paymentExpiresAt: number | null;
  deliveryHint: string | null;
  nextDeliveryAttemptAt: number | null;
  problem: Problem | null;
  /** Money that arrived after the order closed, and what became of it; absent when none did. */
  late?: { paid: Money | null; next: Exclude<LateMoneyNext, "delivering"> | "pending" };
};

/** Why a request was not carried out. */
export type Refusal =
  | "amount_out_of_range"
  | "nothing_to_confirm"
  | "nothing_to_cancel"
  | "payment_in_progress"
  | "delivery_in_progress"
  | "not_now";

/** Money that arrived but could not pay the order as invoiced: the customer is told, an admin acts. */
export type PaymentNotice = {
  reason: "wrong_amount" | "foreign_currency" | "late";
  /** What arrived, in the shop's money, when it was in a currency the shop prices in. */
  paid: Money | null;
  /** What arrived, as the provider wrote it, when it was in another currency. */
  foreign: { amount: string; unit: string } | null;
  /** What happens to it next (issue 13): told to the customer with the notice. */
  next: LateMoneyNext;
};

/**
 * What the shop does with money that could not pay its order as invoiced: `delivered` the goods anyway
 * (a late payment matching the quote, LATE_PAYMENT=deliver) or is `delivering` them (the delivery
 * provider is down; retried), `refunded` through the provider, or an admin was alerted and
 * `owner_refunds` by hand.
 */
export type LateMoneyNext = "delivered" | "delivering" | "refunded" | "owner_refunds";

/** What the payment provider said when the customer asked about their payment just now (issue 13). */
export type PaymentCheck = { provider: string; result: "not_paid" | "paid" | "unavailable" };

export type Reply =
  /**
   * `greeting`: the customer said hello (or /start), answered with a welcome. `askAmount`: they want to
   * buy but named no amount ("I need some tokens"), answered with "how many?".
   */
  | { kind: "help"; order: OrderView | null; greeting?: boolean; askAmount?: boolean }
  /** Thanks or a goodbye, answered in kind with one short line; the order did not move. */
  | { kind: "thanks" }
  /** `secret`: delivered goods not yet confirmed as seen; the adapter calls `engine.secretShown` once it sent them. */
  | { kind: "order"; order: OrderView; secret?: string; budget?: BudgetNote }
  /** The owner's answer to an FAQ topic, beside the order, which did not move. */
  | { kind: "answer"; topic: FaqTopic; order: OrderView | null }
  /** The chat's last orders, newest first; `order` is the one in progress (it did not move). */
  | { kind: "orders"; orders: OrderLine[]; order: OrderView | null }
  /** The text could mean any of these amounts: one short question, each a button. */
  | { kind: "clarify"; choices: readonly AmountChoice[]; order: OrderView | null }
  | { kind: "no_order"; lastOrder: OrderView | null }
  | { kind: "refused"; reason: Refusal; order: OrderView | null; tokens?: number }
  | { kind: "not_understood"; order: OrderView | null }
  /** `outdated`: the button's message showed another quote of this same order than the current one. */
  | { kind: "stale_button"; order: OrderView | null; outdated?: true }
  /** `secret`: goods issued for a late payment (LATE_PAYMENT=deliver), confirmed as seen like an order's. */
  | { kind: "payment_notice"; payment: PaymentNotice; order: OrderView; secret?: string }
  | { kind: "too_long"; limit: number }
  | { kind: "unsupported_message"; order: OrderView | null }
  | { kind: "rate_limited" }
  | { kind: "busy" }
  | { kind: "unavailable" };

/** Any reply may carry a notice that the stored conversation could not be restored and restarted. */
export type EngineReply = Reply & { notice?: "conversation_reset"; check?: PaymentCheck };

export type PurchaseSnapshot = SnapshotFrom<PurchaseMachine>;

/** The top-level state name of a snapshot (`paid` for each of its sub-states). */
export function stateName(snapshot: PurchaseSnapshot): OrderState {
  const value = snapshot.value;
  return typeof value === "string" ? value : "paid";
}

/** Projects a snapshot onto what the customer may see. Secrets are never in a snapshot. */
export function orderView(snapshot: PurchaseSnapshot): OrderView {
  const c = snapshot.context;
  return {
    orderId: c.orderId,
    state: stateName(snapshot),
    tokens: c.quote?.tokens ?? c.tokens,
    usd: c.quote?.usd ?? null,
    charge: c.payment?.charge ?? c.quote?.charge ?? null,
    provider: c.payment?.provider ?? null,
    payUrl: c.payment?.payUrl ?? null,
    quoteExpiresAt: c.quote?.expiresAt ?? null,
    paymentExpiresAt: c.payment?.expiresAt ?? null,
    deliveryHint: c.delivery.hint,
    nextDeliveryAttemptAt: c.delivery.nextAttemptAt,
    problem: c.problem,
  };
}

/** The secret a reply shows, if any: the adapter confirms it was sent with `engine.secretShown`. */
export function secretOf(reply: EngineReply): { orderId: OrderId; secret: string } | null {
  return (reply.kind === "order" || reply.kind === "payment_notice") && reply.secret ? { orderId: reply.order.orderId, secret: reply.secret } : null;
}

/** One of a chat's orders in its list (`/orders`): facts only, the delivered code's hint but never the code. */
export type OrderLine = {
  orderId: OrderId;
  state: OrderState;
  tokens: number | null;
  usd: Money | null;
  charge: Money | null;
  createdAt: number;
  deliveryHint: string | null;
};

/** The budget a quote was worked out from: what it buys, and whether the amount was rounded down. */
export type BudgetNote = { usd: Money; tokens: number; roundedDown: boolean };
