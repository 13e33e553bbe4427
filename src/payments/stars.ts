/**
 * Telegram Stars (XTR) as a payment provider. There is no HTTP webhook: Telegram tells the bot about a
 * payment with a `successful_payment` message, which the Telegram layer (`src/telegram/stars.ts`)
 * records here and then hands to the same payment door as every other provider (`engine.confirmPayment`).
 *
 * The invoice's id is the order id: it is the invoice `payload` and comes back in `pre_checkout_query`
 * and `successful_payment`. Each payment has its own id, Telegram's `telegram_payment_charge_id`: one
 * invoice link can be paid twice, and the order's machine returns a second charge. `fetchPayment`
 * answers "paid" only for a charge a `successful_payment` was recorded for (or, asked by invoice id,
 * for the order's first recorded charge) — so a forged or replayed update can't confirm anything
 * Telegram didn't.
 */
import { z } from "zod";
import { resultWithin } from "../failures.ts";
import { money } from "../domain/money.ts";
import type { Collection } from "../store/index.ts";
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

/**
 * How long after an invoice's deadline a payment may still complete: Telegram finishes a payment within
 * seconds of the pre-checkout answer, and pre-checkout says no from the deadline on.
 */
const IN_FLIGHT_MS = 10 * 60_000;

export type StarsOptions = {
  api: StarsApi;
  /** Keyed by order id. */
  invoices: Collection<StarsInvoiceRecord>;
  /** Keyed by `charge:<telegram_payment_charge_id>` and, for the first payment recorded for an order, `order:<orderId>`. */
  payments: Collection<StarsPaymentRecord>;
  clock: () => number;
  /** Bot API calls slower than this are treated as "unavailable" (grammY's own default is minutes). */
  timeoutMs?: number;
};

export type StarsProvider = PaymentProvider & {
  readonly kind: "stars";
  /** Records a `successful_payment`; `fresh: false` when this charge id was already recorded. */
  recordPayment(payment: Omit<StarsPaymentRecord, "v" | "refunded" | "at">): Promise<{ fresh: boolean }>;
  /** The invoice created for an order, if any. */
  invoiceFor(orderId: string): Promise<StarsInvoiceRecord | undefined>;
};

export function createStarsPayments(options: StarsOptions): StarsProvider {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const withTimeout = async <T>(work: Promise<T>, what: string): Promise<ProviderResult<T>> => {
    try {
      return await resultWithin(
        work.then((value) => ok(value)),
        timeoutMs,
        fail<T>("unavailable", `${what}: timed out`),
      );
    } catch (error) {
      return fail("unavailable", `${what}: ${error instanceof Error ? error.message.slice(0, 200) : "failed"}`);
    }
  };

  const record = async (payment: Omit<StarsPaymentRecord, "v" | "refunded" | "at">): Promise<{ fresh: boolean }> => {
    const chargeKey = `charge:${payment.chargeId}`;
    if (await options.payments.get(chargeKey)) return { fresh: false };
    const entry: StarsPaymentRecord = { v: 1, ...payment, at: options.clock(), refunded: false };
    await options.payments.set(chargeKey, entry);
    // Asked by invoice (the order's own check), the order's first recorded charge answers; which charge
    // actually pays the order is the order machine's decision, not this record's.
    if (!(await options.payments.get(`order:${payment.orderId}`))) await options.payments.set(`order:${payment.orderId}`, entry);
    return { fresh: true };
  };

  /** A recorded charge by its own id, or an order's first recorded charge by the order (invoice) id. */
  const recorded = async (id: string) => (await options.payments.get(`charge:${id}`)) ?? (await options.payments.get(`order:${id}`));

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
      const record: StarsInvoiceRecord = {
        v: 1,
        orderId: request.orderId,
        stars: request.charge.minor,
        payUrl: link.value,
        expiresAt: request.expiresAt,
      };
      await options.invoices.set(request.orderId, record);
      return ok({ paymentId: request.orderId, payUrl: link.value, expiresAt: request.expiresAt });
    },

    async fetchPayment(paymentId) {
      const paid = await recorded(paymentId);
      if (paid) return ok({ paymentId, status: "paid", amount: money(paid.stars, "XTR"), orderId: paid.orderId });
      const invoice = await options.invoices.get(paymentId);
      if (!invoice) return fail("not_found");
      // The link itself never expires at Telegram: only a payment pre-checkout let start can still arrive, within moments.
      const status = options.clock() >= invoice.expiresAt + IN_FLIGHT_MS ? "expired" : "pending";
      return ok({ paymentId, status, amount: money(invoice.stars, "XTR"), orderId: invoice.orderId });
    },

    // Stars payments arrive as bot updates, never as HTTP webhooks: nothing posted here is trusted.
    verifyWebhook() {
      return null;
    },

    async cancelInvoice(paymentId) {
      // A Stars link cannot be revoked at Telegram. Pre-checkout refuses new payments for an order that
      // no longer accepts them, but one it already let start may still complete: the order keeps
      // watching the invoice, and such money is delivered or returned by LATE_PAYMENT.
      return (await options.invoices.get(paymentId)) ? fail("unsupported", "a Stars invoice link cannot be revoked") : fail("not_found");
    },

    async refund(chargeId) {
      const paid = await recorded(chargeId);
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
