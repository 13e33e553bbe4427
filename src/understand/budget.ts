import type { Catalog } from "../domain/catalog.ts";

/**
 * How many tokens a budget of `usdCents` buys at the catalog's price, rounding down so the quote
 * never costs more than the customer said. Integer arithmetic only.
 */
export function tokensForBudget(catalog: Catalog, usdCents: number): number {
  // BigInt keeps the product exact for any safe budget.
  return Number((BigInt(usdCents) * 1000n) / BigInt(catalog.pricePer1kUsdCents));
}
