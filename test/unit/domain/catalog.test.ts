import { describe, expect, test } from "vitest";
import { DEFAULT_CATALOG, priceTokens, withinLimits } from "../../../src/domain/catalog.ts";
import { formatMoney } from "../../../src/domain/money.ts";

describe("catalog pricing", () => {
  test("2,000 tokens cost $40.00 and are charged 40.00 USDT — the same number", () => {
    const price = priceTokens(DEFAULT_CATALOG, 2000, "USDT");
    expect(formatMoney(price.usd)).toBe("$40.00");
    expect(formatMoney(price.charge)).toBe("40.00 USDT");
    expect(price.usd.minor).toBe(price.charge.minor);
  });

  test.each([
    [100, 200],
    [1000, 2000],
    [1234, 2468],
    [1_000_000, 2_000_000],
  ])("%i tokens cost %i cents", (tokens, cents) => {
    expect(priceTokens(DEFAULT_CATALOG, tokens, "USD").usd.minor).toBe(cents);
  });

  test("Stars are whole units, rounded up", () => {
    // $40.00 at 50 stars per dollar = 2000 stars; $0.02 (1 token) would round up, but 100 is the minimum.
    expect(priceTokens(DEFAULT_CATALOG, 2000, "XTR").charge).toEqual({ minor: 2000, currency: "XTR" });
    expect(priceTokens({ ...DEFAULT_CATALOG, starsPerUsd: 77 }, 150, "XTR").charge.minor).toBe(231);
  });

  test("limits are inclusive and refuse fractions and huge numbers", () => {
    expect(withinLimits(DEFAULT_CATALOG, 100)).toBe(true);
    expect(withinLimits(DEFAULT_CATALOG, 1_000_000)).toBe(true);
    expect(withinLimits(DEFAULT_CATALOG, 99)).toBe(false);
    expect(withinLimits(DEFAULT_CATALOG, 1_000_001)).toBe(false);
    expect(withinLimits(DEFAULT_CATALOG, 150.5)).toBe(false);
    expect(withinLimits(DEFAULT_CATALOG, 1e12)).toBe(false);
    expect(() => priceTokens(DEFAULT_CATALOG, 99, "USD")).toThrow(RangeError);
  });
});
