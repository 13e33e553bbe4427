/**
 * Words for an order: where it stands (`describeOrder`), in the customer's language, and the buttons
 * that act on it (`orderButtons`). Neither names a state: the order's state says which message
 * describes it and which buttons it offers (its `meta` in the machine), and the message's own
 * selectors pick the variant. Quote buttons carry the amount their message shows, so pressed later
 * they never act on another.
 */
import type { OrderView, PaymentCheck } from "../engine/reply.ts";
import { hasTag } from "../engine/reply.ts";
import { type Button, pressButton as button } from "./model.ts";
import type { Phrases } from "./phrases.ts";
import { createQuoteWords } from "./quote.ts";

const yesNo = (value: boolean) => (value ? "yes" : "no");

/** The order words of one language; built once per language with its {@link Phrases}. */
export function createOrderWords(phrases: Phrases) {
  const { catalog, several, m, tr, t, amountOf, short, cash, timeLeft, packagesFor, productOf, limitsFor } = phrases;
  const { detailLines } = createQuoteWords(phrases);
  const priceLine = (order: OrderView) => {
    if (!order.usd || !order.charge) return "";
    const usd = m.bold(cash(order.usd));
    return order.charge.currency === "USD" ? usd : t("price-with-charge", { usd, charge: m.bold(cash(order.charge)) });
  };
  const paidText = (paid: { amount: OrderView["usd"]; foreign: { amount: string; unit: string } | null }) =>
    paid.amount ? cash(paid.amount) : paid.foreign ? m.code(m.escape(`${paid.foreign.amount} ${paid.foreign.unit}`)) : "";

  const orderButtons = (order: OrderView): Button[][] => {
    const id = order.orderId;
    const offered = new Set(order.buttons);
    const rows: Button[][] = [];
    if (offered.has("pay") && order.payUrl) {
      const label = order.charge ? t("button-pay-amount", { charge: tr.money(order.charge) }) : t("button-pay");
      rows.push([{ label, url: order.payUrl }]);
    }
    const cancel = offered.has("cancel") ? [button(t("button-cancel"), { action: "cancel", orderId: id })] : [];
    // Quote buttons carry the amount this message shows: pressed later, they never act on another.
    const shown = order.tokens;
    if (offered.has("confirm")) rows.push([button(t("button-confirm"), { action: "confirm", orderId: id, shown }), ...cancel]);
    if (offered.has("adjust")) {
      const step = 1000;
      const product = several ? productOf(order.productId) : undefined;
      const [min, max] = product ? [product.min, product.max] : [catalog.minTokens, catalog.maxTokens];
      const amount = order.tokens ?? min;
      const adjust: Button[] = [];
      if (amount - step >= min)
        adjust.push(button(t("button-less", { step: short(step) }), { action: "amount", orderId: id, tokens: amount - step, shown }));
      if (amount + step <= max)
        adjust.push(button(t("button-more", { step: short(step) }), { action: "amount", orderId: id, tokens: amount + step, shown }));
      rows.push(adjust);
    }
    if (offered.has("status"))
      rows.push([button(t("button-status"), { action: "status", orderId: id }), ...(offered.has("confirm") ? [] : cancel)]);
    // Once the order ended, the next one starts from the start menu (in a shop of several, its products).
    if (offered.has("packages")) rows.push(packagesFor(hasTag(order, "ended") ? null : order.productId));
    return rows.filter((row) => row.length > 0);
  };

  /** A line about what went wrong, shown above the order; empty when there is nothing to say. */
  const problemLine = (order: OrderView): string => {
    switch (order.problem) {
      case "quote_refreshed":
        return `${t("problem-quote-refreshed")}\n`;
      case "payment_unavailable":
        return `${t("problem-payment-unavailable")}\n`;
      case "pricing_unavailable":
        return `${t("problem-pricing-unavailable")}\n`;
      case "out_of_stock":
        return `${t("problem-out-of-stock")}\n`;
      case "promo_refused":
        return `${t("problem-promo-refused", { reason: order.promoRefusal ?? "unknown" })}\n`;
      case "reissue_failed":
        return `${t("problem-reissue-failed")}\n`;
      case "payment_failed":
      case "delivery_retrying":
      case "delivery_failed":
      case null:
        return "";
      default: {
        const unhandled: never = order.problem;
        throw new Error(`unknown problem ${String(unhandled)}`);
      }
    }
  };

  /** What the provider said just now, above an open invoice: the status in words. */
  const checkLine = (check: PaymentCheck | undefined, order: OrderView): string => {
    if (!check || !hasTag(order, "accepts_payment") || check.result === "paid") return "";
    const key = check.result === "unavailable" ? "check-unavailable" : "check-not-paid";
    return `${t(key, { provider: check.provider })}\n\n`;
  };

  /** Extra payments returned beside the order, one line each. */
  const strayLines = (order: OrderView): string =>
    order.strays.map((stray) => `\n${t("order-stray", { status: stray.status, paid: paidText(stray) })}`).join("");

  const describeOrder = (order: OrderView, secret?: string): string => {
    const amount = order.tokens === null ? "" : amountOf(order.tokens, order.productId);
    const text = t(order.words, {
      amount: m.bold(amount),
      price: priceLine(order),
      time: timeLeft(hasTag(order, "accepts_payment") ? order.paymentExpiresAt : order.quoteExpiresAt),
      orderId: m.code(m.escape(order.orderId)),
      payUrl: m.escape(order.payUrl ?? ""),
      limits: limitsFor(order.productId),
      retrying: yesNo(order.problem === "delivery_retrying"),
      late: yesNo(order.late),
      shown: secret ? "secret" : order.deliveryHint ? "hint" : "none",
      secret: secret ? m.spoiler(m.code(m.escape(secret))) : "",
      hint: m.escape(order.deliveryHint ?? ""),
      reason: order.refund?.reason ?? "owner",
      invoiced: yesNo(order.payUrl !== null),
      charged: yesNo(order.strays.length > 0),
    });
    const test = hasTag(order, "accepts_payment") && order.provider === "sandbox" ? `\n${t("order-test-payment")}` : "";
    return problemLine(order) + text + detailLines(order, secret) + test + strayLines(order);
  };

  return {
    /** The order in words: its state, amount, price, time left and any problem. `secret`: goods to show once. */
    describeOrder,
    /** The buttons its state offers: confirm and ± on a quote, pay and status on an invoice, packages once it is over. */
    orderButtons,
    /** What the provider said when the customer asked about an open invoice; empty otherwise. */
    checkLine,
    /** Money as the customer paid it (in the shop's money, or the provider's figure for another currency). */
    paidText,
  };
}

/** See {@link createOrderWords}. */
export type OrderWords = ReturnType<typeof createOrderWords>;
