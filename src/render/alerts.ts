/**
 * Words for the shop's admins: the alerts sent when an order needs a person (a delivery that kept
 * failing, a payment that came late or in the wrong amount), in Telegram HTML and the admin's language.
 */
import type { Translator } from "../i18n/index.ts";
import { escapeHtml } from "./html.ts";

/** What an admin must act on. */
export type AdminAlert =
  | { kind: "delivery_failed" | "goods_undeliverable"; orderId: string; chatId: string }
  | { kind: "payment_late" | "payment_mismatch"; orderId: string; paymentId: string };

const code = (text: string) => `<code>${escapeHtml(text)}</code>`;

/** The alert as Telegram HTML. */
export function formatAdminAlert(tr: Translator, alert: AdminAlert): string {
  const ids = { orderId: code(alert.orderId), command: escapeHtml(alert.orderId) };
  switch (alert.kind) {
    case "delivery_failed":
      return tr.t("alert-delivery-failed", { ...ids, chatId: code(alert.chatId) });
    case "goods_undeliverable":
      return tr.t("alert-goods-undeliverable", { ...ids, chatId: code(alert.chatId) });
    case "payment_late":
      return tr.t("alert-payment-late", { ...ids, paymentId: code(alert.paymentId) });
    case "payment_mismatch":
      return tr.t("alert-payment-mismatch", { ...ids, paymentId: code(alert.paymentId) });
    default: {
      const unhandled: never = alert;
      throw new Error(`unknown alert ${JSON.stringify(unhandled)}`);
    }
  }
}
