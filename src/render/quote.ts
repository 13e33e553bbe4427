/**
 * What an order's price is made of and what its goods are worth (issue 21), in the customer's
 * language: the unit price and volume tier, the promo code's discount, the OpenRouter credit a key
 * holds, and, with delivered goods, how a voucher is redeemed (the owner's words) or what a key holds.
 * A plain quote of a one-product shop with no tier, code or credit says nothing more than before.
 */
import { money } from "../domain/money.ts";
import type { OrderView } from "../engine/reply.ts";
import { hasTag } from "../engine/reply.ts";
import type { Phrases } from "./phrases.ts";

/** The quote words of one language; built once per language with its {@link Phrases}. */
export function createQuoteWords({ shop, promos, several, m, t, tokens, cash, productOf }: Phrases) {
  /** A promo code's discount as the customer reads it: "10%" or "$5.00". */
  const promoDiscount = (code: string): string | null => {
    const promo = promos().find((p) => p.code === code);
    if (!promo) return null;
    const discount = promo.discount;
    return discount.kind === "percent" ? `${discount.percent}%` : cash(money(discount.usdCents, "USD"));
  };

  /** The breakdown of an open quote or invoice: unit price (and tier), the code's discount, the key's credit. */
  const quoteLines = (order: OrderView): string[] => {
    const b = order.breakdown;
    if (!b || !(several || b.tier !== null || b.promoCode !== null || b.credit !== null)) return [];
    const lines = [
      t("quote-unit-price", {
        price: cash(b.unitPrice),
        per: tokens(b.pricePer),
        tier: b.tier ? "yes" : "no",
        from: b.tier ? tokens(b.tier.from) : "",
      }),
    ];
    if (b.promoCode !== null && b.discount.minor > 0)
      lines.push(t("quote-promo", { code: m.code(m.escape(b.promoCode)), discount: cash(b.discount), list: cash(b.list) }));
    if (b.credit !== null) lines.push(t("quote-credit", { credit: m.bold(cash(b.credit)) }));
    return lines;
  };

  /** Beside delivered goods shown once: what replaced what, what a key holds, how a voucher is used. */
  const goodsLines = (order: OrderView): string[] => {
    const lines = order.reissues > 0 ? [t("reissued")] : [];
    const credit = order.breakdown?.credit ?? null;
    if (credit !== null) lines.push(t("delivered-credit", { credit: m.bold(cash(credit)) }));
    else if ((productOf(order.productId) ?? shop.products[0])?.delivery === "voucher") lines.push(t("voucher-redeem"));
    return lines;
  };

  /** Lines below an order's message: a quote's breakdown, a code applied before any amount, goods' notes. */
  const detailLines = (order: OrderView, secret?: string): string => {
    const lines: string[] = [];
    if (secret) lines.push(...goodsLines(order));
    else if (hasTag(order, "open") && order.breakdown) lines.push(...quoteLines(order));
    else if (hasTag(order, "open") && order.promoCode !== null && order.problem === null) {
      const discount = promoDiscount(order.promoCode);
      if (discount) lines.push(t("promo-applied", { code: m.code(m.escape(order.promoCode)), discount }));
    }
    return lines.map((line) => `\n${line}`).join("");
  };

  return { detailLines, promoDiscount };
}
