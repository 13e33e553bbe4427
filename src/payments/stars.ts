/**
 * Telegram Stars (XTR) as a payment provider. There is no HTTP webhook: Telegram tells the bot about a
 * payment with a `successful_payment` message, which the Telegram layer (`src/telegram/stars.ts`)
 * records here and then hands to the same payment door as every other provider (`engine.confirmPayment`).
 *
 * The payment id is the order id: it is the invoice `payload`, it comes back in `pre_checkout_query`
 * and `successful_payment`, and `fetchPayment` answers "paid" only for an order a `successful_payment`
 * was recorded for — so a forged or replayed update can't confirm anything Telegram didn't.
 */
import { z } from "zod";
import { settleWithin } from "../failures.ts";
import { money } from "../domain/money.ts";
import type { Claims, Collection } from "../store/index.ts";
import { type PaymentProvider, type ProviderResult, fail, failed, ok } from "./provider.ts";

/** The slice of the Bot API the provider needs; `bot.api` (grammY) fits it. */
export type StarsApi = {
  createInvoiceLink(
    title: string,
    description: string,
    payload: string,
    provider_token: string,
    currency: string,
    prices: { label: string; amount: number }[],
  ): Promise<string>;
  refundStarPayment(user_id: number, telegram_payment_charge_id: string): Promise<true>;
};

/** An invoice link made for an order, so retries return the same link. */
export const StarsInvoiceRecord = z.object({
  v: z.literal(1),
  orderId: z.string(),
  stars: z.number().int().positive(),
  payUrl: z.string(),
  expiresAt: z.number().int(),
});
export type StarsInvoiceRecord = z.infer<typeof StarsInvoiceRecord>;

/** A `successful_payment` Telegram sent us, keyed by its charge id (Telegram's uniqueness rule). */
export const StarsPaymentRecord = z.object({
  v: z.literal(1),
  chargeId: z.string(),
  orderId: z.string(),
  userId: z.number().int(),
  stars: z.number().int().nonnegative(),
  at: z.number().int(),
  refunded: z.boolean(),
});
export type StarsPaymentRecord = z.infer<typeof StarsPaymentRecord>;

export type StarsOptions = {
  api: StarsApi;
  /** Keyed by order id. */
  invoices: Collection<StarsInvoiceRecord>;
  /** Keyed by `charge:<telegram_payment_charge_id>` and, for the first payment of an order, `order:<orderId>`. */
  payments: Collection<StarsPaymentRecord>;
  /** Atomic claims: which charge is an order's first payment, across processes too. */
  claims: Claims;
  clock: () => number;
  /** Bot API calls slower than this are treated as "unavailable" (grammY's own default is minutes). */
  timeoutMs?: number;
};

export type StarsProvider = PaymentProvider & {
  readonly kind: "stars";
  /** Records a `successful_payment`; `fresh: false` when this charge id was already recorded. */
  recordPayment(payment: Omit<StarsPaymentRecord, "v" | "refunded" | "at">): Promise<{ fresh: boolean; extra: boolean }>;
  /** The invoice created for an order, if any. */
  invoiceFor(orderId: string): Promise<StarsInvoiceRecord | undefined>;
};

export function createStarsPayments(options: StarsOptions): StarsProvider {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const withTimeout = async <T>(work: Promise<T>, what: string): Promise<ProviderResult<T>> => {
    try {
      return await settleWithin(work.then((value) => ok(value)), timeoutMs, fail<T>("unavailable", `${what}: timed out`));
    } catch (error) {
      return fail("unavailable", `${what}: ${error instanceof Error ? error.message.slice(0, 200) : "failed"}`);
    }
  };

  const record = async (payment: Omit<StarsPaymentRecord, "v" | "refunded" | "at">): Promise<{ fresh: boolean; extra: boolean }> => {
    const chargeKey = `charge:${payment.chargeId}`;
    if (await options.payments.get(chargeKey)) return { fresh: false, extra: false };
    const entry: StarsPaymentRecord = { v: 1, ...payment, at: options.clock(), refunded: false };
    await options.payments.set(chargeKey, entry);
    // The claim decides atomically which charge is "the" payment of the order; any other is extra.
    if (!(await options.claims.tryClaim(`stars-order:${payment.orderId}`, payment.chargeId, null))) return { fresh: true, extra: true };
    await options.payments.set(`order:${payment.orderId}`, entry);
    return { fresh: true, extra: false };
  };

  return {
    name: "stars",
    kind: "stars",
    currency: "XTR",
    async createInvoice(request) {
      const known = await options.invoices.get(request.orderId);
      if (known) return ok({ paymentId: known.orderId, payUrl: known.payUrl, expiresAt: known.expiresAt });
      if (request.charge.currency !== "XTR" || request.charge.minor < 1) {
        return fail("rejected", `Stars invoices need a whole number of XTR, got ${request.charge.minor} ${request.charge.currency}`);
      }
      const title = request.title.slice(0, 32);
      const link = await withTimeout(
        // Stars: empty provider token, currency XTR, exactly one price.
        options.api.createInvoiceLink(title, request.description.slice(0, 255), request.orderId, "", "XTR", [
          { label: title, amount: request.charge.minor },
        ]),
        "createInvoiceLink",
      );
      if (!link.ok) return failed(link);
      const record: StarsInvoiceRecord = { v: 1, orderId: request.orderId, stars: request.charge.minor, payUrl: link.value, expiresAt: request.expiresAt };
      await options.invoices.set(request.orderId, record);
      return ok({ paymentId: request.orderId, payUrl: link.value, expiresAt: request.expiresAt });
    },

    async fetchPayment(paymentId) {
      const paid = await options.payments.get(`order:${paymentId}`);
      if (paid) return ok({ paymentId, status: "paid", amount: money(paid.stars, "XTR"), orderId: paid.orderId });
      const invoice = await options.invoices.get(paymentId);
      if (!invoice) return fail("not_found");
      const status = options.clock() >= invoice.expiresAt ? "expired" : "pending";
      return ok({ paymentId, status, amount: money(invoice.stars, "XTR"), orderId: invoice.orderId });
    },

    // Stars payments arrive as bot updates, never as HTTP webhooks: nothing posted here is trusted.
    verifyWebhook() {
      return null;
    },

    async refund(paymentId) {
      // An order's payment is refunded by order id; an extra payment (kept as a late payment) by `charge:<id>`.
      const key = paymentId.startsWith("charge:") ? paymentId : `order:${paymentId}`;
      const paid = await options.payments.get(key);
      if (!paid) return fail("not_found");
      if (paid.refunded) return ok({ refundId: paid.chargeId });
      const refunded = await withTimeout(options.api.refundStarPayment(paid.userId, paid.chargeId), "refundStarPayment");
      if (!refunded.ok) return failed(refunded);
      const marked = { ...paid, refunded: true };
      const first = await options.payments.get(`order:${paid.orderId}`);
      await Promise.all([
        options.payments.set(`charge:${paid.chargeId}`, marked),
        ...(first?.chargeId === paid.chargeId ? [options.payments.set(`order:${paid.orderId}`, marked)] : []),
      ]);
      return ok({ refundId: paid.chargeId });
    },

    recordPayment: record,

    invoiceFor(orderId) {
      return options.invoices.get(orderId);
    },
  };
}

/** Narrows a provider to the Stars one (the composer needs its payment store). */
export function isStarsProvider(provider: PaymentProvider): provider is StarsProvider {
  return provider.name === "stars" && (provider as Partial<StarsProvider>).kind === "stars";
}
