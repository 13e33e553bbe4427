/**
 * What the engine answers: codes and facts taken from an order's snapshot — its tags, its state's
 * meta and its context — never words. The renderer (`src/render`) turns a reply into text and buttons
 * for the console or Telegram; it never names a state either: the state's meta names its message.
 */
import type {
  OrderButton,
  Problem,
  PromoRefusal,
  PurchaseSnapshot,
  PurchaseTag,
  QuoteBreakdown,
  RefundReason,
} from "../../machines/purchase.machine.ts";
import { orderMeta, stageOf, statePath } from "../../machines/purchase.reading.ts";
import type { AmountChoice } from "../domain/commands.ts";
import type { FaqTopic } from "../domain/faq.ts";
import type { OrderId } from "../domain/ids.ts";
import type { Money } from "../domain/money.ts";

/** Money in a currency the shop does not price in, as the provider reported it. */
export type ForeignMoney = { amount: string; unit: string };

/** The customer-visible facts of one order. */
export type OrderView = {
  orderId: OrderId;
  /** The order's top-level state and full state path: for display and message keys, never for decisions. */
  stage: string;
  path: string;
  tags: readonly PurchaseTag[];
  /** The message that describes the order (its state's `meta.words`). */
  words: string;
  /** The buttons its state offers. */
  buttons: readonly OrderButton[];
  /** The product the order is for; null while the customer chooses (a shop of several). */
  productId: string | null;
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
  /** How the quote's price was made (unit price, tier, promo discount, OpenRouter credit); null without a quote. */
  breakdown: QuoteBreakdown | null;
  /** The promo code applied to the order (the owner's spelling), and why the last one given was refused. */
  promoCode: string | null;
  promoRefusal: PromoRefusal | null;
  /** How many times the delivered goods were replaced. */
  reissues: number;
  /** Paid after it had closed, and delivered anyway (LATE_PAYMENT=deliver). */
  late: boolean;
  /** The order's money going back, or gone back. */
  refund: { reason: RefundReason; amount: Money | null; foreign: ForeignMoney | null; refunded: boolean; manual: boolean } | null;
  /** Extra payments returned beside the order. */
  strays: readonly { amount: Money | null; foreign: ForeignMoney | null; status: "returning" | "refunded" | "owed" }[];
};

/**
 * Why a request was not carried out. `unknown_product`: a product the shop does not sell (an old
 * button); `nothing_to_reissue`: no delivered order to replace goods for; `reissue_limit`: the order's
 * goods were replaced as often as allowed (the owner helps from there).
 */
export type Refusal =
  | "amount_out_of_range"
  | "nothing_to_confirm"
  | "nothing_to_cancel"
  | "payment_in_progress"
  | "delivery_in_progress"
  | "unknown_product"
  | "nothing_to_reissue"
  | "reissue_limit"
  | "not_now";

/**
 * Money that arrived and could not pay the order as invoiced: the customer is told what arrived and
 * what happens to it next. `late`: after the order closed; `extra`: a second payment; `wrong_amount`
 * and `foreign_currency`: not the invoiced amount or currency.
 */
export type PaymentNotice = {
  reason: "wrong_amount" | "foreign_currency" | "late" | "extra";
  paid: Money | null;
  foreign: ForeignMoney | null;
  /** What becomes of it: goods `delivered` (or `delivering`), `refunded`, or the owner returns it by hand. */
  next: "delivered" | "delivering" | "refunded" | "owner_refunds";
};

/** What the payment provider said when the customer asked about their payment just now. */
export type PaymentCheck = { provider: string; result: "not_paid" | "paid" | "unavailable" };

/** One of a chat's orders in its list (`/orders`): facts only, the delivered code's hint but never the code. */
export type OrderLine = {
  orderId: OrderId;
  productId: string | null;
  /** Its lost goods may be replaced now (`/orders` offers "🔑 Reissue"). */
  canReissue: boolean;
  stage: string;
  words: string;
  tags: readonly string[];
  tokens: number | null;
  usd: Money | null;
  charge: Money | null;
  createdAt: number;
  deliveryHint: string | null;
};

/** The budget a quote was worked out from: what it buys, and whether the amount was rounded down. */
export type BudgetNote = { usd: Money; tokens: number; roundedDown: boolean };

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
  /** Nothing under way; the chat's last order, if any, for reference. */
  | { kind: "no_order"; lastOrder: OrderView | null }
  /** `tokens` and `product`: the amount refused and the product it was for (whose limits the refusal names). */
  | { kind: "refused"; reason: Refusal; order: OrderView | null; tokens?: number; product?: string }
  | { kind: "not_understood"; order: OrderView | null }
  /** `outdated`: the button's message showed another quote of this same order than the current one. */
  | { kind: "stale_button"; order: OrderView | null; outdated?: true }
  /** `secret`: goods issued for a late payment, confirmed as seen like an order's. */
  | { kind: "payment_notice"; payment: PaymentNotice; order: OrderView; secret?: string }
  | { kind: "too_long"; limit: number }
  | { kind: "unsupported_message"; order: OrderView | null }
  | { kind: "rate_limited" }
  | { kind: "busy" }
  | { kind: "unavailable" };

/** Any reply may carry a notice that the stored conversation could not be restored, and what the provider said just now. */
export type EngineReply = Reply & { notice?: "conversation_reset"; check?: PaymentCheck };

/** Projects a snapshot onto what the customer may see. Secrets are never in a snapshot. */
export function orderView(snapshot: PurchaseSnapshot): OrderView {
  const c = snapshot.context;
  const meta = orderMeta(snapshot);
  return {
    orderId: c.orderId,
    stage: stageOf(snapshot),
    path: statePath(snapshot),
    tags: [...snapshot.tags] as PurchaseTag[],
    words: meta.words ?? "order-initial",
    buttons: meta.buttons ?? [],
    productId: c.productId,
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
    breakdown: c.quote?.details ?? null,
    promoCode: c.promoCode ?? null,
    promoRefusal: c.promoRefusal ?? null,
    reissues: c.reissues ?? 0,
    late: c.late,
    refund: c.refund
      ? {
          reason: c.refund.reason,
          amount: c.refund.amount,
          foreign: c.refund.foreign,
          refunded: c.refund.refundedAt !== null,
          manual: c.refund.manual,
        }
      : null,
    strays: c.strays.map((stray) => ({ amount: stray.amount, foreign: stray.foreign, status: stray.status })),
  };
}

/** True when the view's order carries `tag`. */
export function hasTag(view: Pick<OrderView, "tags">, tag: PurchaseTag): boolean {
  return view.tags.includes(tag);
}

/** The secret a reply shows, if any: the adapter confirms it was sent with `engine.secretShown`. */
export function secretOf(reply: EngineReply): { orderId: OrderId; secret: string } | null {
  return (reply.kind === "order" || reply.kind === "payment_notice") && reply.secret
    ? { orderId: reply.order.orderId, secret: reply.secret }
    : null;
}

/**
 * An order as a reply's log entry keeps it: which order, and the message and buttons its state showed.
 * Its amounts and money are in the order's own log entries (the summary of the commit beside it).
 */
export type OrderNote = {
  orderId: OrderId;
  stage: string;
  words: string;
  buttons: readonly OrderButton[];
  problem: Problem | null;
  refund: RefundReason | null;
  /** The deadlines it named ("valid for 15 minutes"). */
  quoteExpiresAt: number | null;
  paymentExpiresAt: number | null;
};

/**
 * What the bot answered, as the audit log keeps it: the reply's codes with each order it showed cut
 * down to an {@link OrderNote}, and `secret: true` where goods were shown (never the goods). The owner's
 * dashboard renders it back into words beside what the customer wrote.
 */
export type ReplyNote = {
  kind: EngineReply["kind"];
  order?: OrderNote | null;
  lastOrder?: OrderNote | null;
  secret?: true;
  [field: string]: unknown;
};

const noteOf = (order: OrderView): OrderNote => ({
  orderId: order.orderId,
  stage: order.stage,
  words: order.words,
  buttons: order.buttons,
  problem: order.problem,
  refund: order.refund?.reason ?? null,
  quoteExpiresAt: order.quoteExpiresAt,
  paymentExpiresAt: order.paymentExpiresAt,
});

/** The log's note of a reply: no goods, and orders as {@link OrderNote}s. */
export function replyNote(reply: EngineReply): ReplyNote {
  const { secret, ...rest } = reply as EngineReply & { secret?: string };
  // Every reply carries its kind; the orders it shows are replaced below.
  const note = { ...rest } as ReplyNote;
  if ("order" in reply) note.order = reply.order ? noteOf(reply.order) : null;
  if (reply.kind === "no_order") note.lastOrder = reply.lastOrder ? noteOf(reply.lastOrder) : null;
  if (secret) note.secret = true;
  return note;
}
