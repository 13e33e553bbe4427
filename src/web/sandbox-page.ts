/**
 * The sandbox pay page: what a customer sees after opening the pay link of a sandbox invoice, in the
 * language of the chat that placed the order. Plain HTML; every dynamic string is escaped.
 */
import { money } from "../domain/money.ts";
import type { Translator } from "../i18n/index.ts";
import type { SandboxInvoice, SandboxProvider } from "../payments/sandbox.ts";
import { escapeHtml } from "../render/html.ts";

/** Why paying did not happen (the sandbox's own reasons). */
export type SandboxRefusal = Extract<Awaited<ReturnType<SandboxProvider["pay"]>>, { ok: false }>["reason"];

/** A line shown above the invoice after the Pay button was pressed. */
/**
 * A line shown above the invoice after the Pay button was pressed: `sent` (recorded; the shop is told
 * right after), `not_recorded` (the payment service could not record it just now: press Pay again).
 */
export type SandboxPageNotice = { kind: "sent" } | { kind: "not_recorded" } | { kind: "refused"; reason: SandboxRefusal };

export type SandboxPage = {
  invoice: SandboxInvoice | undefined;
  paymentId: string;
  /** The order's token count, when the order is known. */
  tokens: number | null;
  notice?: SandboxPageNotice;
};

function noticeText(tr: Translator, notice: SandboxPageNotice): string {
  switch (notice.kind) {
    case "sent":
      return tr.t("page-sent");
    case "not_recorded":
      return tr.t("page-not-recorded");
    case "refused":
      return tr.t("page-refused", { reason: notice.reason });
    default: {
      const unhandled: never = notice;
      throw new Error(`unknown notice ${JSON.stringify(unhandled)}`);
    }
  }
}

/** The page as HTML, worded by `tr`. */
export function renderSandboxPage(tr: Translator, page: SandboxPage): string {
  const esc = escapeHtml;
  const { invoice, paymentId } = page;
  const payForm = `<form method="post" action="/pay/sandbox/${encodeURIComponent(paymentId)}"><button type="submit">${esc(tr.t("page-pay"))}</button></form>`;
  // When the click could not be recorded the invoice may not have been readable either: offer Pay again, not "no such invoice".
  const body = !invoice
    ? page.notice?.kind === "not_recorded"
      ? payForm
      : `<p>${esc(tr.t("page-no-invoice"))}</p>`
    : `<p>${esc(
        page.tokens === null
          ? tr.t("page-order-unknown", { orderId: invoice.orderId })
          : tr.t("page-order", { tokens: tr.t("tokens", { count: page.tokens, tokens: tr.count(page.tokens) }), orderId: invoice.orderId }),
      )}</p>
<p class="amount">${esc(tr.money(money(invoice.amount.minor, invoice.amount.currency)))}</p>
<p>${esc(tr.t("page-status", { status: invoice.status }))}</p>
${invoice.status === "cancelled" || invoice.status === "expired" ? `<p><b>${esc(tr.t("page-closed"))}</b></p>` : ""}
${invoice.status === "pending" ? payForm : ""}`;
  const notice = page.notice ? `<p><b>${esc(noticeText(tr, page.notice))}</b></p>` : "";
  return `<!doctype html><html lang="${esc(tr.language)}"><head><meta charset="utf-8"><title>${esc(tr.t("page-title"))}</title>
<style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem}.amount{font-size:2rem}button{font-size:1.2rem;padding:.5rem 2rem}</style>
</head><body><h1>${esc(tr.t("page-heading"))}</h1><p><i>${esc(tr.t("page-test-mode"))}</i></p>${notice}${body}</body></html>`;
}
