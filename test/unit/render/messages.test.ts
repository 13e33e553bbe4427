import { describe, expect, test } from "vitest";
import type { Problem, PurchaseContext } from "../../../machines/purchase.machine.ts";
import { STATE_PATHS } from "../../../machines/purchase.reading.ts";
import { DEFAULT_CATALOG } from "../../../src/domain/catalog.ts";
import type { OrderId } from "../../../src/domain/ids.ts";
import { money } from "../../../src/domain/money.ts";
import { type EngineReply, type OrderView, type PaymentNotice, type Refusal, orderView } from "../../../src/engine/reply.ts";
import { loadLocalization } from "../../../src/i18n/index.ts";
import { createRenderer, htmlMarkup, plainMarkup } from "../../../src/render/messages.ts";
import { latinWords } from "../../support/english.ts";
import { T0, orderIn } from "../../support/order-snapshots.ts";

const NOW = T0;
// Strict: a variable a translation uses but the renderer did not pass fails the test.
const localization = loadLocalization({
  onError: (error, { language, id }) => {
    throw new Error(`${language}/${id}: ${String(error)}`);
  },
});
const html = createRenderer(DEFAULT_CATALOG, htmlMarkup, { localization, now: () => NOW });
const plain = createRenderer(DEFAULT_CATALOG, plainMarkup, { localization, now: () => NOW });

const PROBLEMS: (Problem | null)[] = [
  null,
  "pricing_unavailable",
  "out_of_stock",
  "payment_unavailable",
  "quote_refreshed",
  "payment_failed",
  "delivery_retrying",
  "delivery_failed",
  "promo_refused",
  "reissue_failed",
];
const REFUSALS: Refusal[] = [
  "amount_out_of_range",
  "nothing_to_confirm",
  "nothing_to_cancel",
  "payment_in_progress",
  "delivery_in_progress",
  "unknown_product",
  "nothing_to_reissue",
  "reissue_limit",
  "not_now",
];
const HOSTILE_URL = 'https://shop.example/pay/sandbox/sbx_1?a=1&b="2"';

/**
 * The view of an order of 2,000 tokens for $40.00 standing in `path`, as the engine shows it (from
 * the machine's own snapshot), with hostile strings where a customer or provider supplies them.
 */
function order(
  path: string,
  problem: Problem | null = null,
  extra: Partial<OrderView> = {},
  context: Partial<PurchaseContext> = {},
): OrderView {
  const view = orderView(orderIn(path, { context: { problem, ...context } }));
  return {
    ...view,
    // Hostile on purpose (ids never look like this): escaping must hold whatever an id contains.
    orderId: "ord_<b>&1" as OrderId,
    provider: view.provider === null ? null : "cryptopay",
    payUrl: view.payUrl === null ? null : HOSTILE_URL,
    deliveryHint: "<i>x1",
    ...extra,
  };
}

const REFUND_REASONS = ["late", "mismatch", "owner"] as const;
const NOTICES: PaymentNotice[] = [
  { reason: "wrong_amount", paid: money(3999, "USDT"), foreign: null, next: "owner_refunds" },
  { reason: "wrong_amount", paid: money(3999, "XTR"), foreign: null, next: "refunded" },
  { reason: "foreign_currency", paid: null, foreign: { amount: "40.00<b>", unit: "EUR&" }, next: "owner_refunds" },
  { reason: "late", paid: money(4000, "USDT"), foreign: null, next: "owner_refunds" },
  { reason: "late", paid: money(4000, "USDT"), foreign: null, next: "delivered" },
  { reason: "late", paid: money(4000, "USDT"), foreign: null, next: "delivering" },
  { reason: "late", paid: money(2000, "XTR"), foreign: null, next: "refunded" },
  { reason: "extra", paid: money(2000, "XTR"), foreign: null, next: "refunded" },
  { reason: "extra", paid: money(4000, "USDT"), foreign: null, next: "owner_refunds" },
];

/** One reply of every kind, about orders in every state with every problem, and every variant of each order message. */
function everyReply(): EngineReply[] {
  const orders = STATE_PATHS.flatMap((path) => PROBLEMS.map((problem) => order(path, problem)));
  const refunds = REFUND_REASONS.flatMap((reason) =>
    ["refunding", "refunded", "awaiting_owner_refund"].map((path) =>
      order(path, null, {
        refund: {
          reason,
          amount: reason === "mismatch" ? null : money(4000, "USDT"),
          foreign: reason === "mismatch" ? { amount: "39<b>", unit: "EUR&" } : null,
          refunded: path === "refunded",
          manual: false,
        },
      }),
    ),
  );
  const strays = order("delivered", null, {
    strays: [
      { amount: money(4000, "USDT"), foreign: null, status: "returning" },
      { amount: money(2000, "XTR"), foreign: null, status: "refunded" },
      { amount: null, foreign: { amount: "40.00<b>", unit: "EUR&" }, status: "owed" },
    ],
  });
  return [
    ...[...orders, ...refunds, strays].flatMap((o): EngineReply[] => [
      { kind: "order", order: o },
      { kind: "help", order: o },
      { kind: "not_understood", order: o },
      { kind: "stale_button", order: o },
      { kind: "unsupported_message", order: o },
      { kind: "no_order", lastOrder: o },
    ]),
    { kind: "order", order: order("delivered"), secret: "SECRET<&>" },
    { kind: "order", order: order("delivered", null, { deliveryHint: null }) },
    { kind: "order", order: order("delivered", null, { late: true }) },
    { kind: "order", order: order("paid.delivering", null, { late: true }) },
    { kind: "order", order: order("expired", null, { payUrl: null, provider: null }) },
    { kind: "order", order: order("quoted", null, { charge: money(4000, "USD") }) },
    { kind: "order", order: order("awaiting_payment", null, { charge: money(2000, "XTR") }) },
    { kind: "order", order: order("awaiting_payment", null, { provider: "sandbox" }) },
    { kind: "order", order: order("quoted"), budget: { usd: money(4001, "USD"), tokens: 2000, roundedDown: true } },
    ...NOTICES.flatMap((payment): EngineReply[] => [
      { kind: "payment_notice", payment, order: order("awaiting_payment") },
      { kind: "payment_notice", payment, order: order("delivered", null, { late: true }), secret: "SECRET<&>" },
      {
        kind: "payment_notice",
        payment,
        order: order("refunded", null, {
          refund: { reason: "late", amount: money(4000, "USDT"), foreign: null, refunded: true, manual: false },
        }),
      },
    ]),
    {
      kind: "order",
      order: order("awaiting_payment", null, { provider: "cryptopay" }),
      check: { provider: "cryptopay", result: "not_paid" },
    },
    { kind: "order", order: order("awaiting_payment", null, { provider: "stars" }), check: { provider: "stars", result: "unavailable" } },
    { kind: "order", order: order("awaiting_payment", null, { provider: "sandbox" }), check: { provider: "sandbox", result: "not_paid" } },
    { kind: "stale_button", outdated: true, order: order("quoted") },
    { kind: "busy" },
    ...REFUSALS.flatMap((reason): EngineReply[] => [
      { kind: "refused", reason, order: null, tokens: 50 },
      { kind: "refused", reason, order: order("quoted") },
    ]),
    { kind: "help", order: null },
    { kind: "help", order: null, greeting: true },
    { kind: "help", order: null, askAmount: true },
    { kind: "thanks" },
    { kind: "answer", topic: "refunds", order: order("quoted") },
    { kind: "answer", topic: "coins", order: null },
    { kind: "clarify", choices: [{ tokens: 2000 }, { tokens: 100_000, usdCents: 200_000 }], order: order("quoted") },
    {
      kind: "orders",
      orders: [
        {
          orderId: "ord_<b>&1" as OrderId,
          productId: "tokens",
          canReissue: true,
          stage: "delivered",
          words: "order-delivered",
          tags: ["delivered", "ended"],
          tokens: 2000,
          usd: money(4000, "USD"),
          charge: money(4000, "USDT"),
          createdAt: NOW,
          deliveryHint: "<i>x1",
        },
        {
          orderId: "ord_2" as OrderId,
          productId: "tokens",
          canReissue: false,
          stage: "awaiting_owner_refund",
          words: "order-awaiting-owner-refund",
          tags: ["needs_owner"],
          tokens: 5000,
          usd: money(10_000, "USD"),
          charge: null,
          createdAt: NOW,
          deliveryHint: null,
        },
      ],
      order: null,
    },
    { kind: "orders", orders: [], order: order("quoted") },
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
    expect(
      plain
        .welcome()
        .buttons.flat()
        .map((b) => b.label),
    ).toEqual(["1k", "5k", "10k", "20k"]);
    // An order paid after it had closed and delivered anyway says so whenever it is shown again.
    expect(
      plain.render({ kind: "order", order: order("delivered", null, { orderId: "ord_1" as OrderId, late: true, deliveryHint: "…ABCD" }) })
        .text,
    ).toBe(
      "🎉 Your payment for order ord_1 arrived after it had closed; this shop honoured it and delivered 2,000 tokens (code ending …ABCD).",
    );
  });

  test("Russian quotes read '2 000 токенов за 40,00 $' with Russian buttons", () => {
    const quoted = plain.render({ kind: "order", order: order("quoted", null, { charge: money(4000, "USD") }) }, "ru");
    expect(quoted.text.replace(/\u00a0/g, " ")).toBe(
      "🧾 2 000 токенов за 40,00 $.\nЦена действует ещё 15 минут. Подтвердите, чтобы получить ссылку на оплату, или назовите другое количество.",
    );
    expect(quoted.buttons.flat().map((b) => b.label.replace(/\u00a0/g, " "))).toEqual([
      "✅ Подтвердить",
      "✖ Отменить",
      "− 1 тыс.",
      "+ 1 тыс.",
    ]);
    const tooSmall = plain.render({ kind: "refused", reason: "amount_out_of_range", order: null, tokens: 1 }, "ru");
    expect(tooSmall.text.replace(/\u00a0/g, " ")).toContain(
      "1 токен — столько я продать не могу: можно заказать от 100 токенов до 1 000 000 токенов.",
    );
  });

  test("Russian replies contain no English words", () => {
    for (const reply of everyReply()) {
      const { text, buttons } = html.render(reply, "ru");
      expect(latinWords(text), text).toEqual([]);
      expect(
        latinWords(
          buttons
            .flat()
            .map((b) => b.label)
            .join(" "),
        ),
      ).toEqual([]);
    }
  });

  test("buttons press the same actions in every language", () => {
    for (const reply of everyReply()) {
      const data = (language: string) =>
        html
          .render(reply, language)
          .buttons.flat()
          .map((b) => ("press" in b ? b.press : b.url));
      for (const language of localization.languages) expect(data(language)).toEqual(data("en"));
    }
  });
});
