/**
 * Words for what the customer is told instead of, or on top of, the order: why a command was refused,
 * and money that could not pay the order as invoiced (wrong amount, foreign currency, late).
 */
import type { OrderView, PaymentNotice, Refusal } from "../engine/reply.ts";
import type { Phrases } from "./phrases.ts";

/** The notice words of one language; built once per language with its {@link Phrases}. */
export function createNoticeWords({ m, t, tokens, cash, limits }: Phrases) {
  const refusal = (reason: Refusal, requested?: number): string => {
    switch (reason) {
      case "amount_out_of_range":
        return requested === undefined ? t("refused-that-amount-out-of-range", { limits }) : t("refused-amount-out-of-range", { amount: tokens(requested), limits });
      case "nothing_to_confirm":
        return t("refused-nothing-to-confirm");
      case "nothing_to_cancel":
        return t("refused-nothing-to-cancel");
      case "payment_in_progress":
        return t("refused-payment-in-progress");
      case "delivery_in_progress":
        return t("refused-delivery-in-progress");
      case "not_now":
        return t("refused-not-now");
      default: {
        const unhandled: never = reason;
        throw new Error(`unknown refusal ${String(unhandled)}`);
      }
    }
  };

  /** Money that could not pay the order as invoiced: what arrived, and what happens next. */
  const paymentNotice = (notice: PaymentNotice, order: OrderView): string => {
    const paid = notice.paid ? cash(notice.paid) : notice.foreign ? m.code(m.escape(`${notice.foreign.amount} ${notice.foreign.unit}`)) : "";
    const orderId = m.code(m.escape(order.orderId));
    switch (notice.reason) {
      case "wrong_amount":
        return t("payment-wrong-amount", { paid, orderId, invoiced: order.charge ? cash(order.charge) : "" });
      case "foreign_currency":
        return t("payment-foreign-currency", { paid, orderId });
      case "late":
        switch (notice.next) {
          case "delivered":
            return t("payment-late-delivered", { paid, orderId, amount: order.tokens === null ? "" : m.bold(tokens(order.tokens)) });
          case "delivering":
            return t("payment-late-delivering", { paid, orderId, amount: order.tokens === null ? "" : m.bold(tokens(order.tokens)) });
          case "refunded":
            return t("payment-late-refunded", { paid, orderId });
          case "owner_refunds":
            return t("payment-late", { paid, orderId });
          default: {
            const unhandled: never = notice.next;
            throw new Error(`unknown late payment outcome ${String(unhandled)}`);
          }
        }
      default: {
        const unhandled: never = notice.reason;
        throw new Error(`unknown payment notice ${String(unhandled)}`);
      }
    }
  };

  return {
    /** Why a command was refused; `requested`: the amount asked for, when the refusal is about it. */
    refusal,
    /** Money that could not pay the order as invoiced: what arrived, and what happens next. */
    paymentNotice,
  };
}
