/**
 * Telegram Stars payments arrive as bot updates, not HTTP webhooks: `pre_checkout_query` (say yes only
 * if the order is still waiting for exactly this payment) and `message:successful_payment` (record it,
 * then confirm through the engine's payment door; a duplicated update confirms nothing twice).
 */
import { Api, Composer, type Context } from "grammy";
import type { Config } from "../config.ts";
import { OrderId } from "../domain/ids.ts";
import type { LanguagePreferences, Localization } from "../i18n/index.ts";
import { resultWithin } from "../failures.ts";
import type { Logger } from "../log.ts";
import type { PaymentProvider } from "../payments/index.ts";
import { type StarsApi, isStarsProvider } from "../payments/stars.ts";
import type { ShopStore } from "../store/index.ts";

/** The Bot API calls the Stars provider makes, from the bot token. */
export function starsApiFromConfig(config: Config): StarsApi {
  if (!config.telegram.token) throw new Error("TELEGRAM_BOT_TOKEN is required for PAYMENT_PROVIDER=stars");
  const api = new Api(config.telegram.token, { apiRoot: config.telegram.apiRoot });
  return {
    createInvoiceLink: (title, description, payload, providerToken, currency, prices) =>
      api.createInvoiceLink(title, description, payload, providerToken, currency, prices),
    refundStarPayment: (userId, chargeId) => api.refundStarPayment(userId, chargeId),
  };
}

/** What the Stars composer needs from the app (structural, so the Telegram module can pass `app`). */
export type StarsComposerApp = {
  payments: PaymentProvider;
  engine: { confirmPayment(provider: "stars", payment: { paymentId: string; chargeId: string }): Promise<{ outcome: string }> };
  store: ShopStore;
  log: Logger;
  localization: Localization;
  languages: LanguagePreferences;
};

/** Why a Stars payment was refused before it was taken; worded by `stars-refused` in the payer's language. */
type StarsRefusal = "disabled" | "not_stars" | "unknown_order" | "closed" | "expired" | "amount" | "timeout" | "error";

/** Telegram wants the pre-checkout answer within 10 s; we give our own lookups less than that. */
const PRE_CHECKOUT_BUDGET_MS = 7_000;

/**
 * Handles the two Stars updates: `pre_checkout_query` (say yes only if the order is still waiting for
 * exactly this payment) and `message:successful_payment` (record it, then confirm through the payment
 * door; a duplicated update confirms nothing twice). Mount it on the bot before other handlers.
 */
export function starsPaymentsComposer(app: StarsComposerApp, options: { clock?: () => number } = {}): Composer<Context> {
  const clock = options.clock ?? Date.now;
  const composer = new Composer<Context>();
  const stars = isStarsProvider(app.payments) ? app.payments : null;

  composer.on("pre_checkout_query", async (ctx) => {
    const query = ctx.preCheckoutQuery;
    const check = async (): Promise<StarsRefusal | null> => {
      if (!stars) return "disabled";
      if (query.currency !== "XTR") return "not_stars";
      const parsedOrder = OrderId.safeParse(query.invoice_payload);
      if (!parsedOrder.success) return "unknown_order";
      const orderId = parsedOrder.data;
      const [order, invoice] = await Promise.all([app.store.readOrder(orderId), stars.invoiceFor(orderId)]);
      if (!order || !invoice) return "unknown_order";
      // A Stars invoice's id is its order id (the invoice payload); only an order expecting it takes money.
      if (!order.summary.tags.includes("accepts_payment") || order.summary.paymentId !== (orderId as string)) return "closed";
      if (clock() >= invoice.expiresAt) return "expired";
      const due = order.summary.charge;
      if (!due || due.currency !== "XTR" || due.minor !== query.total_amount || invoice.stars !== query.total_amount) return "amount";
      return null;
    };
    let problem: StarsRefusal | null;
    try {
      problem = await resultWithin(check(), PRE_CHECKOUT_BUDGET_MS, "timeout" as const);
    } catch (error) {
      app.log.error("pre-checkout check failed", { err: error });
      problem = "error";
    }
    if (problem) app.log.info("stars pre-checkout refused", { orderId: query.invoice_payload, reason: problem });
    if (problem === null) {
      await ctx.answerPreCheckoutQuery(true);
      return;
    }
    // Said in the payer's language: Telegram shows it in its own payment sheet.
    const language = await app.languages.of(String(query.from.id), query.from.language_code).catch(() => app.localization.defaultLanguage);
    const words = app.localization.translator(language).t("stars-refused", { reason: problem });
    await ctx.answerPreCheckoutQuery(false, { error_message: words });
  });

  // The update was kept in the chat's inbox before it was acknowledged, so a crash here repeats it:
  // recording a charge and confirming it are both safe to repeat.
  composer.on("message:successful_payment", async (ctx) => {
    const payment = ctx.message.successful_payment;
    if (!stars || payment.currency !== "XTR") {
      app.log.error("successful_payment for a provider that is not active", { currency: payment.currency });
      return;
    }
    const parsedOrder = OrderId.safeParse(payment.invoice_payload);
    if (!parsedOrder.success) {
      app.log.error("successful_payment for an unknown order id; refund it by hand", { chargeId: payment.telegram_payment_charge_id });
      return;
    }
    const orderId = parsedOrder.data;
    const chargeId = payment.telegram_payment_charge_id;
    const recorded = await stars.recordPayment({ chargeId, orderId, userId: ctx.from?.id ?? ctx.chat.id, stars: payment.total_amount });
    // Always confirm, even for a duplicate update: if we crashed after recording, this finishes the job.
    // The order's machine decides what the charge pays for (its invoice, or nothing: then it is refunded).
    const outcome = await app.engine.confirmPayment("stars", { paymentId: orderId, chargeId });
    app.log.info("stars payment", { orderId, fresh: recorded.fresh, outcome: outcome.outcome });
  });

  return composer;
}
