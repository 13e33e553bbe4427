/**
 * The vocabulary of the purchase machine: money, ids, what an order holds (context), the events that
 * move it, what its actors answer, and what its states say about themselves (tags and meta). Kept
 * beside the machine so `purchase.machine.ts` reads as the business specification itself; nothing
 * here imports from `src/`.
 */
import type { z } from "zod";
import type { CustomerCommand } from "./purchase.commands.ts";

/** The currencies the shop prices and charges in: US dollars, Tether (1:1 with USD cents), Telegram Stars. */
export type Currency = "USD" | "USDT" | "XTR";

/**
 * An amount in integer minor units (cents, hundredths of a USDT, whole stars). The one money shape of
 * the product: the domain's zod schema `satisfies` it. The machine compares money, it never computes it.
 */
export type Money = { minor: number; currency: Currency };

/** Money in a currency the shop does not price in, exactly as the provider reported it. */
export type ForeignAmount = { amount: string; unit: string };

/** Ids are branded strings, so an order id can never be passed where a chat id is meant. */
export type OrderId = string & z.$brand<"OrderId">;
export type ChatId = string & z.$brand<"ChatId">;
export type PaymentId = string & z.$brand<"PaymentId">;

/** What money that arrives after its order closed does: buy the goods (when it pays in full), or go back. */
export type LatePaymentPolicy = "deliver" | "refund";

/** The amounts of a product the shop may sell. Checked by the machine's `amountWithinLimits` guard. */
export type TokenLimits = { minTokens: number; maxTokens: number };

/** A product the order may be for, with the amounts of it the shop sells (the catalog's, when the order began). */
export type ProductLimits = TokenLimits & { id: string };

/** How many times a delivered order's goods may be replaced ("I lost my key"); then the owner helps. */
export const MAX_REISSUES = 3;

/** Why a promo code cannot be used on an order (the domain's `PromoRefusal`; `unavailable`: it could not be checked now). */
export type PromoRefusal = "unknown" | "expired" | "used_up" | "wrong_product" | "already_used_by_you";

/** True when `tokens` is a whole amount the shop may sell under `limits`. */
export function withinLimits(limits: TokenLimits, tokens: number): boolean {
  return Number.isSafeInteger(tokens) && tokens >= limits.minTokens && tokens <= limits.maxTokens;
}

/**
 * How a quote's price was made, for the customer to see and the owner to sum: the unit price and the
 * volume tier that set it, the promo code's discount, and (for an OpenRouter key) the credit it buys.
 */
export type QuoteBreakdown = {
  /** USD per `pricePer` units that priced the order (the tier's, else the product's own). */
  unitPrice: Money;
  pricePer: number;
  /** The volume tier applied (its threshold), or null at the product's own price. */
  tier: { from: number } | null;
  /** The amount at the product's own price (equals `list` without a tier). */
  baseList: Money;
  /** The price before the promo code. */
  list: Money;
  /** The promo code applied (the owner's spelling), or null. */
  promoCode: string | null;
  discount: Money;
  /** The OpenRouter credit the order buys (the key's spending limit); null for vouchers. */
  credit: Money | null;
};

export type QuoteDetails = {
  tokens: number;
  usd: Money;
  charge: Money;
  quotedAt: number;
  expiresAt: number;
  /** Absent on quotes made before catalogs (and on tests' hand-made quotes). */
  details?: QuoteBreakdown;
};

export type PaymentDetails = {
  provider: string;
  paymentId: PaymentId;
  payUrl: string;
  charge: Money;
  createdAt: number;
  expiresAt: number;
};

export type DeliveryDetails = {
  attempts: number;
  nextAttemptAt: number | null;
  lastError: DeliveryFailure | null;
  /** Provider reference of what was delivered (voucher id, key hash); never the secret itself. */
  ref: string | null;
  /** A harmless hint shown in status replies, e.g. the last 4 characters of a key. */
  hint: string | null;
  deliveredAt: number | null;
  /**
   * When to look for goods an interrupted earlier attempt may have left live at the provider (an API
   * key created by a process that died before it heard the answer); null when there is nothing to check.
   */
  strayCheckAt: number | null;
  /** Goods of earlier attempts found live and revoked. */
  straysRevoked: number;
  /**
   * When the goods are announced to the customer again if nobody confirmed they were shown (a crash
   * between delivery and the message, a channel that refused it); null once shown or given up.
   */
  announceAt: number | null;
  announceAttempts: number;
};

/** Why money is being returned: it came after the order closed, it did not match the invoice, or the owner decided. */
export type RefundReason = "late" | "mismatch" | "owner";

/** Money the order returns (or returned): what, why, and what the provider said. */
export type RefundDetails = {
  /** The provider's id of the payment being returned. */
  chargeId: PaymentId;
  /** What to return, in the shop's money; null when it arrived in another currency (the owner returns it). */
  amount: Money | null;
  foreign: ForeignAmount | null;
  reason: RefundReason;
  /** The provider's refund id, or null while pending, when made by hand, or when the provider cannot refund. */
  refundId: string | null;
  /** Made by hand by the owner (in the provider's app) and recorded. */
  manual: boolean;
  /** When the money went back; null while it has not. */
  refundedAt: number | null;
};

/** Money that arrived for this order when it could not use it (a second charge): returned beside the order. */
export type StrayPayment = {
  /** The provider's id of this payment. */
  chargeId: PaymentId;
  amount: Money | null;
  foreign: ForeignAmount | null;
  receivedAt: number;
  /** `returning` while the provider is asked, then `refunded`, or `owed` when the owner must return it. */
  status: "returning" | "refunded" | "owed";
  refundId: string | null;
};

/** What the provider said when the order last asked about its payment. */
export type PaymentCheckNote = { at: number; result: "not_paid" | "paid" | "unavailable" };

/** Why the last step did not do what was asked. Codes, not words: replies are rendered elsewhere. */
export type Problem =
  | "pricing_unavailable"
  | "out_of_stock"
  | "payment_unavailable"
  | "quote_refreshed"
  | "payment_failed"
  | "delivery_retrying"
  | "delivery_failed"
  /** The promo code was refused (`promoRefusal` says why); the quote stands without it. */
  | "promo_refused"
  /** Replacing the goods failed; the old goods still work and the customer may ask again. */
  | "reissue_failed";

/** Why a delivery attempt failed: a code, never a provider's message (those go to the log). */
export type DeliveryFailure = "provider_unavailable" | "provider_rejected" | "issuing_elsewhere" | "store_unavailable" | "unexpected_error";

export type PurchaseContext = {
  orderId: OrderId;
  chatId: ChatId;
  /** The catalog product this order is for; null until the customer chooses (a shop of several). */
  productId: string | null;
  /** The products the order may be for, with their limits (the shop's catalog when the order began). */
  products: ProductLimits[];
  /**
   * What money that arrives after this order closed does (the shop's LATE_PAYMENT when the order was
   * created): `deliver` the goods when it pays the invoice in full, or `refund` it.
   */
  latePayment: LatePaymentPolicy;
  /** The amounts the order may be for: its product's, or (before one is chosen) from the smallest to the largest any product sells. */
  limits: TokenLimits;
  maxDeliveryAttempts: number;
  retryBackoffMs: number;
  tokens: number | null;
  /** The promo code the customer applied, once checked (the owner's spelling); null for none. */
  promoCode: string | null;
  /** The code the customer just gave, while it is checked. */
  promoTyped: string | null;
  /**
   * The promo code whose use this order holds (reserved at Confirm, kept when paid, given back when the
   * order closes unpaid); null for none.
   */
  promoHeld: string | null;
  /** Why the last promo code was refused (with problem `promo_refused`). */
  promoRefusal: PromoRefusal | null;
  /** How many times the delivered goods were replaced. */
  reissues: number;
  quote: QuoteDetails | null;
  payment: PaymentDetails | null;
  paidAt: number | null;
  /** The provider's id of the payment that paid the invoice. */
  paidCharge: PaymentId | null;
  /** Paid after the order had closed, and delivered anyway (LATE_PAYMENT=deliver). */
  late: boolean;
  delivery: DeliveryDetails;
  /** The order's own money going back (a late or mismatched payment, or the owner's refund). */
  refund: RefundDetails | null;
  /** Extra money that arrived for this order and is returned beside it. */
  strays: StrayPayment[];
  /** The provider's invoice is known to be closed (expired or voided): no money can arrive through it. */
  invoiceClosed: boolean;
  /** When the provider is next asked about an open invoice (after a failed or early check). */
  nextCheckAt: number | null;
  lastCheck: PaymentCheckNote | null;
  problem: Problem | null;
  createdAt: number;
  lastActivityAt: number;
};

export type PurchaseInput = {
  orderId: OrderId;
  chatId: ChatId;
  /** The product, when the shop sells one; null when the customer chooses among `products`. */
  productId: string | null;
  /** Every product the shop sells, with its limits. Absent: the one product `productId`, within min/maxTokens. */
  products?: ProductLimits[];
  latePayment: LatePaymentPolicy;
  minTokens: number;
  maxTokens: number;
  maxDeliveryAttempts: number;
  retryBackoffMs: number;
  at: number;
};

/** Events a customer can cause, by text, button or command: the machine's share of {@link CustomerCommand}. */
export type CustomerEvent =
  | (Extract<CustomerCommand, { type: "SET_AMOUNT" | "SET_PRODUCT" | "APPLY_PROMO" | "REISSUE" | "CONFIRM" | "CANCEL" }> & { at: number })
  /** "Did my payment arrive?": the order asks the provider. */
  | { type: "CHECK_PAYMENT"; at: number };

/** Events only a verified payment provider path may cause (a webhook or a Stars update, after re-fetching). */
export type PaymentEvent =
  /**
   * Money arrived for this order's invoice (`paymentId`, the invoice's id), as the provider reports it;
   * the machine decides what it pays for. `chargeId` is the provider's id of this very payment (the
   * invoice's id again where an invoice is paid once; Telegram Stars gives each charge its own).
   */
  | { type: "PAYMENT_RECEIVED"; paymentId: PaymentId; chargeId: PaymentId; amount: Money | null; foreign: ForeignAmount | null; at: number }
  | { type: "PAYMENT_FAILED"; paymentId: PaymentId; at: number }
  /** The provider's invoice can no longer take money (expired or voided there). */
  | { type: "INVOICE_CLOSED"; paymentId: PaymentId; at: number };

/**
 * Events of the engine itself (deadlines, durable waypoints) and of the owner. `START_DELIVERY` is sent
 * by the engine once the `paid.recorded` snapshot is stored: the payment is written down before the
 * goods go out. `DEADLINE` is the sweeper's one event; each state's guard decides what it means there.
 */
export type SystemEvent =
  | { type: "START_DELIVERY"; at: number }
  /** The message carrying the goods was accepted by the customer's channel (the secret is then erased). */
  | { type: "GOODS_SHOWN"; at: number }
  | { type: "DEADLINE"; at: number }
  | { type: "ADMIN_RETRY_DELIVERY"; at: number }
  /** Return the order's money through the provider (a failed delivery, or money the owner still owes). */
  | { type: "ADMIN_REFUND"; at: number }
  /** The owner returned money by hand: the order's own (no `chargeId`) or a stray payment's. */
  | { type: "REFUND_RECORDED"; at: number; chargeId?: PaymentId }
  /** A stray payment's return finished (sent by its `returnStrayPayment` child). */
  | { type: "STRAY_SETTLED"; chargeId: PaymentId; refunded: boolean; refundId: string | null; at: number };

export type PurchaseEvent = CustomerEvent | PaymentEvent | SystemEvent;

/**
 * What the pricing actor answers. Failures are values so the machine can explain them. `promoRefused`:
 * the order's promo code could not be used any more (used up meanwhile, not for this product): the quote
 * is without it.
 */
export type PricingResult =
  { ok: true; quote: QuoteDetails; promoRefused?: PromoRefusal } | { ok: false; reason: "pricing_unavailable" | "out_of_stock" };

/** Whether a promo code the customer gave may be used on the order: its owner's spelling, or why not. */
export type PromoCheckResult = { ok: true; code: string } | { ok: false; reason: PromoRefusal };

/** Whether the order now holds a use of its quote's promo code (reserved atomically in the store), or why not. */
export type PromoReserveResult = { ok: true } | { ok: false; reason: PromoRefusal };

/** The promo code's use was given back. */
export type PromoReleaseResult = { at: number };

export type PaymentCreationResult = { ok: true; payment: PaymentDetails } | { ok: false; reason: "payment_unavailable" };

/** What the provider says about the order's invoice right now (`unavailable`: it could not be asked). */
export type PaymentCheckResult = {
  status: "paid" | "pending" | "expired" | "failed" | "unavailable";
  amount: Money | null;
  foreign: ForeignAmount | null;
  at: number;
};

export type VoidResult = { voided: boolean; at: number };

/** `mayLeaveStrays`: the provider keeps goods outside the shop (API keys), so an interrupted attempt may have left one live. */
export type DeliveryResult =
  { ok: true; ref: string; hint: string; at: number; mayLeaveStrays: boolean } | { ok: false; reason: DeliveryFailure; at: number };

/** What the look for stray goods found: how many live goods of earlier attempts it revoked. */
export type StrayGoodsResult = { revoked: number; at: number };

export type RefundResult =
  { ok: true; refundId: string; at: number } | { ok: false; reason: "unsupported" | "unavailable" | "rejected"; at: number };

export type PricingInput = { orderId: OrderId; chatId: ChatId; productId: string; tokens: number; promoCode: string | null };
export type PromoCheckInput = { orderId: OrderId; chatId: ChatId; productId: string | null; code: string };
/** `code`: the quote's promo code to hold (null: none); `held`: the one the order holds now, given back if it differs. */
export type PromoReserveInput = { orderId: OrderId; chatId: ChatId; productId: string; code: string | null; held: string | null };
export type PromoReleaseInput = { orderId: OrderId; chatId: ChatId; code: string };
export type PaymentCreationInput = { orderId: OrderId; chatId: ChatId; productId: string; quote: QuoteDetails };
export type PaymentCheckInput = { orderId: OrderId; paymentId: PaymentId };
export type VoidInput = { orderId: OrderId; paymentId: PaymentId };
export type DeliveryInput = {
  orderId: OrderId;
  chatId: ChatId;
  productId: string;
  tokens: number;
  usd: Money;
  charge: Money;
  /** The OpenRouter credit sold (the key's limit); null for vouchers or quotes made before catalogs. */
  credit: Money | null;
  attempt: number;
};
/** Replace the delivered goods: the `generation`-th replacement (1 for the first). */
export type ReissueInput = { orderId: OrderId; chatId: ChatId; productId: string; tokens: number; generation: number };
export type StrayGoodsInput = { orderId: OrderId; chatId: ChatId; keep: string };
export type RefundInput = { orderId: OrderId; chatId: ChatId; chargeId: PaymentId; amount: Money | null };

/**
 * What a state's tags mean to the rest of the product (which asks the machine through them, never by
 * state names):
 * - `busy`: an actor is working; the engine waits for it to settle before answering;
 * - `resume`: durable waypoint; once stored, the engine moves on by itself (`START_DELIVERY`);
 * - `open`: the customer can still change or cancel the order;
 * - `accepts_payment`: the invoice is live and expected to be paid (Stars' pre-checkout says yes);
 * - `paid`: money was received for the goods; `delivered`: the goods were issued;
 * - `closed`: cancelled or expired unpaid; `refunded`: the money went back;
 * - `needs_owner`: the owner must act (a failed delivery, a refund the provider cannot make);
 * - `ended`: the customer's next amount starts a new order;
 * - `at_rest`: nothing is under way, so the bot's next question is "how many tokens?";
 * - `announce`: the goods were issued but nobody confirmed the customer was shown them: the engine
 *   announces them (again) at the state's deadline.
 */
export type PurchaseTag =
  | "busy"
  | "resume"
  | "open"
  | "accepts_payment"
  | "paid"
  | "delivered"
  | "closed"
  | "refunded"
  | "needs_owner"
  | "ended"
  | "at_rest"
  | "announce";

/** The buttons a state offers the customer (the renderer words and packs them). `packages`: the chosen product's packages, or the products to choose from. */
export type OrderButton = "packages" | "confirm" | "cancel" | "adjust" | "pay" | "status";

/** Why a customer command the state does not take is refused. */
export type StateRefusal = "payment_in_progress" | "delivery_in_progress";

/**
 * Which time of the order is a state's deadline: the sweeper sends `DEADLINE` then.
 * `now`: at once (a crash left work in flight; opening the order resumes it).
 */
export type DeadlineKind = "quote_expiry" | "payment_check" | "delivery_retry" | "announce" | "goods_check" | "now";

/** What the owner must do for an order in a `needs_owner` state. */
export type OwnerTask = "retry_or_refund" | "refund_by_hand";

/** What a state says about itself beyond its tags (`meta` in the machine). A child state inherits its parent's. */
export type PurchaseMeta = {
  ownerTask?: OwnerTask;
  /** The message that describes an order in this state (its id in `locales/*.ftl`). */
  words?: string;
  buttons?: readonly OrderButton[];
  refusal?: StateRefusal;
  deadline?: DeadlineKind;
};
