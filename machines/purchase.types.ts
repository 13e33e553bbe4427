/**
 * The vocabulary of the purchase machine: money, ids, what an order holds (context), the events that
 * move it and what its actors answer. Kept beside the machine so `purchase.machine.ts` reads as the
 * business specification itself; both files import nothing from `src/`.
 */
import type { z } from "zod";

/** The currencies the shop prices and charges in: US dollars, Tether (1:1 with USD cents), Telegram Stars. */
export type Currency = "USD" | "USDT" | "XTR";

/**
 * An amount in integer minor units (cents, hundredths of a USDT, whole stars). The one money shape of
 * the product: the domain's zod schema `satisfies` it. The machine compares money, it never computes it.
 */
export type Money = { minor: number; currency: Currency };

/** Ids are branded strings, so an order id can never be passed where a chat id is meant. */
export type OrderId = string & z.$brand<"OrderId">;
export type ChatId = string & z.$brand<"ChatId">;
export type PaymentId = string & z.$brand<"PaymentId">;

/** The token amounts the shop may sell. The single place the limits are checked (guard, engine, LLM schema). */
export type TokenLimits = { minTokens: number; maxTokens: number };

/** True when `tokens` is a whole amount the shop may sell under `limits`. */
export function withinLimits(limits: TokenLimits, tokens: number): boolean {
  return Number.isSafeInteger(tokens) && tokens >= limits.minTokens && tokens <= limits.maxTokens;
}

export type QuoteDetails = {
  tokens: number;
  usd: Money;
  charge: Money;
  quotedAt: number;
  expiresAt: number;
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
};

/**
 * Why the last step did not do what was asked. Codes, not words: replies are rendered elsewhere.
 */
export type Problem =
  | "pricing_unavailable"
  | "out_of_stock"
  | "payment_unavailable"
  | "quote_refreshed"
  | "payment_failed"
  | "delivery_retrying"
  | "delivery_failed";

/** Why a delivery attempt failed: a code, never a provider's message (those go to the log). */
export type DeliveryFailure =
  | "provider_unavailable"
  | "provider_rejected"
  | "issuing_elsewhere"
  | "store_unavailable"
  | "unexpected_error";

export type PurchaseContext = {
  orderId: OrderId;
  chatId: ChatId;
  limits: TokenLimits;
  maxDeliveryAttempts: number;
  retryBackoffMs: number;
  tokens: number | null;
  quote: QuoteDetails | null;
  payment: PaymentDetails | null;
  paidAt: number | null;
  delivery: DeliveryDetails;
  problem: Problem | null;
  createdAt: number;
  lastActivityAt: number;
};

export type PurchaseInput = {
  orderId: OrderId;
  chatId: ChatId;
  minTokens: number;
  maxTokens: number;
  maxDeliveryAttempts: number;
  retryBackoffMs: number;
  at: number;
};

/** Events a customer can cause, by text, button or command. */
export type CustomerEvent =
  | { type: "QUOTE"; tokens: number; at: number }
  | { type: "CHANGE_AMOUNT"; tokens: number; at: number }
  | { type: "CONFIRM"; at: number }
  | { type: "CANCEL"; at: number }
  | { type: "STATUS"; at: number }
  | { type: "HELP"; at: number }
  | { type: "RESTART"; at: number };

/** Events only a verified payment provider path may cause. */
export type PaymentEvent =
  | { type: "PAYMENT_CONFIRMED"; paymentId: PaymentId; amount: Money; at: number }
  | { type: "PAYMENT_FAILED"; paymentId: PaymentId; at: number }
  | { type: "PAYMENT_EXPIRED"; at: number };

/**
 * Events the engine's sweeper (deadlines) or an admin may cause. `START_DELIVERY` is sent by the engine
 * itself once the `paid.recorded` snapshot is durable: the payment is written down before the goods go out.
 */
export type SystemEvent =
  | { type: "START_DELIVERY"; at: number }
  | { type: "QUOTE_EXPIRED"; at: number }
  | { type: "RETRY_DELIVERY"; at: number }
  | { type: "ADMIN_RETRY_DELIVERY"; at: number }
  | { type: "REFUND_RECORDED"; at: number };

export type PurchaseEvent = CustomerEvent | PaymentEvent | SystemEvent;

/** What the pricing actor answers. Failures are values so the machine can explain them. */
export type PricingResult =
  | { ok: true; quote: QuoteDetails }
  | { ok: false; reason: "pricing_unavailable" | "out_of_stock" };

export type PaymentCreationResult =
  | { ok: true; payment: PaymentDetails }
  | { ok: false; reason: "payment_unavailable" };

export type DeliveryResult =
  | { ok: true; ref: string; hint: string; at: number }
  | { ok: false; reason: DeliveryFailure; at: number };

export type PricingInput = { orderId: OrderId; tokens: number };
export type PaymentCreationInput = { orderId: OrderId; chatId: ChatId; quote: QuoteDetails };
export type DeliveryInput = {
  orderId: OrderId;
  chatId: ChatId;
  tokens: number;
  usd: Money;
  charge: Money;
  attempt: number;
};

/**
 * What a state's tags mean to the engine:
 * - `busy`: an actor is working; the engine waits for it to settle before answering;
 * - `open`: the order can still move (by the customer, a payment, the sweeper or an admin);
 * - `terminal`: the order has ended; the chat's next message starts a new order;
 * - `resume`: durable waypoint; once stored, the engine moves on by itself (`START_DELIVERY`).
 */
export type PurchaseTag = "busy" | "open" | "terminal" | "resume";
