import { describe, expect, test } from "vitest";
import type { Promo } from "../../../src/domain/products.ts";
import { checkPromo, checkPromoCode, findPromo, normalizePromoCode, promoCountsNeeded } from "../../../src/domain/promos.ts";

const NOW = Date.UTC(2026, 5, 1);
const SPRING: Promo = {
  code: "Spring10",
  discount: { kind: "percent", percent: 10 },
  maxUses: 100,
  expiresAt: Date.UTC(2027, 1, 1),
  oncePerCustomer: true,
  products: ["gpt-tokens"],
};
const OPEN: Promo = {
  code: "OPEN",
  discount: { kind: "usd", usdCents: 500 },
  maxUses: null,
  expiresAt: null,
  oncePerCustomer: false,
  products: null,
};
const shop = { promos: [SPRING, OPEN] };
const use = { productId: "gpt-tokens", customer: "42", now: NOW, usesSoFar: 0, usedByThisCustomer: 0 };

describe("finding a code", () => {
  test.each(["Spring10", "SPRING10", "spring10", "  spring10 \n"])("%j is the shop's Spring10", (typed) => {
    expect(findPromo(shop, typed)).toBe(SPRING);
  });

  test("an unknown or empty code is no code", () => {
    expect(findPromo(shop, "SPRING11")).toBeUndefined();
    expect(findPromo(shop, "   ")).toBeUndefined();
    expect(normalizePromoCode(" ab-c_1 ")).toBe("AB-C_1");
  });
});

describe("whether a code may be used on this order", () => {
  test("a valid code is ok, and names the promo to price with", () => {
    expect(checkPromo(SPRING, use)).toEqual({ ok: true, promo: SPRING });
    expect(checkPromoCode(shop, "open", { ...use, productId: "anything", usesSoFar: 1_000_000, usedByThisCustomer: 9 })).toEqual({
      ok: true,
      promo: OPEN,
    });
  });

  test.each([
    ["unknown", undefined, use],
    ["expired", SPRING, { ...use, now: Date.UTC(2027, 1, 1) }],
    ["used_up", SPRING, { ...use, usesSoFar: 100 }],
    ["wrong_product", SPRING, { ...use, productId: "vouchers" }],
    ["already_used_by_you", SPRING, { ...use, usedByThisCustomer: 1 }],
  ] as const)("%s", (reason, promo, context) => {
    expect(checkPromo(promo, context)).toEqual({ ok: false, reason });
  });

  test("the code works until the last millisecond before it expires", () => {
    expect(checkPromo(SPRING, { ...use, now: Date.UTC(2027, 1, 1) - 1 }).ok).toBe(true);
  });

  test("the first of several reasons is the one no waiting or other product would fix", () => {
    const everything = { ...use, now: Date.UTC(2028, 0, 1), usesSoFar: 100, productId: "vouchers", usedByThisCustomer: 1 };
    expect(checkPromo(SPRING, everything)).toEqual({ ok: false, reason: "expired" });
    expect(checkPromo(SPRING, { ...everything, now: NOW })).toEqual({ ok: false, reason: "used_up" });
    expect(checkPromo(SPRING, { ...everything, now: NOW, usesSoFar: 0 })).toEqual({ ok: false, reason: "wrong_product" });
  });

  test("storage is asked only for the counts a code's rules read", () => {
    expect(promoCountsNeeded(SPRING)).toEqual({ usesSoFar: true, usedByThisCustomer: true });
    expect(promoCountsNeeded(OPEN)).toEqual({ usesSoFar: false, usedByThisCustomer: false });
  });
});
