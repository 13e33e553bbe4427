/**
 * Words for what the customer is told instead of, or on top of, the order: why a command was refused,
 * and money that could not pay the order as invoiced (wrong amount, foreign currency, late, a second
 * payment) with what happens to it next.
 */
import { MAX_REISSUES } from "../../machines/purchase.types.ts";
import type { OrderView, PaymentNotice, Refusal } from "../engine/reply.ts";
import type { Phrases } from "./phrases.ts";

/** The notice words of one language; built once per language with its {@link Phrases}. */
export function createNoticeWords(
  { m, t, tokens, amountOf, cash, limitsFor }: Phrases,
  paidText: (paid: { amount: OrderView["usd"]; foreign: PaymentNotice["foreign"] }) => string,
) {
  /** Why a command was refused; `requested` and `product`: the amount asked for and its product, when the refusal is about it. */
  const refusal = (reason: Refusal, requested?: number, product?: string): string => {
    const limits = limitsFor(product);
    switch (reason) {
      case "amount_out_of_range":
        return requested === undefined
          ? t("refused-that-amount-out-of-range", { limits })
          : t("refused-amount-out-of-range", { amount: amountOf(requested, product), limits });
      case "unknown_product":
        return t("refused-unknown-product");
      case "nothing_to_reissue":
        return t("refused-nothing-to-reissue");
      case "reissue_limit":
        return t("refused-reissue-limit", { max: MAX_REISSUES });
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
    const args = {
      paid: paidText({ amount: notice.paid, foreign: notice.foreign }),
      orderId: m.code(m.escape(order.orderId)),
      invoiced: order.charge ? cash(order.charge) : "",
      amount: order.tokens === null ? "" : m.bold(tokens(order.tokens)),
      next: notice.next,
    };
    switch (notice.reason) {
      case "wrong_amount":
        return t("payment-wrong-amount", args);
      case "foreign_currency":
        return t("payment-foreign-currency", args);
      case "late":
        return t("payment-late", args);
      case "extra":
        return t("payment-extra", args);
      default: {
        const unhandled: never = notice.reason;
        throw new Error(`unknown payment notice ${String(unhandled)}`);
      }
    }
  };

  return {
    /** Why a command was refused; `requested` and `product`: the amount asked for and its product. */
    refusal,
    /** Money that could not pay the order as invoiced: what arrived, and what happens next. */
    paymentNotice,
  };
}
