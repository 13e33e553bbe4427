/**
 * The words of a shop with several products (issue 21), in every language: the products in the help
 * and the start menu, an amount named with its product, what a quote is made of (unit price, tier,
 * promo discount, OpenRouter credit), what delivered goods are worth or how a voucher is used, a
 * reissue, and the new refusals. The owner's product names are escaped in messages and left as they
 * are on buttons (plain text everywhere).
 */
import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import type { PurchaseContext, QuoteDetails } from "../../../machines/purchase.machine.ts";
import { singleProductView } from "../../../src/domain/catalog.ts";
import { parseCatalog } from "../../../src/domain/catalog-file.ts";
import type { OrderId } from "../../../src/domain/ids.ts";
import { money } from "../../../src/domain/money.ts";
import { type EngineReply, orderView } from "../../../src/engine/reply.ts";
import { loadLocalization } from "../../../src/i18n/index.ts";
import { createRenderer, htmlMarkup, plainMarkup } from "../../../src/render/messages.ts";
import { latinWords } from "../../support/english.ts";
import { T0, orderIn } from "../../support/order-snapshots.ts";

const localization = loadLocalization({
  onError: (error, { language, id }) => {
    throw new Error(`${language}/${id}: ${String(error)}`);
  },
});
const HOSTILE = "R&D <b>tokens</b>";
const text = readFileSync("test/fixtures/catalog-two-products.yaml", "utf8").replace(
  '{ en: "GPT tokens", ru: "GPT-токены" }',
  `{ en: "${HOSTILE}", ru: "${HOSTILE}" }`,
);
const parsed = parseCatalog(text, "yaml", { starsPerUsd: 50 });
if (!parsed.ok) throw new Error(parsed.error);
const catalog = singleProductView(parsed.shop);
const html = createRenderer(catalog, htmlMarkup, { localization, now: () => T0 });
const plain = createRenderer(catalog, plainMarkup, { localization, now: () => T0 });

const details = (over: Partial<NonNullable<QuoteDetails["details"]>> = {}): NonNullable<QuoteDetails["details"]> => ({
  unitPrice: money(125, "USD"),
  pricePer: 100,
  tier: null,
  baseList: money(2_500, "USD"),
  list: money(2_500, "USD"),
  promoCode: null,
  discount: money(0, "USD"),
  credit: money(2_000, "USD"),
  ...over,
});
/** An order of 2,000 "or-credit" (or `productId`) standing in `path`, its quote made as `breakdown` says. */
function order(path: string, context: Partial<PurchaseContext> = {}, breakdown = details()) {
  const snapshot = orderIn(path, { context: { productId: "or-credit", ...context } });
  const quote = snapshot.context.quote ? { ...snapshot.context.quote, usd: breakdown.list, details: breakdown } : null;
  return { ...orderView(orderIn(path, { context: { productId: "or-credit", ...context, quote } })), orderId: "ord_1" as OrderId };
}

function replies(): EngineReply[] {
  const promo = details({ promoCode: "SPRING10", discount: money(250, "USD"), list: money(2_500, "USD") });
  const tier = details({ unitPrice: money(1_800, "USD"), pricePer: 1000, tier: { from: 10_000 }, credit: null });
  return [
    { kind: "help", order: null, greeting: true },
    { kind: "order", order: order("quoted") },
    { kind: "order", order: order("quoted", {}, promo) },
    { kind: "order", order: order("quoted", { productId: "gpt-tokens", tokens: 10_000 }, tier) },
    { kind: "order", order: order("awaiting_payment", {}, promo) },
    { kind: "order", order: order("choosing_product", { productId: null, tokens: 2_000 }) },
    { kind: "order", order: order("initial", { promoCode: "SPRING10" }) },
    { kind: "order", order: order("initial", { productId: null, promoRefusal: "already_used_by_you", problem: "promo_refused" }) },
    { kind: "order", order: order("delivered"), secret: "sk-or-v1-<x>" },
    { kind: "order", order: order("delivered", { productId: "gpt-tokens", reissues: 1 }, details({ credit: null })), secret: "TG-ABC" },
    { kind: "order", order: order("delivered", { reissues: 1 }), secret: "sk-or-v1-new" },
    { kind: "refused", reason: "amount_out_of_range", order: null, tokens: 200, product: "or-credit" },
    { kind: "refused", reason: "unknown_product", order: null },
    { kind: "refused", reason: "nothing_to_reissue", order: null },
    { kind: "refused", reason: "reissue_limit", order: null },
    {
      kind: "orders",
      orders: [
        {
          orderId: "ord_1" as OrderId,
          productId: "gpt-tokens",
          canReissue: true,
          stage: "delivered",
          words: "order-delivered",
          tags: ["delivered", "ended"],
          tokens: 2000,
          usd: money(4000, "USD"),
          charge: null,
          createdAt: T0,
          deliveryHint: "…ABCD",
        },
        {
          orderId: "ord_2" as OrderId,
          productId: "or-credit",
          canReissue: false,
          stage: "delivered",
          words: "order-delivered",
          tags: ["delivered", "ended"],
          tokens: 1000,
          usd: money(1250, "USD"),
          charge: null,
          createdAt: T0,
          deliveryHint: "…WXYZ",
        },
      ],
      order: null,
    },
  ];
}

describe("a shop of several products, in every language", () => {
  test.each(localization.languages)(
    "%s: every reply renders with all its variables; the owner's names are escaped in text, plain on buttons",
    (language) => {
      for (const reply of replies()) {
        const { text: shown, buttons } = html.render(reply, language);
        expect(shown, JSON.stringify(reply)).not.toMatch(/\{\s*\$|\{\?\?\?\}/);
        expect(shown).not.toContain("<b>tokens</b>");
        expect(shown).not.toContain("<x>");
        for (const button of buttons.flat()) {
          expect(button.label.trim()).not.toBe("");
          expect(button.label).not.toContain("&amp;");
        }
      }
      expect(
        html
          .render({ kind: "help", order: null }, language)
          .buttons.flat()
          .map((b) => b.label),
      ).toEqual([HOSTILE, language === "ru" ? "Кредит OpenRouter" : "OpenRouter credit"]);
    },
  );

  test("Russian replies contain no English beyond the products' own names", () => {
    for (const reply of replies()) {
      const { text: shown, buttons } = html.render(reply, "ru");
      const strip = (s: string) => s.replace(/R&amp;D|R&D|tokens|OpenRouter|GPT|SPRING10|…[A-Z]+/g, " ");
      expect(latinWords(strip(shown)), shown).toEqual([]);
      expect(
        latinWords(
          strip(
            buttons
              .flat()
              .map((b) => b.label)
              .join(" "),
          ),
        ),
      ).toEqual([]);
    }
  });

  test("English says what a quote is made of and what the goods are worth", () => {
    const [help, quoted, promo, tier, , choosing, applied, refusedCode, key, voucher] = replies().map((reply) => plain.render(reply).text);
    expect(help).toContain(
      `• ${HOSTILE}: $20.00 per 1,000 tokens (100 tokens to 1,000,000 tokens)\n• OpenRouter credit: $1.25 per 100 tokens (500 tokens to 100,000 tokens)`,
    );
    expect(quoted).toBe(
      "🧾 2,000 tokens (OpenRouter credit) for $25.00 (you pay 40.00 USDT).\nThis price is held for 15 minutes. Confirm to get a payment link, or tell me another amount.\n" +
        "Price: $1.25 per 100 tokens\n🔑 The key holds $20.00 of OpenRouter credit.",
    );
    expect(promo).toContain("🏷 Promo code SPRING10: −$2.50 (was $25.00)");
    expect(tier).toContain("Price: $18.00 per 1,000 tokens (volume price from 10,000 tokens)");
    expect(tier).not.toContain("OpenRouter credit.");
    expect(choosing).toBe("🛒 Which product are the 2,000 tokens for? Pick one below.");
    expect(applied).toContain("🏷 Promo code SPRING10 applied: 10% off your order.");
    expect(refusedCode).toMatch(/^🏷 You have already used that promo code, so it was not applied\./);
    expect(key).toContain("🔑 This key holds $20.00 of OpenRouter credit.");
    expect(voucher).toContain(
      "🔑 This replaces your earlier key or code, which no longer works.\n🎟 To use it, send the code to the shop owner",
    );
    const list = plain.render(replies().at(-1)!);
    expect(list.buttons.flat().map((b) => b.label)).toEqual([
      "🔑 Reissue …ABCD",
      `🔁 Buy 2,000 tokens (${HOSTILE}) again`,
      "🔁 Buy 1,000 tokens (OpenRouter credit) again",
      HOSTILE,
      "OpenRouter credit",
    ]);
    expect(list.buttons.flat().flatMap((b) => ("press" in b ? [b.press] : []))).toContainEqual({
      action: "package",
      tokens: 2000,
      product: "gpt-tokens",
    });
  });
});
