import { describe, expect, test } from "vitest";
import type { Problem } from "../../../machines/purchase.machine.ts";
import { DEFAULT_CATALOG } from "../../../src/domain/catalog.ts";
import { money } from "../../../src/domain/money.ts";
import { PURCHASE_STATE_NAMES } from "../../../machines/purchase.machine.ts";
import type { OrderId } from "../../../src/domain/ids.ts";
import type { OrderState } from "../../../src/domain/records.ts";
import type { EngineReply, OrderView, Refusal } from "../../../src/engine/reply.ts";
import { loadLocalization } from "../../../src/i18n/index.ts";
import { createRenderer, htmlMarkup, plainMarkup } from "../../../src/render/messages.ts";
import { latinWords } from "../../support/english.ts";

const NOW = Date.UTC(2026, 0, 1, 12);
// Strict: a variable a translation uses but the renderer did not pass fails the test.
const localization = loadLocalization({
  onError: (error, { language, id }) => {
    throw new Error(`${language}/${id}: ${String(error)}`);
  },
});
const html = createRenderer(DEFAULT_CATALOG, htmlMarkup, { localization, now: () => NOW });
const plain = createRenderer(DEFAULT_CATALOG, plainMarkup, { localization, now: () => NOW });

const PROBLEMS: (Problem | null)[] = [null, "pricing_unavailable", "out_of_stock", "payment_unavailable", "quote_refreshed", "payment_failed", "delivery_retrying", "delivery_failed"];
const REFUSALS: Refusal[] = ["amount_out_of_range", "nothing_to_confirm", "nothing_to_cancel", "payment_in_progress", "delivery_in_progress", "not_now"];

function order(state: OrderState, problem: Problem | null = null, extra: Partial<OrderView> = {}): OrderView {
  return {
    // Hostile on purpose (ids never look like this): escaping must hold whatever an id contains.
    orderId: "ord_<b>&1" as OrderId,
    state,
    provider: "cryptopay",
    tokens: 2000,
    usd: money(4000, "USD"),
    charge: money(4000, "USDT"),
    payUrl: "https://shop.example/pay/sandbox/sbx_1?a=1&b=\"2\"",
    quoteExpiresAt: NOW + 15 * 60_000,
    paymentExpiresAt: NOW + 60 * 60_000,
    deliveryHint: "<i>x1",
    nextDeliveryAttemptAt: null,
    problem,
    ...extra,
  };
}

/** One reply of every kind, about orders in every state with every problem. */
function everyReply(): EngineReply[] {
  const orders = PURCHASE_STATE_NAMES.flatMap((state) => PROBLEMS.map((problem) => order(state, problem)));
  return [
    ...orders.flatMap((o): EngineReply[] => [
      { kind: "order", order: o },
      { kind: "help", order: o },
      { kind: "not_understood", order: o },
      { kind: "stale_button", order: o },
      { kind: "unsupported_message", order: o },
      { kind: "no_order", lastOrder: o },
    ]),
    { kind: "order", order: order("delivered"), secret: "SECRET<&>" },
    { kind: "order", order: order("delivered", null, { deliveryHint: null }) },
    { kind: "order", order: order("quoted", null, { charge: money(4000, "USD") }) },
    { kind: "order", order: order("awaiting_payment", null, { charge: money(2000, "XTR") }) },
    { kind: "order", order: order("awaiting_payment", null, { provider: "sandbox" }) },
    { kind: "payment_notice", payment: { reason: "wrong_amount", paid: money(3999, "USDT"), foreign: null, next: "owner_refunds" }, order: order("awaiting_payment") },
    { kind: "payment_notice", payment: { reason: "foreign_currency", paid: null, foreign: { amount: "40.00<b>", unit: "EUR&" }, next: "owner_refunds" }, order: order("awaiting_payment") },
    { kind: "payment_notice", payment: { reason: "late", paid: money(4000, "USDT"), foreign: null, next: "owner_refunds" }, order: order("cancelled") },
    { kind: "payment_notice", payment: { reason: "late", paid: money(4000, "USDT"), foreign: null, next: "delivered" }, order: order("cancelled"), secret: "SECRET<&>" },
    { kind: "payment_notice", payment: { reason: "late", paid: money(2000, "XTR"), foreign: null, next: "refunded" }, order: order("expired") },
    { kind: "order", order: order("cancelled", null, { late: { paid: money(4000, "USDT"), next: "delivered" } }) },
    { kind: "order", order: order("expired", null, { late: { paid: money(4000, "USDT"), next: "refunded" } }) },
    { kind: "order", order: order("cancelled", null, { late: { paid: money(4000, "USDT"), next: "owner_refunds" } }) },
    { kind: "no_order", lastOrder: order("cancelled", null, { late: { paid: money(4000, "USDT"), next: "pending" } }) },
    { kind: "order", order: order("expired", null, { provider: null, payUrl: null }) },
    { kind: "order", order: order("awaiting_payment", null, { provider: "cryptopay" }), check: { provider: "cryptopay", result: "not_paid" } },
    { kind: "order", order: order("awaiting_payment", null, { provider: "stars" }), check: { provider: "stars", result: "unavailable" } },
    { kind: "stale_button", outdated: true, order: order("quoted") },
    { kind: "busy" },
    ...REFUSALS.flatMap((reason): EngineReply[] => [
      { kind: "refused", reason, order: null, tokens: 50 },
      { kind: "refused", reason, order: order("quoted") },
    ]),
    { kind: "help", order: null },
    { kind: "no_order", lastOrder: null },
    { kind: "not_understood", order: null },
    { kind: "stale_button", order: null },
    { kind: "too_long", limit: 2000 },
    { kind: "unsupported_message", order: null },
    { kind: "rate_limited" },
    { kind: "unavailable" },
    { kind: "help", order: null, notice: "conversation_reset" },
  ];
}

describe("the renderer in every language", () => {
  test.each(localization.languages)("%s: every reply renders with all its variables, and hostile strings stay escaped", (language) => {
    for (const reply of [...everyReply()]) {
      const { text, buttons } = html.render(reply, language);
      expect(text, JSON.stringify(reply)).not.toMatch(/\{\s*\$|\{\?\?\?\}/);
      expect(text).not.toContain("<b>&");
      expect(text).not.toContain("<i>");
      expect(text).not.toContain("SECRET<");
      for (const button of buttons.flat()) expect(button.label.trim()).not.toBe("");
    }
    expect(html.welcome(language).text).toContain("TokenGoblin");
  });

  test("English keeps its wording", () => {
    expect(plain.render({ kind: "order", order: order("quoted") }).text).toBe(
      "🧾 2,000 tokens for $40.00 (you pay 40.00 USDT).\nThis price is held for 15 minutes. Confirm to get a payment link, or tell me another amount.",
    );
    expect(plain.render({ kind: "refused", reason: "amount_out_of_range", order: null, tokens: 50 }).text).toBe(
      "50 tokens is outside what I can sell: orders are 100 tokens to 1,000,000 tokens.",
    );
    expect(plain.welcome().buttons.flat().map((b) => b.label)).toEqual(["1k", "5k", "10k", "20k"]);
  });

  test("Russian quotes read '2 000 токенов за 40,00 $' with Russian buttons", () => {
    const quoted = plain.render({ kind: "order", order: order("quoted", null, { charge: money(4000, "USD") }) }, "ru");
    expect(quoted.text.replace(/\u00a0/g, " ")).toBe(
      "🧾 2 000 токенов за 40,00 $.\nЦена действует ещё 15 минут. Подтвердите, чтобы получить ссылку на оплату, или назовите другое количество.",
    );
    expect(quoted.buttons.flat().map((b) => b.label.replace(/\u00a0/g, " "))).toEqual(["✅ Подтвердить", "✖ Отменить", "− 1 тыс.", "+ 1 тыс."]);
    const tooSmall = plain.render({ kind: "refused", reason: "amount_out_of_range", order: null, tokens: 1 }, "ru");
    expect(tooSmall.text.replace(/\u00a0/g, " ")).toContain("1 токен — столько я продать не могу: можно заказать от 100 токенов до 1 000 000 токенов.");
  });

  test("Russian replies contain no English words", () => {
    for (const reply of everyReply()) {
      const { text, buttons } = html.render(reply, "ru");
      expect(latinWords(text), text).toEqual([]);
      expect(latinWords(buttons.flat().map((b) => b.label).join(" "))).toEqual([]);
    }
  });

  test("buttons press the same actions in every language", () => {
    for (const reply of everyReply()) {
      const data = (language: string) => html.render(reply, language).buttons.flat().map((b) => ("press" in b ? b.press : b.url));
      for (const language of localization.languages) expect(data(language)).toEqual(data("en"));
    }
  });
});
