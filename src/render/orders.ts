/**
 * Words for an order: where it stands (`describeOrder`), in the customer's language, and the buttons
 * that act on it in that state (`orderButtons`). Quote buttons carry the amount their message shows,
 * so pressed later they never act on another (issue 13).
 */
import type { OrderView, PaymentCheck } from "../engine/reply.ts";
import { type Button, pressButton as button } from "./model.ts";
import type { Phrases } from "./phrases.ts";

/** The order words of one language; built once per language with its {@link Phrases}. */
export function createOrderWords({ catalog, m, tr, t, tokens, short, cash, timeLeft, packages, limits }: Phrases) {
  const priceLine = (order: OrderView) => {
    if (!order.usd || !order.charge) return "";
    const usd = m.bold(cash(order.usd));
    return order.charge.currency === "USD" ? usd : t("price-with-charge", { usd, charge: m.bold(cash(order.charge)) });
  };

  const orderButtons = (order: OrderView): Button[][] => {
    const id = order.orderId;
    const status = () => button(t("button-status"), { action: "status", orderId: id });
    const cancel = () => button(t("button-cancel"), { action: "cancel", orderId: id });
    switch (order.state) {
      case "quoted": {
        const step = 1000;
        const amount = order.tokens ?? catalog.minTokens;
        const adjust: Button[] = [];
        // Quote buttons carry the amount this message shows: pressed later, they never act on another.
        const shown = order.tokens;
        if (amount - step >= catalog.minTokens) adjust.push(button(t("button-less", { step: short(step) }), { action: "amount", orderId: id, tokens: amount - step, shown }));
        if (amount + step <= catalog.maxTokens) adjust.push(button(t("button-more", { step: short(step) }), { action: "amount", orderId: id, tokens: amount + step, shown }));
        const rows = [[button(t("button-confirm"), { action: "confirm", orderId: id, shown }), cancel()]];
        if (adjust.length > 0) rows.push(adjust);
        return rows;
      }
      case "awaiting_payment": {
        const pay = order.charge ? t("button-pay-amount", { charge: tr.money(order.charge) }) : t("button-pay");
        return [...(order.payUrl ? [[{ label: pay, url: order.payUrl }]] : []), [status(), cancel()]];
      }
      case "paid":
      case "delivery_failed":
      case "pricing":
      case "creating_payment":
        return [[status()]];
      case "initial":
      case "delivered":
      case "cancelled":
      case "expired":
      case "payment_failed":
      case "refunded":
        return [packages];
      default: {
        const unhandled: never = order.state;
        throw new Error(`unknown state ${String(unhandled)}`);
      }
    }
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

  /** The code of goods issued for a late payment, shown once, like a delivered order's. */
  const codeLine = (secret: string | undefined) => (secret ? `\n${t("late-code", { secret: m.spoiler(m.code(m.escape(secret))) })}` : "");

  /** An order that closed unpaid, but money arrived for it afterwards: never "nothing was charged". */
  const closedButPaid = (order: OrderView, late: NonNullable<OrderView["late"]>, secret?: string): string =>
    t("order-closed-paid-late", {
      state: order.state,
      orderId: m.code(m.escape(order.orderId)),
      paid: late.paid ? cash(late.paid) : "",
      next: late.next,
      hint: m.escape(order.deliveryHint ?? ""),
    }) + codeLine(secret);

  /** What the provider said just now, above the invoice (issue 13): the status in words. */
  const checkLine = (check: PaymentCheck | undefined, order: OrderView): string => {
    if (!check || order.state !== "awaiting_payment" || check.result === "paid") return "";
    const key = check.result === "unavailable" ? "check-unavailable" : "check-not-paid";
    return `${t(key, { provider: check.provider })}\n\n`;
  };

  const describeOrder = (order: OrderView, secret?: string): string => {
    const amount = order.tokens === null ? "" : tokens(order.tokens);
    const orderId = m.code(m.escape(order.orderId));
    if (order.late && (order.state === "cancelled" || order.state === "expired" || order.state === "payment_failed")) return closedButPaid(order, order.late, secret);
    switch (order.state) {
      case "initial":
        return problemLine(order) + (catalog.minTokens === 1 ? t("ask-amount") : t("ask-amount-within", { limits }));
      case "pricing":
      case "creating_payment":
        return t("order-working", { amount });
      case "quoted":
        return problemLine(order) + t("order-quoted", { amount: m.bold(amount), price: priceLine(order), time: timeLeft(order.quoteExpiresAt) });
      case "awaiting_payment":
        return t(order.provider === "sandbox" ? "order-awaiting-test-payment" : "order-awaiting-payment", {
          orderId,
          amount: m.bold(amount),
          price: priceLine(order),
          payUrl: m.escape(order.payUrl ?? ""),
          time: timeLeft(order.paymentExpiresAt),
        });
      case "paid":
        return t(order.problem === "delivery_retrying" ? "order-paid-retrying" : "order-paid", { amount });
      case "delivered":
        if (secret) return t("order-delivered-secret", { amount: m.bold(amount), secret: m.spoiler(m.code(m.escape(secret))) });
        return order.deliveryHint
          ? t("order-delivered-hint", { orderId, amount, hint: m.escape(order.deliveryHint) })
          : t("order-delivered", { orderId, amount });
      case "delivery_failed":
        return t("order-delivery-failed", { amount });
      case "refunded":
        return t("order-refunded", { orderId });
      case "cancelled":
        return t("order-cancelled");
      case "expired":
        // A quote that was never confirmed had no payment to speak of.
        return order.payUrl === null && order.provider === null ? t("order-quote-expired", { amount }) : t("order-expired", { amount });
      case "payment_failed":
        return t("order-payment-failed", { amount });
      default: {
        const unhandled: never = order.state;
        throw new Error(`unknown state ${String(unhandled)}`);
      }
    }
  };

  return {
    /** The order in words: its state, amount, price, time left and any problem. `secret`: goods to show once. */
    describeOrder,
    /** The buttons that act on the order in its state: confirm and ± on a quote, pay and status on an invoice, packages once it is closed. */
    orderButtons,
    /** The line showing goods issued for a late payment; empty without a secret. */
    codeLine,
    /** What the provider said when the customer asked about an open invoice; empty otherwise. */
    checkLine,
  };
}

/** See {@link createOrderWords}. */
export type OrderWords = ReturnType<typeof createOrderWords>;
