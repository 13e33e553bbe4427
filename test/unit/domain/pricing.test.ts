import { describe, expect, test } from "vitest";
import { DEFAULT_CATALOG, priceTokens } from "../../../src/domain/catalog.ts";
import { formatMoney } from "../../../src/domain/money.ts";
import {
  convertFromUsd,
  creditFor,
  discountCents,
  priceOrder,
  productWithinLimits,
  tierFor,
  unitsForBudget,
} from "../../../src/domain/pricing.ts";
import type { Product, Promo } from "../../../src/domain/products.ts";

const GPT: Product = {
  id: "gpt-tokens",
  name: { en: "GPT tokens" },
  aliases: {},
  pricePer: 1000,
  priceUsdCents: 2000,
  tiers: [
    { from: 10_000, priceUsdCents: 1800 },
    { from: 100_000, priceUsdCents: 1600 },
  ],
  min: 100,
  max: 1_000_000,
  packages: [1000],
  delivery: "openrouter_key",
  creditUsdCents: 1600,
};
const VOUCHER: Product = { ...GPT, id: "vouchers", tiers: [], delivery: "voucher", creditUsdCents: null, priceUsdCents: 1999 };
const promo = (discount: Promo["discount"], products: string[] | null = null): Promo => ({
  code: "SPRING10",
  discount,
  maxUses: null,
  expiresAt: null,
  oncePerCustomer: false,
  products,
});
const USD = { currency: "USD" as const, starsPerUsd: 50 };

describe("volume tiers", () => {
  test.each([
    [100, null],
    [9999, null],
    [10_000, 10_000],
    [99_999, 10_000],
    [100_000, 100_000],
    [1_000_000, 100_000],
  ])("%i units are priced by the tier from %s", (units, from) => {
    expect(tierFor(GPT, units)?.from ?? null).toBe(from);
  });

  test("the tier prices the whole amount, not only the units above its threshold", () => {
    const price = priceOrder(GPT, 10_000, USD);
    expect(price.unitPrice).toEqual({ minor: 1800, currency: "USD" });
    expect(price.list.minor).toBe(18_000); // 10,000 × $18.00 / 1,000, not 9,999 at $20 + 1 at $18
    expect(price.baseList.minor).toBe(20_000);
    expect(price.tier).toEqual({ from: 10_000, priceUsdCents: 1800 });
  });

  test("just below a tier costs more than the tier itself: the step is the owner's choice, and pricing keeps it exact", () => {
    expect(priceOrder(GPT, 9999, USD).final.minor).toBe(19_998);
    expect(priceOrder(GPT, 10_000, USD).final.minor).toBe(18_000);
  });

  test("tiers written out of order still pick the highest from not above the amount", () => {
    const shuffled = { ...GPT, tiers: [...GPT.tiers].reverse() };
    expect(tierFor(shuffled, 150_000)?.from).toBe(100_000);
    expect(tierFor(shuffled, 50_000)?.from).toBe(10_000);
  });
});

describe("list price", () => {
  test("2,000 tokens at $20.00 per 1,000 are $40.00 and 40.00 USDT: the same integer", () => {
    const price = priceOrder(GPT, 2000, { ...USD, currency: "USDT" });
    expect(formatMoney(price.final)).toBe("$40.00");
    expect(formatMoney(price.charge)).toBe("40.00 USDT");
  });

  test("a fraction of a cent is rounded up, in the shop's favour", () => {
    // 1,234 × $19.99 / 1,000 = $24.66766
    expect(priceOrder(VOUCHER, 1234, USD).list.minor).toBe(2467);
    expect(priceOrder({ ...VOUCHER, pricePer: 7, priceUsdCents: 13, min: 1 }, 1, USD).list.minor).toBe(2);
  });

  test("matches exact rational arithmetic on awkward amounts and prices", () => {
    const product = { ...VOUCHER, pricePer: 997, priceUsdCents: 123_457, min: 1, max: 9_000_000_000 };
    for (const units of [1, 996, 997, 998, 123_456_789, 8_999_999_999]) {
      const exact = (BigInt(units) * 123_457n + 996n) / 997n;
      expect(BigInt(priceOrder(product, units, USD).list.minor)).toBe(exact);
    }
  });

  test("refuses amounts outside the product's limits, and fractions", () => {
    expect(productWithinLimits(GPT, 100)).toBe(true);
    expect(productWithinLimits(GPT, 99)).toBe(false);
    expect(productWithinLimits(GPT, 1_000_001)).toBe(false);
    expect(productWithinLimits(GPT, 150.5)).toBe(false);
    expect(() => priceOrder(GPT, 99, USD)).toThrow(RangeError);
  });
});

describe("promo codes", () => {
  test("a percentage is taken off the list price, rounded down to a cent so the price stays at or above exact", () => {
    // $24.67 list, 10% = $2.467 → $2.46 off → $22.21 (exactly $22.203 would be below)
    expect(discountCents(promo({ kind: "percent", percent: 10 }), 2467)).toBe(246);
    const price = priceOrder(VOUCHER, 1234, { ...USD, promo: promo({ kind: "percent", percent: 10 }) });
    expect(price).toMatchObject({ list: { minor: 2467 }, discount: { minor: 246 }, final: { minor: 2221 }, promoCode: "SPRING10" });
  });

  test("the promo applies after the tier", () => {
    const price = priceOrder(GPT, 10_000, { ...USD, promo: promo({ kind: "percent", percent: 10 }) });
    expect(price).toMatchObject({
      baseList: { minor: 20_000 },
      list: { minor: 18_000 },
      discount: { minor: 1800 },
      final: { minor: 16_200 },
    });
  });

  test("a dollar discount is taken whole", () => {
    expect(priceOrder(GPT, 2000, { ...USD, promo: promo({ kind: "usd", usdCents: 500 }) }).final.minor).toBe(3500);
  });

  test("no discount takes the price below one cent: providers cannot invoice nothing", () => {
    expect(priceOrder(GPT, 2000, { ...USD, promo: promo({ kind: "usd", usdCents: 1_000_000 }) }).final.minor).toBe(1);
    expect(priceOrder(GPT, 2000, { ...USD, promo: promo({ kind: "percent", percent: 100 }) })).toMatchObject({
      discount: { minor: 3999 },
      final: { minor: 1 },
    });
    expect(discountCents(promo({ kind: "usd", usdCents: 5 }), 1)).toBe(0);
  });

  test("without a promo the discount is zero and the final price is the list price", () => {
    const price = priceOrder(GPT, 2000, USD);
    expect(price).toMatchObject({ promoCode: null, discount: { minor: 0, currency: "USD" }, final: price.list });
  });

  test("a promo for another product is a caller's bug, not a silent discount", () => {
    expect(() => priceOrder(GPT, 2000, { ...USD, promo: promo({ kind: "percent", percent: 10 }, ["vouchers"]) })).toThrow(RangeError);
    expect(priceOrder(VOUCHER, 2000, { ...USD, promo: promo({ kind: "percent", percent: 10 }, ["vouchers"]) }).final.minor).toBe(3599); // $39.98 − $3.99
  });
});

describe("the charge currency", () => {
  test("USD and USDT are the same cents; Stars are whole, rounded up", () => {
    const final = { minor: 2221, currency: "USD" as const };
    expect(convertFromUsd(final, "USD", 50)).toEqual({ minor: 2221, currency: "USD" });
    expect(convertFromUsd(final, "USDT", 50)).toEqual({ minor: 2221, currency: "USDT" });
    expect(convertFromUsd(final, "XTR", 50)).toEqual({ minor: 1111, currency: "XTR" }); // 1,110.5 stars
    expect(convertFromUsd({ minor: 1, currency: "USD" }, "XTR", 50).minor).toBe(1);
  });

  test("the discounted price is what is converted", () => {
    expect(priceOrder(VOUCHER, 1234, { currency: "XTR", starsPerUsd: 50, promo: promo({ kind: "percent", percent: 10 }) }).charge).toEqual({
      minor: 1111,
      currency: "XTR",
    });
  });
});

describe("OpenRouter credit and margin", () => {
  test("the order buys credit per unit × amount, rounded down: a key never holds more than was sold", () => {
    expect(creditFor(GPT, 2000)).toEqual({ minor: 3200, currency: "USD" }); // "$32.00 of OpenRouter credit"
    expect(creditFor(GPT, 2001)?.minor).toBe(3201); // $32.016
    expect(creditFor({ ...GPT, pricePer: 100, creditUsdCents: 100 }, 1234)?.minor).toBe(1234);
    expect(creditFor(VOUCHER, 2000)).toBeNull();
  });

  test("the margin is what the customer pays less the credit; tiers and promos shrink it, not the credit", () => {
    expect(priceOrder(GPT, 2000, USD)).toMatchObject({ credit: { minor: 3200 }, marginUsdCents: 800 });
    expect(priceOrder(GPT, 100_000, USD)).toMatchObject({ final: { minor: 160_000 }, credit: { minor: 160_000 }, marginUsdCents: 0 });
    const promoted = priceOrder(GPT, 100_000, { ...USD, promo: promo({ kind: "percent", percent: 10 }) });
    expect(promoted).toMatchObject({ credit: { minor: 160_000 }, marginUsdCents: -16_000 });
    expect(priceOrder(VOUCHER, 2000, USD).marginUsdCents).toBeNull();
  });
});

describe("budgets", () => {
  test("a budget buys the most units whose price is within it", () => {
    expect(unitsForBudget(VOUCHER, 2500)).toBe(1250); // $25.00 at $19.99 per 1,000 → 1,250.6
    expect(priceOrder(VOUCHER, 1250, USD).final.minor).toBeLessThanOrEqual(2500);
    expect(priceOrder(VOUCHER, 1251, USD).final.minor).toBeGreaterThan(2500);
  });

  test("with tiers, a budget just under a tier's price buys into the tier (10,555 units for $190, not 9,500)", () => {
    expect(unitsForBudget(GPT, 19_000)).toBe(10_555);
    expect(priceOrder(GPT, 10_555, USD).final.minor).toBe(18_999);
  });

  test("agrees with a brute-force search on a small awkward product", () => {
    const small: Product = {
      ...VOUCHER,
      pricePer: 7,
      priceUsdCents: 13,
      tiers: [
        { from: 20, priceUsdCents: 11 },
        { from: 45, priceUsdCents: 8 },
      ],
      min: 1,
      max: 10_000,
    };
    for (let budget = 1; budget <= 120; budget++) {
      let best = 0;
      for (let units = 1; units <= 200; units++) if (priceOrder(small, units, USD).list.minor <= budget) best = units;
      expect(unitsForBudget(small, budget), `budget ${budget}`).toBe(best);
    }
  });

  test("is not clamped to the limits: an amount outside them is refused with the limits, like any other", () => {
    expect(unitsForBudget(GPT, 1)).toBe(0);
    expect(unitsForBudget(GPT, 100_000_000)).toBe(62_500_000);
  });
});

describe("priceTokens, today's callers' entry", () => {
  test("is the default product's price without a promo, as before catalogs", () => {
    expect(priceTokens(DEFAULT_CATALOG, 2000, "USD")).toEqual({
      usd: { minor: 4000, currency: "USD" },
      charge: { minor: 4000, currency: "USD" },
    });
    expect(priceTokens(DEFAULT_CATALOG, 150, "XTR").charge).toEqual({ minor: 150, currency: "XTR" });
  });

  test("uses the view's product, tiers included", () => {
    const view = { ...DEFAULT_CATALOG, product: GPT };
    expect(priceTokens(view, 10_000, "USD").usd.minor).toBe(18_000);
  });
});
