import { describe, expect, test } from "vitest";
import { loadLocalization } from "../../../src/i18n/index.ts";
import type { SandboxInvoice } from "../../../src/payments/sandbox.ts";
import { renderSandboxPage } from "../../../src/web/sandbox-page.ts";

const localization = loadLocalization();
const invoice: SandboxInvoice = {
  v: 1,
  paymentId: "sbx_ord_1",
  orderId: 'ord_<script>"',
  amount: { minor: 4000, currency: "USDT" },
  description: "ignored",
  status: "pending",
  expiresAt: 0,
  paidAt: null,
};

describe("sandbox pay page", () => {
  test("shows the order in the customer's language, with a Pay button while pending", () => {
    const ru = renderSandboxPage(localization.translator("ru"), { invoice, paymentId: "sbx_ord_1", tokens: 2000 }).replace(/\u00a0/g, " ");
    expect(ru).toContain('<html lang="ru">');
    expect(ru).toContain("2 000 токенов, заказ ord_&lt;script&gt;&quot;");
    expect(ru).toContain('<p class="amount">40,00 USDT</p>');
    expect(ru).toContain("Статус: ожидает оплаты");
    expect(ru).toContain('<button type="submit">Оплатить</button>');
    expect(ru).not.toContain("<script>");

    const en = renderSandboxPage(localization.translator("en"), {
      invoice: { ...invoice, status: "paid" },
      paymentId: "sbx_ord_1",
      tokens: 2000,
      notice: { kind: "sent" },
    });
    expect(en).toContain("2,000 tokens, order ord_&lt;script&gt;");
    expect(en).toContain("Status: paid");
    expect(en).toContain("<b>Payment sent. You can go back to the chat.</b>");
    expect(en).not.toContain("<form");
  });

  test("says why paying was refused, and when there is no such invoice", () => {
    const refused = renderSandboxPage(localization.translator("ru"), {
      invoice: { ...invoice, status: "expired" },
      paymentId: "x",
      tokens: null,
      notice: { kind: "refused", reason: "expired" },
    });
    expect(refused).toContain("Оплата невозможна: срок счёта истёк.");
    expect(refused).toContain("Заказ ord_");
    expect(renderSandboxPage(localization.translator("en"), { invoice: undefined, paymentId: "x", tokens: null })).toContain(
      "No such invoice.",
    );
  });
});
