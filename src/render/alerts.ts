/**
 * Words for the shop's admins: the alerts sent when an order needs a person (a delivery that kept
 * failing, goods that could not be sent, money the provider cannot return by itself), in Telegram HTML
 * and the admin's language.
 */
import type { Translator } from "../i18n/index.ts";
import { escapeHtml } from "./html.ts";

/** What an admin must act on: a delivery that kept failing, goods that could not be sent, money only they can return. */
export type AdminAlert = { kind: "delivery_failed" | "goods_undeliverable" | "refund_by_hand"; orderId: string; chatId: string };

const code = (text: string) => `<code>${escapeHtml(text)}</code>`;

/** The alert as Telegram HTML. */
export function formatAdminAlert(tr: Translator, alert: AdminAlert): string {
  const ids = { orderId: code(alert.orderId), command: escapeHtml(alert.orderId) };
  switch (alert.kind) {
    case "delivery_failed":
      return tr.t("alert-delivery-failed", { ...ids, chatId: code(alert.chatId) });
    case "goods_undeliverable":
      return tr.t("alert-goods-undeliverable", { ...ids, chatId: code(alert.chatId) });
    case "refund_by_hand":
      return tr.t("alert-refund-by-hand", { ...ids, chatId: code(alert.chatId) });
    default: {
      const unhandled: never = alert.kind;
      throw new Error(`unknown alert ${String(unhandled)}`);
    }
  }
}
