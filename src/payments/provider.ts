/**
 * The payment provider contract. A provider creates invoices (idempotently per order), tells the
 * truth about an invoice when asked (`fetchPayment`), and authenticates its webhooks. Nothing else in
 * the product decides that money arrived: see `confirm.ts`, the only path to `PAYMENT_CONFIRMED`.
 */
import type { ChatId, OrderId } from "../domain/ids.ts";
import type { Currency, Money } from "../domain/money.ts";

export type ProviderName = "sandbox" | "cryptopay" | "stars";

export type InvoiceRequest = {
  orderId: OrderId;
  chatId: ChatId;
  tokens: number;
  usd: Money;
  charge: Money;
  /** A short title (Telegram Stars allows 32 characters), in the customer's language. */
  title: string;
  description: string;
  expiresAt: number;
};

export type Invoice = { paymentId: string; payUrl: string; expiresAt: number };

/** What the provider says about an invoice right now. */
export type PaymentStatus = {
  paymentId: string;
  status: "pending" | "paid" | "expired" | "failed";
  /**
   * What was actually paid (or is due, while pending), when it is in a currency the shop prices in;
   * null when the provider reports another currency (then `foreign` says what it was).
   */
  amount: Money | null;
  /** The provider's own figure and unit when `amount` is null, e.g. { amount: "40.00", unit: "EUR" }. */
  foreign?: { amount: string; unit: string } | null;
  /** The order id the invoice was created for, as the provider echoes it back (payload). */
  orderId: string | null;
};

/** Provider failures are values: the engine turns them into polite replies and retries. */
export type ProviderResult<T> = { ok: true; value: T } | { ok: false; reason: ProviderFailure; detail?: string };
export type ProviderFailure = "unavailable" | "rejected" | "not_found" | "unauthorized" | "unsupported";

/** A webhook after signature checks: only the id is trusted, the status is re-fetched. */
export type WebhookNotice = { paymentId: string };

export type WebhookRequest = { rawBody: Buffer; headers: Record<string, string | string[] | undefined> };

export type PaymentProvider = {
  readonly name: ProviderName;
  /** The currency invoices are charged in; quotes are priced in it. */
  readonly currency: Currency;
  createInvoice(request: InvoiceRequest): Promise<ProviderResult<Invoice>>;
  fetchPayment(paymentId: string): Promise<ProviderResult<PaymentStatus>>;
  /** Checks the signature over the raw body; `null` means forged, malformed or irrelevant. */
  verifyWebhook(request: WebhookRequest): WebhookNotice | null;
  /** Best effort: stop an unpaid invoice from being paid (cancelled orders). */
  cancelInvoice?(paymentId: string): Promise<ProviderResult<void>>;
  refund?(paymentId: string, amount: Money): Promise<ProviderResult<{ refundId: string }>>;
};

export function ok<T>(value: T): ProviderResult<T> {
  return { ok: true, value };
}

export function fail<T>(reason: ProviderFailure, detail?: string): ProviderResult<T> {
  return detail === undefined ? { ok: false, reason } : { ok: false, reason, detail };
}

/** Passes a failure on as the result of another call (its value type differs, its failure does not). */
export function failed<T>(failure: Extract<ProviderResult<unknown>, { ok: false }>): ProviderResult<T> {
  return fail(failure.reason, failure.detail);
}

/** Parses a raw webhook body as JSON; `null` for anything that is not (bodies are untrusted input). */
export function parseJsonOrNull(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString("utf8"));
  } catch {
    return null;
  }
}

/** The key of a provider's payment in the payment index and the payment records (one rule, one place). */
export function paymentKey(provider: ProviderName, paymentId: string): string {
  return `${provider}:${paymentId}`;
}
